"""R1, the permission matrix: one world, every URL of the URLconf and every operation of the
OpenAPI schema, every role in scope and out of scope (tests/reliability/test_r1_permission_matrix.py).

Three parts:

1. **The world** (``build_world``): two colleges, a class of each, a correspondence class at a
   station, a student per chain with one request of every chain at a stage (through the approval
   services), grade sheets in several states, a station submission, import jobs, transcript
   batches with a class print, issued documents (one revoked), attachments and stored files; and
   the people (``PEOPLE``): for every role of ``registrar.roles`` a user whose scope covers the
   world's students (the college A, its class KA, the station S, or the university) and a double
   out of scope (college B, class KB, station T; a university role granted over college B only),
   the student of the object, a classmate, a student of college B, a superuser, and anonymous.

2. **The coverage table** (``all_cases``): every URL pattern name of ``django.urls.get_resolver()``
   (the admin is walked separately) has cases (one per chain where the URL takes a chain, one per
   document, …) that say how to build its kwargs from the world, which methods are tried, whose
   data it shows, and its policy: who may see the object (others get 404, or 403 for a wrong role),
   who may do the method (other viewers get 403), or who is served a page that is not one object's
   (its content filtered by their scope) — or the name is in ``PUBLIC`` with the reason. A URL name
   or a schema operation the table lacks fails the coverage tests, naming it. Each case is asked by
   anonymous, the superuser, everyone in scope (right and wrong roles) and, out of scope, the roles
   that have some access in scope (``Case.people``).

3. **The rule for a cell** (``check_cell``): anonymous → the login redirect (web) or 401/403 (API),
   never data; a user out of the object's audience → 404; in the audience but not allowed → 403;
   allowed → 2xx/3xx or a clear 4xx (a wrong-state action), never 5xx; and in every answer nobody
   sees what is not theirs: no refused answer names the object's student, ID number or an opinion,
   and no page shows a full identity number to a role that must see it masked, an opinion to
   someone who may not see its request, or a student nobody gave the user to look up.

The policy is written here, from the issue's rules and STYLE.md §5, not read from the permission
code under test; only the chains' own configuration (who signs which stage) is taken from them.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grades.models import BATCH_TRANSCRIPT, CORRECTION, EXEMPTION, PERSONAL_TRANSCRIPT
from registrar.roles import Role, Scope
from statuschange.models import C4, U1, U2, U3, U4
from students.models import U6
from tests.reliability.world import CLASS_ROLES, COLLEGE_ROLES, UNIVERSITY_ROLES

# --- people ----------------------------------------------------------------------------------------
# the scope groups (university-, college-, class-wide) are the R2 world's: one list for both suites
STATION_ROLES = (Role.STATION,)
STAFF_ROLES = tuple(r.value for r in (*CLASS_ROLES, *COLLEGE_ROLES, *STATION_ROLES, *UNIVERSITY_ROLES))
assert set(STAFF_ROLES) | {Role.STUDENT.value} == set(Role.values), "a role of registrar.roles is not in the matrix"

ANON = "anonymous"
SUPERUSER = "superuser"
STUDENT = "student"  # the student the object is about (the case's subject); the world's main student otherwise
PEER = "student~peer"  # a classmate with nothing to do with the object
STUDENT_OUT = "student~out"  # a student of the other college


def out(role: str) -> str:
    return f"{role}~out"


#: every user of a cell, in order (known before the database exists, so cells can be parametrized)
PEOPLE = (ANON, SUPERUSER, STUDENT, PEER, STUDENT_OUT, *STAFF_ROLES, *(out(r) for r in STAFF_ROLES))


def is_out(key: str) -> bool:
    return key.endswith("~out") or key == PEER


def role_of(key: str) -> str | None:
    """The role a person key stands for (``None`` for anonymous and the superuser)."""
    if key in (ANON, SUPERUSER):
        return None
    return key.split("~")[0]


#: names and marks in the world that must never appear where they should not (unique strings)
OPINION = "审核意见R1-{tag}-机密"


@dataclass
class World:
    users: dict = field(default_factory=dict)  # person key → User (student keys: the main student's)
    objects: dict = field(default_factory=dict)
    students: dict = field(default_factory=dict)  # tag → Student
    requests: dict = field(default_factory=dict)  # chain code → request
    opinions: dict = field(default_factory=dict)  # opinion text → (chain code, request pk)
    all_requests: list = field(default_factory=list)  # every request in the world (the open ones and the rest)

    clients: dict = field(default_factory=dict)  # user pk (None: anonymous) → a logged-in test Client
    _viewers: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # the policy's sets, computed once from the pristine world

    def remember(self, key, compute):
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def __getitem__(self, key):
        return self.objects[key]

    def client_for(self, user):
        return self.clients[None if user is None else user.pk]

    def log_in_everyone(self) -> None:
        """One Client per user, logged in once (its session lives as long as the world)."""
        from django.test import Client

        from registrar.models import User

        # a 5xx is a broken cell like any other: answered, recorded, and the next cell goes on
        self.clients[None] = Client(raise_request_exception=False)
        for user in User.objects.all():
            self.clients[user.pk] = Client(raise_request_exception=False)
            self.clients[user.pk].force_login(user)

    def viewer_pks(self, code: str, pk: int) -> set[int]:
        """The users who may see request ``code``#``pk`` (the policy's ``request_viewers``)."""
        if (code, pk) not in self._viewers:
            req = next(r for r in self.all_requests if r.chain.code == code and r.pk == pk)
            self._viewers[(code, pk)] = {self.user(k, req.student).pk for k in request_viewers(self, req)}
        return self._viewers[(code, pk)]

    def user(self, key: str, subject=None):
        """The User of person ``key``; ``student`` is the subject's own user when there is one."""
        if key == STUDENT and subject is not None:
            return subject.user
        return self.users[key]


# --- the world ---------------------------------------------------------------------------------------
def _staff(w: World, key: str, role: str, **target):
    from students.models import RoleAssignment
    from tests.factories import UserFactory

    user = w.users.get(key) or UserFactory(username=f"r1_{key.replace('~', '_')}", full_name=f"R1 {key}")
    w.users[key] = user
    scope = (
        Scope.CLASS
        if target.get("klass")
        else Scope.COLLEGE
        if target.get("college")
        else Scope.STATION
        if target.get("station")
        else Scope.UNIVERSITY
    )
    RoleAssignment.objects.create(user=user, role=role, scope=scope, **target)
    return user


def _student(w: World, tag: str, klass, **kw):
    from tests.factories import StudentFactory

    s = StudentFactory(klass=klass, name=f"司徒{tag}号", **kw)  # no name is the start of another
    w.students[tag] = s
    return s


def _pdf_upload(name="scan.pdf"):
    from tests.factories import pdf_upload

    return pdf_upload(name)


