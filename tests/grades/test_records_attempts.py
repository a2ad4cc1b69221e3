"""Make-ups and clearing exams (C8, C10): which attempt counts, the make-up cap, candidates,
creating the make-up / clearing sheet and its refusals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from grades.models import Grade, Offering
from grades.selectors.records import student_record
from grades.services.attempts import (
    DEFERRED,
    FAILED,
    NO_CANDIDATES,
    RETAKE_EXISTS,
    clearing_candidates,
    makeup_candidates,
    makeup_offering_create,
)
from registrar.exceptions import ApplicationError
from students.models import Student
from tests.factories import StudentFactory
from tests.grades.factories import CourseFactory
from tests.grades.test_records_support import enter, grades_settings, sheet, term


def _course_result(student, course):
    return next(r for r in student_record(student).courses if r.course.pk == course.pk)


# --- which attempt counts -----------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("rule", ["best", "latest"])
def test_passed_makeup_counts_and_is_capped(settings, rule):
    grades_settings(settings, COUNTED_ATTEMPT=rule)
    s = StudentFactory()
    regular = sheet(students=[s], values={s: "45"})
    makeup = sheet(students=[s], course=regular.course, kind=Offering.Kind.MAKEUP, values={s: "88"})
    r = _course_result(s, regular.course)
    assert [g.kind for g in r.attempts] == ["regular", "makeup"]  # every attempt kept
    assert r.counted.offering_id == makeup.pk
    assert r.counted.score == Decimal("60.0")  # MAKEUP_SCORE_CAP
    assert r.counted.grade_point == Decimal("1.00")
    assert r.passed and not student_record(s).open_failures


@pytest.mark.django_db
def test_cap_follows_the_setting(settings):
    grades_settings(settings, MAKEUP_SCORE_CAP=None)
    s = StudentFactory()
    regular = sheet(students=[s], values={s: "45"})
    sheet(students=[s], course=regular.course, kind=Offering.Kind.MAKEUP, values={s: "88"})
    assert _course_result(s, regular.course).counted.score == Decimal("88.0")


@pytest.mark.django_db
def test_failed_makeup_is_not_capped_and_stays_failed(settings):
    s = StudentFactory()
    regular = sheet(students=[s], values={s: "45"})
    sheet(students=[s], course=regular.course, kind=Offering.Kind.MAKEUP, values={s: "30"})
    r = _course_result(s, regular.course)
    assert r.failed and len(student_record(s).open_failures) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("rule,expected", [("best", "55"), ("latest", "40")])
def test_best_or_latest_of_two_failures(settings, rule, expected):
    """Regular 55, make-up 40: "best" keeps the regular attempt, "latest" the make-up."""
    grades_settings(settings, COUNTED_ATTEMPT=rule)
    s = StudentFactory()
    regular = sheet(students=[s], values={s: "55"})
    sheet(students=[s], course=regular.course, kind=Offering.Kind.MAKEUP, values={s: "40"})
    assert _course_result(s, regular.course).counted.display_result == expected


@pytest.mark.django_db
@pytest.mark.parametrize("rule,expected", [("best", "60"), ("latest", "35")])
def test_clearing_exam_after_a_passed_makeup(settings, rule, expected):
    """A later worse attempt counts only under "latest"."""
    grades_settings(settings, COUNTED_ATTEMPT=rule)
    s = StudentFactory()
    regular = sheet(students=[s], values={s: "45"})
    sheet(students=[s], course=regular.course, kind=Offering.Kind.MAKEUP, values={s: "70"})
    sheet(students=[s], course=regular.course, kind=Offering.Kind.CLEARING, term_=term(2), values={s: "35"})
    r = _course_result(s, regular.course)
    assert len(r.attempts) == 3
    assert r.counted.display_result == expected


@pytest.mark.django_db
def test_unconfirmed_makeup_does_not_count(settings):
    s = StudentFactory()
    regular = sheet(students=[s], values={s: "45"})
    sheet(students=[s], course=regular.course, kind=Offering.Kind.MAKEUP, values={s: "80"}, confirmed=False)
    r = _course_result(s, regular.course)
    assert len(r.attempts) == 1 and r.failed


# --- candidates ---------------------------------------------------------------------------------
@pytest.fixture
def failed_world(grades_world):
    """The world's offering confirmed: student 0 failed, 1 deferred, 2 absent, 3 and 4 passed."""
    w = grades_world
    s = w["students"]
    enter(w["offering"], {s[0]: "42", s[1]: "缓考", s[2]: "缺考", s[3]: "75", s[4]: "60"})
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    return w


@pytest.mark.django_db
def test_makeup_candidates_include_failed_and_deferred_not_passed(failed_world):
    w = failed_world
    s = w["students"]
    groups = makeup_candidates(term=w["term"], college=w["college"])
    assert len(groups) == 1
    g = groups[0]
    assert g.course == w["course"] and g.existing is None
    reasons = {c.student.pk: c.reason for c in g.candidates}
    assert reasons == {s[0].pk: FAILED, s[1].pk: DEFERRED, s[2].pk: FAILED}
    assert (g.failed_count, g.deferred_count) == (2, 1)


