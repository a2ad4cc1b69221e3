"""Issue 8, defect 13: every role looks up the requests in its scope and those it signed (C3 look-up).

``Grant.student_q`` used to return the empty ``Q()`` for a university grant, which Django drops from an
OR: university-wide offices (registrar, Student Affairs, leadership, finance, library) saw no request,
and a user with a university grant beside a narrower one saw only the narrower scope. ``can_view`` and
``visible_q`` are now one rule, checked here for every user against every request.
"""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.urls import reverse
from freezegun import freeze_time

from registrar.approvals import permissions as perms
from registrar.approvals.chains import all_chains, get_chain
from registrar.approvals.selectors import visible_requests
from registrar.models import User
from registrar.roles import Role, Scope
from statuschange.models import C4, U1
from statuschange.selectors import status_change_querysets
from students.models import RoleAssignment, Student
from tests.factories import ClassFactory, IdCardReissueRequestFactory, StudentFactory, UserFactory, staff
from tests.statuschange.conftest import sc_world  # noqa: F401  (the status-change world fixture)
from tests.statuschange.helpers import open_request, pass_stage, sign

UNIVERSITY_OFFICES = ("academic_affairs", "student_affairs", "party_committee", "vice_president", "finance", "library")


U1_DATA = {"reason": "personal", "reason_detail": "家庭原因", "period_start": "2026-03-15", "period_end": "2026-09-01"}


def new_u1(student):
    from registrar.approvals.services import request_create

    return request_create(chain=get_chain(U1.code), student=student, applicant=student.user, data=U1_DATA, submit=True)


def fresh(user) -> User:
    """The user re-read (grants are cached on the user object)."""
    return User.objects.get(pk=user.pk)


def test_a_university_grant_is_never_the_empty_q_that_an_or_drops(db):
    students = [StudentFactory() for _ in range(3)]
    university = perms.Grant(Role.ACADEMIC_AFFAIRS, Scope.UNIVERSITY)
    narrow = perms.Grant(Role.COUNSELLOR, Scope.CLASS, klass_id=students[0].klass_id)
    assert university.student_q()  # a real condition
    for q in (
        narrow.student_q() | university.student_q(),
        university.student_q() | narrow.student_q(),
        Q(pk=-1) | university.student_q(),
    ):
        assert set(Student.objects.filter(q)) == set(students)
    assert Student.objects.filter(narrow.student_q()).get() == students[0]


