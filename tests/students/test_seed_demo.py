"""``manage.py seed_demo``: a believable institution, idempotent, one login per role."""

import io
import time

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from registrar.approvals.models import Attachment, SignOff
from registrar.approvals.permissions import grants
from registrar.models import User
from registrar.roles import Role, Scope
from statuschange.models import C4, U1, U2, U3, U4
from students.management.demo import CLASSES, PASSWORD, STAFF
from students.models import U6, Class, College, IdCardReissueRequest, RoleAssignment, Station, Student
from students.selectors import student_list
from students.validators import id_birth_date, validate_id_number

pytestmark = pytest.mark.django_db

EXPECTED_SCOPES = {
    "advisor": (Role.ADVISOR, Scope.CLASS),
    "counsellor": (Role.COUNSELLOR, Scope.CLASS),
    "secretary": (Role.COLLEGE_SECRETARY, Scope.COLLEGE),
    "dean": (Role.COLLEGE_DEAN, Scope.COLLEGE),
    "teaching_secretary": (Role.TEACHING_SECRETARY, Scope.COLLEGE),
    "instructor": (Role.INSTRUCTOR, Scope.COLLEGE),
    "student_affairs": (Role.STUDENT_AFFAIRS, Scope.UNIVERSITY),
    "sa_head": (Role.STUDENT_AFFAIRS_HEAD, Scope.UNIVERSITY),
    "registrar": (Role.ACADEMIC_AFFAIRS, Scope.UNIVERSITY),
    "aa_head": (Role.ACADEMIC_AFFAIRS_HEAD, Scope.UNIVERSITY),
    "leadership": (Role.LEADERSHIP, Scope.UNIVERSITY),
    "party_committee": (Role.PARTY_COMMITTEE, Scope.UNIVERSITY),
    "vice_president": (Role.VICE_PRESIDENT, Scope.UNIVERSITY),
    "finance": (Role.FINANCE, Scope.UNIVERSITY),
    "library": (Role.LIBRARY, Scope.UNIVERSITY),
    "dorm": (Role.DORM, Scope.UNIVERSITY),
    "apartment": (Role.APARTMENT, Scope.UNIVERSITY),
    "canteen": (Role.CANTEEN, Scope.UNIVERSITY),
    "textbook": (Role.TEXTBOOK, Scope.UNIVERSITY),
    "youth_league": (Role.YOUTH_LEAGUE, Scope.COLLEGE),
    "college_office": (Role.COLLEGE_OFFICE, Scope.COLLEGE),
    "president_office": (Role.PRESIDENT_OFFICE, Scope.UNIVERSITY),
    "station": (Role.STATION, Scope.STATION),
    "supervisor": (Role.SUPERVISOR, Scope.COLLEGE),
}


def counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in ("registrar", "students", "statuschange", "grades")
    }


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded():
    started = time.monotonic()
    output = seed()
    return output, time.monotonic() - started


def test_builds_a_small_institution(seeded):
    _output, elapsed = seeded
    assert College.objects.count() == 4
    assert College.objects.filter(name__contains="函授").count() == 1
    assert Class.objects.count() == 12
    assert Station.objects.count() == 2
    assert Student.objects.count() == 600
    assert set(Class.objects.values_list("cohort", flat=True)) == {2022, 2023, 2024, 2025}
    assert Class.objects.filter(station__isnull=False).count() == sum(1 for c in CLASSES if c[5])
    for station in Station.objects.all():
        assert station.classes.exists() and station.students.exists()
    assert elapsed < 20  # bulk inserts: a few seconds even on a slow machine


def test_running_twice_changes_nothing(seeded):
    before = counts()
    seed()
    assert counts() == before
    assert before["students.Student"] == 600 and before["students.IdCardReissueRequest"] >= 7