@pytest.mark.django_db
def test_makeup_candidates_ignore_unconfirmed_sheets_and_other_colleges(grades_world):
    w = grades_world
    enter(w["offering"], {w["students"][0]: "10"})  # still being entered
    assert makeup_candidates(term=w["term"], college=w["college"]) == []
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    assert makeup_candidates(term=w["term"], college=w["other_class"].college) == []
    assert len(makeup_candidates(term=w["term"])) == 1


@pytest.mark.django_db
def test_makeup_candidates_exclude_students_who_passed_the_makeup_and_the_not_enrolled(failed_world):
    w = failed_world
    s = w["students"]
    sheet(students=[s[0]], course=w["course"], kind=Offering.Kind.MAKEUP, college=w["college"], values={s[0]: "70"})
    Student.objects.filter(pk=s[2].pk).update(status=Student.Status.SUSPENDED)
    g = makeup_candidates(term=w["term"], college=w["college"])[0]
    assert {c.student.pk for c in g.candidates} == {s[1].pk}
    assert g.existing is not None and g.existing.kind == Offering.Kind.MAKEUP


# --- creating the make-up sheet -----------------------------------------------------------------
@pytest.mark.django_db
def test_makeup_offering_create_enrols_the_candidates(failed_world):
    w = failed_world
    s = w["students"]
    o = makeup_offering_create(
        term=w["term"],
        course=w["course"],
        college=w["college"],
        exam_date=dt.date(2026, 3, 1),
        instructors=[w["instructor"]],
        actor=w["secretary"],
    )
    assert o.kind == Offering.Kind.MAKEUP and o.term == w["term"] and o.college == w["college"]
    assert o.sheet_state == Offering.SheetState.ENTERING and not o.classes.exists()
    assert list(o.instructors.all()) == [w["instructor"]]
    rows = Grade.objects.filter(offering=o)
    assert {g.student_id for g in rows} == {s[0].pk, s[1].pk, s[2].pk}
    assert {g.enrolled_via for g in rows} == {Grade.Source.MAKEUP}
    assert {g.kind for g in rows} == {Offering.Kind.MAKEUP}
    assert o.components.get().weight == 100


@pytest.mark.django_db
def test_makeup_offering_create_refuses_a_second_makeup(failed_world):
    w = failed_world
    kwargs = {
        "term": w["term"],
        "course": w["course"],
        "college": w["college"],
        "exam_date": dt.date(2026, 3, 1),
        "actor": w["academic_affairs"],
    }
    first = makeup_offering_create(**kwargs)
    with pytest.raises(ApplicationError) as exc:
        makeup_offering_create(**kwargs)
    assert str(exc.value) == str(
        RETAKE_EXISTS
        % {"kind": Offering.Kind.MAKEUP.label, "course": w["course"], "term": w["term"], "code": first.code}
    )
    assert Offering.objects.filter(kind=Offering.Kind.MAKEUP).count() == 1


@pytest.mark.django_db
def test_makeup_offering_create_refuses_without_candidates(grades_world):
    w = grades_world
    s = w["students"]
    enter(w["offering"], dict.fromkeys(s, "80"))
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    with pytest.raises(ApplicationError) as exc:
        makeup_offering_create(term=w["term"], course=w["course"], college=w["college"], actor=w["secretary"])
    assert str(exc.value) == str(
        NO_CANDIDATES % {"kind": Offering.Kind.MAKEUP.label, "course": w["course"], "term": w["term"]}
    )
    assert not Offering.objects.filter(kind=Offering.Kind.MAKEUP).exists()


@pytest.mark.django_db
def test_makeup_offering_create_refuses_another_college_secretary(failed_world):
    w = failed_world
    with pytest.raises(PermissionDenied):
        makeup_offering_create(term=w["term"], course=w["course"], college=w["college"], actor=w["other_secretary"])
    with pytest.raises(PermissionDenied):
        makeup_offering_create(term=w["term"], course=w["course"], college=w["college"], actor=w["instructor"])
    assert not Offering.objects.filter(kind=Offering.Kind.MAKEUP).exists()


# --- clearing exams -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_clearing_candidates_are_graduating_students_with_open_failures(grades_world):
    w = grades_world
    s = w["students"]
    for student in s[:3]:
        Student.objects.filter(pk=student.pk).update(expected_graduation=dt.date(2027, 6, 30))
    # s0 fails course A (term 1), s1 fails then passes the make-up, s2 passes, s3 fails but graduates later
    a = sheet(students=s, values={s[0]: "40", s[1]: "40", s[2]: "90", s[3]: "40", s[4]: "70"})
    sheet(students=[s[1]], course=a.course, kind=Offering.Kind.MAKEUP, values={s[1]: "65"})
    # s2 fails course B in a later term
    b = sheet(students=[s[2]], term_=term(3), values={s[2]: "20"})
    groups = clearing_candidates(year=2027, college=w["college"])
    by_course = {g.course.pk: {c.student.pk for c in g.candidates} for g in groups}
    assert by_course == {a.course.pk: {s[0].pk}, b.course.pk: {s[2].pk}}
    assert all(g.kind == Offering.Kind.CLEARING for g in groups)


