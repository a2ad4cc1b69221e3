"""U5: verify and submit (locked for the instructor) → Academic Affairs confirms (认定) or returns."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from grades.models import Grade, Offering
from grades.selectors.records import student_record
from grades.services import entry as services
from registrar.exceptions import ApplicationError
from registrar.notifications.models import Notification

pytestmark = pytest.mark.django_db


def fill(w, value="75", **overrides):
    rows = {s.student_number: {"final": overrides.get(s.student_number, value)} for s in w["students"]}
    return services.grades_enter(offering=w["offering"], actor=w["instructor"], rows=rows)


def state(w):
    return Offering.objects.get(pk=w["offering"].pk).sheet_state


def test_submit_refused_while_a_student_has_no_result(grades_world):
    w = grades_world
    missing = w["students"][2].student_number
    fill(w, **{missing: ""})
    with pytest.raises(ApplicationError) as exc:
        services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    assert exc.value.extra["missing"] == [missing]
    assert str(exc.value) == str(services.SUBMIT_INCOMPLETE % {"count": 1, "students": missing})
    assert state(w) == "entering"


def test_deferred_counts_as_a_result(grades_world):
    w = grades_world
    fill(w, **{w["students"][0].student_number: "缓考"})
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    assert state(w) == "submitted"


def test_submit_locks_the_sheet_for_the_instructor(grades_world):
    w = grades_world
    fill(w)
    offering = services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    assert offering.sheet_state == "submitted" and offering.submitted_by == w["instructor"]
    assert Notification.objects.filter(user=w["academic_affairs"]).exists()
    before = list(Grade.objects.filter(offering=w["offering"]).values_list("components", flat=True))
    with pytest.raises(ApplicationError) as exc:
        services.grades_enter(
            offering=w["offering"], actor=w["instructor"], rows={w["student"].student_number: {"final": "99"}}
        )
    assert str(exc.value) == str(
        services.SHEET_LOCKED % {"offering": w["offering"].code, "state": Offering.SheetState.SUBMITTED.label}
    )
    assert list(Grade.objects.filter(offering=w["offering"]).values_list("components", flat=True)) == before
    with pytest.raises(ApplicationError) as exc:
        services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    assert str(exc.value) == str(
        services.SUBMIT_STATE % {"offering": w["offering"].code, "state": Offering.SheetState.SUBMITTED.label}
    )


def test_confirm_publishes_to_the_student(grades_world):
    w = grades_world
    fill(w, "82")
    assert student_record(w["student"]).grades == []
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    assert student_record(w["student"]).grades == []  # submitted is not published
    offering = services.sheet_confirm(offering=w["offering"], actor=w["academic_affairs"])
    assert offering.sheet_state == "confirmed" and offering.confirmed_by == w["academic_affairs"]
    record = student_record(w["student"])
    assert [g.score for g in record.grades] == [82]
    assert Notification.objects.filter(user=w["instructor"]).exists()


def test_confirm_and_return_roles_and_states(grades_world):
    w = grades_world
    fill(w)
    with pytest.raises(ApplicationError) as exc:  # not submitted yet
        services.sheet_confirm(offering=w["offering"], actor=w["academic_affairs"])
    assert str(exc.value) == str(
        services.CONFIRM_STATE % {"offering": w["offering"].code, "state": Offering.SheetState.ENTERING.label}
    )
    with pytest.raises(ApplicationError):
        services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason="x")
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    for who in ("instructor", "secretary", "dean"):
        with pytest.raises(PermissionDenied):
            services.sheet_confirm(offering=w["offering"], actor=w[who])
    with pytest.raises(Http404):
        services.sheet_confirm(offering=w["offering"], actor=w["other_secretary"])
    with pytest.raises(ApplicationError) as exc:
        services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason=" ")
    assert str(exc.value) == str(services.RETURN_REASON)
    assert state(w) == "submitted"


def test_return_unlocks_for_the_instructor(grades_world):
    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    Notification.objects.all().delete()
    offering = services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason="第3名学生成绩有误")
    assert offering.sheet_state == "entering" and offering.submitted_at is None
    note = Notification.objects.get(user=w["instructor"])
    assert "第3名学生成绩有误" in note.message
    services.grades_enter(
        offering=w["offering"], actor=w["instructor"], rows={w["student"].student_number: {"final": "91"}}
    )
    assert Grade.objects.get(offering=w["offering"], student=w["student"]).score == 91
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    services.sheet_confirm(offering=w["offering"], actor=w["academic_affairs"])
    with pytest.raises(ApplicationError):  # confirmed: only a correction request changes it now
        services.sheet_return(offering=w["offering"], actor=w["academic_affairs"], reason="x")


def test_bulk_confirm_is_all_or_nothing(grades_world):
    from tests.grades.factories import make_offering

    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    other = make_offering(term=w["term"], classes=[w["klass"]], instructors=[w["instructor"]])
    with pytest.raises(ApplicationError):
        services.sheets_confirm(offering_ids=[w["offering"].pk, other.pk], actor=w["academic_affairs"])
    assert state(w) == "submitted"
    done = services.sheets_confirm(offering_ids=[w["offering"].pk], actor=w["academic_affairs"])
    assert [o.sheet_state for o in done] == ["confirmed"]


# --- pages -----------------------------------------------------------------------------------
def test_review_submit_confirm_through_the_pages(client, grades_world):
    w = grades_world
    fill(w, **{w["students"][1].student_number: "40"})
    client.force_login(w["instructor"])
    review = client.get(reverse("grades:offering_review", args=[w["offering"].pk]))
    assert review.status_code == 200
    assert review.context["summary"].failed == 1 and 'id="submit-sheet"' in review.content.decode()
    response = client.post(reverse("grades:offering_submit", args=[w["offering"].pk]))
    assert response.status_code == 302 and state(w) == "submitted"
    grid = client.get(reverse("grades:offering_detail", args=[w["offering"].pk]))
    assert not grid.context["entry"]["can_edit"] and 'id="grid-locked"' in grid.content.decode()
    assert client.post(reverse("grades:offering_confirm", args=[w["offering"].pk])).status_code == 403

    client.force_login(w["academic_affairs"])
    queue = client.get(reverse("grades:confirm_queue"))
    assert [o.pk for o in queue.context["page_obj"]] == [w["offering"].pk]
    response = client.post(reverse("grades:confirm_queue"), {"offerings": [w["offering"].pk]})
    assert response.status_code == 302 and state(w) == "confirmed"


def test_submit_page_reports_incomplete_sheet(client, grades_world):
    w = grades_world
    client.force_login(w["instructor"])
    response = client.post(reverse("grades:offering_submit", args=[w["offering"].pk]), follow=True)
    assert state(w) == "entering"
    numbers = "、".join(sorted(s.student_number for s in w["students"]))
    assert [str(m) for m in response.context["messages"]] == [
        str(services.SUBMIT_INCOMPLETE % {"count": 5, "students": numbers})
    ]


def test_return_page(client, grades_world):
    w = grades_world
    fill(w)
    services.sheet_submit(offering=w["offering"], actor=w["instructor"])
    url = reverse("grades:offering_return", args=[w["offering"].pk])
    client.force_login(w["secretary"])
    assert client.get(url).status_code == 403
    client.force_login(w["academic_affairs"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 200 and state(w) == "submitted"
    assert client.post(url, {"reason": "请核对期末成绩"}).status_code == 302 and state(w) == "entering"
