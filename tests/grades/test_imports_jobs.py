"""Import jobs: the Celery task and its progress, the upload page flow (upload → progress →
counts or error table), permissions and scope, the templates, and the admin of every grades model."""

import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from grades.models import Grade, GradeComponent, ImportJob, Offering
from grades.services.imports import jobs
from grades.tasks import run_import
from registrar.roles import Role
from tests.factories import StudentFactory, staff
from tests.grades.factories import make_offering

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(rows, name="grades.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows), content_type=XLSX)


def grade_rows(w, *, bad=False):
    rows = [["开课代码", "学号", "期末"]] + [
        [w["offering"].code, s.student_number, 70 + i] for i, s in enumerate(w["students"])
    ]
    if bad:
        rows[2][2] = "abc"
        rows.append(["NOPE", w["students"][0].student_number, 80])
    return rows


@pytest.fixture
def recorded_progress(monkeypatch):
    seen = []
    original = jobs.job_progress

    def record(job_id, value, **kw):
        seen.append(value)
        original(job_id, value, **kw)

    monkeypatch.setattr(jobs, "job_progress", record)
    return seen


# --- the task -----------------------------------------------------------------------------------------------
def test_task_runs_the_import_and_records_progress_and_counts(grades_world, recorded_progress):
    w = grades_world
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.GRADES, file=upload(grade_rows(w)), created_by=w["academic_affairs"]
    )
    assert run_import.delay(job.pk).get() == ImportJob.Status.DONE  # eager in the test settings
    job.refresh_from_db()
    assert (job.status, job.progress, job.total_rows, job.written, job.errors) == (ImportJob.Status.DONE, 100, 5, 5, [])
    assert job.finished_at is not None
    assert recorded_progress == sorted(recorded_progress) and len(recorded_progress) >= 3
    assert 0 < recorded_progress[0] < 100 and recorded_progress[-1] == 100
    assert Grade.objects.filter(offering=w["offering"], entered_by=w["academic_affairs"]).count() == 5
    # a finished job is not run twice
    assert jobs.import_job_run(job_id=job.pk).status == ImportJob.Status.DONE


def test_task_records_every_error_of_a_refused_file_and_writes_nothing(grades_world):
    w = grades_world
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.GRADES, file=upload(grade_rows(w, bad=True)), created_by=w["academic_affairs"]
    )
    run_import.delay(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.written == 0 and job.progress == 100
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "期末"), (7, "开课代码")]
    assert jobs.job_status(job)["error_count"] == 2
    assert not Grade.objects.filter(entered_at__isnull=False).exists()


def test_an_unexpected_error_fails_the_job_with_a_message(grades_world, monkeypatch):
    w = grades_world

    def boom(**kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(jobs.IMPORTERS, ImportJob.Kind.GRADES, boom)
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.GRADES, file=upload(grade_rows(w)), created_by=w["academic_affairs"]
    )
    job = jobs.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert str(job.pk) in job.errors[0]["message"] and "disk" not in job.errors[0]["message"]


def test_secretary_job_is_limited_to_their_college(grades_world):
    w = grades_world
    foreign_student = StudentFactory(klass=w["other_class"])
    foreign = make_offering(term=w["term"], classes=[w["other_class"]])
    rows = grade_rows(w) + [[foreign.code, foreign_student.student_number, 90]]
    job = jobs.import_job_create(kind=ImportJob.Kind.GRADES, file=upload(rows), actor=w["secretary"])
    job = jobs.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["column"]) for e in job.errors] == [(7, "开课代码")]


