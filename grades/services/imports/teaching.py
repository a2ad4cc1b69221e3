"""Teaching data from Excel: courses, teaching plans (one row per plan course) and course
offerings. Every row is checked before anything is written; a file with any bad row writes
nothing and lists every bad row and column.

Re-importing is idempotent: courses are matched by code and plans by (major, level, cohort)
and updated; offerings are matched by code (an existing offering keeps its term, course,
college and kind; its exam date and instructors are updated and new classes are enrolled).
A code that appears twice in one file is an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError
from registrar.models import User
from students.models import Class, College, Major, Student

from ...models import Course, Grade, Offering, PlanCourse, TeachingPlan, Term
from ..teaching import offering_create, offering_enrol
from . import sheet
from .sheet import CellError, Column, Errors, Summary

CODE_REPEATED = _("“%(code)s” appears more than once in this file (first on row %(row)d).")
COLLEGE_NOT_FOUND = _("No college with code or name “%(value)s”.")
COLLEGE_OUT_OF_SCOPE = _("%(college)s is not your college: you may import only your own college's data.")
COURSE_NOT_FOUND = _("No course with code “%(value)s”.")
MAJOR_NOT_FOUND = _("No major with code “%(value)s”.")
TERM_NOT_FOUND = _("No term with code “%(value)s”.")
USERS_NOT_FOUND = _("No user with username %(values)s.")
CLASSES_NOT_FOUND = _("No class with code %(values)s.")
PLAN_CREDITS_DIFFER = _("The plan's required credits differ from row %(row)d (%(credits)s) of the same plan.")
PLAN_COURSE_REPEATED = _("Course %(code)s is listed twice for this plan (first on row %(row)d).")
OFFERING_IS_OTHER = _(
    "Offering %(code)s already exists with a different %(field)s (%(value)s); an import cannot change it."
)

KIND_VALUES = {
    "必修": Course.Kind.REQUIRED,
    "必修课": Course.Kind.REQUIRED,
    "required": Course.Kind.REQUIRED,
    "选修": Course.Kind.ELECTIVE,
    "选修课": Course.Kind.ELECTIVE,
    "elective": Course.Kind.ELECTIVE,
    "限选": Course.Kind.ELECTIVE,
    "任选": Course.Kind.ELECTIVE,
}
ASSESSMENT_VALUES = {
    "考试": Course.Assessment.EXAM,
    "exam": Course.Assessment.EXAM,
    "examination": Course.Assessment.EXAM,
    "考查": Course.Assessment.CHECK,
    "check": Course.Assessment.CHECK,
    "assessment": Course.Assessment.CHECK,
}
LEVEL_VALUES = {
    "专科": Student.Level.JUNIOR,
    "高职": Student.Level.JUNIOR,
    "junior": Student.Level.JUNIOR,
    "juniorcollege": Student.Level.JUNIOR,
    "本科": Student.Level.BACHELOR,
    "bachelor": Student.Level.BACHELOR,
    "专升本": Student.Level.UPGRADE,
    "upgrade": Student.Level.UPGRADE,
    "juniortobachelor": Student.Level.UPGRADE,
}
OFFERING_KIND_VALUES = {
    "正考": Offering.Kind.REGULAR,
    "正常": Offering.Kind.REGULAR,
    "期末": Offering.Kind.REGULAR,
    "regular": Offering.Kind.REGULAR,
    "补考": Offering.Kind.MAKEUP,
    "makeup": Offering.Kind.MAKEUP,
    "清考": Offering.Kind.CLEARING,
    "毕业清考": Offering.Kind.CLEARING,
    "clearing": Offering.Kind.CLEARING,
}
SCALE_VALUES = {
    "百分制": Offering.Scale.HUNDRED,
    "hundred": Offering.Scale.HUNDRED,
    "hundredpoint": Offering.Scale.HUNDRED,
    "五级制": Offering.Scale.FIVE_LEVEL,
    "五级": Offering.Scale.FIVE_LEVEL,
    "等级制": Offering.Scale.FIVE_LEVEL,
    "fivelevel": Offering.Scale.FIVE_LEVEL,
    "five_level": Offering.Scale.FIVE_LEVEL,
    "二级制": Offering.Scale.PASS_FAIL,
    "两级制": Offering.Scale.PASS_FAIL,
    "合格制": Offering.Scale.PASS_FAIL,
    "passfail": Offering.Scale.PASS_FAIL,
    "pass_fail": Offering.Scale.PASS_FAIL,
}


def _norm_map(mapping: dict) -> dict:
    return {sheet.normalise(k): v for k, v in mapping.items()}


COURSE_COLUMNS = (
    Column("code", "课程代码", _("Course code"), ("course code", "课程编号", "课程号"), example=("CS101", "MA201")),
    Column(
        "name", "课程名称", _("Course name"), ("name", "course name", "课程名"), example=("程序设计基础", "高等数学")
    ),
    Column(
        "name_en",
        "英文名称",
        _("English name"),
        ("english name", "name_en", "课程英文名称", "英文名"),
        required=False,
        example=("Fundamentals of Programming", "Advanced Mathematics"),
    ),
    Column("credits", "学分", _("Credits"), ("credits", "credit"), example=(3, 4.5)),
    Column("hours", "学时", _("Hours"), ("hours", "总学时"), example=(48, 72)),
    Column(
        "kind",
        "课程类型",
        _("Type"),
        ("type", "kind", "类型", "课程性质", "性质"),
        required=False,
        help=_("必修 or 选修 (required / elective); blank: 必修"),
        example=("必修", "选修"),
    ),
    Column(
        "assessment",
        "考核方式",
        _("Assessment"),
        ("assessment", "考核"),
        required=False,
        help=_("考试 or 考查 (exam / check); blank: 考试"),
        example=("考试", "考查"),
    ),
    Column(
        "college",
        "开课学院代码",
        _("College code"),
        ("college", "college code", "学院代码", "开课学院", "学院"),
        required=False,
        help=_("the code (or name) of the college offering the course"),
        example=("CIE", ""),
    ),
)

PLAN_COLUMNS = (
    Column("major", "专业代码", _("Major code"), ("major", "major code", "专业编号", "专业")),
    Column(
        "level",
        "层次",
        _("Level"),
        ("level", "培养层次", "学历层次"),
        help=_("专科, 本科 or 专升本"),
        example=("本科", "本科"),
    ),
    Column("cohort", "年级", _("Cohort"), ("cohort", "入学年份", "年级"), example=(2024, 2024)),
    Column(
        "required_credits",
        "毕业学分",
        _("Required credits"),
        ("required credits", "应修学分", "最低毕业学分", "要求学分"),
        example=(160, 160),
    ),
    Column(
        "course",
        "课程代码",
        _("Course code"),
        ("course", "course code", "课程编号", "课程号"),
        example=("CS101", "MA201"),
    ),
    Column(
        "term_number",
        "开课学期",
        _("Term of study"),
        ("term", "term number", "学期", "修读学期", "建议修读学期"),
        help=_("1 for the first term of study, 2 for the second …"),
        example=(1, 2),
    ),
    Column(
        "sample_exam",
        "抽考",
        _("Sample exam"),
        ("sample exam", "sample", "是否抽考"),
        required=False,
        help=_("是 / 否 (blank: 否)"),
        example=("否", "是"),
    ),
)

OFFERING_COLUMNS = (
    Column(
        "code",
        "开课代码",
        _("Offering code"),
        ("offering code", "offering", "开课编号", "教学班代码", "课程序号"),
        example=("2025-2026-1-CS101-01", "2025-2026-1-MA201-01"),
    ),
    Column(
        "term",
        "学期代码",
        _("Term code"),
        ("term", "term code", "学期", "开课学期"),
        example=("2025-2026-1", "2025-2026-1"),
    ),
    Column(
        "course",
        "课程代码",
        _("Course code"),
        ("course", "course code", "课程编号", "课程号"),
        example=("CS101", "MA201"),
    ),
    Column(
        "college",
        "开课学院代码",
        _("College code"),
        ("college", "college code", "学院代码", "开课学院", "学院"),
        example=("CIE", "CIE"),
    ),
    Column(
        "kind",
        "考试类型",
        _("Kind"),
        ("kind", "类型", "考试性质", "考核类型"),
        required=False,
        help=_("正考, 补考 or 清考 (regular, make-up, graduation clearing exam); blank: 正考"),
        example=("正考", "补考"),
    ),
    Column(
        "instructors",
        "任课教师",
        _("Instructors"),
        ("instructors", "instructor", "教师", "教师用户名", "教师工号"),
        required=False,
        help=_("usernames, separated by 、 or commas"),
        example=("t1001、t1002", "t1003"),
    ),
    Column(
        "classes",
        "班级代码",
        _("Classes"),
        ("classes", "class codes", "class", "班级", "上课班级"),
        required=False,
        help=_("class codes, separated by 、 or commas; their studying students are enrolled"),
        example=("CS2401、CS2402", "CS2401"),
    ),
    Column(
        "exam_date",
        "考试日期",
        _("Exam date"),
        ("exam date", "考试时间"),
        required=False,
        help=_("YYYY-MM-DD"),
        example=("2026-01-10", "2026-03-05"),
    ),
    Column(
        "scale",
        "记分方式",
        _("Grading scale"),
        ("scale", "grading scale", "成绩类型", "记分制"),
        required=False,
        help=_("百分制, 五级制 or 二级制 (hundred-point, five levels, pass/fail); blank: 百分制"),
        example=("百分制", "百分制"),
    ),
)


class _Reader:
    """Shared plumbing: one file's layout, errors and the header to name in each error."""

    def __init__(self, file, columns):
        self.errors = Errors()
        self.rows = sheet.read_rows(file)
        self.layout = sheet.locate_header(self.rows, columns, self.errors)
        self.columns = {c.key: c for c in columns}
        self.total = 0
        self.failed: set[str] = set()  # the keys of the current row that had an error

    def header(self, key: str) -> str:
        if self.layout and key in self.layout.headers:
            return self.layout.headers[key]
        return self.columns[key].header

    def cell(self, row: list, key: str):
        i = self.layout.index.get(key)
        return "" if i is None else row[i]

    def has(self, key: str) -> bool:
        return self.layout.has(key)

    def records(self):
        if self.layout is None or self.errors:
            return
        rows = list(sheet.data_rows(self.rows, self.layout))
        self.total = len(rows)
        if not rows:
            self.errors.add(self.layout.header_row + 1, "", sheet.FILE_NO_ROWS)
        for number, row in rows:
            self.failed = set()
            yield number, row

    def error(self, number: int, key: str, message) -> None:
        self.failed.add(key)
        self.errors.add(number, self.header(key), message)

    def excluded(self, fields: dict[str, str], always=()) -> list[str]:
        """Model fields not to validate again (their cells are already reported)."""
        return [*always, *(name for name, key in fields.items() if key in self.failed)]

    def required_text(self, number, row, key) -> str | None:
        value = sheet.text(self.cell(row, key))
        if not value:
            self.error(number, key, sheet.REQUIRED)
            return None
        return value

    def convert(self, number, row, key, convert, *, required=False):
        """Run ``convert`` on the cell; report a bad value (and a blank required one)."""
        try:
            value = convert(self.cell(row, key))
        except CellError as exc:
            self.error(number, key, str(exc))
            return None
        if value is None and required:
            self.error(number, key, sheet.REQUIRED)
        return value

    def model_errors(self, number: int, exc: ValidationError, fields: dict[str, str]) -> None:
        """A model's ``full_clean`` errors, each on the column of its field."""
        for name, messages in exc.message_dict.items():
            key = fields.get(name)
            for message in messages:
                if key:
                    self.error(number, key, message)
                else:
                    self.errors.add(number, "", f"{name}: {message}" if name != "__all__" else message)

    def refuse_if_errors(self) -> None:
        if self.errors:
            raise self.errors.refuse(total_rows=self.total)


