"""Teaching data imports: courses, teaching plans, offerings — happy paths, idempotent
re-import, and files with several bad rows that write nothing and report each (row, column)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from grades.models import Course, Grade, ImportJob, Offering, PlanCourse, TeachingPlan
from grades.services.imports import (
    ImportRefused,
    courses_import,
    offerings_import,
    plans_import,
    sheet,
    template_workbook,
)
from grades.services.imports.workbooks import COLUMNS
from registrar.roles import Role
from students.models import Student
from tests.factories import ClassFactory, CollegeFactory, MajorFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, TermFactory


def xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def refused(importer, rows, **kw) -> ImportRefused:
    with pytest.raises(ImportRefused) as exc:
        importer(file=xlsx(rows), actor=None, **kw)
    return exc.value


def cells(exc) -> set:
    return {(e["row"], e["column"]) for e in exc.errors}


# --- courses ----------------------------------------------------------------------------------------------
COURSE_HEADER = ["课程代码", "课程名称", "英文名称", "学分", "学时", "课程类型", "考核方式", "开课学院代码"]


@pytest.mark.django_db
def test_courses_import_creates_then_updates_idempotently():
    college = CollegeFactory(code="CIE")
    rows = [
        COURSE_HEADER,
        ["CS101", "程序设计基础", "Fundamentals of Programming", 3, 48, "必修", "考试", "CIE"],
        ["MA201", "高等数学", "", 4.5, 72, "选修", "考查", ""],
    ]
    summary = courses_import(file=xlsx(rows), actor=None)
    assert (summary.total_rows, summary.created, summary.updated) == (2, 2, 0)
    cs = Course.objects.get(code="CS101")
    assert (cs.name, cs.name_en, cs.credits, cs.hours, cs.kind, cs.assessment, cs.college) == (
        "程序设计基础",
        "Fundamentals of Programming",
        Decimal("3.0"),
        48,
        "required",
        "exam",
        college,
    )
    ma = Course.objects.get(code="MA201")
    assert (ma.credits, ma.kind, ma.assessment, ma.college) == (Decimal("4.5"), "elective", "check", None)
    # the same file again writes nothing; a changed row updates its course
    assert courses_import(file=xlsx(rows), actor=None).written == 0
    rows[2][1] = "高等数学A"
    summary = courses_import(file=xlsx(rows), actor=None)
    assert (summary.created, summary.updated) == (0, 1)
    assert Course.objects.get(code="MA201").name == "高等数学A"
    assert Course.objects.count() == 2


@pytest.mark.django_db
def test_courses_accept_english_headers():
    rows = [
        ["Code", "Course name", "Credits", "Hours", "Type", "Assessment"],
        ["PE101", "体育", 1, 32, "elective", "check"],
    ]
    assert courses_import(file=xlsx(rows), actor=None).created == 1
    assert Course.objects.get(code="PE101").kind == Course.Kind.ELECTIVE


@pytest.mark.django_db
def test_courses_file_with_several_bad_rows_writes_nothing_and_reports_each():
    CollegeFactory(code="CIE")
    rows = [
        COURSE_HEADER,
        ["CS101", "程序设计基础", "", 3, 48, "必修", "考试", "CIE"],  # 2: good
        ["CS102", "", "", 3, 48, "必修", "考试", "CIE"],  # 3: name missing
        ["CS103", "数据结构", "", "三", 48, "必修", "考试", "CIE"],  # 4: credits not a number
        ["CS104", "操作系统", "", 3, 48, "必须", "考试", "CIE"],  # 5: bad type
        ["CS105", "网络", "", 3, 48, "必修", "考试", "XYZ"],  # 6: unknown college
        ["CS101", "重复", "", 3, 48, "必修", "考试", "CIE"],  # 7: duplicate code
        ["CS106", "编译原理", "", 31, 48.5, "必修", "口试", ""],  # 8: credits > 30, hours, assessment
    ]
    exc = refused(courses_import, rows)
    assert cells(exc) == {
        (3, "课程名称"),
        (4, "学分"),
        (5, "课程类型"),
        (6, "开课学院代码"),
        (7, "课程代码"),
        (8, "学时"),
        (8, "考核方式"),
        (8, "学分"),
    }
    assert not Course.objects.exists()


@pytest.mark.django_db
def test_a_missing_required_column_is_reported_once_with_the_header_row():
    exc = refused(courses_import, [["课程代码", "课程名称", "学时"], ["CS1", "x", 3]])
    assert cells(exc) == {(1, "学分")}


# --- teaching plans -----------------------------------------------------------------------------------------
PLAN_HEADER = ["专业代码", "层次", "年级", "毕业学分", "课程代码", "开课学期", "抽考"]


@pytest.mark.django_db
def test_plans_import_one_row_per_plan_course_and_reimport_updates():
    major = MajorFactory(code="080901")
    CourseFactory(code="CS101")
    CourseFactory(code="MA201")
    rows = [
        PLAN_HEADER,
        ["080901", "本科", 2024, 160, "CS101", 1, "否"],
        ["080901", "本科", 2024, 160, "MA201", 2, "是"],
    ]
    summary = plans_import(file=xlsx(rows), actor=None)
    assert (summary.total_rows, summary.created) == (2, 2)
    plan = TeachingPlan.objects.get(major=major, level=Student.Level.BACHELOR, cohort=2024)
    assert plan.required_credits == Decimal("160.0")
    assert sorted(plan.plan_courses.values_list("course__code", "term_number", "sample_exam")) == [
        ("CS101", 1, False),
        ("MA201", 2, True),
    ]
    assert plans_import(file=xlsx(rows), actor=None).written == 0
    rows[1][5] = 3
    assert plans_import(file=xlsx(rows), actor=None).updated == 1
    assert PlanCourse.objects.get(plan=plan, course__code="CS101").term_number == 3
    assert TeachingPlan.objects.count() == 1 and PlanCourse.objects.count() == 2


@pytest.mark.django_db
def test_plans_file_with_several_bad_rows_writes_nothing_and_reports_each():
    MajorFactory(code="080901")
    CourseFactory(code="CS101")
    CourseFactory(code="MA201")
    rows = [
        PLAN_HEADER,
        ["080901", "本科", 2024, 160, "CS101", 1, ""],  # 2: good
        ["999999", "本科", 2024, 160, "MA201", 1, ""],  # 3: unknown major
        ["080901", "硕士", 2024, 160, "MA201", 1, ""],  # 4: unknown level
        ["080901", "本科", 2024, 160, "NOPE", 1, ""],  # 5: unknown course
        ["080901", "本科", 2024, 160, "MA201", 13, ""],  # 6: term 13
        ["080901", "本科", 2024, 150, "MA201", 2, ""],  # 7: credits differ from row 2
        ["080901", "本科", 2024, 160, "CS101", 2, "也许"],  # 8: repeated course + bad flag
    ]
    exc = refused(plans_import, rows)
    assert cells(exc) == {
        (3, "专业代码"),
        (4, "层次"),
        (5, "课程代码"),
        (6, "开课学期"),
        (7, "毕业学分"),
        (8, "抽考"),
        (8, "课程代码"),
    }
    assert not TeachingPlan.objects.exists()


# --- offerings -----------------------------------------------------------------------------------------------
OFFERING_HEADER = ["开课代码", "学期代码", "课程代码", "开课学院代码", "考试类型", "任课教师", "班级代码", "考试日期"]


@pytest.fixture
def teaching(db):
    klass = ClassFactory(code="CS2401")
    college = klass.college
    other = ClassFactory(code="AC2401")
    students = [StudentFactory(klass=klass) for _ in range(3)]
    StudentFactory(klass=klass, status=Student.Status.SUSPENDED)  # not enrolled by the class
    return {
        "klass": klass,
        "other_class": other,
        "college": college,
        "students": students,
        "term": TermFactory(),
        "course": CourseFactory(code="CS101", college=college),
        "t1": staff(Role.INSTRUCTOR, college=college, username="t1001"),
        "t2": staff(Role.INSTRUCTOR, college=college, username="t1002"),
    }


def test_offerings_import_goes_through_offering_create_and_enrols_the_classes(teaching):
    t = teaching
    college_code, term = t["college"].code, t["term"].code
    rows = [
        OFFERING_HEADER,
        ["OFF-1", term, "CS101", college_code, "正考", "t1001、t1002", "CS2401", "2026-01-10"],
        ["OFF-2", term, "CS101", college_code, "补考", "t1001", "", dt.date(2026, 3, 5)],
    ]
    summary = offerings_import(file=xlsx(rows), actor=None)
    assert (summary.total_rows, summary.created) == (2, 2)
    first = Offering.objects.get(code="OFF-1")
    assert set(first.instructors.values_list("username", flat=True)) == {"t1001", "t1002"}
    assert list(first.classes.all()) == [t["klass"]]
    assert first.exam_date == dt.date(2026, 1, 10) and first.kind == Offering.Kind.REGULAR
    assert set(Grade.objects.filter(offering=first).values_list("student_id", flat=True)) == {
        s.pk for s in t["students"]
    }
    assert list(first.components.values_list("code", "weight")) == [("final", 100)]
    second = Offering.objects.get(code="OFF-2")
    assert second.kind == Offering.Kind.MAKEUP and second.exam_date == dt.date(2026, 3, 5)
    # re-import: nothing changes; adding a class enrols its students
    assert offerings_import(file=xlsx(rows), actor=None).written == 0
    newcomer = StudentFactory(klass=t["other_class"])
    rows[1][6] = "CS2401, AC2401"
    assert offerings_import(file=xlsx(rows), actor=None).updated == 1
    assert Grade.objects.filter(offering=first, student=newcomer).exists()


def test_offerings_file_with_several_bad_rows_creates_no_offering(teaching):
    t = teaching
    college_code, term = t["college"].code, t["term"].code
    rows = [
        OFFERING_HEADER,
        ["OFF-1", term, "CS101", college_code, "正考", "t1001", "CS2401", "2026-01-10"],  # 2: good
        ["OFF-2", "2099-1", "CS101", college_code, "", "", "", ""],  # 3: unknown term
        ["OFF-3", term, "NOPE", college_code, "", "", "", ""],  # 4: unknown course
        ["OFF-4", term, "CS101", "ZZ", "", "", "", ""],  # 5: unknown college
        ["OFF-5", term, "CS101", college_code, "期中", "nobody", "XX99", "明天"],  # 6: kind, user, class, date
        ["OFF-1", term, "CS101", college_code, "", "", "", ""],  # 7: duplicate code
    ]
    exc = refused(offerings_import, rows)
    assert cells(exc) == {
        (3, "学期代码"),
        (4, "课程代码"),
        (5, "开课学院代码"),
        (6, "考试类型"),
        (6, "任课教师"),
        (6, "班级代码"),
        (6, "考试日期"),
        (7, "开课代码"),
    }
    assert "nobody" in next(e["message"] for e in exc.errors if e["column"] == "任课教师")
    assert not Offering.objects.exists() and not Grade.objects.exists()


def test_existing_offering_code_cannot_move_to_another_course(teaching):
    t = teaching
    other_course = CourseFactory(code="MA201", college=t["college"])
    rows = [OFFERING_HEADER, ["OFF-1", t["term"].code, "CS101", t["college"].code, "", "", "CS2401", ""]]
    offerings_import(file=xlsx(rows), actor=None)
    rows[1][2] = other_course.code
    assert cells(refused(offerings_import, rows)) == {(2, "课程代码")}


def test_teaching_secretary_imports_offerings_of_their_own_college_only(teaching):
    t = teaching
    foreign = t["other_class"].college
    rows = [
        OFFERING_HEADER,
        ["OFF-1", t["term"].code, "CS101", t["college"].code, "", "", "CS2401", ""],
        ["OFF-2", t["term"].code, "CS101", foreign.code, "", "", "AC2401", ""],
    ]
    exc = refused(offerings_import, rows, colleges={t["college"].pk})
    assert cells(exc) == {(3, "开课学院代码")}
    assert not Offering.objects.exists()
    assert offerings_import(file=xlsx(rows[:2]), actor=None, colleges={t["college"].pk}).created == 1


# --- templates ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ImportJob.Kind.values)
def test_each_template_has_the_importers_headers_and_example_rows(kind):
    rows = CalamineWorkbook.from_object(io.BytesIO(template_workbook(kind))).get_sheet_by_index(0).to_python()
    errors = sheet.Errors()
    layout = sheet.locate_header(rows, COLUMNS[kind], errors)
    assert not errors and layout.header_row == 0
    assert all(c.key in layout.index for c in COLUMNS[kind] if c.required)
    assert len(rows) >= 3  # header + example rows