def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _xlsx_upload(rows, name="upload.xlsx"):
    return SimpleUploadedFile(
        name, _xlsx(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def _make_ready(document) -> None:
    """Stand in for the Celery render (never run inside the world's transaction): store a small PDF."""
    from registrar.documents.models import Document
    from tests.factories import pdf_bytes

    document.file.save(f"{document.serial}.pdf", ContentFile(pdf_bytes()), save=False)
    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.READY, progress=100, file=document.file.name, sha256="0" * 64
    )


def build_world() -> World:
    from grades.models import BATCH_TRANSCRIPT, ClassPrint, Grade
    from grades.services import entry as entry_services
    from grades.services.imports.jobs import import_job_create
    from grades.services.stations import station_submission_create
    from grades.services.transcripts import transcript_batch_file, transcript_batch_seal_class
    from registrar.approvals.chains import get_chain
    from registrar.approvals.services import request_act, request_create
    from registrar.documents.models import Document
    from registrar.documents.services import document_issue_for_request
    from students.models import Class, Student
    from tests.factories import ClassFactory, MajorFactory, StationFactory, UserFactory, photo_upload
    from tests.grades.factories import CourseFactory, TermFactory, make_offering

    w = World()
    # organisation: college A (home) with class KA and the correspondence class KS at station S;
    # college B (other) with class KB at station T
    major_a, major_b = MajorFactory(), MajorFactory()
    ka = ClassFactory(major=major_a, name="R1甲班")
    station_s, station_t = StationFactory(), StationFactory()
    ks = ClassFactory(major=major_a, station=station_s, name="R1函授班")
    kb = ClassFactory(major=major_b, station=station_t, name="R1乙班")
    receiving = ClassFactory(major=major_a, cohort=ka.cohort + 1, name="R1接收班")
    college_a, college_b = ka.college, kb.college
    w.objects.update(
        college_a=college_a,
        college_b=college_b,
        ka=ka,
        kb=kb,
        ks=ks,
        receiving=receiving,
        station_s=station_s,
        station_t=station_t,
    )

    # people: a user per role in scope and one out of scope
    for role in CLASS_ROLES:
        _staff(w, role, role, klass=ka)
        _staff(w, out(role), role, klass=kb)
    Class.objects.filter(pk=receiving.pk).update(advisor=w.users[Role.ADVISOR], counsellor=w.users[Role.COUNSELLOR])
    for role in COLLEGE_ROLES:
        _staff(w, role, role, college=college_a)
        _staff(w, out(role), role, college=college_b)
    _staff(w, Role.STATION, Role.STATION, station=station_s)
    _staff(w, out(Role.STATION), Role.STATION, station=station_t)
    for role in UNIVERSITY_ROLES:
        _staff(w, role, role)
        _staff(w, out(role), role, college=college_b)  # the same office, granted over college B only
    w.users[SUPERUSER] = UserFactory(username="r1_root", is_superuser=True, is_staff=True)

    # students: one per chain (status-change chains allow one open request per student), a
    # classmate with nothing open, a student of college B, a student nobody looks up but the offices
    main = _student(w, "主", ka)
    from tests.factories import png_bytes

    if hasattr(main, "photo"):
        main.photo.save("photo.png", ContentFile(png_bytes()))
    w.users[STUDENT] = main.user
    w.users[PEER] = _student(w, "同班", ka).user
    w.users[STUDENT_OUT] = _student(w, "乙院", kb).user
    for tag in (
        U1.code,
        "U1办结",
        U2.code,
        U3.code,
        "U3退回",
        U4.code,
        U6.code,
        PERSONAL_TRANSCRIPT.code,
        CORRECTION.code,
        BATCH_TRANSCRIPT.code,
        "U5B印",
    ):
        _student(w, tag, ka)
    for tag in (C4.code, EXEMPTION.code):
        _student(w, tag, ks, study_form=Student.StudyForm.CORRESPONDENCE)
    s = w.students

    # grades: a term with an open window; a sheet being entered (KA and KS), a submitted sheet, a
    # confirmed sheet (the record, corrections, transcripts) — all taught by "instructor"
    aa, instructor = w.users[Role.ACADEMIC_AFFAIRS], w.users[Role.INSTRUCTOR]
    term = TermFactory(
        code="2026-2027-1", name="2026-2027学年第一学期", start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 1, 20)
    )
    now = timezone.now()
    entry_services.window_publish(
        term=term, opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=30), actor=aa
    )
    course = CourseFactory(college=college_a, name="R1课程")
    entering = make_offering(course=course, term=term, classes=[ka, ks], instructors=[instructor], code="R1-ENTERING")
    submitted = make_offering(
        course=CourseFactory(college=college_a), term=term, classes=[ka], instructors=[instructor], code="R1-SUBMITTED"
    )
    confirmed = make_offering(
        course=CourseFactory(college=college_a), term=term, classes=[ka], instructors=[instructor], code="R1-CONFIRMED"
    )
    for offering in (submitted, confirmed):
        codes = [c.code for c in offering.components.all()]
        rows = {g.pk: dict.fromkeys(codes, "80") for g in offering.grades.all()}
        entry_services.grades_enter(offering=offering, actor=instructor, rows=rows)
        entry_services.sheet_submit(offering=offering, actor=instructor)
    entry_services.sheet_confirm(offering=confirmed, actor=aa)
    codes = [c.code for c in entering.components.all()]
    entry_services.grades_enter(
        offering=entering,
        actor=instructor,
        rows={g.pk: dict.fromkeys(codes, "75") for g in entering.grades.filter(student__klass=ka)[:3]},
    )
    w.objects.update(term=term, entering=entering, submitted=submitted, confirmed=confirmed)
    # made after the sheets: no request, no grade, no document — only the look-up roles may find them
    _student(w, "静默", ka)

    # station S reports its students' results on the sheet being entered (file stored)
    header = ["学号", "姓名", *[c.display_label for c in entering.components.all()]]
    ks_rows = [
        [g.student.student_number, g.student.name, *(["70"] * len(codes))]
        for g in entering.grades.filter(student__station=station_s).select_related("student")
    ]
    w.objects["submission"] = station_submission_create(
        station=station_s,
        offering=entering,
        upload=_xlsx_upload([header, *ks_rows], "station.xlsx"),
        actor=w.users[Role.STATION],
    )

    # import jobs (stored workbooks): one by the college's teaching secretary, one by Academic Affairs
    w.objects["job_secretary"] = import_job_create(
        kind="grades", file=_xlsx_upload([["学号"]], "sec.xlsx"), actor=w.users[Role.TEACHING_SECRETARY]
    )
    w.objects["job_aa"] = import_job_create(kind="grades", file=_xlsx_upload([["学号"]], "aa.xlsx"), actor=aa)

    # --- one request of every chain, left at a stage where someone in the world must sign --------
    def act(req, key, action="approve", data=None, tag=None):
        chain = get_chain(req.chain.code)
        opinion = OPINION.format(tag=tag or f"{chain.code}{req.pk}-{req.state}-{key}")
        w.opinions[opinion] = (chain.code, req.pk)
        return request_act(
            chain=chain,
            request_id=req.pk,
            actor=w.users[key],
            action=action,
            opinion=opinion,
            data=data or {},
            as_role=role_of(key),
        )

    def advance(req, until):
        chain = get_chain(req.chain.code)
        while req.state != until:
            for role in chain.signers(req.state):
                req = act(req, role, data=STAGE_DATA.get((chain.code, req.state, role), {}))
        return req

    today = timezone.localdate()
    STAGE_DATA = {
        (U1.code, "registrar_issue", "academic_affairs"): {"effective_date": today.isoformat()},
        (U6.code, "finance_payment", "finance"): {"fee_amount": "20.00", "receipt_number": "R1-0001"},
    }

    def create(code, tag, *, applicant=None, data=None, attachments=None):
        student = s[tag]
        return request_create(
            chain=get_chain(code),
            student=student,
            applicant=applicant or student.user,
            data=data or {},
            attachments=attachments or {},
            submit=True,
        )

    u1_data = {
        "reason": "illness",
        "reason_detail": "R1休学原因",
        "period_start": today + dt.timedelta(days=7),
        "period_end": today + dt.timedelta(days=180),
    }
    w.requests[U1.code] = advance(
        create(U1.code, U1.code, data=u1_data, attachments={"medical_certificate": _pdf_upload("诊断.pdf")}),
        "offices_review",
    )
    u1done = advance(
        create(U1.code, "U1办结", data=u1_data, attachments={"medical_certificate": _pdf_upload("诊断.pdf")}),
        "finance_receipt",
    )
    Student.objects.filter(pk=s[U2.code].pk).update(status=Student.Status.SUSPENDED)
    s[U2.code].refresh_from_db()
    w.requests[U2.code] = advance(create(U2.code, U2.code, data={"reason_detail": "R1复学"}), "college_review")
    w.requests[U3.code] = advance(create(U3.code, U3.code, data={"reason_detail": "R1退学"}), "clearance")
    w.requests[U4.code] = create(
        U4.code,
        U4.code,
        applicant=w.users[Role.COUNSELLOR],
        data={"absent_since": today - dt.timedelta(days=60), "evidence": "R1旷课"},
        attachments={"absence_evidence": _pdf_upload("缺勤.pdf")},
    )
    from registrar.approvals.deadlines import windows_waived

    with windows_waived():  # stations file C4 only within the term's windows (they have their own tests)
        c4 = create(
            C4.code,
            C4.code,
            applicant=w.users[Role.STATION],
            data={"change_type": "suspension", "reason_detail": "R1函授休学"},
            attachments={"written_application": _pdf_upload("申请.pdf")},
        )
    w.requests[C4.code] = advance(c4, "college_review")
    w.requests[U6.code] = advance(
        create(
            U6.code, U6.code, data={"reason": "lost", "reason_detail": "R1遗失"}, attachments={"photo": photo_upload()}
        ),
        "finance_payment",
    )
    form_doc = document_issue_for_request(
        doc_type="approval_form", request=w.requests[U6.code], issued_by=w.requests[U6.code].applicant
    )
    # a withdrawal returned at the clearance: its leave-school notice is revoked with the opinion as reason
    u3r = advance(create(U3.code, "U3退回", data={"reason_detail": "R1退学退回"}), "clearance")
    act(u3r, Role.LIBRARY, "reject", tag="U3-returned")
    w.requests[PERSONAL_TRANSCRIPT.code] = advance(
        create(
            PERSONAL_TRANSCRIPT.code,
            PERSONAL_TRANSCRIPT.code,
            data={"purpose": "R1用途", "language": "zh", "copies": 1},
        ),
        "handover",
    )
    grade = Grade.objects.get(offering=confirmed, student=s[CORRECTION.code])
    w.requests[CORRECTION.code] = create(
        CORRECTION.code,
        CORRECTION.code,
        applicant=instructor,
        data={"grade": grade, "new_score": Decimal("90"), "reason": "R1漏记"},
    )
    w.requests[EXEMPTION.code] = create(
        EXEMPTION.code,
        EXEMPTION.code,
        data={"offering": entering, "kind": "exam", "reason": "R1免修"},
        attachments={"evidence": _pdf_upload("证书.pdf")},
    )
    student_affairs = w.users[Role.STUDENT_AFFAIRS]
    batch = transcript_batch_file(
        actor=student_affairs, purpose="job_fair", language="zh", note="R1批次", students=[s[BATCH_TRANSCRIPT.code]]
    )
    w.requests[BATCH_TRANSCRIPT.code] = BATCH_TRANSCRIPT.model.objects.get(batch=batch)
    printed = transcript_batch_file(
        actor=student_affairs, purpose="graduates", language="zh", note="R1打印", students=[s["U5B印"]]
    )
    sealed = BATCH_TRANSCRIPT.model.objects.get(batch=printed)
    for stage, sealer in (("college_seal", w.users[Role.TEACHING_SECRETARY]), ("academic_affairs_seal", aa)):
        opinion = OPINION.format(tag=f"U5B{sealed.pk}-{stage}")
        w.opinions[opinion] = (BATCH_TRANSCRIPT.code, sealed.pk)
        transcript_batch_seal_class(batch=printed, klass=ka, actor=sealer, stage=stage, opinion=opinion)
    class_print = ClassPrint.objects.get(batch=printed, klass=ka)
    class_print.file.save("class.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    ClassPrint.objects.filter(pk=class_print.pk).update(
        status=ClassPrint.Status.READY, progress=100, file=class_print.file.name
    )
    assert all(r.chain.code == code for code, r in w.requests.items())
    for code, req in w.requests.items():
        w.requests[code] = type(req).objects.select_related("student").get(pk=req.pk)

    # documents: every one issued in the world, rendered (stand-in), keyed by what they are
    for doc in Document.objects.filter(status=Document.Status.PENDING):
        _make_ready(doc)
    docs = {
        "approval_form": form_doc,
        "revoked": Document.objects.get(chain=U3.code, request_id=u3r.pk, doc_type="leave_notice"),
        "suspension_slip": Document.objects.get(chain=U1.code, request_id=u1done.pk, doc_type="suspension_slip"),
        "leave_notice": Document.objects.get(chain=U3.code, request_id=w.requests[U3.code].pk, doc_type="leave_notice"),
        "transcript": Document.objects.filter(
            chain=PERSONAL_TRANSCRIPT.code, request_id=w.requests[PERSONAL_TRANSCRIPT.code].pk
        ).first(),
    }
    w.objects["documents"] = {k: Document.objects.get(pk=d.pk) for k, d in docs.items()}
    from registrar.approvals.selectors import request_attachments

    w.objects["attachments"] = {code: request_attachments(w.requests[code])[0].pk for code in ATTACHED}
    w.all_requests = [
        *w.requests.values(),
        type(u1done).objects.get(pk=u1done.pk),
        type(u3r).objects.get(pk=u3r.pk),
        *BATCH_TRANSCRIPT.model.objects.filter(batch=printed),
    ]
    w.objects.update(batch=batch, printed_batch=printed, class_print=class_print, u1done=u1done, u3r=u3r, grade=grade)
    # a substitute named for a period that starts next year: in the world, not yet in force (a delegation
    # in force would widen the substitute's scope, which the policy here does not model)
    from registrar.approvals.models import Delegation

    next_year = dt.date(timezone.localdate().year + 1, 1, 1)
    w.objects["delegation"] = Delegation.objects.create(
        principal=w.users[Role.COUNSELLOR.value],
        substitute=w.users[Role.ADVISOR.value],
        starts_on=next_year,
        ends_on=next_year + dt.timedelta(days=7),
        reason="R1",
        created_by=w.users[Role.COUNSELLOR.value],
    )
    return w


