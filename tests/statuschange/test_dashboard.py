"""The registrar's status-change dashboard (/status-changes/) and its Excel export."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from openpyxl import load_workbook

from registrar.approvals.services import request_create
from registrar.roles import Role
from statuschange.models import (
    U1,
    U3,
    AutoWithdrawalRequest,
    ResumptionRequest,
    StationStatusChangeRequest,
    SuspensionRequest,
    WithdrawalRequest,
)
from tests.factories import ClassFactory, StudentFactory, UserFactory, staff
from tests.statuschange.helpers import advance

NOW = "2026-03-10 10:00"
DASH = "/status-changes/"
EXPORT = "/status-changes/export.xlsx"


def _at(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def make(model, student, *, state="advisor_confirm", submitted_days_ago=1, overdue=False, applicant=None):
    """A request stored directly in a given state (fast seeding for counts and query budgets)."""
    extra = {
        SuspensionRequest: {
            "reason": "personal",
            "reason_detail": "x",
            "period_start": dt.date(2026, 4, 1),
            "period_end": dt.date(2026, 9, 1),
        },
        ResumptionRequest: {"reason_detail": "x"},
        WithdrawalRequest: {"reason_detail": "x"},
        AutoWithdrawalRequest: {"absent_since": dt.date(2026, 1, 5), "evidence": "x"},
        StationStatusChangeRequest: {"change_type": "suspension", "reason_detail": "x"},
    }[model]
    submitted = _at(submitted_days_ago)
    return model.objects.create(
        student=student,
        applicant=applicant or student.user,
        state=state,
        round=1,
        submitted_at=submitted,
        stage_entered_at=submitted,
        stage_due_at=(_at(1) if overdue else _at(-3)) if state not in ("completed", "withdrawn", "returned") else None,
        completed_at=submitted + dt.timedelta(days=1) if state == "completed" else None,
        **extra,
    )


@pytest.fixture
def aa(db):
    return staff(Role.ACADEMIC_AFFAIRS, username="aa_dash")


def cell(html: str, row_attr: str, col: str) -> str:
    row = re.search(rf"<tr [^>]*{row_attr}[^>]*>(.*?)</tr>", html, re.S).group(1)
    return re.search(rf'data-col="{col}"[^>]*>\s*(\d+)', row).group(1)


# --- access ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ACADEMIC_AFFAIRS, 200),
        (Role.ACADEMIC_AFFAIRS_HEAD, 200),
        (Role.STUDENT_AFFAIRS, 200),
        (Role.LEADERSHIP, 200),
        (Role.FINANCE, 403),
        (Role.LIBRARY, 403),
        (Role.COLLEGE_DEAN, 403),
        (Role.ADVISOR, 403),
        ("student", 403),
        ("superuser", 200),
    ],
)
@pytest.mark.parametrize("url", [DASH, EXPORT])
def test_access_matrix(client, db, role, status, url):
    if role == "student":
        user = StudentFactory().user
    elif role == "superuser":
        user = UserFactory(is_superuser=True, is_staff=True)
    else:
        klass = ClassFactory()
        user = (
            staff(role, klass=klass)
            if role == Role.ADVISOR
            else staff(role, college=klass.college)
            if role == Role.COLLEGE_DEAN
            else staff(role)
        )
    client.force_login(user)
    assert client.get(url).status_code == status


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(DASH)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_url_names(db):
    assert reverse("statuschange:dashboard") == DASH
    assert reverse("statuschange:export") == EXPORT


def test_navbar_link_only_for_dashboard_roles(client, db, aa):
    client.force_login(aa)
    assert DASH in client.get("/").content.decode()
    client.force_login(staff(Role.FINANCE, username="fin_nav"))
    assert DASH not in client.get("/").content.decode()


# --- figures --------------------------------------------------------------------------
@freeze_time(NOW)
def test_counts_by_type_stage_college_and_overdue(client, aa):
    k1, k2 = ClassFactory(), ClassFactory()
    s = [StudentFactory(klass=k1) for _i in range(4)] + [StudentFactory(klass=k2) for _i in range(3)]
    make(SuspensionRequest, s[0], state="advisor_confirm")
    make(SuspensionRequest, s[1], state="college_review", overdue=True)
    make(SuspensionRequest, s[2], state="completed")
    late_u3 = make(WithdrawalRequest, s[3], state="clearance", overdue=True)
    make(WithdrawalRequest, s[4], state="withdrawn")
    make(ResumptionRequest, s[5], state="returned")
    make(SuspensionRequest, s[6], state="draft", submitted_days_ago=0).__class__.objects.filter(student=s[6]).update(
        submitted_at=None
    )  # a draft never submitted is not counted
    client.force_login(aa)
    html = client.get(DASH).content.decode()

    assert re.search(r'data-total="total">\s*6<', html)
    assert re.search(r'data-total="open">\s*4<', html)  # returned is still open
    assert re.search(r'data-total="completed">\s*1<', html)
    assert re.search(r'data-total="overdue">\s*2<', html)
    assert cell(html, 'data-chain="suspension"', "total") == "3"
    assert cell(html, 'data-chain="suspension"', "open") == "2"
    assert cell(html, 'data-chain="suspension"', "overdue") == "1"
    assert cell(html, 'data-chain="withdrawal"', "withdrawn") == "1"
    assert cell(html, 'data-chain="auto_withdrawal"', "total") == "0"
    assert cell(html, f'data-college="{k1.college_id}"', "total") == "4"
    assert cell(html, f'data-college="{k1.college_id}"', "completed") == "1"
    assert cell(html, f'data-college="{k2.college_id}"', "open") == "1"
    stages = html[html.index('id="by-stage"') :]
    stage_block = re.search(r'data-chain="withdrawal">(.*?)</table>', stages, re.S).group(1)
    assert re.search(r'data-state="clearance">.*?class="count">1<', stage_block, re.S)
    # the overdue list links to each overdue request, oldest due first
    overdue = re.search(r'id="overdue">(.*?)</table>', html, re.S).group(1)
    assert late_u3.get_absolute_url() in overdue
    assert overdue.count('class="row-overdue"') == 2


@freeze_time(NOW)
def test_filters_type_college_and_dates(client, aa):
    k1, k2 = ClassFactory(), ClassFactory()
    make(SuspensionRequest, StudentFactory(klass=k1), submitted_days_ago=40)
    make(WithdrawalRequest, StudentFactory(klass=k1), submitted_days_ago=2)
    make(WithdrawalRequest, StudentFactory(klass=k2), submitted_days_ago=2)
    client.force_login(aa)

    def total(query):
        html = client.get(DASH, query).content.decode()
        return int(re.search(r'data-total="total">\s*(\d+)<', html).group(1))

    assert total({}) == 3
    assert total({"type": U3.code}) == 2
    assert total({"college": k1.college_id}) == 2
    assert total({"type": U3.code, "college": k2.college_id}) == 1
    assert total({"date_from": "2026-03-01"}) == 2
    assert total({"date_to": "2026-02-01"}) == 1
    assert total({"date_from": "2026-03-08", "date_to": "2026-03-08"}) == 2
    assert total({"type": "nope"}) == 3  # an invalid filter is ignored, not an error


@freeze_time(NOW)
def test_chart_stacks_last_twelve_months_by_type(client, aa):
    make(SuspensionRequest, StudentFactory(), submitted_days_ago=2)
    make(WithdrawalRequest, StudentFactory(), submitted_days_ago=3)
    make(WithdrawalRequest, StudentFactory(), submitted_days_ago=35)  # February
    make(WithdrawalRequest, StudentFactory(), submitted_days_ago=400)  # outside the window
    client.force_login(aa)
    html = client.get(DASH).content.decode()
    chart = re.search(r'<svg class="sc-chart".*?</svg>', html, re.S).group(0)
    months = re.findall(r'data-month="([\d-]+)" data-total="(\d+)"', chart)
    assert len(months) == 12
    assert months[0][0] == "2025-04" and months[-1] == ("2026-03", "2")
    assert dict(months)["2026-02"] == "1"
    march = re.search(r'data-month="2026-03".*?</g>\s*</g>', chart, re.S).group(0)
    assert sorted(re.findall(r'data-type="(\w+)"', march)) == [U1.code, U3.code]
    assert "cdn" not in html.lower()


def test_scope_of_a_college_scoped_grant(client, db):
    """A dashboard role granted for one college sees that college's requests only."""
    k1, k2 = ClassFactory(), ClassFactory()
    make(WithdrawalRequest, StudentFactory(klass=k1))
    make(WithdrawalRequest, StudentFactory(klass=k2))
    client.force_login(staff(Role.STUDENT_AFFAIRS, college=k1.college, username="sa_college"))
    html = client.get(DASH).content.decode()
    assert re.search(r'data-total="total">\s*1<', html)