def test_student_records_are_consistent(seeded):
    students = list(Student.objects.select_related("klass", "major", "station"))
    assert len({s.name for s in students}) > 400  # believable variety
    assert {s.gender for s in students} == {"M", "F"}
    ethnicities = [s.ethnicity for s in students]
    assert ethnicities.count("汉族") > 0.8 * len(students) and len(set(ethnicities)) > 2
    assert len({s.political_status for s in students}) >= 3
    for s in students:
        validate_id_number(s.id_number)
        assert id_birth_date(s.id_number) == s.birth_date
        assert (int(s.id_number[16]) % 2 == 1) == (s.gender == "M")
        assert s.major == s.klass.major and s.college_id == s.klass.college_id
        assert s.enrollment_date.year == s.klass.cohort < s.expected_graduation.year
        assert (s.study_form == "correspondence") == (s.station_id is not None) == (s.klass.station_id is not None)
        assert 15 < s.klass.cohort - s.birth_date.year < 45
        assert 2 <= len(s.name) <= 3
    assert len({s.id_number for s in students}) == len(students)
    # The model's own validation agrees.
    for s in students[:: len(students) // 20]:
        s.full_clean()


def test_every_role_has_a_login_with_its_scope(seeded):
    output, _elapsed = seeded
    for username, (role, scope) in EXPECTED_SCOPES.items():
        user = authenticate(username=username, password=PASSWORD)
        assert user is not None, username
        assignment = RoleAssignment.objects.get(user=user)
        assert (assignment.role, assignment.scope) == (role, scope), username
        assert any(g.role == role and g.scope == scope for g in grants(user))
        assert username in output
    assert {u for u, _n, _r in STAFF} == set(EXPECTED_SCOPES)
    assert "demo12345" in output and "password" in output

    demo = Student.objects.get(user__username="student")
    assert authenticate(username="student", password=PASSWORD) == demo.user
    assert demo.student_number in output
    counsellor = User.objects.get(username="counsellor")
    counselled = Class.objects.filter(counsellor=counsellor)
    assert counselled.count() == 2 and demo.klass in counselled
    assert Class.objects.get(advisor__username="advisor") == demo.klass
    secretary = RoleAssignment.objects.get(user__username="secretary")
    assert secretary.college == demo.college
    assert RoleAssignment.objects.get(user__username="station").station.name == "杭州函授站"
    # the correspondence college's leader in charge of records signs C4 for that college only
    leader = RoleAssignment.objects.get(user__username="records_leader")
    assert (leader.role, leader.scope, leader.college.code) == (Role.RECORDS_LEADER, Scope.COLLEGE, "CE")
    assert "records_leader" in output
    admin = authenticate(username="admin", password=PASSWORD)
    assert admin is not None and admin.is_superuser and admin.is_staff
    # 学号 logins for the demo student's classmates, linked to their records.
    classmate = Student.objects.filter(klass=demo.klass).exclude(pk=demo.pk).first()
    assert authenticate(username=classmate.student_number, password=PASSWORD) == classmate.user


def test_scopes_decide_who_sees_whom(seeded):
    demo = Student.objects.get(user__username="student")
    total = Student.objects.count()
    see = {
        u: student_list(user=User.objects.get(username=u))
        for u in ("registrar", "dean", "counsellor", "station", "student", "admin")
    }
    assert see["registrar"].count() == see["admin"].count() == total
    assert see["dean"].count() == Student.objects.filter(college=demo.college).count() < total
    assert see["counsellor"].count() == Student.objects.filter(klass__counsellor__username="counsellor").count()
    assert set(see["station"].values_list("study_form", flat=True)) == {"correspondence"}
    assert list(see["student"]) == [demo]


def test_id_reissue_requests_in_every_state_with_real_sign_offs(seeded):
    states = set(IdCardReissueRequest.objects.values_list("state", flat=True))
    assert states >= {code for code, _label in U6.states()}
    for req in IdCardReissueRequest.objects.select_related("student"):
        assert req.applicant_id == req.student.user_id
        signoffs = list(SignOff.objects.for_object(req))
        assert Attachment.objects.filter(object_id=req.pk, kind="photo").exists()
        if req.state == "draft":
            assert signoffs == []
            continue
        assert signoffs[0].decision == "submit"
        assert signoffs[-1].target_state == req.state  # the log ends where the request is
        if req.state == "completed":
            assert [s.decision for s in signoffs][-3:] == ["approve"] * 3
            req.student.refresh_from_db()
            assert req.student.card_number == req.new_card_number != ""
            assert req.student.history.filter(field="card_number").exists()
        if req.state == "returned":
            assert signoffs[-1].decision == "reject" and req.return_reason
    assert any(r.is_overdue for r in IdCardReissueRequest.objects.all())
    assert IdCardReissueRequest.objects.filter(round=2).exists()  # returned, amended, resubmitted
    # The demo student's own request is finished, so they can apply again in a demo.
    demo = Student.objects.get(user__username="student")
    assert not IdCardReissueRequest.objects.filter(student=demo).exclude(state__in=["completed", "withdrawn"])


def test_students_option_and_growing_later(db):
    seed("--students", "120")
    assert Student.objects.count() == 120
    assert set(IdCardReissueRequest.objects.values_list("state", flat=True)) >= {"draft", "completed", "returned"}
    seed("--students", "240")
    assert Student.objects.count() == 240
    assert IdCardReissueRequest.objects.count() == 10  # requests are not duplicated


def test_visible_student_and_history_selectors(seeded):
    from django.http import Http404

    from students.selectors import student_get_visible, student_history

    demo = Student.objects.get(user__username="student")
    classmate = Student.objects.filter(klass=demo.klass).exclude(pk=demo.pk).first()
    elsewhere = Student.objects.exclude(college=demo.college).first()
    counsellor, me = User.objects.get(username="counsellor"), User.objects.get(username="student")
    assert student_get_visible(counsellor, demo.pk) == demo
    assert student_get_visible(me, demo.pk) == demo
    for user, pk in ((counsellor, elsewhere.pk), (me, classmate.pk), (me, "abc"), (counsellor, 10**9)):
        with pytest.raises(Http404):
            student_get_visible(user, pk)
    assert [h.field for h in student_history(demo)] == ["card_number"]
    assert student_list(user=me, search=demo.name).get() == demo
    assert (
        student_list(user=counsellor, klass_id=demo.klass_id).count()
        == Student.objects.filter(klass=demo.klass).count()
    )
    assert not student_list(user=counsellor, college_id=elsewhere.college_id).exists()
    User.objects.filter(pk=counsellor.pk).update(is_active=False)
    assert not student_list(user=User.objects.get(pk=counsellor.pk)).exists()


# --- status changes (U1–U4, C4) ------------------------------------------------------------------
STATUS_CHANGE_STATES = {
    U1.code: {"advisor_confirm", "college_review", "offices_review", "clearance", "completed"},
    U2.code: {"advisor_confirm", "college_review"},
    U3.code: {"clearance", "completed", "returned"},
    U4.code: {"college_leadership", "completed"},
    C4.code: {"college_review"},
}


def _status_change_requests():
    from registrar.approvals.chains import get_chain

    return {
        code: list(get_chain(code).model.objects.select_related("student", "student__college"))
        for code in STATUS_CHANGE_STATES
    }


def test_status_change_requests_at_various_stages_with_real_sign_offs(seeded):
    from registrar.approvals.chains import COMPLETED, WITHDRAWN
    from registrar.documents.models import Document
    from students.models import StatusHistory

    found = _status_change_requests()
    assert {code: {r.state for r in reqs} for code, reqs in found.items()} == STATUS_CHANGE_STATES
    students = [r.student for reqs in found.values() for r in reqs]
    for reqs in found.values():
        for req in reqs:
            signoffs = list(SignOff.objects.for_object(req))
            assert signoffs[0].decision == "submit" and signoffs[-1].target_state == req.state
            if req.state == "returned":
                assert signoffs[-1].decision == "reject" and req.return_reason
    # At most one open status change per student (the exclusive group), every scenario its own student.
    for student in set(students):
        open_ = [
            r
            for reqs in found.values()
            for r in reqs
            if r.student_id == student.pk and r.state not in (COMPLETED, WITHDRAWN)
        ]
        assert len(open_) <= 1, student

    u1 = {r.state: r for r in found[U1.code]}
    assert u1["college_review"].signed_roles() == {"counsellor"}  # the secretary and dean still to sign
    assert u1["clearance"].pending_roles() == ["dorm"]  # library signed, dorm not yet
    u3 = {r.state: r for r in found[U3.code]}
    clearance = u3["clearance"]
    assert clearance.signed_roles() == {"college_office", "finance", "library"}
    assert set(clearance.pending_roles()) == {"youth_league", "apartment", "textbook"}
    assert clearance.refund is not None  # finance recorded its own data
    assert clearance.student.status == Student.Status.ENROLLED
    done = u3["completed"].student
    assert (done.status, done.withdrawal_kind) == (Student.Status.WITHDRAWN, Student.WithdrawalKind.VOLUNTARY)
    assert Document.objects.filter(student=done, doc_type="withdrawal_certificate").exists()

    # U2: each applicant was suspended by a completed U1 first.
    for req in found[U2.code]:
        assert req.student.status == Student.Status.SUSPENDED
        assert any(r.student_id == req.student_id and r.state == "completed" for r in found[U1.code])
        assert Document.objects.filter(student=req.student, doc_type="suspension_slip").exists()
    # U4: filed by the counsellor; the completed one withdrew the student automatically, once.
    u4 = {r.state: r for r in found[U4.code]}
    assert {r.applicant.username for r in found[U4.code]} == {"counsellor"}
    auto = u4["completed"].student
    assert (auto.status, auto.withdrawal_kind) == (Student.Status.WITHDRAWN, Student.WithdrawalKind.AUTOMATIC)
    assert StatusHistory.objects.filter(student=auto, field="status").count() == 1
    assert not Document.objects.filter(student=auto).exists()
    assert u4["college_leadership"].signed_roles() == {"college_secretary"}
    # C4: a correspondence student of the station, filed by the station, awaiting the college.
    c4 = found[C4.code][0]
    assert c4.student.study_form == Student.StudyForm.CORRESPONDENCE and c4.applicant.username == "station"
    assert Attachment.objects.filter(object_id=c4.pk, kind="written_application").exists()


def test_status_change_inboxes_have_work_for_the_demo_logins(seeded):
    from registrar.approvals.selectors import inbox_querysets

    def awaiting(username):
        return {
            chain.code: qs.count()
            for chain, qs in inbox_querysets(User.objects.get(username=username))
            if chain.code in STATUS_CHANGE_STATES and qs.count()
        }

    assert awaiting("advisor") == {U1.code: 1, U2.code: 1}
    assert awaiting("dean") == {U1.code: 1, U2.code: 1, U4.code: 1}
    assert awaiting("secretary") == {U1.code: 1, U2.code: 1}  # the U4 one is signed already
    assert awaiting("student_affairs") == {U1.code: 1}
    assert awaiting("dorm") == {U1.code: 1}
    assert awaiting("youth_league") == awaiting("apartment") == {U3.code: 1}
    assert awaiting("ce_dean") == {C4.code: 1}
    assert C4.code not in awaiting("dean")  # the correspondence college is not the dean's
    assert authenticate(username="ce_dean", password=PASSWORD) is not None


def test_status_changes_outside_the_filing_window_and_idempotent(db, settings):
    from freezegun import freeze_time

    from registrar.approvals.deadlines import check_windows
    from registrar.exceptions import ApplicationError
    from statuschange.models import C4

    outside = "2026-07-15"
    with freeze_time(f"{outside} 10:00"):
        seed("--students", "120")
        with pytest.raises(ApplicationError):  # the demo seeded the calendar; the date is outside its windows
            check_windows(C4.windows, what=C4.name)
    found = _status_change_requests()
    assert [r.state for r in found[C4.code]] == ["college_review"]
    # A small institution has too few students for every scenario: growing it adds the rest, once.
    before = sum(len(v) for v in found.values())
    seed("--students", "600")
    after = _status_change_requests()
    assert sum(len(v) for v in after.values()) > before
    assert {code: {r.state for r in reqs} for code, reqs in after.items()} == STATUS_CHANGE_STATES
    total = counts()
    seed("--students", "600")
    assert counts() == total