# --- scope and the policy's sets of people -----------------------------------------------------------
def covers(w: World, key: str, student) -> bool:
    """Whether person ``key``'s grant covers ``student`` (the world's scopes, written out here)."""
    role = role_of(key)
    if role is None:
        return key == SUPERUSER
    if role == Role.STUDENT:
        return False  # a student covers nobody; their own objects are named by STUDENT
    if is_out(key):
        if role in CLASS_ROLES:
            return student.klass_id == w["kb"].pk
        if role == Role.STATION:
            return student.station_id == w["station_t"].pk
        return student.college_id == w["college_b"].pk  # college roles and university roles granted over B
    if role in CLASS_ROLES:
        return student.klass_id in (w["ka"].pk, w["receiving"].pk)
    if role in COLLEGE_ROLES:
        return student.college_id == w["college_a"].pk
    if role == Role.STATION:
        return student.station_id == w["station_s"].pk
    return True  # university-wide


def holders(w: World, roles, student) -> set[str]:
    """The staff keys holding one of ``roles`` over ``student``."""
    roles = frozenset(str(r) for r in roles)
    return w.remember(
        ("holders", roles, student.pk),
        lambda: {k for k in PEOPLE if role_of(k) in roles and role_of(k) != Role.STUDENT and covers(w, k, student)},
    )


def anyscope(roles) -> set[str]:
    """The staff keys holding one of ``roles`` anywhere (pages whose content is filtered by scope)."""
    roles = {str(r) for r in roles}
    return {k for k in PEOPLE if role_of(k) in roles and role_of(k) != Role.STUDENT}


STUDENTS = {STUDENT, PEER, STUDENT_OUT}

#: who looks a student up (C3): the offices keeping or overseeing records, and the roles opening
#: requests for students (instructor: corrections; counsellor: 自动退学; station; Student Affairs: batches)
LOOKUP_ROLES = {
    Role.ACADEMIC_AFFAIRS,
    Role.ACADEMIC_AFFAIRS_HEAD,
    Role.STUDENT_AFFAIRS,
    Role.LEADERSHIP,
    Role.COLLEGE_SECRETARY,
    Role.COLLEGE_DEAN,
    Role.TEACHING_SECRETARY,
    Role.COLLEGE_OFFICE,
    Role.ADVISOR,
    Role.COUNSELLOR,
    Role.STATION,
    Role.INSTRUCTOR,
}
#: who sees a student's identity number and sensitive fields in full (besides the student and a superuser)
PERSONAL_DATA_ROLES = {Role.ACADEMIC_AFFAIRS, Role.ADVISOR, Role.COUNSELLOR}


