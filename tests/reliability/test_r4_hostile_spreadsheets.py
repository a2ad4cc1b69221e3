"""R4: hostile spreadsheets through every upload door (issue 8, defect 2).

The corpus (``tests/hostile_sheets.py``, more than 200 files generated in the session) goes through
every door a workbook enters by: the instructor's grid upload, the station submission and its
resubmission, the Excel import page for each kind (courses, plans, offerings, grades), the import
worker for each kind (a job whose file did not pass the upload page), and the admin import of each
register resource (colleges, majors, stations, classes, students). Each file must be refused — with
the intake's message naming the problem for a structural file, with the door's own errors for a
content file — with no 5xx, nothing written (counted before and after), and the process alive (a
crash would end pytest). The cheap doors take the whole corpus; the import and admin doors take
every kind of file (the first files of each kind plus the ones the issue names). Then the door's
valid workbook is accepted, so each refusal was due to the hostile change.

``test_parsers_are_not_reached`` proves the checks come first: with python-calamine and openpyxl's
readers replaced by traps, an XFD1048576 file and a zip bomb are refused at every door.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from unittest import mock

import pytest
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.urls import reverse
from django.utils import translation

from grades.models import (
    Course,
    Grade,
    GradeComponent,
    ImportJob,
    Offering,
    PlanCourse,
    StationSubmission,
    SubmissionReview,
    TeachingPlan,
)
from grades.services import entry
from grades.services.imports import jobs
from grades.services.stations import sheet_name, station_submission_create, station_submission_return
from registrar.roles import Role
from registrar.spreadsheets import base as msg
from students.models import Class, College, Major, Station, Student
from tests.factories import ClassFactory, StationFactory, StudentFactory, UserFactory, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering, open_window
from tests.hostile_sheets import Base, Hostile, corpus, kinds, package, sheet_xml
from tests.students.test_admin_import import id_number, student_row

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_KINDS = ("courses", "plans", "offerings", "grades")
ADMIN_MODELS = ("college", "major", "station", "class", "student")
CHEAP_DOORS = ("grid", "station", "resubmit")
DOORS = (
    *CHEAP_DOORS,
    *(f"import:{k}" for k in IMPORT_KINDS),
    *(f"worker:{k}" for k in IMPORT_KINDS),
    *(f"admin:{m}" for m in ADMIN_MODELS),
)
#: Files every door takes, besides the first two of each kind.
NAMED = (
    "xfd1048576",
    "xfd1048576-no-row-r",
    "bomb-media",
    "bomb-nested-real",
    "bomb-declared-2gb",
    "dimension-1000000-rows",
    "rows-200001-real",
    "implicit-columns",
    "prefixed-elements",
    "csv-gbk",
    "xls-biff8",
    "password-agile",
    "xlsm-vba",
    "sheet-utf16le-bom",
    "truncated-50",
    "wrong-type-date",
    "wrong-type-error-div0",
    "wrong-type-true",
    "formula-hyperlink",
    "merged-keys",
    "header-missing",
    "header-twice",
    "empty-sheet",
    "no-sheets",
    "data-twice",
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- the world ---------------------------------------------------------------------------------------
@pytest.fixture
def world(db):
    klass = ClassFactory()
    college = klass.college
    students = sorted((StudentFactory(klass=klass) for _ in range(3)), key=lambda s: s.student_number)
    term = TermFactory()
    instructor = staff(Role.INSTRUCTOR, college=college, username="r4_instructor")
    academic_affairs = staff(Role.ACADEMIC_AFFAIRS, username="r4_aa")
    offering = make_offering(
        course=CourseFactory(college=college), term=term, classes=[klass], instructors=[instructor]
    )
    entry.composition_set(
        offering=offering,
        actor=academic_affairs,
        components=[{"code": "regular", "weight": 40}, {"code": "final", "weight": 60}],
    )
    open_window(term, published_by=academic_affairs)
    station = StationFactory()
    station_class = ClassFactory(station=station, major=klass.major)
    station_students = sorted(
        (StudentFactory(klass=station_class, study_form=Student.StudyForm.CORRESPONDENCE) for _ in range(2)),
        key=lambda s: s.student_number,
    )
    station_offering, resubmit_offering = (
        make_offering(course=CourseFactory(college=college), term=term, classes=[station_class]) for _ in range(2)
    )
    for o in (station_offering, resubmit_offering):
        GradeComponent.objects.filter(offering=o).delete()
        GradeComponent.objects.bulk_create(
            [
                GradeComponent(offering=o, code="regular", weight=30, position=0),
                GradeComponent(offering=o, code="final", weight=70, position=1),
            ]
        )
    station_staff = staff(Role.STATION, station=station, username="r4_station")
    secretary = staff(Role.TEACHING_SECRETARY, college=college, username="r4_secretary")
    w = {
        "klass": klass,
        "college": college,
        "students": students,
        "term": term,
        "offering": offering,
        "instructor": instructor,
        "academic_affairs": academic_affairs,
        "station": station,
        "station_students": station_students,
        "station_offering": station_offering,
        "resubmit_offering": resubmit_offering,
        "station_staff": station_staff,
        "root": UserFactory(username="r4_root", is_staff=True, is_superuser=True),
    }
    first = _upload("first.xlsx", package([(sheet_name(resubmit_offering), sheet_xml(_station_rows(w)))]))
    returned = station_submission_create(station=station, offering=resubmit_offering, upload=first, actor=station_staff)
    w["returned"] = station_submission_return(submission=returned, actor=secretary, reason="请核对")
    return w


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def _station_rows(w) -> list[list]:
    return [["学号", "姓名", "平时", "期末"], *[[s.student_number, s.name, 80, 70] for s in w["station_students"]]]


def base_of(door: str, w) -> Base:
    """The door's valid workbook."""
    offering = w["offering"]
    if door == "grid":
        grades = {g.student_id: g.pk for g in Grade.objects.filter(offering=offering)}
        rows = [
            ["Offering code", offering.code, "", "", ""],
            [*entry.XLSX_KEYS, "regular", "final", entry.XLSX_ID_KEY],
            ["学号", "姓名", "班级", "平时 (40%)", "期末 (60%)", "ID"],
            *[[s.student_number, s.name, s.klass.name, 80, 70, grades[s.pk]] for s in w["students"]],
        ]
        return Base(rows, first_data=3, key=0, typed=[3, 4], orphan=1)
    if door in ("station", "resubmit"):
        offering = w["station_offering" if door == "station" else "resubmit_offering"]
        return Base(_station_rows(w), first_data=1, key=0, typed=[2, 3], orphan=2, sheet_name=sheet_name(offering))
    kind = door.partition(":")[2]
    if kind == "courses":
        return Base(
            [["课程代码", "课程名称", "学分", "学时"], ["R4C101", "新课程", 2, 32], ["R4C102", "新课程二", 3, 48]],
            first_data=1,
            key=0,
            typed=[2, 3],
        )
    if kind == "plans":
        course = offering.course.code
        return Base(
            [
                ["专业代码", "层次", "年级", "毕业学分", "课程代码", "开课学期"],
                [w["klass"].major.code, "本科", 2024, 160, course, 1],
            ],
            first_data=1,
            key=0,
            typed=[2, 5],
        )
    if kind == "offerings":
        return Base(
            [
                ["开课代码", "学期代码", "课程代码", "开课学院代码", "考试日期"],
                ["R4-OFF-1", w["term"].code, offering.course.code, w["college"].code, "2026-01-10"],
            ],
            first_data=1,
            key=0,
            typed=[4],
        )
    if kind == "grades":
        return Base(
            [["开课代码", "学号", "平时", "期末"], *[[offering.code, s.student_number, 80, 70] for s in w["students"]]],
            first_data=1,
            key=1,
            typed=[2, 3],
        )
    if kind == "college":
        return Base([["code", "name"], ["R4COL", "R4学院"]], first_data=1, key=0)
    if kind == "major":
        return Base(
            [["code", "name", "college_code"], ["R4MAJ", "R4专业", w["college"].code]], first_data=1, key=0, typed=[2]
        )
    if kind == "station":
        return Base([["code", "name", "city"], ["R4STA", "R4函授站", "杭州"]], first_data=1, key=0)
    if kind == "class":
        return Base(
            [
                ["code", "name", "cohort", "major_code", "college_code"],
                ["R4CLS", "R4班", 2024, w["klass"].major.code, ""],
            ],
            first_data=1,
            key=0,
            typed=[2],
        )
    if kind == "student":
        headers = [
            "student_number",
            "name",
            "gender",
            "id_number",
            "birth_date",
            "level",
            "study_form",
            "class_code",
            "enrollment_date",
            "expected_graduation",
        ]
        return Base(
            [headers, student_row("2099880001", "林晓雨", id_number(71), w["klass"].code)],
            first_data=1,
            key=0,
            typed=[2, 4],
        )
    raise AssertionError(door)


