"""U5 grade entry end to end in Chromium (issue 4): the teaching secretary sets the composite
weights of an offering (a composition summing to 90 % is refused first), the instructor types the
component scores in the keyboard grid (Enter and the arrow keys move, one 缺考 mark), saves,
verifies and submits the sheet (then locked for them), Academic Affairs confirms it from the
confirmation queue, and only then does the student see the course, its composite score, the
credits and the GPA on "my grades".

Assertions are language-independent: the database through the ORM, ids and data attributes of
the pages, numbers, and the services' messages translated into whatever language the page declares.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from grades.models import Grade, Offering
from grades.scoring import WEIGHTS_NOT_100
from registrar.roles import Role
from tests.factories import ClassFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering, open_window

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect():
    from playwright.sync_api import expect

    return expect


def _path_is(path: str):
    return lambda url: urlsplit(url).path == path


def _lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def _components(offering) -> list[tuple[str, int]]:
    return [(c.code, c.weight) for c in offering.components.order_by("position", "pk")]


@pytest.fixture
def entry_world(db):
    """One class of three students on an offering of a 3-credit course (exam two days ago),
    its instructor, the college's teaching secretary, Academic Affairs, and an open entry window."""
    klass = ClassFactory()
    college = klass.college
    students = [StudentFactory(klass=klass) for _ in range(3)]  # student numbers ascend: the grid's row order
    term = TermFactory()
    course = CourseFactory(college=college, name="数据结构", name_en="Data Structures", credits=Decimal("3.0"))
    instructor = staff(Role.INSTRUCTOR, college=college, username="instructor")
    academic_affairs = staff(Role.ACADEMIC_AFFAIRS, username="aa")
    offering = make_offering(
        course=course,
        term=term,
        classes=[klass],
        instructors=[instructor],
        exam_date=timezone.localdate() - dt.timedelta(days=2),
    )
    open_window(term, published_by=academic_affairs)
    return {
        "students": students,
        "term": term,
        "course": course,
        "offering": offering,
        "instructor": instructor,
        "secretary": staff(Role.TEACHING_SECRETARY, college=college, username="secretary"),
        "academic_affairs": academic_affairs,
    }


