"""U5 pages: the grade-sheet list (scoped, filtered), the late-entry dashboard (flat in N) and
the permission matrix of the entry pages."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grades.models import Grade, Offering
from grades.services import entry as services
from registrar.roles import Role
from tests.factories import ClassFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, make_offering

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def test_list_is_scoped_by_role(client, grades_world):
    w = grades_world
    other = make_offering(term=w["term"], classes=[w["other_class"]], instructors=[w["other_instructor"]])
    url = reverse("grades:offering_list")
    seen = {}
    for who in ("instructor", "secretary", "dean", "academic_affairs", "other_secretary", "other_instructor"):
        client.force_login(w[who])
        response = client.get(url)
        assert response.status_code == 200
        seen[who] = {o.pk for o in response.context["page_obj"]}
    mine = w["offering"].pk
    assert seen["instructor"] == seen["secretary"] == seen["dean"] == {mine}
    assert seen["academic_affairs"] == {mine, other.pk}
    assert seen["other_secretary"] == seen["other_instructor"] == {other.pk}
    client.force_login(w["student"].user)
    assert client.get(url).status_code == 403


def test_list_filters_search_and_row_facts(client, grades_world):
    w = grades_world
    late = make_offering(
        term=w["term"],
        classes=[w["klass"]],
        instructors=[w["instructor"]],
        exam_date=days_ago(30),
        course=CourseFactory(name="离散数学", college=w["college"]),
    )
    Offering.objects.filter(pk=w["offering"].pk).update(exam_date=days_ago(1))
    services.grades_enter(offering=late, actor=w["instructor"], rows={w["student"].student_number: {"final": "60"}})
    client.force_login(w["academic_affairs"])
    url = reverse("grades:offering_list")
    rows = {o.pk: o for o in client.get(url).context["page_obj"]}
    assert rows[late.pk].is_late and not rows[w["offering"].pk].is_late
    assert (rows[late.pk].entered, rows[late.pk].total) == (1, 5)
    assert rows[late.pk].entry_due == days_ago(30) + dt.timedelta(days=7)
    assert [o.pk for o in client.get(url, {"late": "on"}).context["page_obj"]] == [late.pk]
    assert [o.pk for o in client.get(url, {"q": "离散"}).context["page_obj"]] == [late.pk]
    assert [o.pk for o in client.get(url, {"q": late.code}).context["page_obj"]] == [late.pk]
    assert client.get(url, {"state": "submitted"}).context["page_obj"].paginator.count == 0
    assert client.get(url, {"college": w["other_class"].college.pk}).context["page_obj"].paginator.count == 0
    html = client.get(url, {"late": "on"}).content.decode()
    assert f'data-offering="{late.pk}"' in html and 'data-late="1"' in html


def late_offerings(n, *, college, term, instructor):
    """``n`` late offerings in bulk (each with two students, one with a result)."""
    klass = ClassFactory(college=college, major__college=college)
    students = [StudentFactory(klass=klass) for _ in range(2)]
    course = CourseFactory(college=college)
    start = Offering.objects.count()
    offerings = Offering.objects.bulk_create(
        [
            Offering(
                code=f"LATE-{start + i:05d}", term=term, course=course, college=college, exam_date=days_ago(10 + i % 20)
            )
            for i in range(n)
        ]
    )
    Offering.instructors.through.objects.bulk_create(
        [Offering.instructors.through(offering_id=o.pk, user_id=instructor.pk) for o in offerings]
    )
    Grade.objects.bulk_create(
        [
            Grade(
                offering=o,
                student=s,
                course=course,
                term=term,
                score=70 if j == 0 else None,
                passed=True if j == 0 else None,
            )
            for o in offerings
            for j, s in enumerate(students)
        ]
    )
    return offerings


def test_late_dashboard_counts_by_college_with_constant_queries(client, grades_world):
    w = grades_world
    Offering.objects.filter(pk=w["offering"].pk).update(exam_date=days_ago(1))  # not late
    second_college = w["other_class"].college
    client.force_login(w["academic_affairs"])
    url = reverse("grades:late_dashboard")
    client.get(url)  # warm up (session, content types)

    late_offerings(3, college=w["college"], term=w["term"], instructor=w["instructor"])
    late_offerings(2, college=second_college, term=w["term"], instructor=w["other_instructor"])
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert response.status_code == 200
    by_college = {r["college_id"]: r for r in response.context["by_college"]}
    assert by_college[w["college"].pk]["late"] == 3 and by_college[second_college.pk]["late"] == 2
    assert by_college[w["college"].pk]["missing"] == 3
    assert response.context["total_late"] == 5
    assert 'id="late-chart"' in response.content.decode() and 'data-action="reopen"' in response.content.decode()

    late_offerings(40, college=w["college"], term=w["term"], instructor=w["instructor"])
    late_offerings(25, college=ClassFactory().college, term=w["term"], instructor=w["other_instructor"])
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.context["total_late"] == 70
    assert len(response.context["by_college"]) == 3
    assert len(large.captured_queries) == len(small.captured_queries)
    # a submitted sheet is no longer late
    Offering.objects.filter(code="LATE-00001").update(sheet_state="submitted")
    assert client.get(url).context["total_late"] == 69


def test_late_dashboard_filters_by_college(client, grades_world):
    w = grades_world
    late_offerings(2, college=w["college"], term=w["term"], instructor=w["instructor"])
    other = late_offerings(1, college=w["other_class"].college, term=w["term"], instructor=w["other_instructor"])
    client.force_login(w["academic_affairs"])
    response = client.get(reverse("grades:late_dashboard"), {"college": w["other_class"].college.pk})
    assert [o.pk for o in response.context["page_obj"]] == [other[0].pk]


@pytest.mark.parametrize("name", ["late_dashboard", "confirm_queue"])
@pytest.mark.parametrize(
    "who,status",
    [("academic_affairs", 200), ("secretary", 403), ("instructor", 403), ("dean", 403), ("student_affairs", 403)],
)
def test_academic_affairs_pages(client, grades_world, name, who, status):
    client.force_login(grades_world[who])
    assert client.get(reverse(f"grades:{name}")).status_code == status


@pytest.mark.parametrize("name", ["offering_detail", "offering_review", "offering_xlsx"])
@pytest.mark.parametrize(
    "who,status",
    [
        ("instructor", 200),
        ("secretary", 200),
        ("dean", 200),
        ("academic_affairs", 200),
        ("other_secretary", 404),
        ("other_instructor", 404),
        ("student_affairs", 404),
    ],
)
def test_sheet_pages_scope(client, grades_world, name, who, status):
    client.force_login(grades_world[who])
    assert client.get(reverse(f"grades:{name}", args=[grades_world["offering"].pk])).status_code == status


def test_college_scoped_academic_affairs_is_not_university_academic_affairs(client, grades_world):
    w = grades_world
    college_aa = staff(Role.ACADEMIC_AFFAIRS, college=w["college"], username="college_aa")
    client.force_login(college_aa)
    assert client.get(reverse("grades:late_dashboard")).status_code == 403
    assert client.get(reverse("grades:offering_detail", args=[w["offering"].pk])).status_code == 200
