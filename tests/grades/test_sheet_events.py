"""Every sign-off on a grade sheet is an append-only SheetEvent (who, role, decision, opinion, when),
shown on the review page through the one timeline include."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from grades.models import SheetEvent
from grades.services import entry as services
from registrar.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def fill(w, value="75"):
    codes = list(w["offering"].components.values_list("code", flat=True))
    rows = {s.student_number: dict.fromkeys(codes, value) for s in w["students"]}
    return services.grades_enter(offering=w["offering"], actor=w["instructor"], rows=rows)


def events(w):
    return list(SheetEvent.objects.filter(offering=w["offering"]).values_list("decision", "role", "actor__username"))


def test_each_sign_off_is_logged_once(grades_world):
    w = grades_world
    services.composition_set(
        offering=w["offering"],
        actor=w["secretary"],
        components=[{"code": "regular", "weight": 30}, {"code": "final", "weight": 70}],
    )
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason="第3名学生平时成绩有误")
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    services.sheet_confirm(offering=w["offering"], actor=w["academic_affairs"])
    assert events(w) == [
        ("composition", "teaching_secretary", "secretary"),
        ("submit", "instructor", "instructor"),
        ("return", "academic_affairs", "aa"),
        ("submit", "instructor", "instructor"),
        ("confirm", "academic_affairs", "aa"),
    ]
    returned = SheetEvent.objects.get(offering=w["offering"], decision="return")
    assert returned.opinion == "第3名学生平时成绩有误" and returned.actor_label
    composition = SheetEvent.objects.get(offering=w["offering"], decision="composition")
    assert "30%" in composition.opinion and "70%" in composition.opinion


def test_refused_actions_log_nothing(grades_world):
    w = grades_world
    with pytest.raises(ApplicationError):
        services.sheet_confirm(offering=w["offering"], actor=w["academic_affairs"])  # not submitted
    with pytest.raises(ApplicationError):
        services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason="x")
    assert events(w) == []


def test_reopen_is_logged_with_reason(grades_world):
    w = grades_world
    until = timezone.now() + dt.timedelta(days=3)
    services.offering_reopen(offering=w["offering"], until=until, reason="教师因病延迟", actor=w["academic_affairs"])
    event = SheetEvent.objects.get(offering=w["offering"])
    assert event.decision == "reopen" and event.opinion.startswith("教师因病延迟")


def test_events_are_append_only(grades_world):
    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    event = SheetEvent.objects.get(offering=w["offering"])
    event.opinion = "changed"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_review_page_shows_the_history(client, grades_world):
    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason="请核对缺考学生")
    client.force_login(w["instructor"])
    html = client.get(reverse("grades:offering_review", args=[w["offering"].pk])).content.decode()
    history = html[html.index('id="sheet-history"') :]
    assert "请核对缺考学生" in history and w["academic_affairs"].display_name in history


def test_confirmed_sheet_offers_corrections_to_its_instructor_only(client, grades_world):
    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    url = reverse("grades:offering_review", args=[w["offering"].pk])
    client.force_login(w["instructor"])
    assert 'data-action="correct"' not in client.get(url).content.decode()  # not confirmed yet
    services.sheet_confirm(offering=w["offering"], actor=w["academic_affairs"])
    html = client.get(url).content.decode()
    grade = w["offering"].grades.get(student=w["student"])
    assert f"/requests/grade_correction/new/?student={w['student'].pk}&amp;grade={grade.pk}" in html
    client.force_login(w["academic_affairs"])
    assert 'data-action="correct"' not in client.get(url).content.decode()
    # the link opens the kernel's application form with the grade preselected
    client.force_login(w["instructor"])
    form = client.get(f"/requests/grade_correction/new/?student={w['student'].pk}&grade={grade.pk}")
    assert form.status_code == 200 and f'value="{grade.pk}" selected' in form.content.decode()


def test_grade_logs_refuse_bulk_changes_too(grades_world):
    """The shared AppendOnlyModel: queryset update/delete raise for every grade log."""
    from grades.models import GradeChange, GraduateTranscriptCopy, SubmissionReview

    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    for model in (SheetEvent, GradeChange, SubmissionReview, GraduateTranscriptCopy):
        with pytest.raises(ValidationError):
            model.objects.all().update(actor=None) if hasattr(model, "actor") else model.objects.all().update(
                recorded_by=None
            )
        with pytest.raises(ValidationError):
            model.objects.all().delete()
    assert SheetEvent.objects.filter(offering=w["offering"]).count() == 1


def test_pages_offer_only_what_the_services_accept(client, grades_world):
    """Submit is offered only while entry is open; composing only before any cell is typed;
    a late sheet is flagged on its own pages, not only in the lists."""
    w = grades_world
    offering = w["offering"]
    client.force_login(w["secretary"])
    grid = reverse("grades:offering_detail", args=[offering.pk])
    assert 'id="link-composition"' in client.get(grid).content.decode()
    services.grades_enter(offering=offering, actor=w["instructor"], rows={w["student"].student_number: {"final": "80"}})
    assert services.may_compose(w["secretary"], offering) is False
    assert 'id="link-composition"' not in client.get(grid).content.decode()

    client.force_login(w["instructor"])
    review = reverse("grades:offering_review", args=[offering.pk])
    assert 'id="submit-sheet"' in client.get(review).content.decode()
    w["window"].closes_at = w["window"].opens_at + dt.timedelta(hours=1)  # the window is over
    w["window"].save()
    assert 'id="submit-sheet"' not in client.get(review).content.decode()
    # the exam was long ago and the sheet is still being entered: flagged late on the sheet itself
    assert 'data-late="1"' in client.get(grid).content.decode()