# --- what counts as written -------------------------------------------------------------------------
def snapshot(w) -> tuple:
    """Everything an upload could write, counted (one query)."""
    from django.db import connection

    tables = [
        m._meta.db_table
        for m in (
            Course,
            TeachingPlan,
            PlanCourse,
            Offering,
            College,
            Major,
            Station,
            Class,
            Student,
            StationSubmission,
            SubmissionReview,
        )
    ]
    entered = Grade.objects.filter(Q(score__isnull=False) | ~Q(components={}) | Q(mark__gt=""))
    sql, params = entered.values("pk").query.sql_with_params()
    counts = ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {counts}, (SELECT COUNT(*) FROM ({sql}) entered), "
            f"(SELECT COALESCE(SUM(written), 0) FROM {ImportJob._meta.db_table})",
            params,
        )
        row = cursor.fetchone()
    returned = StationSubmission.objects.values_list("round", "state", "file").get(pk=w["returned"].pk)
    return (*row, *returned)


# --- the doors -----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    accepted: bool
    text: str
    status: int


def _page_text(response) -> str:
    return html.unescape(response.content.decode(errors="replace"))


def login(door: str, client, w) -> None:
    """The door's user: the instructor, the station's staff, Academic Affairs or a superuser."""
    user = {
        "grid": "instructor",
        "station": "station_staff",
        "resubmit": "station_staff",
        "import": "academic_affairs",
        "worker": "academic_affairs",
        "admin": "root",
    }[door.partition(":")[0]]
    client.force_login(w[user])