def participants(chain) -> set[str]:
    """The roles taking part in ``chain`` (its initiators and signers), and Academic Affairs."""
    roles = set(chain.initiator_roles)
    for stage in chain.stages:
        roles.update(chain.signers(stage.code))
    return roles | {Role.ACADEMIC_AFFAIRS}  # Academic Affairs oversees every chain


def applicant_key(w: World, req) -> str:
    if req.applicant_id == req.student.user_id:
        return STUDENT
    return next(k for k in PEOPLE if k not in STUDENTS and k != ANON and w.users[k].pk == req.applicant_id)


def request_viewers(w: World, req) -> set[str]:
    """Who may see a request: its student and applicant, whoever signed it, a role taking part in its
    chain (or Academic Affairs) whose scope covers the student, a superuser."""
    from registrar.approvals.models import SignOff

    def compute():
        keys = {SUPERUSER, STUDENT, applicant_key(w, req)} | holders(w, participants(req.chain), req.student)
        signed = set(SignOff.objects.for_object(req).values_list("actor_id", flat=True))
        return keys | {k for k in PEOPLE if k not in STUDENTS and k != ANON and w.users[k].pk in signed}

    return w.remember(("request_viewers", req.chain.code, req.pk), compute)


def document_viewers(w: World, doc) -> set[str]:
    """The holder, who may see the request it came from, Academic Affairs over the holder."""
    from registrar.approvals.chains import get_chain

    def compute():
        req = get_chain(doc.chain).model.objects.select_related("student").get(pk=doc.request_id)
        return {STUDENT, SUPERUSER} | holders(w, {Role.ACADEMIC_AFFAIRS}, doc.student) | request_viewers(w, req)

    return w.remember(("document_viewers", doc.pk), compute)


def pending_keys(w: World, req) -> set[str]:
    """Who must sign the request now: the pending roles of its stage, held over its student."""
    return w.remember(
        ("pending", req.chain.code, req.pk),
        lambda: holders(w, req.pending_roles(), req.student) if req.stage else set(),
    )


def signed_this_round(w: World, req) -> set[str]:
    """Who has signed (approved, returned, sent back) the request in its current round."""
    from registrar.approvals.models import SignOff

    def compute():
        signed = SignOff.objects.for_object(req).filter(round=req.round, decision__in=["approve", "reject", "return"])
        actors = set(signed.values_list("actor_id", flat=True))
        return {k for k in PEOPLE if k not in STUDENTS and k != ANON and w.users[k].pk in actors}

    return w.remember(("signed", req.chain.code, req.pk), compute)


def returnable(chain) -> tuple[str, ...]:
    """Stages a request may be returned from: up to the first stage with an effect on the record."""
    codes = chain.stage_codes
    effect = next((i for i, s in enumerate(chain.stages) if s.on_pass), None)
    return codes if effect is None else codes[: effect + 1]


# --- cases ---------------------------------------------------------------------------------------------
OK = "ok"  # 2xx, 3xx, or a clear 4xx other than 401/403/404 (a wrong state, an invalid body)
DENY = "deny"  # 403 (the entry may accept other refusals, e.g. 404 by design)
HIDE = "hide"  # 404
DENY_OR_HIDE = "deny|hide"  # wrong role: 403, or 404 where the object is not visible to that role at all
OK_OR_DENY = "ok|deny"  # a wrong-state action: a message, or 403
NOT_ALLOWED = "405"  # a POST-only view asked with GET (never data)


@dataclass(frozen=True)
class Case:
    """One URL (one set of kwargs) and its policy. ``policy(w, key, method)`` → expected outcome."""

    name: str
    label: str = ""
    methods: tuple[str, ...] = ("GET",)
    kwargs: object = None  # (w) -> dict
    subject: object = None  # (w) -> Student whose data the object is (STUDENT is their user)
    policy: object = None  # (w, key, method) -> OK | DENY | HIDE | …
    api: bool = False
    query: str = ""
    body: object = None  # (w, method) -> dict for POST/PUT/PATCH (API: JSON; web: form data)
    shows: object = None  # (w) -> [(text or test(text), keys, what)]: a 200 answer shows it to exactly these keys
    deny: tuple[int, ...] = (403,)
    public: bool = False  # anonymous is served like everyone (verification page)

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name

    def people(self, w: World) -> list[str]:
        """Who asks this URL: anonymous, the superuser, every person in scope (right role and wrong
        role), and out of scope the roles that have some access in scope (right role out of scope)."""
        if self.public:
            return list(PEOPLE)

        def access(k):
            return any(self.policy(w, k, m) in (OK, DENY, OK_OR_DENY) for m in self.methods)

        right = w.remember(
            ("right roles", self.id),
            lambda: {role_of(k) for k in PEOPLE if k not in (ANON, SUPERUSER) and not is_out(k) and access(k)},
        )
        return [k for k in PEOPLE if not is_out(k) or role_of(k) in right]


def _sub(tag):
    return lambda w: w.students[tag]


def object_policy(viewers, ok=None, *, post_only=False, out_roles=None):
    """viewers(w) → keys who see the object; ok: {method: (w) → keys} who may do it (default: viewers).

    A key allowed → OK; a viewer not allowed → DENY; a right role out of scope → HIDE (404, the
    object does not exist for them; ``out_roles`` names those roles when the viewers' roles are not
    all right, e.g. a college-scoped Academic Affairs grant is not the university office); any other
    role → DENY_OR_HIDE."""
    ok = ok or {}

    def policy(w, key, method):
        if post_only and method == "GET":
            return NOT_ALLOWED
        seen = viewers(w)
        allowed = ok[method](w) if method in ok else seen
        if key in allowed:
            return OK
        if key in seen:
            return DENY
        right = out_roles if out_roles is not None else {role_of(k) for k in seen if not is_out(k) and k != SUPERUSER}
        if is_out(key) and role_of(key) in right:
            return HIDE
        return DENY_OR_HIDE

    return policy


def page_policy(allowed, *, post_only=False, others=DENY):
    """A page that is not one object's: ``allowed(w)`` → keys served (content filtered by their scope)."""

    def policy(w, key, method):
        if post_only and method == "GET":
            return NOT_ALLOWED
        return OK if key in allowed(w) else others

    return policy


def everyone(w):
    return set(PEOPLE) - {ANON}


def keys(*ks):
    return lambda w: set(ks)


def with_superuser(fn):
    return lambda w: fn(w) | {SUPERUSER}


# --- the coverage table ----------------------------------------------------------------------------------
#: every chain of the kernel's registry (test_every_chain_is_in_the_world checks the list)
CHAINS = (
    U1.code,
    U2.code,
    U3.code,
    U4.code,
    U6.code,
    BATCH_TRANSCRIPT.code,
    CORRECTION.code,
    PERSONAL_TRANSCRIPT.code,
    C4.code,
    EXEMPTION.code,
)
ACTIONS = ("submit", "approve", "reject", "send_back", "withdraw")
#: chains whose request in the world carries an attachment
ATTACHED = {
    U1.code: "medical_certificate",
    U4.code: "absence_evidence",
    C4.code: "written_application",
    U6.code: "photo",
    EXEMPTION.code: "evidence",
}
DOCUMENTS = ("approval_form", "revoked", "suspension_slip", "leave_notice", "transcript")

#: URL names served to anyone, with the reason (no object, no data of anybody's)
PUBLIC = {
    "login": "the login form",
    "logout": "ends the session; shows nothing",
    "set_language": "i18n: switches the interface language",
    "verify_lookup": "document verification: a form to type a code (the code's page is in the matrix)",
    "api:token": "API login (username and password in, token out; throttled)",
    "api-schema": "the OpenAPI description of the API (no data)",
    "api-docs": "Swagger UI over the schema (no data)",
    "favicon": "the site icon",
    "static": "static files (CSS, JS, fonts)",
    "approvals:seed_code_redirect": "an old link naming a chain by its seed code (/requests/U1/5/): a 301 to the "
    "same path under the chain's code, whose page the matrix checks; shows nothing",
    "api:seed_code_redirect": "the same for /api/requests/U1/…: a 301 to the chain's code; shows nothing",
}