# --- performance --------------------------------------------------------------------------
def _seed(n: int):
    models = [
        SuspensionRequest,
        ResumptionRequest,
        WithdrawalRequest,
        AutoWithdrawalRequest,
        StationStatusChangeRequest,
    ]
    states = ["advisor_confirm", "completed", "college_review", "returned"]
    for i in range(n):
        model = models[i % len(models)]
        state = {AutoWithdrawalRequest: "aa_head", StationStatusChangeRequest: "station_review"}.get(
            model, states[i % len(states)]
        )
        make(model, StudentFactory(), state=state, submitted_days_ago=i % 300, overdue=i % 3 == 0)


@freeze_time(NOW)
@pytest.mark.parametrize("url", [DASH, EXPORT])
def test_query_count_constant(client, aa, django_assert_max_num_queries, url):
    client.force_login(aa)
    _seed(5)
    with django_assert_max_num_queries(40) as small:
        assert client.get(url).status_code == 200
    _seed(45)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


# --- export -------------------------------------------------------------------------------
@freeze_time(NOW)
def test_excel_export_rows_and_filters(client, aa):
    k1, k2 = ClassFactory(), ClassFactory()
    s1 = StudentFactory(klass=k1, name="张三")
    done = make(SuspensionRequest, s1, state="completed", submitted_days_ago=5)
    late = make(WithdrawalRequest, StudentFactory(klass=k1, name="李四"), state="clearance", overdue=True)
    make(WithdrawalRequest, StudentFactory(klass=k2, name="王五"))
    client.force_login(aa)
    response = client.get(EXPORT)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 4  # header + 3
    header = rows[0]
    assert len(header) == 10
    by_number = {r[1]: r for r in rows[1:]}
    r = by_number[f"U1-{done.pk}"]
    assert r[2:6] == ("张三", s1.student_number, k1.college.name, str(k1))
    assert r[7] is not None and r[8] is not None  # submitted, completed
    assert r[9] == "否" or r[9] == "No"
    overdue_row = by_number[f"U3-{late.pk}"]
    assert overdue_row[8] is None
    assert overdue_row[9] in ("是", "Yes")
    assert str(late.get_state_label()) == overdue_row[6]

    filtered = load_workbook(io.BytesIO(client.get(EXPORT, {"college": k2.college_id}).content)).active
    names = [row[2] for row in filtered.iter_rows(min_row=2, values_only=True)]
    assert names == ["王五"]
    filtered = load_workbook(io.BytesIO(client.get(EXPORT, {"type": U1.code}).content)).active
    assert [row[1] for row in filtered.iter_rows(min_row=2, values_only=True)] == [f"U1-{done.pk}"]


@freeze_time(NOW)
def test_dashboard_counts_a_real_chain_run(client, sc_world, aa):
    """End to end through the services: a completed U1 counts as completed, with its college."""
    w = sc_world
    s = w["student"]
    req = request_create(
        chain=SuspensionRequest.chain,
        student=s,
        applicant=s.user,
        submit=True,
        data={
            "reason": "personal",
            "reason_detail": "家庭原因",
            "period_start": "2026-03-15",
            "period_end": "2026-09-01",
        },
    )
    advance(w, req)
    client.force_login(aa)
    html = client.get(DASH, {"type": U1.code}).content.decode()
    assert cell(html, 'data-chain="suspension"', "completed") == "1"
    assert cell(html, f'data-college="{s.college_id}"', "completed") == "1"