@pytest.fixture
def lookup_world(sc_world):
    """Requests of several chains in several states, one of them signed by a counsellor who has since
    lost the class, plus users around them."""
    w = dict(sc_world)
    with freeze_time("2026-03-10 10:00"):
        u1 = open_request(w, U1.code)
        while u1.state != "leadership_review":
            u1 = pass_stage(w, u1)
    w["u1"], w["u6_draft"] = u1, IdCardReissueRequestFactory(student=w["student"])
    # another class's student with a U1 signed by their counsellor, who then leaves the class
    klass = ClassFactory(major=w["student"].major)
    mover = staff(Role.COUNSELLOR, klass=klass, username="moving_counsellor")
    other_student = StudentFactory(klass=klass)
    with freeze_time("2026-03-10 10:00"):
        req = new_u1(other_student)
        req = sign(w, req, "advisor", user=staff(Role.ADVISOR, klass=klass, username="mover_advisor"))
        req = sign(w, req, "counsellor", user=mover)
    RoleAssignment.objects.filter(user=mover).delete()
    w["signed_elsewhere"], w["mover"] = req, fresh(mover)
    # C4 of the correspondence student, at the station's review
    with freeze_time("2026-03-10 10:00"):
        w["c4"] = open_request(w, C4.code)
    w["instructor"] = staff(Role.INSTRUCTOR, college=w["student"].college, username="instructor")
    w["supervisor"] = staff(Role.SUPERVISOR, college=w["student"].college, username="supervisor")
    w["president_office"] = staff(Role.PRESIDENT_OFFICE, username="president_office")
    w["nobody"] = UserFactory(username="nobody")
    w["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    # a user holding a university grant and a narrower one at once
    mixed = staff(Role.STUDENT_AFFAIRS, username="mixed")
    RoleAssignment.objects.create(
        user=mixed, role=Role.ACADEMIC_AFFAIRS_HEAD, scope=Scope.COLLEGE, college=ClassFactory().college
    )
    w["mixed"] = mixed
    return w


def _users(w) -> list[User]:
    users = {v.pk: v for v in w.values() if isinstance(v, User)}
    users.update({s.user_id: s.user for s in Student.objects.select_related("user") if s.user_id})
    return [fresh(u) for u in users.values()]


def test_can_view_agrees_with_visible_q_for_every_user_and_request(lookup_world):
    w = lookup_world
    users = _users(w)
    checked = 0
    for chain in all_chains():
        requests = list(chain.model.objects.select_related("student"))
        for user in users:
            visible = set(visible_requests(user, chain).values_list("pk", flat=True))
            viewable = {r.pk for r in requests if perms.can_view(user, r)}
            assert visible == viewable, (chain.code, user.username)
            checked += len(requests)
    assert checked > 100


def test_those_who_signed_keep_seeing_the_request(lookup_world, client):
    w = lookup_world
    req, mover = w["signed_elsewhere"], w["mover"]
    assert perms.grants(mover) == []  # no role left at all
    assert req in visible_requests(mover, req.chain)
    client.force_login(mover)
    assert client.get(req.get_absolute_url()).status_code == 200
    ids = [r["id"] for r in client.get(reverse("api:requests", args=[U1.code])).json()["results"]]
    assert ids == [req.pk]
    # and may look its student up (the student of a request they see), masked
    from students.selectors import student_list

    assert list(student_list(user=fresh(mover))) == [req.student]
    # a user who never signed it and has no role still sees nothing
    client.force_login(w["nobody"])
    assert client.get(req.get_absolute_url()).status_code == 404
    assert client.get(reverse("api:requests", args=[U1.code])).json()["results"] == []


@pytest.mark.parametrize("role", UNIVERSITY_OFFICES)
def test_university_offices_look_up_the_requests_of_their_chains(lookup_world, client, role):
    w = lookup_world
    user = w[role]
    client.force_login(user)
    for chain in all_chains():
        response = client.get(reverse("api:requests", args=[chain.code]))
        assert response.status_code == 200
        ids = {r["id"] for r in response.json()["results"]}
        everything = set(chain.model.objects.values_list("pk", flat=True))
        if role in chain.participant_roles() or role == "academic_affairs":
            assert ids == everything, chain.code  # a university grant means every request of the chain
        else:
            signed = set(
                chain.model.objects.filter(Q(pk__in=perms._signed_by(user, chain))).values_list("pk", flat=True)
            )
            assert ids == signed, chain.code
    # U1 (library and finance sign it later on): listed and readable by each office
    u1 = w["u1"]
    ids = {r["id"] for r in client.get(reverse("api:requests", args=[U1.code])).json()["results"]}
    assert u1.pk in ids
    assert client.get(reverse("api:request", args=[U1.code, u1.pk])).status_code == 200
    assert client.get(u1.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("role", UNIVERSITY_OFFICES)
def test_university_offices_find_what_awaits_them_in_the_web_list(lookup_world, client, role):
    w = lookup_world
    with freeze_time("2026-03-10 10:00"):
        u1 = new_u1(StudentFactory(klass=w["student"].klass))
        while role not in u1.chain.signers(u1.state):
            u1 = pass_stage(w, u1)
    client.force_login(w[role])
    html = client.get(reverse("approvals:inbox")).content.decode()
    assert u1.get_absolute_url() in html
    assert client.get(reverse("api:inbox")).json()["count"] >= 1


def test_registrar_student_page_lists_the_students_requests(lookup_world, client):
    w = lookup_world
    student = w["student"]
    client.force_login(w["academic_affairs"])
    html = client.get(reverse("students:detail", args=[student.pk])).content.decode()
    for req in (w["u1"], w["u6_draft"]):
        assert req.get_absolute_url() in html


def test_other_users_of_the_grant_scope_keep_a_university_grant(lookup_world):
    """A user with a university grant and a narrower one sees the university (statuschange dashboard)."""
    w = lookup_world
    mixed = fresh(w["mixed"])
    seen = {(chain.code, pk) for chain, qs in status_change_querysets(mixed) for pk in qs.values_list("pk", flat=True)}
    assert (U1.code, w["u1"].pk) in seen and (C4.code, w["c4"].pk) in seen
    assert (U1.code, w["signed_elsewhere"].pk) in seen
