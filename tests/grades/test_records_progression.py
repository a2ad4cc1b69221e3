"""Progression flags (C10): repeat-year candidates after the term's make-ups with the courses
that caused them, the graduation classification after the clearing exam, the college dashboard
(scope, chart, Excel export) and its query count."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grades.models import Course, Grade, Offering
from grades.selectors.dashboards import COMPLETION, GRADUATE, INCOMPLETE, progression_data, reaches
from grades.selectors.records import student_record
from students.models import Student
from tests.factories import ClassFactory, StudentFactory
from tests.grades.factories import CourseFactory
from tests.grades.test_records_support import grades_settings, sheet, term


def _courses(college, n):
    return [CourseFactory(college=college) for _ in range(n)]


@pytest.fixture
def flagged(grades_world):
    """Term 1 for three students of the college:
    s0 takes 2 courses, fails 1 (exactly half → flagged); s1 takes 3, fails 1 (a third → not flagged);
    s2 takes 2, fails both but passes one make-up (1 of 2 → flagged, by the other course only)."""
    w = grades_world
    s = w["students"]
    c = _courses(w["college"], 3)
    sheet(students=s[:3], course=c[0], values={s[0]: "40", s[1]: "80", s[2]: "30"})
    sheet(students=s[:3], course=c[1], values={s[0]: "70", s[1]: "55", s[2]: "20"})
    sheet(students=[s[1]], course=c[2], values={s[1]: "65"})
    sheet(students=[s[2]], course=c[0], kind=Offering.Kind.MAKEUP, values={s[2]: "61"})
    w["c"] = c
    return w


@pytest.mark.django_db
def test_flags_at_the_threshold_with_the_causing_courses(flagged):
    w = flagged
    s, c = w["students"], w["c"]
    data = progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk])
    flags = {f.student.pk: f for f in data.flags}
    assert set(flags) == {s[0].pk, s[2].pk}
    assert [r.course.pk for r in flags[s[0].pk].failed] == [c[0].pk]
    assert [r.course.pk for r in flags[s[2].pk].failed] == [c[1].pk]  # the make-up cleared c0
    assert flags[s[0].pk].share == 50 and len(flags[s[0].pk].taken) == 2


@pytest.mark.django_db
def test_threshold_is_a_setting(settings, flagged):
    w = flagged
    s = w["students"]
    grades_settings(settings, REPEAT_YEAR_SHARE=1 / 3)
    data = progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk])
    assert {f.student.pk for f in data.flags} == {s[0].pk, s[1].pk, s[2].pk}
    grades_settings(settings, REPEAT_YEAR_SHARE=0.51)
    assert progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk]).flags == []


@pytest.mark.django_db
def test_flags_count_only_the_terms_courses_and_other_colleges_are_out(flagged):
    w = flagged
    s = w["students"]
    # s1 fails two courses in term 2: no effect on term 1's flags
    sheet(students=[s[1]], term_=term(2), values={s[1]: "10"})
    sheet(students=[s[1]], term_=term(2), values={s[1]: "10"})
    data = progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk])
    assert s[1].pk not in {f.student.pk for f in data.flags}
    data2 = progression_data(term=term(2), year=2028, college_ids=[w["college"].pk])
    assert [f.student.pk for f in data2.flags] == [s[1].pk]
    other = progression_data(term=w["term"], year=2028, college_ids=[w["other_class"].college.pk])
    assert other.flags == [] and other.students == 0


def test_reaches_is_exact():
    assert reaches(1, 2, Decimal("0.5")) and not reaches(1, 3, Decimal("0.5"))
    from fractions import Fraction

    third = Fraction(1 / 3).limit_denominator(1000)
    assert reaches(1, 3, third) and reaches(2, 6, third) and not reaches(1, 4, third)
    assert not reaches(0, 3, Fraction(0)) and not reaches(0, 0, third)


@pytest.mark.django_db
def test_graduation_classification_after_clearing_exams(grades_world):
    """Six courses each: s0 fails none (毕业), s1 fails 1 (结业), s2 fails 2 = a third (肄业),
    s3 failed 2 but cleared one at the clearing exam (结业)."""
    w = grades_world
    s = w["students"][:4]
    Student.objects.filter(pk__in=[x.pk for x in s]).update(expected_graduation=dt.date(2026, 6, 30))
    courses = _courses(w["college"], 6)
    fails = {0: set(), 1: {0}, 2: {0, 1}, 3: {0, 1}}
    for i, course in enumerate(courses):
        sheet(students=s, course=course, values={x: ("40" if i in fails[k] else "80") for k, x in enumerate(s)})
    sheet(students=[s[3]], course=courses[1], kind=Offering.Kind.CLEARING, term_=term(2), values={s[3]: "66"})
    data = progression_data(term=w["term"], year=2026, college_ids=[w["college"].pk])
    rows = {g.student.pk: g for g in data.graduation}
    assert {pk: g.classification for pk, g in rows.items()} == {
        s[0].pk: GRADUATE,
        s[1].pk: COMPLETION,
        s[2].pk: INCOMPLETE,
        s[3].pk: COMPLETION,
    }
    assert [r.course.pk for r in rows[s[2].pk].failed] == [courses[0].pk, courses[1].pk]
    assert data.graduation_counts == {GRADUATE: 1, COMPLETION: 2, INCOMPLETE: 1}
    # students graduating in another year are not classified
    assert progression_data(term=w["term"], year=2027, college_ids=[w["college"].pk]).graduation == []


@pytest.mark.django_db
def test_pass_rates_per_course(flagged):
    w = flagged
    c = w["c"]
    data = progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk])
    rates = {r.course.pk: r for r in data.pass_rates}
    assert (rates[c[0].pk].first_rate, rates[c[0].pk].rate) == (33, 67)  # s2 passed the make-up
    assert (rates[c[1].pk].first_rate, rates[c[1].pk].rate) == (33, 33)
    assert rates[c[2].pk].rate == 100


# --- the dashboard -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_dashboard_shows_flags_chart_and_counts(client, flagged):
    w = flagged
    s, c = w["students"], w["c"]
    client.force_login(w["secretary"])
    response = client.get(reverse("grades:progression") + f"?term={w['term'].pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-total="flags">2<' in html
    assert f'data-student="{s[0].student_number}"' in html and f'data-student="{s[1].student_number}"' not in html
    assert f'data-course="{c[0].code}"' in html
    assert 'id="pass-rate-chart"' in html and f'data-course="{c[2].code}" data-rate="100"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who,college,status",
    [
        ("secretary", "own", 200),
        ("dean", "own", 200),
        ("academic_affairs", "own", 200),
        ("academic_affairs", "", 200),
        ("academic_affairs", "other", 200),
        ("secretary", "other", 404),
        ("other_secretary", "own", 404),
        ("instructor", "own", 403),
        ("student_affairs", "own", 403),
        ("student", "", 403),
    ],
)
def test_dashboard_scope(client, flagged, who, college, status):
    w = flagged
    user = w["student"].user if who == "student" else w[who]
    college_id = {"own": w["college"].pk, "other": w["other_class"].college.pk, "": ""}[college]
    client.force_login(user)
    assert client.get(reverse("grades:progression") + f"?college={college_id}").status_code == status
    assert client.get(reverse("grades:progression_export") + f"?college={college_id}").status_code == status


@pytest.mark.django_db
def test_dashboard_export_xlsx(client, flagged):
    from openpyxl import load_workbook

    w = flagged
    s, c = w["students"], w["c"]
    client.force_login(w["dean"])
    response = client.get(reverse("grades:progression_export") + f"?term={w['term'].pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    flags = list(wb.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert {row[0] for row in flags} == {s[0].student_number, s[2].student_number}
    row = next(r for r in flags if r[0] == s[0].student_number)
    assert row[3:6] == (2, 1, 0.5) and c[0].code in row[6]
    rates = {r[0]: r for r in wb.worksheets[2].iter_rows(min_row=2, values_only=True)}
    assert rates[c[2].code][4] == 1


def _populate(college, n_students, courses, term_):
    klass = ClassFactory(major__college=college, college=college)
    students = StudentFactory.create_batch(n_students, klass=klass)
    offerings = Offering.objects.bulk_create(
        [Offering(code=f"P{college.pk}-{n_students}-{c.code}", term=term_, course=c, college=college) for c in courses]
    )
    Offering.objects.filter(pk__in=[o.pk for o in offerings]).update(sheet_state=Offering.SheetState.CONFIRMED)
    rows = []
    for i, st in enumerate(students):
        for j, o in enumerate(offerings):
            score = Decimal(40 if (i + j) % 3 == 0 else 75)
            rows.append(
                Grade(
                    offering=o,
                    student=st,
                    course=o.course,
                    term=term_,
                    score=score,
                    passed=score >= 60,
                    grade_point=Decimal("2.70") if score >= 60 else Decimal("0.00"),
                )
            )
    Grade.objects.bulk_create(rows)


@pytest.mark.django_db
def test_dashboard_query_count_is_constant_in_students(client, grades_world):
    w = grades_world
    courses = Course.objects.bulk_create([Course(code=f"PQ{i}", name=f"课{i}", credits=2, hours=32) for i in range(4)])
    small = ClassFactory().college
    large = ClassFactory().college
    _populate(small, 4, courses, w["term"])
    _populate(large, 30, courses, w["term"])
    client.force_login(w["academic_affairs"])
    counts = []
    for college in (small, large):
        url = reverse("grades:progression") + f"?term={w['term'].pk}&college={college.pk}"
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert len(response.context["data"].flags) > 0
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_counted_attempts_rule_changes_the_flags(settings, grades_world):
    """Regular 55 then make-up 40 on one of two courses: failed either way; a passed make-up clears it
    under "best" and under "latest" alike, a failed later attempt after a pass only under "latest"."""
    w = grades_world
    s = w["students"][0]
    a, b = _courses(w["college"], 2)
    sheet(students=[s], course=a, values={s: "70"})
    sheet(students=[s], course=b, values={s: "40"})
    sheet(students=[s], course=b, kind=Offering.Kind.MAKEUP, values={s: "65"})
    sheet(students=[s], course=a, kind=Offering.Kind.MAKEUP, values={s: "20"})  # an odd later failure on a
    assert progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk]).flags == []
    grades_settings(settings, COUNTED_ATTEMPT="latest")
    flags = progression_data(term=w["term"], year=2028, college_ids=[w["college"].pk]).flags
    assert [r.course.pk for r in flags[0].failed] == [a.pk]
    assert student_record(s).open_failures[0].course == a