def _progress(progress, value: int) -> None:
    if progress:
        progress(value)


def _repeated(seen: dict, key, number: int, reader: _Reader, column: str, code: str) -> bool:
    if key in seen:
        reader.error(number, column, CODE_REPEATED % {"code": code, "row": seen[key]})
        return True
    seen[key] = number
    return False


def _colleges() -> dict[str, College]:
    out = {}
    for college in College.objects.all():
        out[college.code] = college
        out.setdefault(college.name, college)
    return out


# --- courses -------------------------------------------------------------------------------------------
COURSE_FIELDS = {
    "code": "code",
    "name": "name",
    "name_en": "name_en",
    "credits": "credits",
    "hours": "hours",
    "kind": "kind",
    "assessment": "assessment",
    "college": "college",
}
COURSE_WRITE_FIELDS = ["name", "name_en", "credits", "hours", "kind", "assessment", "college", "updated_at"]


def courses_import(*, file, actor, colleges: set[int] | None = None, progress=None) -> Summary:
    """Create or update courses by code (同一代码 → the row updates the course)."""
    reader = _Reader(file, COURSE_COLUMNS)
    _progress(progress, 20)
    existing = {c.code: c for c in Course.objects.all()}
    college_by = _colleges()
    kinds, assessments = _norm_map(KIND_VALUES), _norm_map(ASSESSMENT_VALUES)
    seen: dict = {}
    new, changed = [], []
    for number, row in reader.records():
        code = reader.required_text(number, row, "code")
        if code and _repeated(seen, code, number, reader, "code", code):
            continue
        course = existing.get(code) if code else None
        course = course if course is not None else Course(code=code or "")
        before = {f: getattr(course, f if f != "college" else "college_id") for f in COURSE_FIELDS}
        name = reader.required_text(number, row, "name")
        credits = reader.convert(number, row, "credits", sheet.decimal, required=True)
        hours = reader.convert(number, row, "hours", sheet.integer, required=True)
        course.name = name or ""
        course.credits, course.hours = credits, hours
        if reader.has("name_en"):
            course.name_en = sheet.text(reader.cell(row, "name_en"))
        kind = reader.convert(number, row, "kind", lambda v: sheet.choice(v, kinds, ("必修", "选修")))
        if kind:
            course.kind = kind
        assessment = reader.convert(number, row, "assessment", lambda v: sheet.choice(v, assessments, ("考试", "考查")))
        if assessment:
            course.assessment = assessment
        if reader.has("college"):
            value = sheet.text(reader.cell(row, "college"))
            college = college_by.get(value) if value else None
            if value and college is None:
                reader.error(number, "college", COLLEGE_NOT_FOUND % {"value": value})
            course.college = college
        try:
            course.full_clean(exclude=reader.excluded(COURSE_FIELDS), validate_unique=False)
        except ValidationError as exc:
            reader.model_errors(number, exc, COURSE_FIELDS)
        if reader.failed:
            continue
        after = {f: getattr(course, f if f != "college" else "college_id") for f in COURSE_FIELDS}
        if course.pk is None:
            new.append(course)
        elif after != before:
            changed.append(course)
    reader.refuse_if_errors()
    _progress(progress, 70)
    now = timezone.now()
    with transaction.atomic():
        Course.objects.bulk_create(new, batch_size=500)
        for course in changed:
            course.updated_at = now
        Course.objects.bulk_update(changed, COURSE_WRITE_FIELDS, batch_size=500)
    return Summary(total_rows=reader.total, created=len(new), updated=len(changed))