def _req(code):
    return lambda w: w.requests[code]


def _req_kwargs(code):
    return lambda w: {"chain": code, "pk": w.requests[code].pk}


def _req_subject(code):
    return lambda w: w.requests[code].student


def _act_policy(code, action):
    def ok(w):
        req = w.requests[code]
        chain = req.chain
        if action in ("approve", "reject", "send_back"):
            possible = {"approve": chain.stage_codes, "reject": returnable(chain), "send_back": returnable(chain)[1:]}[
                action
            ]
            return pending_keys(w, req) if req.state in possible else None
        possible = ("draft", "returned") if action == "submit" else ("draft", "returned", chain.stage_codes[0])
        return {applicant_key(w, req)} if req.state in possible else None

    def policy(w, key, method):
        allowed = ok(w)
        req = w.requests[code]
        viewers = request_viewers(w, req)
        if action == "send_back" and len(returnable(req.chain)) < 2:
            # the chain has no such transition: no confirmation page (404); a POST says so and goes back
            return OK_OR_DENY if method == "POST" and key in viewers else HIDE
        if key in viewers and key not in (allowed or ()) and (allowed is None or key in signed_this_round(w, req)):
            # not possible in this state, or already signed in this round: a message and back to the
            # request, or 403
            return OK_OR_DENY
        return object_policy(lambda w: viewers, {method: lambda w: allowed or set()})(w, key, method)

    return policy


def _initiators(code):
    def fn(w):
        from registrar.approvals.chains import get_chain

        roles = set(get_chain(code).initiator_roles)
        return (STUDENTS if Role.STUDENT in roles else set()) | anyscope(roles - {Role.STUDENT})

    return fn


def _api_create_body(code):
    return lambda w, method: {"student": w.requests[code].student.pk}


#: chains whose requests are not opened through POST /api/requests/<chain>/ (405): route (1) transcripts
#: are filed as a batch by Student Affairs (grades:transcript_batch_new)
NOT_CREATED_THROUGH_API = {BATCH_TRANSCRIPT.code}


def _api_create_policy(code):
    """GET lists what the user may see (everyone is served); POST opens a request for the world's
    student of the chain: its initiators over that student get an answer (400: one is open already),
    everyone else a refusal."""

    def policy(w, key, method):
        if method == "GET":
            return OK
        if code in NOT_CREATED_THROUGH_API:
            return NOT_ALLOWED
        req = w.requests[code]
        roles = set(req.chain.initiator_roles)
        allowed = holders(w, roles, req.student) | ({STUDENT} if Role.STUDENT in roles else set())
        return OK if key in allowed else DENY

    return policy


def _reassigners(code):
    """Academic Affairs over the request's student, and a superuser, reassign a stage (approvals.reassign)."""
    return lambda w: holders(w, {Role.ACADEMIC_AFFAIRS}, w.requests[code].student) | {SUPERUSER}


def _delegation_policy(w, key, method):
    """The substitutes page: every member of staff (content: their own delegations; Academic Affairs and a
    superuser see all); naming a substitute (POST) takes a role of one's own, which the superuser lacks."""
    staff = {k for k in PEOPLE if k not in (ANON, SUPERUSER) and role_of(k) != Role.STUDENT}
    if method == "GET":
        return OK if key in staff | {SUPERUSER} else DENY
    return OK if key in staff else DENY


def delegation_cases() -> list[Case]:
    principal, substitute, aa = Role.COUNSELLOR.value, Role.ADVISOR.value, Role.ACADEMIC_AFFAIRS.value
    return [
        Case("approvals:delegations", methods=("GET", "POST"), policy=_delegation_policy),
        Case(
            "approvals:delegation_revoke",
            methods=("GET", "POST"),
            kwargs=lambda w: {"pk": w["delegation"].pk},
            # the delegation is seen by its two people and the overseers; revoked by its principal or them
            policy=object_policy(
                keys(principal, substitute, aa, SUPERUSER),
                {"POST": keys(principal, aa, SUPERUSER)},
                post_only=True,
                out_roles={principal, substitute, aa},
            ),
        ),
    ]


def request_cases() -> list[Case]:
    cases = []
    for code in CHAINS:
        viewers = (lambda c: lambda w: request_viewers(w, w.requests[c]))(code)
        applicant = (lambda c: lambda w: {applicant_key(w, w.requests[c])})(code)
        kw, subject = _req_kwargs(code), _req_subject(code)
        cases += [
            Case(
                "approvals:create",
                code,
                ("GET", "POST"),
                lambda w, c=code: {"chain": c},
                policy=page_policy(_initiators(code)),
            ),
            Case("approvals:detail", code, kwargs=kw, subject=subject, policy=object_policy(viewers)),
            Case(
                "approvals:edit",
                code,
                ("GET", "POST"),
                kw,
                subject,
                object_policy(viewers, {"GET": applicant, "POST": applicant}),
            ),
            Case("approvals:approval_form", code, ("GET", "POST"), kw, subject, object_policy(viewers, post_only=True)),
            Case(
                "approvals:reassign",
                code,
                ("GET", "POST"),
                kw,
                subject,
                object_policy(viewers, {"GET": _reassigners(code), "POST": _reassigners(code)}),
            ),
            *[
                Case(
                    "approvals:act",
                    f"{code},{action}",
                    ("GET", "POST"),
                    (lambda c, a: lambda w: {"chain": c, "pk": w.requests[c].pk, "action": a})(code, action),
                    subject,
                    _act_policy(code, action),
                )
                for action in ACTIONS
            ],
            Case(
                "api:requests",
                code,
                ("GET", "POST"),
                lambda w, c=code: {"chain": c},
                subject,
                api=True,
                policy=_api_create_policy(code),
                body=_api_create_body(code),
                deny=(400, 403, 404),
                shows=(
                    lambda c: (
                        lambda w: [
                            (_lists(c, w.requests[c].pk), request_viewers(w, w.requests[c]), f"{c}#{w.requests[c].pk}")
                        ]
                    )
                )(code),
            ),
            Case(
                "api:request",
                code,
                ("GET", "PATCH"),
                kw,
                subject,
                object_policy(viewers, {"PATCH": applicant}),
                api=True,
                body=lambda w, m: {},
            ),
            Case(
                "api:transitions",
                code,
                ("GET", "POST"),
                kw,
                subject,
                object_policy(viewers, {"POST": (lambda c: lambda w: pending_keys(w, w.requests[c]))(code)}),
                api=True,
                body=lambda w, m: {"action": "approve", "opinion": "R1"},
            ),
            Case(
                "api:attachments",
                code,
                ("POST",),
                kw,
                subject,
                object_policy(viewers, {"POST": applicant}),
                api=True,
                body=lambda w, m: {"kind": "supporting_document", "file": _pdf_upload()},
                deny=(403, 404),
            ),
        ]
        if code in ATTACHED:
            cases.append(
                Case(
                    "approvals:attachment",
                    code,
                    kwargs=(
                        lambda c: (
                            lambda w: {"chain": c, "pk": w.requests[c].pk, "attachment_pk": w.objects["attachments"][c]}
                        )
                    )(code),
                    subject=subject,
                    policy=object_policy(viewers),
                )
            )
    return cases


def _doc(key):
    return lambda w: w["documents"][key]


