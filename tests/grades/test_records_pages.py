"""The student's grade page, the staff view of a student's record and the records API:
confirmed grades only, GPA, credits against the teaching plan, open failures, scope, and a
query count that does not grow with the number of grades."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grades.models import Course, Grade, Offering, TeachingPlan
from registrar.roles import Role
from students.models import Class
from tests.factories import ClassFactory, UserFactory, staff
from tests.grades.factories import CourseFactory
from tests.grades.test_records_support import sheet, term


@pytest.fixture
def record(grades_world):
    """Student 0: term 1 — A (3 credits) 90, B (2 credits) 75, C (4 credits) 50 then make-up 40;
    term 2 — D (1 credit) 缓考, E (2 credits) on an unconfirmed sheet; a teaching plan of 160 credits."""
    w = grades_world
    s = w["student"]
    college = w["college"]
    mk = lambda code, credits: CourseFactory(code=code, name=f"课程{code}", credits=Decimal(credits), college=college)
    w["A"], w["B"], w["C"], w["D"], w["E"] = (
        mk("A101", "3"),
        mk("B101", "2"),
        mk("C101", "4"),
        mk("D101", "1"),
        mk("E101", "2"),
    )
    sheet(students=[s], course=w["A"], values={s: "90"})
    sheet(students=[s], course=w["B"], values={s: "75"})
    sheet(students=[s], course=w["C"], values={s: "50"})
    sheet(students=[s], course=w["C"], kind=Offering.Kind.MAKEUP, values={s: "40"})
    sheet(students=[s], course=w["D"], term_=term(2), values={s: "缓考"})
    sheet(students=[s], course=w["E"], term_=term(2), values={s: "99"}, confirmed=False)
    TeachingPlan.objects.create(major=s.major, level=s.level, cohort=s.klass.cohort, required_credits=Decimal(160))
    return w


@pytest.mark.django_db
def test_student_sees_confirmed_grades_gpa_credits_and_open_failures(client, record):
    w = record
    client.force_login(w["student"].user)
    response = client.get(reverse("grades:my_grades"))
    assert response.status_code == 200
    html = response.content.decode()
    rec = response.context["record"]
    # (3×4.0 + 2×2.7 + 4×0) / 9 = 1.93; the deferred course has no result yet
    assert rec.gpa == Decimal("1.93")
    assert rec.credits_earned == Decimal(5)
    assert response.context["page"].required_credits == Decimal(160)
    assert [r.course.code for r in rec.open_failures] == ["C101"]
    assert 'data-total="gpa">1.93<' in html
    assert "5<span" in html and "/ 160" in html
    for code in ("A101", "B101", "C101", "D101"):
        assert f'data-course="{code}"' in html
    assert "E101" not in html  # the unconfirmed sheet never shows
    # C101: two attempts, the regular one (50, best) counts; kinds labelled
    c_rows = [line for line in html.splitlines() if 'data-course="C101"' in line]
    assert len(c_rows) == 3  # two attempt rows and the open-failure item
    assert "补考" in html and "正考" in html
    assert html.count("data-counted") == 3  # A, B, C (D is deferred: nothing counts yet)
    # GPA per term chart: term 1 only (term 2 has no decided grade)
    assert 'id="gpa-chart"' in html and 'data-term="2025-2026-1" data-gpa="1.93"' in html


@pytest.mark.django_db
def test_student_without_grades_and_staff_without_a_record(client, grades_world):
    client.force_login(grades_world["students"][1].user)
    response = client.get(reverse("grades:my_grades"))
    assert response.status_code == 200 and 'id="no-grades"' in response.content.decode()
    client.force_login(grades_world["secretary"])
    assert client.get(reverse("grades:my_grades")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who,status",
    [
        ("class_counsellor", 200),
        ("advisor", 200),
        ("secretary", 200),
        ("dean", 200),
        ("academic_affairs", 200),
        ("other_class_counsellor", 404),
        ("other_secretary", 404),
        ("college_academic_affairs_elsewhere", 404),
        ("instructor", 403),
        ("student_affairs", 403),
        ("other_student", 403),
        ("nobody", 403),
    ],
)
def test_staff_view_of_a_student_record_scope(client, record, who, status):
    w = record
    s = w["student"]
    users = {
        "class_counsellor": lambda: _class_role(s.klass, "counsellor"),
        "advisor": lambda: _class_role(s.klass, "advisor"),
        "other_class_counsellor": lambda: staff(Role.COUNSELLOR, klass=ClassFactory(major=s.major)),
        "college_academic_affairs_elsewhere": lambda: staff(Role.ACADEMIC_AFFAIRS, college=w["other_class"].college),
        "other_student": lambda: w["students"][1].user,
        "nobody": lambda: UserFactory(),
    }
    user = users[who]() if who in users else w[who]
    client.force_login(user)
    response = client.get(reverse("grades:student_grades", args=[s.pk]))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert 'data-total="gpa">1.93<' in html and "E101" not in html
    api = client.get(reverse("grades-api:student", args=[s.pk]))
    assert api.status_code == status


def _class_role(klass, field):
    user = UserFactory()
    Class.objects.filter(pk=klass.pk).update(**{field: user})
    return user


@pytest.mark.django_db
def test_unknown_student_is_404(client, record):
    client.force_login(record["academic_affairs"])
    assert client.get(reverse("grades:student_grades", args=[999999])).status_code == 404
    assert client.get(reverse("grades-api:student", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_api_me(client, record):
    w = record
    client.force_login(w["student"].user)
    data = client.get(reverse("grades-api:me")).json()
    assert data["student"]["student_number"] == w["student"].student_number
    assert data["gpa"] == "1.93"
    assert data["credits"] == {"earned": "5.0", "attempted": "9.0", "required": "160.0"}
    assert [t["code"] for t in data["terms"]] == ["2025-2026-1", "2025-2026-2"]
    courses = {c["code"]: c for t in data["terms"] for c in t["courses"]}
    assert set(courses) == {"A101", "B101", "C101", "D101"}
    c = courses["C101"]
    assert [(a["kind"], a["result"], a["counted"]) for a in c["attempts"]] == [
        ("regular", "50", True),
        ("makeup", "40", False),
    ]
    assert c["failed"] is True and courses["D101"]["attempts"][0]["mark"] == "deferred"
    assert data["open_failures"] == [{"code": "C101", "name": "课程C101", "term": "2025-2026-1", "result": "50"}]
    client.force_login(w["secretary"])
    assert client.get(reverse("grades-api:me")).status_code == 403
    client.logout()
    assert client.get(reverse("grades-api:me")).status_code in (401, 403)


# --- query counts ------------------------------------------------------------------------------------
def bulk_grades(student, n: int, college):
    """``n`` confirmed grades of ``student`` over several terms (a tenth of them failed then made up)."""
    terms = [term(i) for i in range(1, 7)]
    courses = Course.objects.bulk_create(
        [
            Course(code=f"Q{student.pk}-{i:03d}", name=f"课程{i}", credits=Decimal("2.5"), hours=40, college=college)
            for i in range(n)
        ]
    )
    offerings = Offering.objects.bulk_create(
        [
            Offering(code=f"O{student.pk}-{i:03d}", term=terms[i % 6], course=c, college=college)
            for i, c in enumerate(courses)
        ]
    )
    Offering.objects.filter(pk__in=[o.pk for o in offerings]).update(sheet_state=Offering.SheetState.CONFIRMED)
    rows = []
    for i, (o, c) in enumerate(zip(offerings, courses, strict=True)):
        score = Decimal(45 if i % 10 == 0 else 60 + i % 40)
        rows.append(
            Grade(
                offering=o,
                student=student,
                course=c,
                term=o.term,
                score=score,
                passed=score >= 60,
                grade_point=Decimal("1.00") if score >= 60 else Decimal("0.00"),
                components={"final": str(score)},
            )
        )
    Grade.objects.bulk_create(rows)


def _count(client, url):
    client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_query_count_is_constant_in_the_number_of_grades(client, grades_world):
    w = grades_world
    few, many = w["students"][1], w["students"][2]
    bulk_grades(few, 10, w["college"])
    bulk_grades(many, 60, w["college"])
    counts = {}
    for label, s in (("few", few), ("many", many)):
        client.force_login(s.user)
        counts[label, "page"] = _count(client, reverse("grades:my_grades"))
        counts[label, "api"] = _count(client, reverse("grades-api:me"))
    client.force_login(w["academic_affairs"])
    for label, s in (("few", few), ("many", many)):
        counts[label, "staff"] = _count(client, reverse("grades:student_grades", args=[s.pk]))
    assert Grade.objects.filter(student=many, offering__sheet_state="confirmed").count() == 60
    for view in ("page", "api", "staff"):
        assert counts["few", view] == counts["many", view], counts
    # session, user, student ×2, grades, plan, nav (grants ×2, delegations, unread), savepoints
    assert counts["few", "page"] <= 12, counts


@pytest.mark.django_db
def test_gpa_chart_has_one_point_per_term(client, grades_world):
    w = grades_world
    s = w["students"][3]
    bulk_grades(s, 12, w["college"])
    client.force_login(s.user)
    response = client.get(reverse("grades:my_grades"))
    chart = response.context["chart"]
    assert [d["label"] for d in chart["dots"]] == [term(i).code for i in range(1, 7)]
    assert response.content.decode().count('class="dot"') == 6