@pytest.mark.django_db
def test_clearing_offering_create_for_the_graduation_year(grades_world):
    w = grades_world
    s = w["students"]
    Student.objects.filter(pk__in=[s[0].pk, s[1].pk]).update(expected_graduation=dt.date(2027, 6, 30))
    a = sheet(
        students=s,
        values={s[0]: "40", s[1]: "40", s[2]: "40", s[3]: "90", s[4]: "90"},
        course=CourseFactory(college=w["college"]),
    )
    last = term(4)  # 2026-2027-2, ends in 2027
    o = makeup_offering_create(
        term=last,
        course=a.course,
        college=w["college"],
        kind=Offering.Kind.CLEARING,
        exam_date=dt.date(2027, 5, 20),
        actor=w["secretary"],
    )
    assert o.kind == Offering.Kind.CLEARING
    assert set(o.grades.values_list("student_id", flat=True)) == {s[0].pk, s[1].pk}
    with pytest.raises(ApplicationError):
        makeup_offering_create(
            term=last, course=a.course, college=w["college"], kind=Offering.Kind.CLEARING, actor=w["secretary"]
        )
    with pytest.raises(ApplicationError):  # nobody graduating in 2030 has failed it
        makeup_offering_create(
            term=term(3),
            course=a.course,
            college=w["college"],
            kind=Offering.Kind.CLEARING,
            actor=w["secretary"],
            graduation_year=2030,
        )


# --- the page -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_makeups_page_lists_candidates_and_creates_the_sheet(client, failed_world):
    w = failed_world
    client.force_login(w["secretary"])
    url = reverse("grades:makeups") + f"?term={w['term'].pk}"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-course="{w["course"].code}"' in html
    assert 'data-col="failed">2<' in html and 'data-col="deferred">1<' in html
    response = client.post(
        reverse("grades:makeup_create"),
        {
            "term": w["term"].pk,
            "course": w["course"].pk,
            "college": w["college"].pk,
            "kind": "makeup",
            "exam_date": "2026-03-02",
            "instructors": [w["instructor"].pk],
            "next": url,
        },
    )
    assert response.status_code == 302 and response["Location"] == url
    o = Offering.objects.get(kind=Offering.Kind.MAKEUP)
    assert o.grades.count() == 3 and o.exam_date == dt.date(2026, 3, 2)
    assert f'data-existing="{o.code}"' in client.get(url).content.decode()
    # a second create is refused with a message, nothing written
    response = client.post(
        reverse("grades:makeup_create"),
        {
            "term": w["term"].pk,
            "course": w["course"].pk,
            "college": w["college"].pk,
            "kind": "makeup",
            "exam_date": "2026-03-02",
        },
        follow=True,
    )
    assert Offering.objects.filter(kind=Offering.Kind.MAKEUP).count() == 1
    assert any("already exists" in str(m) or "已" in str(m) for m in response.context["messages"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who,status",
    [
        ("secretary", 200),
        ("academic_affairs", 200),
        ("other_secretary", 404),
        ("instructor", 403),
        ("dean", 403),
        ("student", 403),
    ],
)
def test_makeups_page_scope(client, failed_world, who, status):
    w = failed_world
    user = w["student"].user if who == "student" else w[who]
    client.force_login(user)
    response = client.get(reverse("grades:makeups") + f"?college={w['college'].pk}")
    assert response.status_code == status


@pytest.mark.django_db
def test_makeup_create_out_of_scope_is_404(client, failed_world):
    w = failed_world
    client.force_login(w["other_secretary"])
    response = client.post(
        reverse("grades:makeup_create"),
        {
            "term": w["term"].pk,
            "course": w["course"].pk,
            "college": w["college"].pk,
            "kind": "makeup",
            "exam_date": "2026-03-02",
        },
    )
    assert response.status_code == 404
    assert not Offering.objects.filter(kind=Offering.Kind.MAKEUP).exists()


@pytest.mark.django_db
def test_makeups_page_clearing_view(client, grades_world):
    w = grades_world
    s = w["students"]
    Student.objects.filter(pk=s[0].pk).update(expected_graduation=dt.date(2026, 6, 30))
    enter(w["offering"], {s[0]: "40", s[1]: "40"})
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    client.force_login(w["academic_affairs"])
    response = client.get(reverse("grades:makeups") + f"?view=clearing&term={w['term'].pk}&year=2026")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-student="{s[0].student_number}"' in html
    assert f'data-student="{s[1].student_number}"' not in html  # graduates in 2028
