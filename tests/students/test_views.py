"""The student pages: scoped list with search, filters and pagination; the record page."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrar.approvals.services import request_create
from registrar.roles import Role
from students.models import U6, StatusHistory, Student
from tests.factories import ClassFactory, CollegeFactory, MajorFactory, StudentFactory, photo_upload, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def campus(db):
    college_a, college_b = CollegeFactory(), CollegeFactory()
    klass_a = ClassFactory(major=MajorFactory(college=college_a))
    klass_a2 = ClassFactory(major=klass_a.major)
    klass_b = ClassFactory(major=MajorFactory(college=college_b))
    return {
        "klass_a": klass_a,
        "klass_a2": klass_a2,
        "klass_b": klass_b,
        "a": [StudentFactory(klass=klass_a, name=f"张{i}") for i in range(3)],
        "a2": [StudentFactory(klass=klass_a2, name=f"李{i}") for i in range(2)],
        "b": [StudentFactory(klass=klass_b, name=f"王{i}") for i in range(2)],
        "counsellor_a": staff(Role.COUNSELLOR, klass=klass_a),
        "dean_a": staff(Role.COLLEGE_DEAN, college=college_a),
        "registrar": staff(Role.ACADEMIC_AFFAIRS),
    }


def _numbers(response):
    return sorted(s.student_number for s in response.context["page_obj"].object_list)


@pytest.mark.parametrize(
    ("who", "groups"),
    [
        ("counsellor_a", ["a"]),
        ("dean_a", ["a", "a2"]),
        ("registrar", ["a", "a2", "b"]),
    ],
)
def test_list_is_scoped(client, campus, who, groups):
    client.force_login(campus[who])
    response = client.get(reverse("students:list"))
    assert response.status_code == 200
    assert _numbers(response) == sorted(s.student_number for g in groups for s in campus[g])


def test_student_sees_only_themself(client, campus):
    me = campus["a"][0]
    client.force_login(me.user)
    assert _numbers(client.get(reverse("students:list"))) == [me.student_number]
    assert client.get(reverse("students:detail", args=[me.pk])).status_code == 200
    assert client.get(reverse("students:detail", args=[campus["a"][1].pk])).status_code == 404


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("counsellor_a", "a", 200),
        ("counsellor_a", "a2", 404),
        ("counsellor_a", "b", 404),
        ("dean_a", "a2", 200),
        ("dean_a", "b", 404),
        ("registrar", "b", 200),
    ],
)
def test_detail_scope(client, campus, who, target, status):
    client.force_login(campus[who])
    assert client.get(reverse("students:detail", args=[campus[target][0].pk])).status_code == status


def test_anonymous_is_sent_to_login(client, campus):
    response = client.get(reverse("students:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_search_and_filters(client, campus):
    client.force_login(campus["registrar"])
    target = campus["b"][1]
    assert _numbers(client.get(reverse("students:list"), {"q": target.student_number})) == [target.student_number]
    assert _numbers(client.get(reverse("students:list"), {"q": "李"})) == sorted(s.student_number for s in campus["a2"])
    by_class = client.get(reverse("students:list"), {"klass": campus["klass_a2"].pk})
    assert _numbers(by_class) == sorted(s.student_number for s in campus["a2"])
    by_college = client.get(reverse("students:list"), {"college": campus["klass_b"].college_id})
    assert _numbers(by_college) == sorted(s.student_number for s in campus["b"])
    Student.objects.filter(pk=target.pk).update(status=Student.Status.SUSPENDED)
    assert _numbers(client.get(reverse("students:list"), {"status": "suspended"})) == [target.student_number]
    # junk filter values are ignored, not errors
    junk = client.get(reverse("students:list"), {"college": "x", "klass": "1;drop", "status": "nope", "page": "-3"})
    assert junk.status_code == 200 and junk.context["page_obj"].paginator.count == 7


def test_list_paginates_and_keeps_the_query_string(client, campus):
    for _ in range(30):
        StudentFactory(klass=campus["klass_b"])
    client.force_login(campus["registrar"])
    first = client.get(reverse("students:list"), {"college": campus["klass_b"].college_id})
    assert len(first.context["page_obj"].object_list) == 25
    assert first.context["page_obj"].paginator.count == 32
    assert f"college={campus['klass_b'].college_id}&amp;page=2" in first.content.decode()
    second = client.get(reverse("students:list"), {"college": campus["klass_b"].college_id, "page": 2})
    assert len(second.context["page_obj"].object_list) == 7


def test_list_query_count_is_constant(client, campus, django_assert_max_num_queries):
    client.force_login(campus["registrar"])
    client.get(reverse("students:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("students:list"))
    for _ in range(25):
        StudentFactory(klass=campus["klass_b"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("students:list"))


def test_detail_shows_history_requests_and_documents(client, campus):
    student = campus["a"][0]
    StatusHistory.objects.create(
        student=student,
        field="status",
        old_value="enrolled",
        new_value="suspended",
        effective_date=dt.date(2025, 3, 1),
        note="休学一年",
    )
    req = request_create(
        chain=U6,
        student=student,
        applicant=student.user,
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
        submit=True,
    )
    client.force_login(campus["counsellor_a"])
    response = client.get(reverse("students:detail", args=[student.pk]))
    assert [h.new_value for h in response.context["history"]] == ["suspended"]
    assert [r.pk for r in response.context["requests"]] == [req.pk]
    html = response.content.decode()
    assert "休学一年" in html and "2025-03-01" in html and req.get_absolute_url() in html