# --- teaching plans ---------------------------------------------------------------------------------------
PLAN_FIELDS = {"level": "level", "cohort": "cohort", "required_credits": "required_credits"}
PLAN_COURSE_FIELDS = {"term_number": "term_number", "sample_exam": "sample_exam"}


def plans_import(*, file, actor, colleges: set[int] | None = None, progress=None) -> Summary:
    """One row per course of a plan; plans are keyed by (major, level, cohort). Existing plans get
    the file's required credits; their courses are added or updated (never removed here)."""
    reader = _Reader(file, PLAN_COLUMNS)
    _progress(progress, 20)
    majors = {m.code: m for m in Major.objects.all()}
    courses = {c.code: c for c in Course.objects.only("id", "code")}
    levels = _norm_map(LEVEL_VALUES)
    plans: dict[tuple, dict] = {}  # key → {"row", "credits", "courses": {course_id: (row, term, sample)}}
    for number, row in reader.records():
        major_code = reader.required_text(number, row, "major")
        major = majors.get(major_code) if major_code else None
        if major_code and major is None:
            reader.error(number, "major", MAJOR_NOT_FOUND % {"value": major_code})
        if major is not None and colleges is not None and major.college_id not in colleges:
            reader.error(number, "major", COLLEGE_OUT_OF_SCOPE % {"college": major.college})
            major = None
        level = reader.convert(
            number, row, "level", lambda v: sheet.choice(v, levels, ("专科", "本科", "专升本")), required=True
        )
        cohort = reader.convert(number, row, "cohort", sheet.integer, required=True)
        credits = reader.convert(number, row, "required_credits", sheet.decimal, required=True)
        course_code = reader.required_text(number, row, "course")
        course = courses.get(course_code) if course_code else None
        if course_code and course is None:
            reader.error(number, "course", COURSE_NOT_FOUND % {"value": course_code})
        term_number = reader.convert(number, row, "term_number", sheet.integer, required=True)
        sample = reader.convert(number, row, "sample_exam", sheet.flag) or False
        plan_check = TeachingPlan(level=level or "", cohort=cohort, required_credits=credits)
        line_check = PlanCourse(term_number=term_number, sample_exam=sample)
        for instance, fields, always in (
            (plan_check, PLAN_FIELDS, ["major"]),
            (line_check, PLAN_COURSE_FIELDS, ["plan", "course"]),
        ):
            try:
                instance.full_clean(
                    exclude=reader.excluded(fields, always), validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                reader.model_errors(number, exc, fields)
        if None in (major, level, cohort, course) or {"major", "level", "cohort", "course"} & reader.failed:
            continue
        plan = plans.setdefault((major.pk, level, cohort), {"row": None, "credits": None, "courses": {}})
        if "required_credits" not in reader.failed:
            if plan["credits"] is None:
                plan["row"], plan["credits"] = number, plan_check.required_credits
            elif plan["credits"] != plan_check.required_credits:
                reader.error(
                    number, "required_credits", PLAN_CREDITS_DIFFER % {"row": plan["row"], "credits": plan["credits"]}
                )
        if course.pk in plan["courses"]:
            reader.error(
                number, "course", PLAN_COURSE_REPEATED % {"code": course.code, "row": plan["courses"][course.pk][0]}
            )
        elif not reader.failed:
            plan["courses"][course.pk] = (number, term_number, sample)
    reader.refuse_if_errors()
    _progress(progress, 70)
    created = updated = 0
    now = timezone.now()
    with transaction.atomic():
        for (major_id, level, cohort), spec in plans.items():
            plan, made = TeachingPlan.objects.get_or_create(
                major_id=major_id, level=level, cohort=cohort, defaults={"required_credits": spec["credits"]}
            )
            plan_changed = False
            if not made and plan.required_credits != spec["credits"]:
                plan.required_credits = spec["credits"]
                plan.updated_at = now
                plan.save(update_fields=["required_credits", "updated_at"])
                plan_changed = True
            current = {pc.course_id: pc for pc in plan.plan_courses.all()}
            add, change = [], []
            for course_id, (_number, term_number, sample) in spec["courses"].items():
                line = current.get(course_id)
                if line is None:
                    add.append(PlanCourse(plan=plan, course_id=course_id, term_number=term_number, sample_exam=sample))
                elif (line.term_number, line.sample_exam) != (term_number, sample):
                    line.term_number, line.sample_exam = term_number, sample
                    change.append(line)
            PlanCourse.objects.bulk_create(add)
            PlanCourse.objects.bulk_update(change, ["term_number", "sample_exam"])
            # a row counts as written when its plan course was added or changed (or it created/changed the plan)
            touched = len(add) + len(change)
            if made or plan_changed:
                touched = len(spec["courses"])
            if made:
                created += touched
            else:
                updated += touched
    return Summary(total_rows=reader.total, created=created, updated=updated)


# --- offerings --------------------------------------------------------------------------------------------
OFFERING_FIELDS = {
    "code": "code",
    "term": "term",
    "course": "course",
    "college": "college",
    "kind": "kind",
    "exam_date": "exam_date",
    "scale": "scale",
    "instructors": "instructors",
    "classes": "classes",
}


def _lookup_many(values: Iterable[str], found: dict) -> tuple[list, list[str]]:
    hits, missing = [], []
    for v in values:
        (hits.append(found[v]) if v in found else missing.append(v))
    return hits, missing


def offerings_import(*, file, actor, colleges: set[int] | None = None, progress=None) -> Summary:
    """Create offerings through ``offering_create`` (which enrols the classes' studying students);
    an existing offering code updates the exam date and instructors and enrols added classes."""
    reader = _Reader(file, OFFERING_COLUMNS)
    _progress(progress, 10)
    records = list(reader.records())
    terms = {t.code: t for t in Term.objects.all()}
    college_by = _colleges()
    course_codes = {sheet.text(reader.cell(r, "course")) for _n, r in records}
    courses = {c.code: c for c in Course.objects.filter(code__in=course_codes)}
    codes = {sheet.text(reader.cell(r, "code")) for _n, r in records}
    existing = {o.code: o for o in Offering.objects.filter(code__in=codes).prefetch_related("classes", "instructors")}
    usernames, class_codes = set(), set()
    for _n, r in records:
        usernames.update(sheet.split_list(reader.cell(r, "instructors")))
        class_codes.update(sheet.split_list(reader.cell(r, "classes")))
    users = {u.username: u for u in User.objects.filter(username__in=usernames, is_active=True)}
    classes = {k.code: k for k in Class.objects.filter(code__in=class_codes)}
    kinds, scales = _norm_map(OFFERING_KIND_VALUES), _norm_map(SCALE_VALUES)
    seen: dict = {}
    plan = []  # (number, existing offering or None, data)
    for number, row in records:
        code = reader.required_text(number, row, "code")
        if code and _repeated(seen, code, number, reader, "code", code):
            continue
        term_code = reader.required_text(number, row, "term")
        term = terms.get(term_code) if term_code else None
        if term_code and term is None:
            reader.error(number, "term", TERM_NOT_FOUND % {"value": term_code})
        course_code = reader.required_text(number, row, "course")
        course = courses.get(course_code) if course_code else None
        if course_code and course is None:
            reader.error(number, "course", COURSE_NOT_FOUND % {"value": course_code})
        college_value = reader.required_text(number, row, "college")
        college = college_by.get(college_value) if college_value else None
        if college_value and college is None:
            reader.error(number, "college", COLLEGE_NOT_FOUND % {"value": college_value})
        elif college is not None and colleges is not None and college.pk not in colleges:
            reader.error(number, "college", COLLEGE_OUT_OF_SCOPE % {"college": college})
            college = None
        kind = (
            reader.convert(number, row, "kind", lambda v: sheet.choice(v, kinds, ("正考", "补考", "清考")))
            or Offering.Kind.REGULAR
        )
        scale = reader.convert(number, row, "scale", lambda v: sheet.choice(v, scales, ("百分制", "五级制", "二级制")))
        exam_date = reader.convert(number, row, "exam_date", sheet.date)
        instructors, missing = _lookup_many(sheet.split_list(reader.cell(row, "instructors")), users)
        if missing:
            reader.error(number, "instructors", USERS_NOT_FOUND % {"values": "、".join(missing)})
        row_classes, missing = _lookup_many(sheet.split_list(reader.cell(row, "classes")), classes)
        if missing:
            reader.error(number, "classes", CLASSES_NOT_FOUND % {"values": "、".join(missing)})
        if None in (code, term, course, college) or reader.failed:
            check = Offering(code=code or "", term=term, course=course, college=college, exam_date=exam_date)
            try:
                check.full_clean(
                    exclude=reader.excluded(OFFERING_FIELDS, ["term", "course", "college", "kind", "scale"]),
                    validate_unique=False,
                )
            except ValidationError as exc:
                reader.model_errors(number, exc, OFFERING_FIELDS)
            continue
        data = {
            "code": code,
            "term": term,
            "course": course,
            "college": college,
            "kind": kind,
            "scale": scale,
            "exam_date": exam_date,
            "instructors": instructors,
            "classes": row_classes,
            "instructors_given": bool(sheet.text(reader.cell(row, "instructors"))),
        }
        offering = existing.get(code)
        if offering is not None and not _same_offering(reader, number, offering, data):
            continue
        if offering is None:
            check = Offering(
                code=code,
                term=term,
                course=course,
                college=college,
                kind=kind,
                exam_date=exam_date,
                scale=scale or Offering.Scale.HUNDRED,
            )
            try:
                check.full_clean(validate_unique=False)
            except ValidationError as exc:
                reader.model_errors(number, exc, OFFERING_FIELDS)
                continue
        plan.append((number, offering, data))
    reader.refuse_if_errors()
    _progress(progress, 40)
    created = updated = 0
    with transaction.atomic():
        for i, (number, offering, data) in enumerate(plan):
            try:
                if offering is None:
                    offering_create(
                        code=data["code"],
                        term=data["term"],
                        course=data["course"],
                        college=data["college"],
                        kind=data["kind"],
                        instructors=data["instructors"],
                        classes=data["classes"],
                        exam_date=data["exam_date"],
                        scale=data["scale"] or Offering.Scale.HUNDRED,
                    )
                    created += 1
                elif _offering_update(offering, data, reader, number):
                    updated += 1
            except ValidationError as exc:
                reader.model_errors(number, exc, OFFERING_FIELDS)
            except ApplicationError as exc:
                reader.error(number, "classes", exc.message)
            if progress and i % 50 == 0:
                _progress(progress, 40 + int(55 * i / max(len(plan), 1)))
        reader.refuse_if_errors()  # raising here rolls back every offering created above
    return Summary(total_rows=reader.total, created=created, updated=updated)


def _same_offering(reader: _Reader, number: int, offering: Offering, data: dict) -> bool:
    for key, current, wanted, shown in (
        ("term", offering.term_id, data["term"].pk, data["term"].code),
        ("course", offering.course_id, data["course"].pk, data["course"].code),
        ("college", offering.college_id, data["college"].pk, data["college"].code),
        ("kind", offering.kind, data["kind"], force_str(Offering.Kind(data["kind"]).label)),
        ("scale", offering.scale, data["scale"] or offering.scale, data["scale"]),
    ):
        if current != wanted:
            reader.error(
                number, key, OFFERING_IS_OTHER % {"code": offering.code, "field": reader.header(key), "value": shown}
            )
            return False
    return True


def _offering_update(offering: Offering, data: dict, reader: _Reader, number: int) -> bool:
    """Exam date and instructors as in the file (blank cells keep them); classes in the file that the offering lacks are
    added and their studying students enrolled. Returns whether anything changed."""
    changed = False
    if data["exam_date"] is not None and offering.exam_date != data["exam_date"]:
        offering.exam_date = data["exam_date"]
        offering.save(update_fields=["exam_date", "updated_at"])
        changed = True
    if data["instructors_given"]:
        wanted = {u.pk for u in data["instructors"]}
        if wanted != {u.pk for u in offering.instructors.all()}:
            offering.instructors.set(data["instructors"])
            changed = True
    have = {k.pk for k in offering.classes.all()}
    added = [k for k in data["classes"] if k.pk not in have]
    if added:
        offering.classes.add(*added)
        offering_enrol(
            offering=offering,
            via=Grade.Source.CLASS,
            students=Student.objects.filter(klass__in=added, status=Student.Status.ENROLLED),
        )
        changed = True
    return changed