# --- the pages ----------------------------------------------------------------------------------------------
def test_upload_page_flow_grades(client, grades_world, django_capture_on_commit_callbacks):
    w = grades_world
    client.force_login(w["academic_affairs"])
    page = client.get(reverse("grades:imports"))
    assert page.status_code == 200
    assert [k for k, _l in page.context["kinds"]] == ImportJob.Kind.values
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("grades:imports"), {"kind": "grades", "file": upload(grade_rows(w))})
    assert len(callbacks) == 1
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("grades:import_job", args=[job.pk])
    status = client.get(reverse("grades:import_job_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["finished"] and status["written"] == 5 and status["progress"] == 100
    detail = client.get(reverse("grades:import_job", args=[job.pk]))
    assert detail.status_code == 200 and b'id="import-done"' in detail.content
    assert b'id="import-progress"' not in detail.content
    listing = client.get(reverse("grades:imports"), {"k": "grades", "status": "done"})
    assert list(listing.context["page_obj"]) == [job]
    assert not list(client.get(reverse("grades:imports"), {"status": "failed"}).context["page_obj"])


def test_upload_page_shows_the_error_table_of_a_refused_file(client, grades_world, django_capture_on_commit_callbacks):
    w = grades_world
    client.force_login(w["academic_affairs"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("grades:imports"), {"kind": "grades", "file": upload(grade_rows(w, bad=True))})
    job = ImportJob.objects.get()
    detail = client.get(reverse("grades:import_job", args=[job.pk]))
    assert b'id="import-refused"' in detail.content
    assert [(e["row"], e["column"]) for e in detail.context["page_obj"]] == [(3, "期末"), (7, "开课代码")]
    assert "abc" in detail.content.decode()


def test_a_pending_job_shows_the_progress_bar(client, grades_world):
    w = grades_world
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.GRADES,
        file=upload(grade_rows(w)),
        created_by=w["academic_affairs"],
        progress=40,
        status=ImportJob.Status.RUNNING,
    )
    client.force_login(w["academic_affairs"])
    detail = client.get(reverse("grades:import_job", args=[job.pk]))
    assert b'id="import-progress"' in detail.content and b'aria-valuenow="40"' in detail.content
    assert client.get(reverse("grades:import_job_status", args=[job.pk])).json()["finished"] is False


def test_teaching_data_upload_through_the_page(client, grades_world, django_capture_on_commit_callbacks):
    w = grades_world
    client.force_login(w["academic_affairs"])
    rows = [["课程代码", "课程名称", "学分", "学时"], ["ZZ101", "新课程", 2, 32]]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("grades:imports"), {"kind": "courses", "file": upload(rows, "courses.xlsx")})
    job = ImportJob.objects.get()
    assert (job.status, job.written) == (ImportJob.Status.DONE, 1)


def test_upload_refuses_what_is_not_a_spreadsheet(client, grades_world):
    client.force_login(grades_world["academic_affairs"])
    response = client.post(
        reverse("grades:imports"),
        {"kind": "grades", "file": SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")},
    )
    assert response.status_code == 400 and not ImportJob.objects.exists()
    assert str(jobs.FILE_TYPE_REFUSED) in response.content.decode()


@pytest.mark.parametrize(
    "who,status",
    [
        ("academic_affairs", 200),
        ("secretary", 200),
        ("instructor", 403),
        ("dean", 403),
        ("student_affairs", 403),
    ],
)
def test_who_may_open_the_import_page(client, grades_world, who, status):
    client.force_login(grades_world[who])
    assert client.get(reverse("grades:imports")).status_code == status
    assert client.get(reverse("grades:import_template", args=["grades"])).status_code == status


def test_anonymous_is_sent_to_login(client, db):
    assert client.get(reverse("grades:imports")).status_code == 302


def test_secretary_imports_offerings_and_grades_only_and_sees_own_jobs(client, grades_world):
    w = grades_world
    client.force_login(w["secretary"])
    page = client.get(reverse("grades:imports"))
    assert [k for k, _l in page.context["kinds"]] == ["offerings", "grades"]
    response = client.post(reverse("grades:imports"), {"kind": "courses", "file": upload([["课程代码"]])})
    assert response.status_code == 400 and not ImportJob.objects.exists()
    assert client.get(reverse("grades:import_template", args=["courses"])).status_code == 403
    theirs = ImportJob.objects.create(kind="grades", file=upload([["x"]]), created_by=w["academic_affairs"])
    assert client.get(reverse("grades:import_job", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("grades:import_job_status", args=[theirs.pk])).status_code == 404
    assert theirs not in client.get(reverse("grades:imports")).context["page_obj"]
    client.force_login(w["other_secretary"])
    mine = ImportJob.objects.create(kind="grades", file=upload([["x"]]), created_by=w["secretary"])
    assert client.get(reverse("grades:import_job", args=[mine.pk])).status_code == 404


@pytest.mark.parametrize("kind", ImportJob.Kind.values)
def test_template_downloads(client, grades_world, kind):
    client.force_login(grades_world["academic_affairs"])
    response = client.get(reverse("grades:import_template", args=[kind]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert f"import-{kind}-template.xlsx" in response["Content-Disposition"]
    assert response.content[:2] == b"PK"


def test_unknown_template_is_404(client, grades_world):
    client.force_login(grades_world["academic_affairs"])
    assert client.get(reverse("grades:import_template", args=["nothing"])).status_code == 404


# --- admin ----------------------------------------------------------------------------------------------------
def test_every_grades_model_has_an_admin_whose_changelist_loads(admin_client, grades_world):
    w = grades_world
    ImportJob.objects.create(kind="grades", file=upload([["x"]]), created_by=w["academic_affairs"])
    for model in apps.get_app_config("grades").get_models():
        assert admin.site.is_registered(model), model.__name__
        url = reverse(f"admin:grades_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, (model.__name__, response.status_code)
        assert admin_client.get(url, {"q": "2024"}).status_code == 200, model.__name__


def test_offering_admin_change_page_keeps_the_sheet_state_read_only(admin_client, grades_world):
    offering = grades_world["offering"]
    url = reverse("admin:grades_offering_change", args=[offering.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "sheet_state" not in page.context["adminform"].form.fields
    assert "exam_date" in page.context["adminform"].form.fields
    assert admin_client.get(reverse("admin:grades_offering_add")).status_code == 403


def test_offering_admin_refuses_a_composition_not_adding_up_to_100(admin_client, grades_world):
    offering = grades_world["offering"]
    final = offering.components.get()
    prefix = "components"
    data = {
        "exam_date": "2026-01-10",
        "instructors": [grades_world["instructor"].pk],
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": final.pk,
        f"{prefix}-0-offering": offering.pk,
        f"{prefix}-0-position": 1,
        f"{prefix}-0-code": "final",
        f"{prefix}-0-label": "",
        f"{prefix}-0-weight": 60,
        f"{prefix}-1-offering": offering.pk,
        f"{prefix}-1-position": 0,
        f"{prefix}-1-code": "regular",
        f"{prefix}-1-label": "",
        f"{prefix}-1-weight": 30,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",  # the read-only sign-off log
    }
    url = reverse("admin:grades_offering_change", args=[offering.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form is shown again with the error
    formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is GradeComponent)
    assert "100" in " ".join(formset.formset.non_form_errors())
    assert list(offering.components.values_list("code", "weight")) == [("final", 100)]
    data[f"{prefix}-1-weight"] = 40
    assert admin_client.post(url, data).status_code == 302
    assert sorted(offering.components.values_list("code", "weight")) == [("final", 60), ("regular", 40)]


def test_grade_admin_enrols_individually_and_keeps_results_read_only(admin_client, grades_world):
    w = grades_world
    newcomer = StudentFactory(klass=w["other_class"])
    response = admin_client.post(
        reverse("admin:grades_grade_add"),
        {"offering": w["offering"].pk, "student": newcomer.pk, "enrolled_via": "individual"},
    )
    assert response.status_code == 302
    grade = Grade.objects.get(offering=w["offering"], student=newcomer)
    assert (grade.course_id, grade.term_id) == (w["offering"].course_id, w["offering"].term_id)
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    other = StudentFactory(klass=w["other_class"])
    response = admin_client.post(
        reverse("admin:grades_grade_add"),
        {"offering": w["offering"].pk, "student": other.pk, "enrolled_via": "individual"},
    )
    assert response.status_code == 200 and not Grade.objects.filter(student=other).exists()
    page = admin_client.get(reverse("admin:grades_grade_change", args=[grade.pk]))
    assert page.status_code == 200 and "score" not in page.context["adminform"].form.fields


def test_components_are_read_only_once_the_sheet_is_submitted(admin_client, grades_world):
    offering = grades_world["offering"]
    Offering.objects.filter(pk=offering.pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    page = admin_client.get(reverse("admin:grades_offering_change", args=[offering.pk]))
    inline = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is GradeComponent)
    assert not inline.has_change_permission and not inline.has_add_permission


def test_staff_users_other_than_superusers_need_permissions(client, grades_world):
    user = staff(Role.ACADEMIC_AFFAIRS, username="aa_staff", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:grades_grade_changelist")).status_code == 403


@pytest.mark.postgres
def test_a_worker_writes_progress_that_other_connections_see_during_the_import(
    transactional_db, grades_world, monkeypatch
):
    """Outside any transaction (as in a Celery worker) progress goes through a connection of its own,
    so the polling page sees it while the import's transaction is still open."""
    from django.db import DEFAULT_DB_ALIAS, connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    w = grades_world
    observer = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []
    original = jobs.job_progress

    def record(job_id, value, **kw):
        original(job_id, value, **kw)
        with observer.cursor() as cursor:
            cursor.execute("SELECT progress FROM grades_importjob WHERE id = %s", [job_id])
            seen.append((value, cursor.fetchone()[0], kw.get("db") is not None))

    monkeypatch.setattr(jobs, "job_progress", record)
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.GRADES, file=upload(grade_rows(w)), created_by=w["academic_affairs"]
    )
    try:
        job = jobs.import_job_run(job_id=job.pk)
    finally:
        observer.close()
    assert job.status == ImportJob.Status.DONE and job.written == 5
    assert seen and all(via_own_connection for _v, _read, via_own_connection in seen)
    assert [value for value, _r, _o in seen] == [read for _v, read, _o in seen]  # visible at once