def submit(door: str, client, w, name: str, data: bytes, captured) -> Outcome:
    """Upload ``data`` through ``door`` (as the user ``login`` signed in)."""
    upload = _upload(f"{name}.xlsx", data)
    if door == "grid":
        r = client.post(reverse("grades:offering_upload", args=[w["offering"].pk]), {"file": upload})
        return Outcome(r.status_code == 302, _page_text(r), r.status_code)
    if door == "station":
        r = client.post(
            reverse("grades:station_submission_create"),
            {"station": w["station"].pk, "offering": w["station_offering"].pk, "file": upload},
        )
        return Outcome(r.status_code == 302, _page_text(r), r.status_code)
    if door == "resubmit":
        r = client.post(
            reverse("grades:station_submission_resubmit", args=[w["returned"].pk]), {"file": upload, "opinion": ""}
        )
        return Outcome(r.status_code == 302, _page_text(r), r.status_code)
    kind = door.partition(":")[2]
    if door.startswith("import:"):
        before = set(ImportJob.objects.values_list("pk", flat=True))
        with captured(execute=True):
            r = client.post(reverse("grades:imports"), {"kind": kind, "file": upload})
        new = ImportJob.objects.exclude(pk__in=before)
        if r.status_code != 302:
            return Outcome(False, _page_text(r), r.status_code)
        job = new.get()
        return Outcome(job.status == ImportJob.Status.DONE, " ".join(e["message"] for e in job.errors), r.status_code)
    if door.startswith("worker:"):  # a job whose file never went through the upload page
        job = ImportJob.objects.create(kind=kind, file=upload, created_by=w["academic_affairs"])
        job = jobs.import_job_run(job_id=job.pk)
        assert job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED), job.status
        if job.status == ImportJob.Status.FAILED:
            assert job.written == 0
        return Outcome(job.status == ImportJob.Status.DONE, " ".join(e["message"] for e in job.errors), 200)
    if door.startswith("admin:"):
        r = client.post(
            reverse(f"admin:students_{kind}_import"), {"format": "0", "resource": "0", "import_file": upload}
        )
        confirm = r.context.get("confirm_form") if r.context else None
        return Outcome(confirm is not None, _page_text(r), r.status_code)
    raise AssertionError(door)


def selection(door: str, files: list[Hostile]) -> list[Hostile]:
    """The whole corpus for the cheap doors; for the others every kind (its first file) and the files
    the issue names."""
    if door in CHEAP_DOORS:
        return files
    chosen = {group[0].name for group in kinds(files).values()} | set(NAMED)
    return [f for f in files if f.name in chosen]


def _pattern(*messages) -> re.Pattern:
    """A refusal's message in any language of the site, its parameters left open."""
    texts = []
    for message in messages:
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                texts.append(re.sub(r"%\\\(\w+\\\)s", ".*?", re.escape(str(message))))
    return re.compile("|".join(f"(?:{t})" for t in texts), re.S)


def expected(f: Hostile) -> re.Pattern:
    """An empty upload is refused by Django's file field before the intake sees it, in its words."""
    return _pattern(f.expect, *([forms.FileField.default_error_messages["empty"]] if f.name == "empty" else []))