def document_cases() -> list[Case]:
    cases = []
    for key in DOCUMENTS:
        viewers = (lambda k: lambda w: document_viewers(w, w["documents"][k]))(key)
        kw = (lambda k: lambda w: {"pk": w["documents"][k].pk})(key)
        subject = (lambda k: lambda w: w["documents"][k].student)(key)
        revokers = (lambda k: lambda w: holders(w, {Role.ACADEMIC_AFFAIRS}, w["documents"][k].student) | {SUPERUSER})(
            key
        )
        cases += [
            Case("documents:detail", key, kwargs=kw, subject=subject, policy=object_policy(viewers)),
            Case("documents:download", key, kwargs=kw, subject=subject, policy=object_policy(viewers)),
            Case(
                "documents:revoke",
                key,
                ("GET", "POST"),
                kw,
                subject,
                object_policy(viewers, {"GET": revokers, "POST": revokers}),
            ),
            Case(
                "documents:reissue",
                key,
                ("GET", "POST"),
                kw,
                subject,
                object_policy(viewers, {"GET": revokers, "POST": revokers}),
            ),
            Case("documents:retry", key, ("GET", "POST"), kw, subject, object_policy(viewers, post_only=True)),
            Case(
                "verify",
                key,
                kwargs=(lambda k: lambda w: {"code": w["documents"][k].code})(key),
                policy=lambda w, key, method: OK,
                public=True,
            ),
        ]
    return cases


def _student_viewers(tag):
    """Who may open a student's page: the look-up roles over them, whoever may see one of their
    requests or documents, the student, a superuser."""

    def fn(w):
        student = w.students[tag]
        found = {SUPERUSER, STUDENT} | holders(w, LOOKUP_ROLES, student)
        for req in w.all_requests:
            if req.student_id == student.pk:
                found |= request_viewers(w, req) - {STUDENT}
        return found

    return lambda w: w.remember(("student_viewers", tag), lambda: fn(w))


RECORD_ROLES = {Role.COUNSELLOR, Role.ADVISOR, Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS}
SHEET_ROLES = {Role.ACADEMIC_AFFAIRS, Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.INSTRUCTOR}
DASHBOARD_ROLES = {Role.ACADEMIC_AFFAIRS, Role.ACADEMIC_AFFAIRS_HEAD, Role.STUDENT_AFFAIRS, Role.LEADERSHIP}
PROGRESSION_ROLES = {Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS}
MAKEUP_ROLES = {Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS}
BATCH_ROLES = {Role.STUDENT_AFFAIRS, Role.ACADEMIC_AFFAIRS, Role.TEACHING_SECRETARY}
STATION_PAGE_ROLES = {Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS, Role.STATION}


def _staff_keys(w):
    """Every staff key, in and out of scope, and the superuser: students are refused."""
    return everyone(w) - STUDENTS


def _calendar_shows(w):
    """The calendar shows C4's due date (this month, its college review stage) to whom may see C4."""
    req = w.requests[C4.code]
    if req.stage_due_at is None or f"{timezone.localdate(req.stage_due_at):%Y-%m}" != f"{timezone.localdate():%Y-%m}":
        return []  # due next month (the page shows the current month)
    return [(f"#{req.pk} · {req.student.name}", request_viewers(w, req) & _staff_keys(w), "C4's due date")]


def people_cases() -> list[Case]:
    quiet, u3 = _student_viewers("静默"), _student_viewers(U3.code)

    def quiet_shows(w):
        s = w.students["静默"]
        return [(s.name, {SUPERUSER} | holders(w, LOOKUP_ROLES, s), s.name)]

    return [
        Case("home", policy=page_policy(everyone)),
        Case("notifications", policy=page_policy(everyone)),
        Case("notifications_mark_read", methods=("GET", "POST"), policy=page_policy(everyone, post_only=True)),
        Case("workflows", policy=page_policy(everyone)),
        # what falls due: staff only (students 403), each item in the asker's scope
        Case("calendar", policy=page_policy(_staff_keys), shows=_calendar_shows),
        Case("calendar_ics", policy=page_policy(_staff_keys), shows=_calendar_shows),
        Case("approvals:inbox", policy=page_policy(everyone), shows=_inbox_shows),
        # batch approval: an empty selection is a message and back to the inbox for anyone signed in
        Case("approvals:batch_approve", methods=("GET", "POST"), policy=page_policy(everyone, post_only=True)),
        Case("api:inbox", api=True, policy=page_policy(everyone), shows=_api_inbox_shows),
        Case("api:workflows", api=True, policy=page_policy(everyone)),
        Case("students:list", policy=page_policy(everyone), shows=quiet_shows),
        Case("api:students", api=True, policy=page_policy(everyone), shows=quiet_shows),
        Case(
            "students:detail",
            "静默",
            kwargs=lambda w: {"pk": w.students["静默"].pk},
            subject=_sub("静默"),
            policy=object_policy(quiet),
        ),
        Case(
            "students:detail",
            U3.code,
            kwargs=lambda w: {"pk": w.students[U3.code].pk},
            subject=_sub(U3.code),
            policy=object_policy(u3),
        ),
        Case(
            "students:photo",
            "主",
            kwargs=lambda w: {"pk": w.students["主"].pk},
            subject=_sub("主"),
            policy=object_policy(lambda w: {SUPERUSER, STUDENT} | holders(w, PERSONAL_DATA_ROLES, w.students["主"])),
        ),
        Case(
            "api:student",
            "静默",
            kwargs=lambda w: {"pk": w.students["静默"].pk},
            subject=_sub("静默"),
            policy=object_policy(quiet),
            api=True,
        ),
        Case(
            "api:student",
            U3.code,
            kwargs=lambda w: {"pk": w.students[U3.code].pk},
            subject=_sub(U3.code),
            policy=object_policy(u3),
            api=True,
        ),
        Case("statuschange:dashboard", policy=page_policy(with_superuser(lambda w: anyscope(DASHBOARD_ROLES)))),
        Case("statuschange:export", policy=page_policy(with_superuser(lambda w: anyscope(DASHBOARD_ROLES)))),
    ]


def _inbox_shows(w):
    """A request's student appears in exactly the inboxes of those who must sign it now."""
    return [
        (req.student.name, pending_keys(w, req), f"{req.chain.code}#{req.pk} ({req.student.name})")
        for req in w.all_requests
    ]


def _api_inbox_shows(w):
    return [
        (_lists(req.chain.code, req.pk), pending_keys(w, req), f"{req.chain.code}#{req.pk}") for req in w.all_requests
    ]


def _results(text: str, _last={}) -> list:  # noqa: B006 - one-answer memo: every marker reads the same answer
    import json

    if _last.get("text") is not text:
        body = json.loads(text)
        _last.update(text=text, rows=body.get("results", []) if isinstance(body, dict) else body)
    return _last["rows"]


def _lists(code: str, pk: int):
    """A test of an API answer: does its list of results hold request ``code``#``pk``?"""

    def test(text: str) -> bool:
        rows = _results(text)
        return any(r.get("id") == pk and r.get("chain", code) == code for r in rows)

    return test


def _offering(key):
    return lambda w: {"pk": w[key].pk}


def _sheet_viewers(w):
    """A grade sheet of college A: its instructor, the college's teaching secretary and dean, Academic Affairs."""
    return {SUPERUSER} | holders(w, SHEET_ROLES - {Role.INSTRUCTOR}, w.students["主"]) | {Role.INSTRUCTOR.value}


def _aa(w):
    """Academic Affairs (the university office) and a superuser."""
    return {Role.ACADEMIC_AFFAIRS.value, SUPERUSER}


