"""Demo grades for ``seed_demo``: terms, courses, teaching plans, offerings with grades entered,
submitted and confirmed through the real services, make-ups, sheets waiting in every state,
an exemption, a correction and transcript requests — so every grades page has something to show.

Idempotent: it does nothing when the demo terms already have offerings.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from registrar.models import User
from students.management.demo import pdf_file
from students.models import Class, Student

from .models import Course, GradeComponent, Offering, PlanCourse, TeachingPlan, Term

#: (code, name, English name, credits, hours, type, assessment, college)
COURSES = (
    ("CS101", "程序设计基础", "Fundamentals of Programming", "4.0", 64, "required", "exam", "CIE"),
    ("CS102", "离散数学", "Discrete Mathematics", "3.0", 48, "required", "exam", "CIE"),
    ("CS201", "数据结构", "Data Structures", "4.0", 64, "required", "exam", "CIE"),
    ("CS202", "计算机组成原理", "Computer Organization", "3.0", 48, "required", "exam", "CIE"),
    ("CS203", "面向对象程序设计", "Object-Oriented Programming", "3.0", 48, "required", "exam", "CIE"),
    ("CS301", "操作系统", "Operating Systems", "3.5", 56, "required", "exam", "CIE"),
    ("CS302", "数据库系统", "Database Systems", "3.0", 48, "required", "exam", "CIE"),
    ("CS303", "计算机网络", "Computer Networks", "3.0", 48, "required", "exam", "CIE"),
    ("CS304", "软件工程导论", "Introduction to Software Engineering", "2.0", 32, "elective", "check", "CIE"),
    ("CS305", "Web应用开发", "Web Application Development", "2.0", 32, "elective", "check", "CIE"),
    ("MA101", "高等数学A(一)", "Advanced Mathematics A (I)", "5.0", 80, "required", "exam", "CIE"),
    ("MA102", "高等数学A(二)", "Advanced Mathematics A (II)", "5.0", 80, "required", "exam", "CIE"),
    ("MA201", "线性代数", "Linear Algebra", "3.0", 48, "required", "exam", "CIE"),
    ("MA202", "概率论与数理统计", "Probability and Statistics", "3.0", 48, "required", "exam", "CIE"),
    ("GE101", "大学英语(一)", "College English (I)", "3.0", 48, "required", "exam", "FL"),
    ("GE102", "大学英语(二)", "College English (II)", "3.0", 48, "required", "exam", "FL"),
    ("GE103", "思想道德与法治", "Ethics and Rule of Law", "3.0", 48, "required", "check", "EM"),
    ("GE104", "体育(一)", "Physical Education (I)", "1.0", 32, "required", "check", "EM"),
    ("AC201", "中级财务会计", "Intermediate Financial Accounting", "4.0", 64, "required", "exam", "CE"),
    ("AC202", "成本会计", "Cost Accounting", "3.0", 48, "required", "exam", "CE"),
    ("AC203", "财务管理", "Financial Management", "3.0", 48, "required", "exam", "CE"),
    ("AC204", "审计学", "Auditing", "3.0", 48, "required", "exam", "CE"),
    ("AC205", "税法", "Tax Law", "3.0", 48, "required", "exam", "CE"),
    ("CS306", "编译原理", "Compiler Construction", "3.0", 48, "required", "exam", "CIE"),
    ("CS307", "人工智能导论", "Introduction to Artificial Intelligence", "2.0", 32, "elective", "exam", "CIE"),
    ("GE105", "形势与政策", "Current Affairs and Policy", "1.0", 16, "required", "check", "EM"),
)

#: The demo class's teaching plan: term of study → course codes
PLAN = {
    1: ("MA101", "GE101", "GE103", "CS101", "GE104"),
    2: ("MA102", "GE102", "CS102", "CS203"),
    3: ("CS201", "MA201", "CS202", "CS304"),
    4: ("CS301", "CS302", "MA202", "CS305"),
    5: ("CS303", "CS306", "CS307", "GE105"),
}
#: The correspondence class's plan (专升本, station HZ)
CE_PLAN = {5: ("AC201", "AC202"), 6: ("AC203", "AC204"), 7: ("AC205",)}

COMPOSITIONS = (
    [{"code": "regular", "weight": 30}, {"code": "final", "weight": 70}],
    [{"code": "regular", "weight": 20}, {"code": "midterm", "weight": 20}, {"code": "final", "weight": 60}],
    [{"code": "regular", "weight": 30}, {"code": "experiment", "weight": 20}, {"code": "final", "weight": 50}],
)


def _terms() -> list[Term]:
    terms = []
    for year in range(2022, 2027):
        for half in (1, 2):
            start = dt.date(year, 9, 1) if half == 1 else dt.date(year + 1, 2, 24)
            end = dt.date(year + 1, 1, 20) if half == 1 else dt.date(year + 1, 7, 10)
            code = f"{year}-{year + 1}-{half}"
            name = f"{year}-{year + 1}学年第{'一' if half == 1 else '二'}学期"
            term, _ = Term.objects.get_or_create(
                code=code, defaults={"name": name, "start_date": start, "end_date": end}
            )
            terms.append(term)
    return terms


def term_of_study(terms: list[Term], cohort: int, n: int) -> Term | None:
    """The n-th term (1-based) of a cohort that enrolled in September ``cohort``."""
    index = (cohort - 2022) * 2 + (n - 1)
    return terms[index] if 0 <= index < len(terms) else None


class GradesDemo:
    def __init__(self, *, today: dt.date | None = None):
        self.today = today or timezone.localdate()
        self.rng = random.Random(20261123)
        self.users = {
            u.username: u
            for u in User.objects.filter(
                username__in=["instructor", "teaching_secretary", "registrar", "dean", "student_affairs", "station"]
            )
        }

    def run(self) -> None:
        if Offering.objects.exists() or not {"instructor", "registrar", "teaching_secretary"} <= set(self.users):
            return
        from students.models import College

        self.colleges = {c.code: c for c in College.objects.all()}
        self.terms = _terms()
        self.courses = self._courses()
        demo = Class.objects.filter(code="CS2401").select_related("major", "college").first()
        if demo is None:
            return
        self._plan(demo, PLAN, Decimal("160"))
        self._class_history(demo, PLAN, college=demo.college)
        ce = Class.objects.filter(code="HZAC2301").select_related("major", "college").first()
        if ce is not None:
            self._plan(ce, CE_PLAN, Decimal("80"))
            self._class_history(ce, CE_PLAN, college=ce.college)
        self._requests(demo)

    # --- teaching data ----------------------------------------------------------------------
    def _courses(self) -> dict[str, Course]:
        out = {}
        for code, name, name_en, credits, hours, kind, assessment, college in COURSES:
            out[code], _ = Course.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "name_en": name_en,
                    "credits": Decimal(credits),
                    "hours": hours,
                    "kind": kind,
                    "assessment": assessment,
                    "college": self.colleges.get(college),
                },
            )
        return out

    def _plan(self, klass: Class, plan: dict, required: Decimal) -> None:
        level = Student.objects.filter(klass=klass).values_list("level", flat=True).first() or "bachelor"
        tp, _ = TeachingPlan.objects.get_or_create(
            major=klass.major, level=level, cohort=klass.cohort, defaults={"required_credits": required}
        )
        PlanCourse.objects.bulk_create(
            [PlanCourse(plan=tp, course=self.courses[c], term_number=n) for n, codes in plan.items() for c in codes],
            ignore_conflicts=True,
        )

    # --- sheets through the real services ---------------------------------------------------
    def _class_history(self, klass: Class, plan: dict, *, college) -> None:
        from .services.attempts import makeup_offering_create
        from .services.entry import composition_set, window_publish
        from .services.teaching import offering_create

        aa, instructor = self.users["registrar"], self.users["instructor"]
        composer = self.users["teaching_secretary"] if college.code == "CIE" else aa
        current = next((t for t in self.terms if t.start_date <= self.today <= t.end_date), self.terms[-1])
        for n, codes in sorted(plan.items()):
            term = term_of_study(self.terms, klass.cohort, n)
            if term is None or term.start_date > self.today:
                continue
            is_current = term.pk == current.pk
            exam = min(term.end_date - dt.timedelta(days=10), self.today - dt.timedelta(days=14))
            window = window_publish(
                term=term,
                opens_at=_aware(exam - dt.timedelta(days=3)),
                closes_at=_aware(exam + dt.timedelta(days=30 if is_current else 21)),
                actor=aa,
                note="期末成绩录入",
            )
            for i, code in enumerate(codes):
                course = self.courses[code]
                offering = offering_create(
                    code=f"{term.code}-{code}-{klass.code}",
                    term=term,
                    course=course,
                    college=college,
                    instructors=[instructor],
                    classes=[klass],
                    exam_date=exam + dt.timedelta(days=i),
                )
                scale = Offering.Scale.FIVE_LEVEL if course.assessment == "check" and i % 2 else Offering.Scale.HUNDRED
                if is_current and klass.station_id:
                    self._station_submission(offering, klass)  # the station reports; the college reviews
                    continue
                composition_set(
                    offering=offering,
                    actor=composer,
                    components=COMPOSITIONS[i % len(COMPOSITIONS)],
                    scale=scale,
                    now=window.opens_at,
                )
                if not is_current:
                    self._fill(offering, when=window.opens_at + dt.timedelta(days=5), submit=True, confirm=True)
                elif i == 0:
                    self._fill(offering, when=None, submit=True, confirm=False)  # waiting for Academic Affairs
                elif i == 1:
                    self._fill(offering, when=None, submit=False, confirm=False, share=0.6)  # half entered
                # the rest: not started; exam more than a week ago → late on the dashboard
        # make-ups for the failures of the last finished term of this class
        finished = [term_of_study(self.terms, klass.cohort, n) for n in plan]
        finished = [t for t in finished if t and t.end_date < self.today]
        if not finished:
            return
        last = finished[-1]
        following = next((t for t in self.terms if t.start_date > last.start_date), last)
        for code in plan[max(n for n in plan if term_of_study(self.terms, klass.cohort, n) == last)]:
            try:
                makeup = makeup_offering_create(
                    term=last,
                    course=self.courses[code],
                    college=college,
                    exam_date=following.start_date + dt.timedelta(days=7),
                    instructors=[instructor],
                    actor=aa,
                )
            except Exception:  # noqa: BLE001 - nobody failed that course: no make-up needed
                continue
            window = window_publish(
                term=last,
                offerings=[makeup],
                actor=aa,
                note="补考成绩录入",
                opens_at=_aware(following.start_date),
                closes_at=_aware(following.start_date + dt.timedelta(days=30)),
            )
            self._fill(
                makeup, when=window.opens_at + dt.timedelta(days=10), submit=True, confirm=True, mean=68, spread=9
            )

    def _fill(
        self, offering: Offering, *, when, submit: bool, confirm: bool, share: float = 1.0, mean=79, spread=11
    ) -> None:
        from .services.entry import grades_enter, sheet_confirm, sheet_submit

        instructor, aa = self.users["instructor"], self.users["registrar"]
        grades = list(offering.grades.select_related("student").order_by("student__student_number"))
        components = list(offering.components.all())
        rows = {}
        for index, grade in enumerate(grades):
            if index >= len(grades) * share:
                break
            rows[grade.pk] = self._cells(offering, components, mean, spread)
        if rows:
            grades_enter(offering=offering, actor=instructor, rows=rows, now=when)
        if submit:
            sheet_submit(offering=offering, actor=instructor, now=when)
        if confirm:
            sheet_confirm(offering=offering, actor=aa, now=when + dt.timedelta(days=2) if when else None)

    def _station_submission(self, offering: Offering, klass: Class) -> None:
        """The station uploads its students' results (one score column) for the college to review."""
        from registrar.spreadsheets import append_row, new_workbook, workbook_bytes

        from .services.stations import station_submission_create

        station_user = self.users.get("station")
        if station_user is None:
            return
        book = new_workbook()
        sheet = book.active
        append_row(sheet, ["学号", "姓名", "成绩"])
        for grade in offering.grades.select_related("student").order_by("student__student_number"):
            append_row(
                sheet,
                [grade.student.student_number, grade.student.name, max(0, min(100, round(self.rng.gauss(76, 10))))],
            )
        upload = SimpleUploadedFile(
            f"{offering.code}.xlsx",
            workbook_bytes(book),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        station_submission_create(station=klass.station, offering=offering, upload=upload, actor=station_user)

    def _cells(self, offering: Offering, components: list[GradeComponent], mean: float, spread: float) -> dict:
        roll = self.rng.random()
        if roll < 0.015:
            return {c.code: "缺考" for c in components}
        if offering.scale == Offering.Scale.FIVE_LEVEL:
            levels = ("优", "良", "中", "及格", "不及格")
            weights = (25, 40, 22, 10, 3)
            return {c.code: self.rng.choices(levels, weights)[0] for c in components}
        base = self.rng.gauss(mean, spread)
        return {c.code: str(max(0, min(100, round(base + self.rng.gauss(0, 5))))) for c in components}

    # --- requests on the kernel -------------------------------------------------------------
    def _requests(self, demo: Class) -> None:
        from registrar.approvals.services import request_act, request_create

        from .models import BATCH_TRANSCRIPT, CORRECTION, EXEMPTION, PERSONAL_TRANSCRIPT, Grade
        from .services.transcripts import transcript_batch_file

        students = list(Student.objects.filter(klass=demo, user__isnull=False).order_by("student_number"))
        if len(students) < 4:
            return
        me = students[0]
        # personal transcript (route 2), waiting for the teaching secretary
        request_create(
            chain=PERSONAL_TRANSCRIPT,
            student=me,
            applicant=me.user,
            submit=True,
            data={"purpose_kind": "study_abroad", "purpose": "申请出国交流", "language": "both", "copies": 2},
        )
        # exemption from the current term's sheet that is being entered
        open_offering = (
            Offering.objects.filter(classes=demo, sheet_state=Offering.SheetState.ENTERING, kind=Offering.Kind.REGULAR)
            .order_by("-term__start_date", "code")
            .first()
        )
        if open_offering is not None:
            request_create(
                chain=EXEMPTION,
                student=students[1],
                applicant=students[1].user,
                submit=True,
                data={"offering": open_offering, "kind": "exam", "reason": "已通过全国大学英语六级考试，申请免试"},
                attachments={"evidence": pdf_file("六级成绩单.pdf")},
            )
        # a correction of a confirmed grade, at the college
        grade = (
            Grade.objects.filter(
                student=students[2],
                offering__sheet_state=Offering.SheetState.CONFIRMED,
                offering__kind=Offering.Kind.REGULAR,
                score__isnull=False,
            )
            .order_by("offering__code")
            .first()
        )
        if grade is not None:
            request_create(
                chain=CORRECTION,
                student=students[2],
                applicant=self.users["instructor"],
                submit=True,
                data={
                    "grade": grade,
                    "new_score": min(Decimal(100), (grade.score or 0) + 5),
                    "reason": "期末试卷第三题漏记5分，复核后更正",
                },
            )
        # route (1): a job-fair batch for the demo class, sealed by the college, waiting for Academic Affairs
        if "student_affairs" in self.users:
            batch = transcript_batch_file(
                actor=self.users["student_affairs"],
                purpose="job_fair",
                language="zh",
                note="2026届秋季校园招聘会",
                students=students[:12],
            )
            for req in BATCH_TRANSCRIPT.model.objects.filter(batch=batch).order_by("pk")[:6]:
                request_act(
                    chain=BATCH_TRANSCRIPT,
                    request_id=req.pk,
                    actor=self.users["teaching_secretary"],
                    action="approve",
                    opinion="成绩属实，已加盖学院公章",
                )


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(8, 0)))


def seed_grades(*, students: int = 600) -> None:
    """The grades app's part of the demo (``students`` is the students demo's size, unused)."""
    GradesDemo().run()
