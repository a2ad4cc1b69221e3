"""Issue 8, defect 5: who may look students up, and who sees their personal data in full.

Look-up follows ``students.permissions``: record offices within their scope, request initiators within
theirs, everyone else (canteen, library, finance, textbook centre, supervisors …) only the students of
requests they may see. Identity number, birth date, ethnicity and political status are shown in full only
to Academic Affairs, the class's counsellor and advisor, the student and a superuser, and masked on every
page and serializer for everyone else — one predicate, ``personal_data``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from freezegun import freeze_time

from registrar.models import User
from registrar.roles import Role
from statuschange.models import U2
from students.models import Student
from students.permissions import (
    MASK,
    mask_id_number,
    may_see_personal_data,
    personal_data,
    personal_data_q,
)
from students.selectors import student_get_visible, student_list
from tests.factories import StudentFactory, UserFactory, staff
from tests.statuschange.conftest import sc_world  # noqa: F401  (the status-change world fixture)
from tests.statuschange.helpers import open_request

FULL = ("academic_affairs", "counsellor", "advisor", "self", "superuser")
MASKED = (
    "dean",
    "secretary",
    "teaching_secretary",
    "student_affairs",
    "leadership",
    "academic_affairs_head",
    "instructor",
    "canteen",
    "library",
)


@pytest.fixture
def pd_world(sc_world):
    w = dict(sc_world)
    college = w["student"].college
    Student.objects.filter(pk=w["student"].pk).update(ethnicity="蒙古族", political_status="party")
    w["student"].refresh_from_db()
    w["instructor"] = staff(Role.INSTRUCTOR, college=college, username="instructor")
    w["supervisor"] = staff(Role.SUPERVISOR, college=college, username="supervisor")
    w["president_office"] = staff(Role.PRESIDENT_OFFICE, username="president_office")
    w["nobody"] = UserFactory(username="nobody")
    w["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    w["self"] = w["student"].user
    w["classmate"] = StudentFactory(klass=w["student"].klass)
    return w


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


def api_ids(client, user) -> set[int]:
    client.force_login(user)
    ids, url = set(), reverse("api:students")
    while url:
        response = client.get(url)
        assert response.status_code == 200
        data = response.json()
        ids |= {row["id"] for row in data["results"]}
        url = data["next"]
    return ids


def test_who_looks_up_whom(pd_world, client):
    w = pd_world
    student = w["student"]
    everyone = set(Student.objects.values_list("pk", flat=True))
    college = set(Student.objects.filter(college=student.college).values_list("pk", flat=True))
    klass = set(Student.objects.filter(klass=student.klass).values_list("pk", flat=True))
    station = set(Student.objects.filter(station=w["cstudent"].station).values_list("pk", flat=True))
    expected = {
        "academic_affairs": everyone,
        "academic_affairs_head": everyone,
        "student_affairs": everyone,
        "leadership": everyone,
        "superuser": everyone,
        "dean": college,
        "secretary": college,
        "teaching_secretary": college,
        "college_office": college,
        "instructor": college,  # opens grade corrections for the college's students
        "counsellor": klass,
        "advisor": klass,
        "station": station,
        "self": {student.pk},
        # no request they may see: nobody at all
        "canteen": set(),
        "library": set(),
        "finance": set(),
        "dorm": set(),
        "apartment": set(),
        "textbook": set(),
        "youth_league": set(),
        "supervisor": set(),
        "president_office": set(),
        "nobody": set(),
    }
    for who, ids in expected.items():
        assert api_ids(client, w[who]) == ids, who
        assert set(student_list(user=fresh(w[who])).values_list("pk", flat=True)) == ids, who
    # a resumption (U2) brings the student to the offices that restore services: canteen, library, dorm …
    with freeze_time("2026-03-10 10:00"):
        open_request(w, U2.code)
    for who in ("canteen", "library", "dorm", "finance"):
        assert api_ids(client, w[who]) == {student.pk}, who
        client.force_login(w[who])
        assert client.get(reverse("students:detail", args=[student.pk])).status_code == 200
        assert client.get(reverse("students:detail", args=[w["classmate"].pk])).status_code == 404
    for who in ("textbook", "apartment", "supervisor"):  # not in U2
        assert api_ids(client, w[who]) == set(), who


@freeze_time("2026-03-10 10:00")
@pytest.mark.parametrize("who", FULL + MASKED)
def test_personal_data_is_masked_on_every_page_and_serializer(pd_world, client, who):
    w = pd_world
    student = w["student"]
    req = open_request(w, U2.code)  # so the canteen and the library see the student at all
    client.force_login(w[who])
    full = who in FULL
    masked_id = mask_id_number(student.id_number)
    pages = {
        "student page": reverse("students:detail", args=[student.pk]),
        "API student": reverse("api:student", args=[student.pk]),
        "API list": reverse("api:students") + f"?search={student.student_number}",
        "request page": req.get_absolute_url(),
        "API request": reverse("api:request", args=[U2.code, req.pk]),
        "student list": reverse("students:list") + f"?q={student.student_number}",
    }
    for name, url in pages.items():
        response = client.get(url)
        if response.status_code == 404 and name in ("request page", "API request"):
            continue  # a role that takes no part in U2 does not see the request (the student it may)
        assert response.status_code == 200, (name, response.status_code)
        content = response.content.decode()
        if name in ("student page", "API student", "API list"):
            if full:
                assert student.id_number in content and "蒙古族" in content, name
            else:
                assert masked_id in content, name
        if not full:
            secrets = [student.id_number, "蒙古族", "中共党员", student.birth_date.isoformat()]
            if name.startswith("API"):
                secrets.append('"party"')
            for secret in secrets:
                assert secret not in content, (name, secret)
    if not full:
        data = client.get(reverse("api:student", args=[student.pk])).json()
        assert data["personal_data_masked"] is True
        assert (data["id_number"], data["birth_date"], data["ethnicity"], data["political_status"]) == (
            masked_id,
            MASK,
            MASK,
            MASK,
        )
        assert client.get(reverse("students:photo", args=[student.pk])).status_code == 404
    else:
        data = client.get(reverse("api:student", args=[student.pk])).json()
        assert data["personal_data_masked"] is False
        assert (data["id_number"], data["ethnicity"], data["political_status"]) == (
            student.id_number,
            "蒙古族",
            "party",
        )


def test_the_predicate_and_its_query_agree(pd_world):
    w = pd_world
    users = [fresh(u) for u in w.values() if isinstance(u, User)]
    users += [fresh(s.user) for s in Student.objects.select_related("user")]
    students = list(Student.objects.all())
    for user in users:
        q = personal_data_q(user)
        shown = set() if q is None else set(Student.objects.filter(q).values_list("pk", flat=True))
        assert shown == {s.pk for s in students if may_see_personal_data(user, s)}, user.username
        for s in students:
            assert personal_data(user, s).full == (s.pk in shown)


def test_an_identity_number_finds_a_student_only_where_it_is_shown(pd_world):
    w = pd_world
    student = w["student"]
    for who, found in (
        ("academic_affairs", True),
        ("counsellor", True),
        ("dean", False),
        ("instructor", False),
        ("student_affairs", False),
    ):
        result = list(student_list(user=fresh(w[who]), search=student.id_number))
        assert (result == [student]) is found, who
    assert student_get_visible(fresh(w["dean"]), student.pk) == student  # the dean still finds them by name


def test_mask_id_number():
    assert mask_id_number("330102200405171234") == "3301**********1234"
    assert mask_id_number("33010220040517123X") == "3301**********123X"
    assert mask_id_number("1234") == "****"
    assert mask_id_number("") == ""
