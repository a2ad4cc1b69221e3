"""Browser journeys of the records area: a student reads their grades (GPA chart), the teaching
secretary creates a make-up sheet and reads the progression dashboard."""

from decimal import Decimal

import pytest
from django.urls import reverse

from grades.models import Offering, TeachingPlan
from tests.grades.conftest import grades_world  # noqa: F401  (the fixture, shared with tests/grades)
from tests.grades.factories import CourseFactory
from tests.grades.test_records_support import sheet, term

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(request):
    """Student 0 over two terms: a failed course made up, a deferred one; classmates failing."""
    w = request.getfixturevalue("grades_world")
    s = w["students"]
    college = w["college"]
    a, b, c, d = (
        CourseFactory(college=college, name=n, credits=Decimal(cr))
        for n, cr in (("高等数学", "4"), ("大学英语", "3"), ("程序设计", "3"), ("数据结构", "2"))
    )
    sheet(students=s, course=a, values={s[0]: "92", s[1]: "45", s[2]: "52", s[3]: "71", s[4]: "66"})
    sheet(students=s, course=b, values={s[0]: "55", s[1]: "48", s[2]: "80", s[3]: "缓考", s[4]: "90"})
    sheet(students=[s[0]], course=b, kind=Offering.Kind.MAKEUP, values={s[0]: "78"})
    sheet(students=s, course=c, term_=term(2), values=dict.fromkeys(s, "84"))
    sheet(students=[s[0]], course=d, term_=term(2), values={s[0]: "缓考"})
    TeachingPlan.objects.create(
        major=s[0].major, level=s[0].level, cohort=s[0].klass.cohort, required_credits=Decimal(160)
    )
    w.update(a=a, b=b)
    return w


def test_student_reads_grades_and_secretary_handles_makeups(open_page, login, shot, history):
    w = history
    student = open_page()
    login(student, w["student"].user.username)
    student.goto(reverse("grades:my_grades"))
    assert student.locator("[data-total=gpa]").inner_text() == "2.89"  # (4×4.0 + 3×1.0 capped make-up + 3×3.3) / 10
    assert student.locator("#gpa-chart .dot").count() == 2
    assert student.locator("tr[data-counted]").count() == 3
    shot(student, "my-grades")

    secretary = open_page()
    login(secretary, "secretary")
    secretary.goto(reverse("grades:makeups") + f"?term={w['term'].pk}")
    row = secretary.locator(f"#candidates tr[data-course='{w['a'].code}']")
    assert row.locator("[data-col=failed]").inner_text() == "2"
    shot(secretary, "makeups")
    row.locator("input[name=exam_date]").fill("2026-03-02")
    row.locator("button[type=submit]").click()
    secretary.wait_for_selector(f"#candidates tr[data-course='{w['a'].code}'] [data-existing]")
    assert Offering.objects.get(kind=Offering.Kind.MAKEUP, course=w["a"]).grades.count() == 2
    shot(secretary, "makeup-created")

    secretary.goto(reverse("grades:progression") + f"?term={w['term'].pk}")
    assert secretary.locator("[data-total=flags]").inner_text() == "2"  # s1 fails both, s2 one of two
    assert secretary.locator("#pass-rate-chart .bar").count() == 2
    shot(secretary, "progression")
