"""xlsx import/export of the people register: natural keys, per-row validation reported by
row and column, all-or-nothing — through the resources and through the admin views."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from import_export.formats.base_formats import XLSX
from openpyxl import Workbook, load_workbook

from registrar.models import User
from students.models import U6, Class, Major, Student
from students.resources import (
    CODE_NOT_FOUND,
    GENDER_MISMATCH,
    ID_NUMBER_REPEATED,
    STUDENT_NUMBER_EXISTS,
    STUDENT_NUMBER_REPEATED,
    ClassResource,
    CollegeResource,
    MajorResource,
    StudentResource,
)
from students.validators import ID_NUMBER_CHECKSUM, id_check_digit
from tests.factories import ClassFactory, CollegeFactory, MajorFactory, StationFactory, StudentFactory, UserFactory

HEADERS = [
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


def id_number(n: int, birth=dt.date(2005, 3, 9), male=False) -> str:
    seq = (n % 100) * 10 + (1 if male else 2)
    first17 = f"330106{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def xlsx(headers, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def dataset(headers, rows):
    return XLSX().create_dataset(xlsx(headers, rows))


def student_row(number, name, idn, klass_code, *, gender="女", birth=dt.date(2005, 3, 9)):
    # birth as a real spreadsheet date cell; gender as the Chinese word
    return [number, name, gender, idn, birth, "本科", "全日制", klass_code, dt.date(2024, 9, 1), "2028-06-30"]


@pytest.fixture
def klass(db):
    college = CollegeFactory(code="CIE", name="计算机与信息工程学院")
    major = MajorFactory(code="080901", name="计算机科学与技术", college=college)
    return ClassFactory(code="CS2401", name="计科2401", major=major, college=college)


def bad_rows():
    good_id = id_number(1)
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # wrong check digit
    return [
        student_row("2024990001", "林晓雨", good_id, "CS2401"),
        student_row("2024990002", "陈思远", bad_id, "CS2401"),
        student_row("2024990001", "王子涵", id_number(3), "CS2401"),  # 学号 repeated from row 1
    ]


def errors_by_row(result):
    return {row.number: row.error_dict for row in result.invalid_rows}


# --- through the resource ----------------------------------------------------------------------
def test_bad_file_reports_both_rows_by_column_and_writes_nothing(klass):
    before = Student.objects.count()
    for dry_run in (True, False):
        result = StudentResource().import_data(dataset(HEADERS, bad_rows()), dry_run=dry_run)
        assert not result.has_errors()
        assert result.has_validation_errors()
        errors = errors_by_row(result)
        assert set(errors) == {2, 3}
        assert errors[2] == {"id_number": [str(ID_NUMBER_CHECKSUM)]}
        assert errors[3] == {"student_number": [str(STUDENT_NUMBER_REPEATED % {"number": "2024990001", "row": 1})]}
        assert Student.objects.count() == before  # row 1 was valid, yet nothing is written


def test_good_file_imports_every_row_and_fills_blanks_from_class_and_id(klass):
    station = StationFactory(code="HZ")
    corr = ClassFactory(code="HZ2401", major=MajorFactory(code="H510201"), station=station)
    headers = HEADERS + ["station_code", "ethnicity", "political_status"]
    rows = [
        student_row("2024990001", "林晓雨", id_number(1), "CS2401") + ["", "", "团员"],
        student_row("2024990002", "陈思远", id_number(2, male=True), "CS2401", gender="男") + ["", "畲族", ""],
        # birth date and gender left blank: read from the ID number
        [
            "2024990003",
            "王子涵",
            "",
            id_number(3, dt.date(1999, 12, 1)),
            None,
            "junior",
            "correspondence",
            "HZ2401",
            "2024/3/1",
            "2027-01-10",
            "",
            "",
            "masses",
        ],
    ]
    result = StudentResource().import_data(dataset(headers, rows), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), errors_by_row(result)
    assert result.totals["new"] == 3
    s1, s2, s3 = Student.objects.order_by("student_number")
    assert (s1.college, s1.major, s1.klass) == (klass.college, klass.major, klass)
    assert s1.gender == "F" and s1.birth_date == dt.date(2005, 3, 9) and s1.ethnicity == "汉族"
    assert s1.political_status == "league" and s1.status == "enrolled"
    assert s2.gender == "M" and s2.ethnicity == "畲族" and s2.political_status == "masses"
    assert s3.station == station and s3.klass == corr and s3.birth_date == dt.date(1999, 12, 1)
    assert s3.gender == "F" and s3.enrollment_date == dt.date(2024, 3, 1) and s3.level == "junior"


def test_existing_student_number_is_reported_not_overwritten(klass):
    existing = StudentFactory(klass=klass, student_number="2024990001", name="原来的学生")
    result = StudentResource().import_data(
        dataset(HEADERS, [student_row("2024990001", "林晓雨", id_number(1), "CS2401")]), dry_run=False
    )
    assert errors_by_row(result) == {1: {"student_number": [str(STUDENT_NUMBER_EXISTS % {"number": "2024990001"})]}}
    existing.refresh_from_db()
    assert existing.name == "原来的学生"


def test_other_row_errors_name_their_column(klass):
    rows = [
        student_row("2024990001", "林晓雨", id_number(1), "NOPE"),  # unknown class
        student_row("2024990002", "陈思远", id_number(2), "CS2401", gender="男"),  # ID says female
        student_row("2024990003", "王子涵", id_number(2), "CS2401"),  # ID number repeated from row 2
        student_row("2024990004", "赵一", id_number(4), "CS2401", birth=dt.date(2005, 3, 10)),  # birth ≠ ID
        student_row("12", "钱二", id_number(5), "CS2401"),  # student number too short
    ]
    errors = errors_by_row(StudentResource().import_data(dataset(HEADERS, rows), dry_run=True))
    assert errors[1] == {"class_code": [str(CODE_NOT_FOUND % {"model": Class._meta.verbose_name, "code": "NOPE"})]}
    assert errors[2] == {"gender": [str(GENDER_MISMATCH)]}
    assert errors[3]["id_number"] == [str(ID_NUMBER_REPEATED % {"number": id_number(2), "row": 2})]
    assert list(errors[4]) == ["birth_date"]
    assert list(errors[5]) == ["student_number"]
    assert Student.objects.count() == 0


def test_organisation_imports_by_natural_keys_and_updates_by_code(db):
    CollegeResource().import_data(dataset(["code", "name"], [["EM", "经济管理学院"], ["FL", "外国语学院"]]))
    result = MajorResource().import_data(
        dataset(["code", "name", "college_code"], [["120203K", "会计学", "EM"], ["050201", "英语", "FL"]])
    )
    assert not result.has_validation_errors()
    assert Major.objects.get(code="120203K").college.name == "经济管理学院"
    advisor = UserFactory(username="advisor")
    headers = ["code", "name", "cohort", "major_code", "college_code", "station_code", "advisor_username"]
    result = ClassResource().import_data(
        dataset(headers, [["AC2301", "会计学2023级1班", 2023, "120203K", "", "", "advisor"]])
    )
    assert not result.has_validation_errors(), errors_by_row(result)
    k = Class.objects.get(code="AC2301")
    assert (k.college.code, k.major.code, k.advisor, k.station) == ("EM", "120203K", advisor, None)
    # Same code again: an update, not a duplicate.
    CollegeResource().import_data(dataset(["code", "name"], [["EM", "经济与管理学院"]]))
    assert Major.objects.get(code="120203K").college.name == "经济与管理学院"
    # A major of another college, an unknown user: reported per column, nothing written.
    result = ClassResource().import_data(
        dataset(
            headers,
            [
                ["EN2201", "英语2022级1班", 2022, "050201", "EM", "", ""],
                ["EN2202", "英语2022级2班", 2022, "050201", "", "", "nobody"],
            ],
        )
    )
    assert set(errors_by_row(result)[1]) == {"major_code"}
    assert set(errors_by_row(result)[2]) == {"advisor_username"}
    assert not Class.objects.filter(code__startswith="EN").exists()


def test_export_uses_natural_keys(klass):
    StudentFactory(klass=klass, student_number="2024990009", id_number=id_number(9), birth_date=dt.date(2005, 3, 9))
    data = StudentResource().export()
    row = dict(zip(data.headers, data[0], strict=True))
    assert row["class_code"] == "CS2401" and row["major_code"] == "080901" and row["college_code"] == "CIE"
    assert row["station_code"] == "" and "id" not in data.headers
    # What is exported re-imports (into an empty register).
    sheet = XLSX().export_data(data)
    Student.objects.all().delete()
    result = StudentResource().import_data(XLSX().create_dataset(sheet), dry_run=False)
    assert not result.has_validation_errors(), errors_by_row(result)
    assert Student.objects.get().student_number == "2024990009"


# --- through the admin -----------------------------------------------------------------------------
@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _upload(rows):
    return SimpleUploadedFile(
        "students.xlsx",
        xlsx(HEADERS, rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def test_admin_import_shows_bad_rows_and_writes_nothing(admin_client, klass):
    url = reverse("admin:students_student_import")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"format": "0", "resource": "0", "import_file": _upload(bad_rows())})
    assert response.status_code == 200
    result = response.context["result"]
    assert set(errors_by_row(result)) == {2, 3}
    html = response.content.decode()
    with translation.override(settings.LANGUAGE_CODE):  # the language the admin page was rendered in
        assert escape(str(ID_NUMBER_CHECKSUM)) in html
    assert "2024990001" in html and "id_number" in html and "student_number" in html
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert Student.objects.count() == 0


def test_admin_import_good_file_then_confirm(admin_client, klass):
    url = reverse("admin:students_student_import")
    rows = [
        student_row("2024990001", "林晓雨", id_number(1), "CS2401"),
        student_row("2024990002", "陈思远", id_number(2, male=True), "CS2401", gender="男"),
    ]
    response = admin_client.post(url, {"format": "0", "resource": "0", "import_file": _upload(rows)})
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    assert confirm is not None
    assert Student.objects.count() == 0  # the first step is a dry run
    response = admin_client.post(reverse("admin:students_student_process_import"), confirm.initial)
    assert response.status_code == 302
    assert sorted(Student.objects.values_list("student_number", flat=True)) == ["2024990001", "2024990002"]


def test_admin_export_xlsx(admin_client, klass):
    StudentFactory(
        klass=klass, student_number="2024990009", name="林晓雨", id_number=id_number(9), birth_date=dt.date(2005, 3, 9)
    )
    response = admin_client.post(
        reverse("admin:students_student_export"),
        {
            "format": "0",
            "resource": "0",
            "export_items": [],
            **{f"studentresource_{f}": "on" for f in StudentResource._meta.fields},
        },
    )
    assert response.status_code == 200, response.content[:500]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "student_number" and "class_code" in rows[0]
    assert rows[1][0] == "2024990009" and "林晓雨" in rows[1]


@pytest.mark.parametrize(
    "model",
    ["college", "major", "station", "class", "student", "statushistory", "roleassignment", "idcardreissuerequest"],
)
def test_admin_pages_render(admin_client, klass, model):
    StudentFactory(klass=klass)
    assert admin_client.get(reverse(f"admin:students_{model}_changelist")).status_code == 200
    if model not in ("statushistory", "idcardreissuerequest"):
        assert admin_client.get(reverse(f"admin:students_{model}_add")).status_code == 200
    else:
        assert admin_client.get(reverse(f"admin:students_{model}_add")).status_code == 403


# --- the kernel's admin ------------------------------------------------------------------------------
@pytest.fixture
def u6_request(klass):
    from registrar.approvals.services import signoff_record
    from tests.factories import IdCardReissueRequestFactory

    req = IdCardReissueRequestFactory(student=StudentFactory(klass=klass))
    signoff_record(
        request=req, actor=req.applicant, role="student", decision="submit", source="draft", opinion="补办学生证"
    )
    return req


@pytest.mark.parametrize("model", ["user", "signoff", "attachment", "stageconfig", "document", "notification"])
def test_kernel_admin_changelists_render(admin_client, u6_request, model):
    assert admin_client.get(reverse(f"admin:registrar_{model}_changelist")).status_code == 200


def test_request_admin_is_read_only_and_shows_the_sign_offs(admin_client, u6_request):
    url = reverse("admin:students_idcardreissuerequest_change", args=[u6_request.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "补办学生证" in html  # the sign-off opinion, in the read-only inline
    assert 'name="state"' not in html and 'name="reason"' not in html  # nothing editable
    response = admin_client.post(url, {"reason": "other", "state": "completed"})
    assert response.status_code == 403
    u6_request.refresh_from_db()
    assert (u6_request.state, u6_request.reason) == ("draft", "lost")
    listing = admin_client.get(reverse("admin:students_idcardreissuerequest_changelist") + "?state=draft")
    assert u6_request.student.student_number in listing.content.decode()


def test_sign_offs_cannot_be_changed_or_deleted_in_the_admin(admin_client, u6_request):
    from registrar.approvals.models import SignOff

    signoff = SignOff.objects.get()
    assert admin_client.get(reverse("admin:registrar_signoff_change", args=[signoff.pk])).status_code == 200
    assert (
        admin_client.post(reverse("admin:registrar_signoff_change", args=[signoff.pk]), {"opinion": "改过"}).status_code
        == 403
    )
    assert (
        admin_client.post(reverse("admin:registrar_signoff_delete", args=[signoff.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:registrar_signoff_add")).status_code == 403
    assert SignOff.objects.get().opinion == "补办学生证"


def test_user_admin_edits_roles_inline(admin_client, klass):
    from students.models import RoleAssignment

    user = UserFactory(username="counsellor", full_name="刘建明")
    url = reverse("admin:registrar_user_change", args=[user.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "刘建明" in page.content.decode()
    prefix = "role_assignments"
    data = {
        "username": "counsellor",
        "full_name": "刘建明",
        "email": "",
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2024-09-01",
        "date_joined_1": "08:00:00",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-role": "counsellor",
        f"{prefix}-0-scope": "class",
        f"{prefix}-0-klass": str(klass.pk),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert RoleAssignment.objects.get(user=user).klass == klass
    # A scope that does not match its target is refused with the model's message.
    data.update(
        {
            f"{prefix}-0-scope": "college",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-role": "college_dean",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_stage_config_admin_lists_chains_and_validates(admin_client, db):
    from registrar.approvals.models import StageConfig

    url = reverse("admin:registrar_stageconfig_add")
    page = admin_client.get(url).content.decode()
    assert U6.code in page and "counsellor_confirm" in page and "finance_payment" in page
    response = admin_client.post(
        url,
        {
            "chain": U6.code,
            "stage": "finance_payment",
            "signers": ["finance", "academic_affairs"],
            "deadline_days": "10",
        },
    )
    assert response.status_code == 302
    config = StageConfig.objects.get()
    assert config.signers == ["finance", "academic_affairs"] and config.deadline_days == 10
    assert U6.signers("finance_payment") == ("finance", "academic_affairs")  # the override is live
    response = admin_client.post(url, {"chain": U6.code, "stage": "no_such_stage", "deadline_days": ""})
    assert response.status_code == 200 and StageConfig.objects.count() == 1


def test_document_admin_revokes_through_the_pipeline(admin_client, klass, monkeypatch):
    from registrar.documents import services
    from registrar.documents.models import Document

    student = StudentFactory(klass=klass)
    doc = Document.objects.create(
        doc_type="approval_form",
        serial="2025-000001",
        code="ABCDEFGH",
        student=student,
        holder_name=student.name,
        title="审批表",
    )
    calls = []

    def fake_revoke(*, document, actor, reason):
        calls.append((document.pk, actor.username, reason))

    monkeypatch.setattr(services, "document_revoke", fake_revoke, raising=False)
    url = reverse("admin:registrar_document_changelist")
    base = {"action": "revoke", "_selected_action": [str(doc.pk)], "index": "0"}
    admin_client.post(url, {**base, "reason": ""})
    assert calls == []  # a reason is required
    response = admin_client.post(url, {**base, "reason": "信息有误"})
    assert response.status_code == 302
    assert calls == [(doc.pk, "root", "信息有误")]
    assert admin_client.get(reverse("admin:registrar_document_change", args=[doc.pk])).status_code == 200
    assert (
        admin_client.post(reverse("admin:registrar_document_delete", args=[doc.pk]), {"post": "yes"}).status_code == 403
    )
    doc.refresh_from_db()
    assert doc.revoked_at is None  # the fake pipeline wrote nothing

    # The real pipeline records the revocation (never a deletion).
    monkeypatch.undo()
    admin_client.post(url, {**base, "reason": "信息有误"})
    doc.refresh_from_db()
    assert doc.revoked_at is not None and doc.revoke_reason == "信息有误" and doc.revoked_by.username == "root"
    assert Document.objects.filter(pk=doc.pk).exists()


def test_user_admin_adds_a_user_with_full_name(admin_client):
    response = admin_client.post(
        reverse("admin:registrar_user_add"),
        {
            "username": "teacher1",
            "full_name": "李老师",
            "email": "li@example.edu.cn",
            "usable_password": "true",
            "password1": "demo12345!x",
            "password2": "demo12345!x",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="teacher1")
    assert user.full_name == "李老师" and user.check_password("demo12345!x")