def grades_cases() -> list[Case]:
    sheet = object_policy
    instructor = keys(Role.INSTRUCTOR.value)
    composers = keys(Role.ACADEMIC_AFFAIRS.value, Role.TEACHING_SECRETARY.value, SUPERUSER)
    sub_viewers = keys(Role.STATION.value, Role.TEACHING_SECRETARY.value, Role.ACADEMIC_AFFAIRS.value, SUPERUSER)
    reviewers = keys(Role.TEACHING_SECRETARY.value, Role.ACADEMIC_AFFAIRS.value, SUPERUSER)
    batch_viewers = keys(
        Role.STUDENT_AFFAIRS.value, Role.ACADEMIC_AFFAIRS.value, Role.TEACHING_SECRETARY.value, SUPERUSER
    )
    sealers = keys(Role.ACADEMIC_AFFAIRS.value, Role.TEACHING_SECRETARY.value)
    job_sec = keys(Role.TEACHING_SECRETARY.value, Role.ACADEMIC_AFFAIRS.value, SUPERUSER)
    job_aa = keys(Role.ACADEMIC_AFFAIRS.value, SUPERUSER)
    records = lambda w: {SUPERUSER} | holders(w, RECORD_ROLES, w.students["主"])
    e, s = _offering("entering"), _offering("submitted")
    sub = lambda w: {"pk": w["submission"].pk}
    cp = lambda w: {"pk": w["class_print"].pk}
    main = _sub("主")
    return [
        Case("grades:offering_list", policy=page_policy(with_superuser(lambda w: anyscope(SHEET_ROLES)))),
        Case("grades:confirm_queue", methods=("GET", "POST"), policy=page_policy(_aa)),
        Case("grades:late_dashboard", policy=page_policy(_aa)),
        Case(
            "grades:windows",
            methods=("GET", "POST"),
            policy=lambda w, key, m: page_policy(
                with_superuser(lambda w: anyscope(SHEET_ROLES)) if m == "GET" else _aa
            )(w, key, m),
        ),
        Case(
            "grades:offering_detail",
            "entering",
            ("GET", "POST"),
            e,
            policy=sheet(_sheet_viewers, {"POST": keys(Role.INSTRUCTOR.value)}),
        ),
        Case(
            "grades:offering_composition",
            "entering",
            ("GET", "POST"),
            e,
            policy=sheet(_sheet_viewers, {"GET": composers, "POST": composers}),
        ),
        Case("grades:offering_review", "entering", kwargs=e, policy=sheet(_sheet_viewers)),
        Case(
            "grades:offering_submit",
            "entering",
            ("GET", "POST"),
            e,
            policy=sheet(_sheet_viewers, {"POST": instructor}, post_only=True),
        ),
        Case("grades:offering_confirm", "submitted", ("GET", "POST"), s, policy=sheet(_sheet_viewers, {"POST": _aa})),
        Case(
            "grades:offering_return",
            "submitted",
            ("GET", "POST"),
            s,
            policy=sheet(_sheet_viewers, {"GET": _aa, "POST": _aa}),
        ),
        Case(
            "grades:offering_reopen",
            "entering",
            ("GET", "POST"),
            e,
            policy=sheet(_sheet_viewers, {"GET": _aa, "POST": _aa}),
        ),
        Case("grades:offering_xlsx", "entering", kwargs=e, policy=sheet(_sheet_viewers)),
        Case(
            "grades:offering_upload",
            "entering",
            ("GET", "POST"),
            e,
            policy=sheet(_sheet_viewers, {"GET": instructor, "POST": instructor}),
        ),
        Case("grades:offering_pdf", "entering", kwargs=e, policy=sheet(_sheet_viewers)),
        Case("grades:my_grades", policy=page_policy(lambda w: STUDENTS)),
        Case(
            "grades:student_grades",
            "主",
            kwargs=lambda w: {"pk": w.students["主"].pk},
            subject=main,
            policy=object_policy(records),
        ),
        Case("grades:makeups", policy=page_policy(with_superuser(lambda w: anyscope(MAKEUP_ROLES)))),
        Case(
            "grades:makeup_create",
            methods=("GET", "POST"),
            policy=page_policy(with_superuser(lambda w: anyscope(MAKEUP_ROLES)), post_only=True),
        ),
        Case("grades:transcript_batches", policy=page_policy(with_superuser(lambda w: anyscope(BATCH_ROLES)))),
        Case(
            "grades:transcript_batch_new", methods=("GET", "POST"), policy=page_policy(keys(Role.STUDENT_AFFAIRS.value))
        ),
        Case(
            "grades:transcript_batch_detail",
            kwargs=lambda w: {"pk": w["batch"].pk},
            subject=_sub(BATCH_TRANSCRIPT.code),
            policy=object_policy(batch_viewers),
        ),
        *[
            Case(
                "grades:transcript_batch_seal",
                stage,
                ("GET", "POST"),
                (lambda st: lambda w: {"pk": w["batch"].pk, "class_id": w["ka"].pk, "stage": st})(stage),
                _sub(BATCH_TRANSCRIPT.code),
                object_policy(batch_viewers, {"GET": keys(signer), "POST": keys(signer)}),
                deny=(403, 404),
            )
            for stage, signer in (
                ("college_seal", Role.TEACHING_SECRETARY.value),
                ("academic_affairs_seal", Role.ACADEMIC_AFFAIRS.value),
            )
        ],
        Case("grades:transcript_class_print", kwargs=cp, subject=_sub("U5B印"), policy=object_policy(batch_viewers)),
        Case(
            "grades:transcript_class_print_download",
            kwargs=cp,
            subject=_sub("U5B印"),
            policy=object_policy(batch_viewers),
        ),
        Case(
            "grades:transcript_class_print_retry",
            methods=("GET", "POST"),
            kwargs=cp,
            subject=_sub("U5B印"),
            policy=object_policy(batch_viewers, {"POST": sealers}, post_only=True),
        ),
        Case("grades:graduate_copies", methods=("GET", "POST"), policy=page_policy(lambda w: anyscope(MAKEUP_ROLES))),
        Case("grades:blank_sheets", policy=page_policy(with_superuser(lambda w: anyscope(STATION_PAGE_ROLES)))),
        Case("grades:station_submissions", policy=page_policy(with_superuser(lambda w: anyscope(STATION_PAGE_ROLES)))),
        Case(
            "grades:station_submission_create",
            methods=("GET", "POST"),
            policy=page_policy(lambda w: anyscope({Role.STATION})),
        ),
        Case(
            "grades:station_submission_detail",
            kwargs=sub,
            subject=_sub(EXEMPTION.code),
            policy=object_policy(sub_viewers),
        ),
        Case(
            "grades:station_submission_file",
            kwargs=sub,
            subject=_sub(EXEMPTION.code),
            policy=object_policy(sub_viewers),
        ),
        Case(
            "grades:station_submission_return",
            methods=("GET", "POST"),
            kwargs=sub,
            subject=_sub(EXEMPTION.code),
            policy=object_policy(sub_viewers, {"POST": reviewers}, post_only=True),
        ),
        Case(
            "grades:station_submission_accept",
            methods=("GET", "POST"),
            kwargs=sub,
            subject=_sub(EXEMPTION.code),
            policy=object_policy(sub_viewers, {"POST": reviewers}, post_only=True),
        ),
        Case(
            "grades:station_submission_resubmit",
            methods=("GET", "POST"),
            kwargs=sub,
            subject=_sub(EXEMPTION.code),
            policy=object_policy(sub_viewers, {"POST": keys(Role.STATION.value, SUPERUSER)}, post_only=True),
        ),
        Case(
            "grades:imports",
            methods=("GET", "POST"),
            policy=page_policy(
                lambda w: {
                    Role.ACADEMIC_AFFAIRS.value,
                    Role.TEACHING_SECRETARY.value,
                    out(Role.TEACHING_SECRETARY),
                    SUPERUSER,
                }
            ),
        ),
        # the import pages are the university office's and the colleges' teaching secretaries'
        *[
            Case(
                name,
                job,
                methods,
                (lambda j: lambda w: {"pk": w[j].pk})(f"job_{job}"),
                policy=object_policy(viewers, post_only=methods != ("GET",), out_roles={Role.TEACHING_SECRETARY}),
            )
            for name, methods in (
                ("grades:import_job", ("GET",)),
                ("grades:import_job_status", ("GET",)),
                ("grades:import_job_file", ("GET",)),
                ("grades:import_job_rerun", ("GET", "POST")),
            )
            for job, viewers in (("secretary", job_sec), ("aa", job_aa))
        ],
        *[
            Case(
                "grades:import_template",
                kind,
                kwargs=(lambda k: lambda w: {"kind": k})(kind),
                policy=page_policy(allowed),
            )
            for kind, allowed in (
                (
                    "grades",
                    lambda w: {
                        Role.ACADEMIC_AFFAIRS.value,
                        Role.TEACHING_SECRETARY.value,
                        out(Role.TEACHING_SECRETARY),
                        SUPERUSER,
                    },
                ),
                ("courses", _aa),
            )
        ],
        Case("grades:progression", policy=page_policy(with_superuser(lambda w: anyscope(PROGRESSION_ROLES)))),
        Case("grades:progression_export", policy=page_policy(with_superuser(lambda w: anyscope(PROGRESSION_ROLES)))),
        # the grade-sheet API
        Case("grades-api:offerings", api=True, policy=page_policy(with_superuser(lambda w: anyscope(SHEET_ROLES)))),
        Case("grades-api:offering", "entering", kwargs=e, api=True, policy=sheet(_sheet_viewers)),
        Case(
            "grades-api:offering-grades",
            "entering",
            ("PUT", "POST"),
            e,
            api=True,
            policy=sheet(_sheet_viewers, {"PUT": instructor, "POST": instructor}),
            body=lambda w, m: {"rows": {}},
        ),
        Case(
            "grades-api:offering-submit",
            "entering",
            ("POST",),
            e,
            api=True,
            policy=sheet(_sheet_viewers, {"POST": instructor}),
        ),
        Case(
            "grades-api:offering-confirm",
            "submitted",
            ("POST",),
            s,
            api=True,
            policy=sheet(_sheet_viewers, {"POST": _aa}),
        ),
        Case(
            "grades-api:offering-return",
            "submitted",
            ("POST",),
            s,
            api=True,
            policy=sheet(_sheet_viewers, {"POST": _aa}),
            body=lambda w, m: {"reason": "R1退回"},
        ),
        Case("grades-api:me", api=True, policy=page_policy(lambda w: STUDENTS)),
        Case(
            "grades-api:student",
            "主",
            kwargs=lambda w: {"pk": w.students["主"].pk},
            subject=main,
            api=True,
            policy=object_policy(records),
        ),
    ]