@pytest.mark.parametrize("door", DOORS)
def test_every_hostile_file_is_refused_and_writes_nothing(door, client, world, django_capture_on_commit_callbacks):
    files = selection(door, corpus(base_of(door, world)))
    login(door, client, world)
    problems = []
    for f in files:
        before = snapshot(world)
        outcome = submit(door, client, world, f.name, f.data, django_capture_on_commit_callbacks)
        after = snapshot(world)
        if outcome.status >= 500:
            problems.append(f"{f.name}: status {outcome.status}")
        if outcome.accepted:
            problems.append(f"{f.name}: accepted")
        if after != before:
            problems.append(f"{f.name}: wrote {before} → {after}")
        if f.expect is not None and not expected(f).search(outcome.text):
            problems.append(f"{f.name}: not refused with its message ({f.expect!s:.50})")
        elif f.expect is None and not outcome.text.strip():
            problems.append(f"{f.name}: refused without a message")
    assert not problems, f"{door}: {len(problems)} of {len(files)} files:\n" + "\n".join(problems)

    # The door's own workbook goes through: every refusal above was the hostile change's.
    base = base_of(door, world)
    outcome = submit(
        door,
        client,
        world,
        "valid",
        package([(base.sheet_name, sheet_xml(base.rows))]),
        django_capture_on_commit_callbacks,
    )
    assert outcome.accepted, f"{door}: the valid workbook was refused: {outcome.text[-600:]}"


def test_the_corpus_is_large_and_every_door_sees_every_kind(world):
    counts = {}
    for door in DOORS:
        files = corpus(base_of(door, world))
        assert len(files) >= 200
        chosen = selection(door, files)
        assert set(kinds(chosen)) == set(kinds(files)), door
        counts[door] = len(chosen)
    print(
        f"\nR4: {len(corpus(base_of('grid', world)))} hostile files, {len(DOORS)} doors, "
        f"{sum(counts.values())} file×door runs: {counts}"
    )


# --- the checks come before any parser ---------------------------------------------------------------
@contextmanager
def parsers_trapped():
    """python-calamine and openpyxl's readers, replaced by traps that fail the test if called."""
    calls = []

    class Trap:
        def __getattr__(self, name):
            def trapped(*args, **kwargs):
                calls.append(name)
                raise AssertionError(f"a parser was reached ({name})")

            return trapped

    with ExitStack() as stack:
        stack.enter_context(mock.patch("python_calamine.CalamineWorkbook", Trap()))
        stack.enter_context(mock.patch("openpyxl.load_workbook", Trap().load_workbook))
        stack.enter_context(mock.patch("openpyxl.reader.excel.load_workbook", Trap().load_workbook))
        yield calls


@pytest.mark.parametrize("door", DOORS)
def test_parsers_are_not_reached(door, client, world, django_capture_on_commit_callbacks):
    files = {f.name: f for f in corpus(base_of(door, world))}
    login(door, client, world)
    with parsers_trapped() as calls:
        for name, expect in (
            ("xfd1048576", msg.TOO_MANY_ROWS),
            ("xfd1048576-no-row-r", msg.TOO_MANY_ROWS),
            ("xfd1-column", msg.TOO_MANY_COLUMNS),
            ("bomb-media", msg.COMPRESSION_RATIO),
            ("bomb-declared-2gb", msg.UNPACKED_TOO_LARGE),
        ):
            before = snapshot(world)
            outcome = submit(door, client, world, name, files[name].data, django_capture_on_commit_callbacks)
            assert not outcome.accepted and outcome.status < 500, (door, name)
            assert _pattern(expect).search(outcome.text), (door, name, outcome.text[-400:])
            assert snapshot(world) == before
    assert calls == []


def test_a_job_refused_by_the_worker_ends_failed_with_the_message(world):
    """The worker's own check (a job created without the upload page): failed, never stuck running."""
    files = {f.name: f for f in corpus(base_of("worker:grades", world))}
    job = ImportJob.objects.create(
        kind="grades", file=_upload("x.xlsx", files["xfd1048576"].data), created_by=world["academic_affairs"]
    )
    with parsers_trapped():
        job = jobs.import_job_run(job_id=job.pk)
    assert (job.status, job.written, job.progress) == (ImportJob.Status.FAILED, 0, 100)
    assert _pattern(msg.TOO_MANY_ROWS).search(job.errors[0]["message"]) and job.errors[0]["row"] is None
    assert job.finished_at is not None and job.finished_at <= dt.datetime.now(dt.UTC)