def test_grades_entry_journey(open_page, login, shot, entry_world):
    expect = _expect()
    w = entry_world
    offering: Offering = w["offering"]
    course = w["course"]
    s0, s1, s2 = w["students"]
    n0, n1, n2 = (s.student_number for s in w["students"])
    grid_url = reverse("grades:offering_detail", args=[offering.pk])
    composition_url = reverse("grades:offering_composition", args=[offering.pk])
    review_url = reverse("grades:offering_review", args=[offering.pk])
    assert _components(offering) == [("final", 100)]  # the default composition

    # --- 1. the teaching secretary sets the composition (90 % refused, then 30 + 70) ----------
    page = open_page()
    login(page, "secretary")
    page.goto(reverse("grades:offering_list"))
    row = page.locator(f'#sheet-table tr[data-offering="{offering.pk}"][data-code="{offering.code}"]')
    expect(row).to_contain_text(course.name)
    expect(row.locator(".sheet-state")).to_have_attribute("data-state", "entering")
    shot(page, "secretary-sheet-list")
    row.locator(f'a[href="{grid_url}"]').click()
    page.wait_for_url(_path_is(grid_url))
    expect(page.locator("#sheet-title")).to_have_attribute("data-code", offering.code)
    expect(page.locator("form#grade-grid-form")).to_have_attribute("data-editable", "0")  # not the instructor
    expect(page.locator("input.grade-cell")).to_have_count(0)
    page.locator("#link-composition").click()
    page.wait_for_url(_path_is(composition_url))

    form = page.locator("form#composition-form")
    form.locator("input[name=weight_regular]").fill("30")
    form.locator("input[name=weight_final]").fill("60")
    expect(page.locator("#weight-total")).to_have_text("90")  # the live total
    shot(page, "secretary-weights-90")
    page.locator("#save-composition").click()
    page.wait_for_load_state()
    with translation.override(_lang(page)):
        refusal = str(WEIGHTS_NOT_100 % {"total": 90})
    expect(form.locator(".alert-danger")).to_contain_text(refusal)
    assert urlsplit(page.url).path == composition_url
    expect(form.locator("input[name=weight_final]")).to_have_value("60")  # what was typed is kept
    shot(page, "secretary-weights-refused")
    offering.refresh_from_db()
    assert _components(offering) == [("final", 100)]  # nothing saved
    assert offering.composition_set_by is None

    form.locator("input[name=weight_regular]").fill("30")
    form.locator("input[name=weight_final]").fill("70")
    expect(page.locator("#weight-total")).to_have_text("100")
    page.locator("#save-composition").click()
    page.wait_for_url(_path_is(grid_url))
    expect(page.locator(".messages .alert-success")).to_contain_text(offering.code)
    expect(page.locator('#composition [data-component="regular"]')).to_have_attribute("data-weight", "30")
    expect(page.locator('#composition [data-component="final"]')).to_have_attribute("data-weight", "70")
    shot(page, "secretary-composition-saved")
    offering.refresh_from_db()
    assert _components(offering) == [("regular", 30), ("final", 70)]
    assert offering.composition_set_by == w["secretary"]

    # --- 2. the instructor types the scores in the grid ----------------------------------------
    page = open_page()
    login(page, "instructor")
    page.goto(reverse("grades:offering_list"))
    page.locator(f'#sheet-table tr[data-offering="{offering.pk}"] a[href="{grid_url}"]').click()
    page.wait_for_url(_path_is(grid_url))
    grid = page.locator("form#grade-grid-form")
    expect(grid).to_have_attribute("data-editable", "1")
    expect(page.locator("#link-composition")).to_have_count(0)  # not the instructor's to set

    def cell(number: str, code: str):
        return page.locator(f'input.grade-cell[name="cell:{number}:{code}"]')

    def composite(number: str):
        return page.locator(f'td[data-composite][data-student="{number}"]')

    keyboard = page.keyboard
    cell(n0, "regular").click()
    keyboard.type("80")
    expect(composite(n0)).to_have_text("")  # the final exam is still missing
    keyboard.press("Enter")  # ↓ to the next student
    expect(cell(n1, "regular")).to_be_focused()
    keyboard.type("缺考")
    keyboard.press("Enter")
    expect(cell(n2, "regular")).to_be_focused()
    keyboard.type("60")
    keyboard.press("ArrowRight")  # → to the final exam
    expect(cell(n2, "final")).to_be_focused()
    keyboard.type("55")
    keyboard.press("ArrowUp")
    expect(cell(n1, "final")).to_be_focused()
    keyboard.type("75")
    keyboard.press("ArrowUp")
    expect(cell(n0, "final")).to_be_focused()
    keyboard.type("90")

    expect(composite(n0)).to_have_text("87")  # 80 × 30 % + 90 × 70 %
    expect(composite(n1)).to_have_text("缺考")  # the mark decides
    expect(composite(n2)).to_have_text("57")  # 56.5 rounded half up
    expect(composite(n1)).to_have_class(re.compile(r"\bcomposite-fail\b"))
    expect(composite(n2)).to_have_class(re.compile(r"\bcomposite-fail\b"))
    expect(composite(n0)).not_to_have_class(re.compile(r"\bcomposite-fail\b"))
    assert not Grade.objects.filter(offering=offering, score__isnull=False).exists()  # not saved yet
    shot(page, "instructor-grid-typed")

    page.locator("#save-grades").click()
    expect(page.locator("#save-status")).to_have_class(re.compile(r"\btext-success\b"))
    expect(page.locator("#entry-errors")).to_be_hidden()
    shot(page, "instructor-grid-saved")
    grades = {g.student_id: g for g in Grade.objects.filter(offering=offering)}
    assert (grades[s0.pk].components, grades[s0.pk].score, grades[s0.pk].passed, grades[s0.pk].grade_point) == (
        {"regular": "80", "final": "90"},
        Decimal(87),
        True,
        Decimal("3.70"),
    )
    assert (grades[s1.pk].components, grades[s1.pk].mark, grades[s1.pk].passed) == (
        {"regular": "absent", "final": "75"},
        Grade.Mark.ABSENT,
        False,
    )
    assert (grades[s2.pk].score, grades[s2.pk].passed) == (Decimal(57), False)
    assert {g.entered_by_id for g in grades.values()} == {w["instructor"].pk}

    page.reload()  # what the server stored comes back
    expect(cell(n1, "regular")).to_have_value("缺考")
    expect(cell(n0, "final")).to_have_value("90")
    expect(composite(n0)).to_have_attribute("data-server", "87")
    expect(composite(n1)).to_have_attribute("data-server", "缺考")

    # --- 3. verify and submit; the grid is then locked for the instructor ----------------------
    page.locator("#link-review").click()
    page.wait_for_url(_path_is(review_url))
    expect(page.locator(f'#review-table tr[data-student="{n0}"] [data-composite]')).to_have_text("87")
    expect(page.locator(f'#review-table tr[data-student="{n1}"] [data-composite]')).to_have_text("缺考")
    expect(page.locator("#incomplete-rows")).to_have_count(0)  # every student has a result
    expect(page.locator("#confirm-sheet")).to_have_count(0)  # not the instructor's to confirm
    shot(page, "instructor-review")
    page.locator("#submit-sheet").click()
    page.wait_for_url(_path_is(grid_url))
    expect(page.locator(".messages .alert-success")).to_be_visible()
    expect(page.locator(".sheet-state")).to_have_attribute("data-state", "submitted")
    expect(grid).to_have_attribute("data-editable", "0")
    expect(page.locator("#grid-locked")).to_be_visible()
    expect(page.locator("#grid-locked")).to_contain_text(offering.code)
    expect(page.locator("input.grade-cell")).to_have_count(0)
    expect(page.locator("#save-grades")).to_have_count(0)
    expect(page.locator(f'.cell-value[data-student="{n1}"][data-component="regular"]')).to_have_text("缺考")
    shot(page, "instructor-locked")
    offering.refresh_from_db()
    assert offering.sheet_state == Offering.SheetState.SUBMITTED
    assert offering.submitted_by == w["instructor"] and offering.confirmed_by is None
    page.goto(review_url)
    expect(page.locator("#submit-sheet")).to_have_count(0)
    expect(page.locator("#sheet-status-note")).to_be_visible()

    # --- 4. before the confirmation the student does not see the grade -------------------------
    student_page = open_page()
    login(student_page, s0.user.username)
    student_page.goto(reverse("grades:my_grades"))
    expect(student_page.locator("main h1")).to_be_visible()
    expect(student_page.locator("#no-grades")).to_be_visible()
    expect(student_page.locator(f'tr[data-course="{course.code}"]')).to_have_count(0)
    expect(student_page.locator("main")).not_to_contain_text(course.name)
    expect(student_page.locator("[data-total=gpa]")).to_have_text("—")
    shot(student_page, "student-before-confirmation")

    # --- 5. Academic Affairs confirms from the confirmation queue ------------------------------
    page = open_page()
    login(page, "aa")
    page.goto(reverse("grades:offering_list"))
    page.locator("#link-confirm-queue").click()
    page.wait_for_url(_path_is(reverse("grades:confirm_queue")))
    queued = page.locator(f'#queue-table tr[data-offering="{offering.pk}"][data-code="{offering.code}"]')
    expect(queued).to_contain_text(course.name)
    expect(queued).to_contain_text(w["instructor"].display_name)
    page.locator(f"#select-{offering.pk}").check()
    shot(page, "aa-queue")
    page.locator("#confirm-selected").click()
    page.wait_for_load_state()
    expect(page.locator(".messages .alert-success")).to_be_visible()
    expect(page.locator(f'#queue-table tr[data-offering="{offering.pk}"]')).to_have_count(0)
    shot(page, "aa-confirmed")
    offering.refresh_from_db()
    assert offering.sheet_state == Offering.SheetState.CONFIRMED
    assert offering.confirmed_by == w["academic_affairs"] and offering.confirmed_at is not None
    page.goto(review_url)
    expect(page.locator(".sheet-state")).to_have_attribute("data-state", "confirmed")
    expect(page.locator("#confirm-sheet")).to_have_count(0)

    # --- 6. the student now sees the course, the composite, the credits and the GPA -----------
    student_page.reload()
    expect(student_page.locator("#no-grades")).to_have_count(0)
    term_card = student_page.locator(f'section.term-card[data-term="{w["term"].code}"]')
    course_row = term_card.locator(f'tr[data-course="{course.code}"][data-counted]')
    expect(course_row).to_have_count(1)
    expect(course_row).to_contain_text(course.name)
    expect(course_row.locator("[data-result]")).to_have_text("87")
    expect(course_row.locator("td.num").first).to_have_text("3")  # the course's credits
    expect(course_row).to_contain_text("3.70")  # its grade point
    expect(term_card.locator("[data-term-gpa]")).to_have_text("3.70")
    expect(student_page.locator("[data-total=gpa]")).to_have_text("3.70")
    expect(student_page.locator("[data-total=credits]")).to_have_text("3")
    expect(student_page.locator("[data-total=failures]")).to_have_text("0")
    shot(student_page, "student-after-confirmation")