def all_cases() -> list[Case]:
    return [*people_cases(), *request_cases(), *delegation_cases(), *document_cases(), *grades_cases()]


def covered_names() -> dict[str, set[str]]:
    """URL name → the methods the matrix tries on it."""
    names: dict[str, set[str]] = {}
    for case in all_cases():
        names.setdefault(case.name, set()).update(case.methods)
    return names


# --- one cell ------------------------------------------------------------------------------------------
OK_CODES = {*range(200, 400), 400, 409, 410, 422}
WRITES = ("insert into", "update ", "delete from", "truncate")
#: tables a request may write whoever asks (the session, login bookkeeping)
BOOKKEEPING_TABLES = ("django_session",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Answer:
    method: str
    status: int
    location: str
    text: str
    writes: list
    error: str = ""  # the exception behind a 5xx


def body_text(response) -> str:
    """What the answer shows: its text (HTML, JSON), or the strings of a workbook; '' for other files."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    ctype = response.get("Content-Type", "")
    if ctype.startswith(XLSX):
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    if ctype.startswith(("text/", "application/json")) or not ctype:
        return content.decode("utf-8", "replace")
    return ""


def ask(client, case: Case, w: World, url: str, method: str, *, watch_writes: bool) -> Answer:
    import contextlib
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = case.body(w, method) if case.body and method != "GET" else {}
    watch = CaptureQueriesContext(connection) if watch_writes else contextlib.nullcontext()
    with watch as queries:
        if method == "GET":
            response = client.get(url)
        elif case.api and not any(hasattr(v, "read") for v in body.values()):
            response = getattr(client, method.lower())(url, data=json.dumps(body), content_type="application/json")
        elif method == "POST":
            response = client.post(url, data=body)
        else:
            response = getattr(client, method.lower())(url, data=body)
        text = body_text(response)
    writes = [
        q["sql"]
        for q in (queries.captured_queries if watch_writes else ())
        if q["sql"].lstrip().lower().startswith(WRITES)
        and not any(t in q["sql"].split("(")[0] for t in BOOKKEEPING_TABLES)
    ]
    error = getattr(response, "exc_info", None)
    return Answer(
        method,
        response.status_code,
        response.get("Location", ""),
        text,
        writes,
        f"{error[0].__name__}: {error[1]}" if error else "",
    )


def allowed_codes(case: Case, outcome: str) -> set[int]:
    return {
        OK: OK_CODES,
        DENY: set(case.deny),
        HIDE: {404},
        DENY_OR_HIDE: {403, 404, *case.deny},
        OK_OR_DENY: OK_CODES | set(case.deny),
        NOT_ALLOWED: {405},
    }[outcome]


def secrets(w: World) -> list[tuple[str, str]]:
    """(text, what it is) of everything personal in the world: names, numbers, opinions."""
    out = []
    for s in w.students.values():
        out += [(s.name, f"the name of {s.student_number}"), (s.id_number, f"the ID number of {s.name}")]
    out += [(text, f"an opinion on {code}#{pk}") for text, (code, pk) in w.opinions.items()]
    return out


def leaks(w: World, key: str, user, answer: Answer) -> list[str]:
    """What a served page shows that ``key`` may not see: full identity numbers, opinions of requests
    they cannot see, the quiet student (whom only the look-up roles find)."""
    problems = []
    text = answer.text
    if not text:
        return problems
    for s in w.students.values():
        if s.id_number in text and not _may_see_personal(w, key, user, s):
            problems.append(f"the full ID number of {s.name}")
    for opinion, (code, pk) in w.opinions.items():
        if opinion in text and user.pk not in w.viewer_pks(code, pk):
            problems.append(f"an opinion on {code}#{pk}")
    quiet = w.students["静默"]
    if (
        (quiet.name in text or quiet.student_number in text)
        and key != SUPERUSER
        and key not in holders(w, LOOKUP_ROLES, quiet)
        and user.pk != quiet.user_id
    ):
        problems.append(f"the student {quiet.name}, whom only the look-up roles find")
    return problems


def _may_see_personal(w: World, key: str, user, student) -> bool:
    if key == SUPERUSER or user.pk == student.user_id:
        return True
    return key in holders(w, PERSONAL_DATA_ROLES, student)


def check_cell(w: World, case: Case, key: str) -> list[str]:
    """Ask ``case``'s URL as ``key`` with each method; return every broken rule (empty: the cell holds)."""
    from django.urls import reverse

    url = reverse(case.name, kwargs=case.kwargs(w) if case.kwargs else None) + case.query
    subject = case.subject(w) if case.subject else None
    user = None if key == ANON else w.user(key, subject)
    client = w.client_for(user)
    # the policy is read from the world as it is before this cell's requests change it
    outcomes = {m: case.policy(w, key, m) for m in case.methods} if key != ANON or case.public else {}
    shows = case.shows(w) if case.shows else []
    problems = []
    for method in case.methods:
        answer = ask(client, case, w, url, method, watch_writes=outcomes.get(method, "login") != OK)
        where = f"{method} {url} as {key}"
        if answer.status >= 500:
            problems.append(f"{where}: {answer.status} {answer.error}".rstrip())
            continue
        if key == ANON and not case.public:
            outcome = "login"
            if case.api:
                good = answer.status in (401, 403)
            else:
                good = answer.status == 302 and answer.location.startswith(reverse("login"))
            expected = "401/403" if case.api else "the login redirect"
        else:
            outcome = outcomes[method]
            good = answer.status in allowed_codes(case, outcome)
            expected = f"{outcome} {sorted(allowed_codes(case, outcome))}"
        if not good:
            problems.append(f"{where}: {answer.status}, expected {expected}")
        if outcome != OK and answer.writes:
            problems.append(f"{where}: refused, yet it wrote: {answer.writes[0][:160]}")
        if outcome == "login" or answer.status in (401, 403, 404, 405):
            shown = [what for text, what in secrets(w) if text in answer.text]
            if shown:
                problems.append(f"{where}: the refusal shows {', '.join(shown)}")
        elif user is not None and 200 <= answer.status < 500:
            problems += [f"{where}: shows {p}" for p in leaks(w, key, user, answer)]
            for marker, who, what in shows if answer.status == 200 else ():
                seen = marker(answer.text) if callable(marker) else marker in answer.text
                if seen != (key in who):
                    problems.append(f"{where}: {'shows' if seen else 'does not show'} {what}")
    return problems
