"""A believable small institution for demos and manual testing (``manage.py seed_demo``).

Deterministic and idempotent: every value comes from a fixed seed (per student, from
the student number), rows are looked up by their natural keys and only what is missing
is created, so running it again changes nothing. Bulk inserts keep it to a few seconds.

ID-reissue (U6) requests in every state are made through the approval kernel's services, so
their sign-offs, effects on the student's record and documents are real. The other apps seed
their own scenarios (``statuschange/demo.py``, ``grades/demo.py``): ``seed_demo`` runs the
seeders listed in ``settings.REGISTRAR["DEMO_SEEDERS"]`` in order, so this module imports none
of those apps.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from registrar.models import User
from registrar.roles import Role, Scope, default_scope

from ..models import U6, Class, College, IdCardReissueRequest, Major, RoleAssignment, Station, Student
from ..validators import id_check_digit

PASSWORD = "demo12345"
SEED = 20240901

COLLEGES = (
    # code, number (in student numbers), name
    ("CIE", "01", "计算机与信息工程学院"),
    ("EM", "02", "经济管理学院"),
    ("FL", "03", "外国语学院"),
    ("CE", "09", "继续教育学院（函授）"),
)

MAJORS = (
    # code, name, college
    ("080901", "计算机科学与技术", "CIE"),
    ("080902", "软件工程", "CIE"),
    ("080910T", "数据科学与大数据技术", "CIE"),
    ("120203K", "会计学", "EM"),
    ("120201K", "工商管理", "EM"),
    ("020401", "国际经济与贸易", "EM"),
    ("050201", "英语", "FL"),
    ("050207", "日语", "FL"),
    ("050262", "商务英语", "FL"),
    ("H120203K", "会计学（函授）", "CE"),
    ("H510201", "计算机应用技术（函授）", "CE"),
    ("H120201K", "工商管理（函授）", "CE"),
)

STATIONS = (
    # code, name, city, region codes of its students
    ("HZ", "杭州函授站", "杭州", ("330102", "330105", "330106", "330108", "330109", "330110")),
    ("NB", "宁波函授站", "宁波", ("330203", "330205", "330206", "330211", "330212", "330281")),
)

#: English names (printed on English documents), by code; a re-run fills those still empty.
COLLEGES_EN = {
    "CIE": "School of Computer and Information Engineering",
    "EM": "School of Economics and Management",
    "FL": "School of Foreign Languages",
    "CE": "School of Continuing Education (Correspondence)",
}
MAJORS_EN = {
    "080901": "Computer Science and Technology",
    "080902": "Software Engineering",
    "080910T": "Data Science and Big Data Technology",
    "120203K": "Accounting",
    "120201K": "Business Administration",
    "020401": "International Economics and Trade",
    "050201": "English",
    "050207": "Japanese",
    "050262": "Business English",
    "H120203K": "Accounting (Correspondence)",
    "H510201": "Computer Application Technology (Correspondence)",
    "H120201K": "Business Administration (Correspondence)",
}
STATIONS_EN = {"HZ": "Hangzhou Correspondence Station", "NB": "Ningbo Correspondence Station"}

J, B, U = Student.Level.JUNIOR, Student.Level.BACHELOR, Student.Level.UPGRADE
CLASSES = (
    # code, name, cohort, major, level, station
    ("CS2201", "计算机科学与技术2022级1班", 2022, "080901", B, None),
    ("SE2301", "软件工程2023级1班", 2023, "080902", B, None),
    ("CS2401", "计算机科学与技术2024级1班", 2024, "080901", B, None),
    ("DS2501", "数据科学与大数据技术2025级1班", 2025, "080910T", B, None),
    ("AC2301", "会计学2023级1班", 2023, "120203K", B, None),
    ("BA2401", "工商管理2024级1班", 2024, "120201K", B, None),
    ("IT2501", "国际经济与贸易2025级1班", 2025, "020401", B, None),
    ("EN2201", "英语2022级1班", 2022, "050201", B, None),
    ("BE2401", "商务英语2024级专升本班", 2024, "050262", U, None),
    ("HZAC2301", "杭州函授站会计学2023级专升本班", 2023, "H120203K", U, "HZ"),
    ("HZCA2401", "杭州函授站计算机应用技术2024级专科班", 2024, "H510201", J, "HZ"),
    ("NBBA2501", "宁波函授站工商管理2025级专升本班", 2025, "H120201K", U, "NB"),
)
DEMO_CLASS = "CS2401"  # the demo student's class; the counsellor also counsels SECOND_CLASS
SECOND_CLASS = "SE2301"
MALE_SHARE = {"CIE": 0.7, "EM": 0.4, "FL": 0.25, "CE": 0.5}

SURNAMES = (
    "王" * 9
    + "李" * 9
    + "张" * 8
    + "刘" * 7
    + "陈" * 7
    + "杨" * 5
    + "黄" * 4
    + "赵" * 4
    + "吴" * 4
    + "周" * 4
    + "徐" * 3
    + "孙" * 3
    + "马" * 2
    + "朱" * 3
    + "胡" * 3
    + "郭" * 2
    + "何" * 2
    + "高" * 2
    + "林" * 3
    + "罗" * 2
    + "郑郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈沈姚卢姜崔钟谭陆汪汪范金石廖贾夏韦方"
    "白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤楼应童项俞章"
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超俊浩宇轩博文斌鹏辉晨昊然哲睿泽凯鑫帅志建峰宏刚毅豪健诚栋航翔嘉铭锐天子一逸"
GIVEN_FEMALE = "芳娜敏静丽婷雪琳欣怡佳慧颖悦雨萱婧瑶思梦晓艳倩璐洁琪晴彤妍蕾菲雅诗涵可心月婉怡语楠"
GIVEN_SHARED = "安宁晨子嘉一文雨思佳欣宇梓诗家俊"
ETHNIC_MINORITIES = ("畲族", "回族", "满族", "土家族", "苗族", "壮族", "蒙古族", "布依族")
ZJ_REGIONS = (
    "330102",
    "330106",
    "330108",
    "330203",
    "330205",
    "330302",
    "330304",
    "330402",
    "330411",
    "330502",
    "330602",
    "330681",
    "330702",
    "330782",
    "330802",
    "331002",
    "331081",
    "331102",
    "330902",
    "330381",
)
OTHER_REGIONS = ("320102", "340102", "360102", "410102", "430102", "510104", "520102", "350102", "420102")

#: Staff logins: username, full name, role (scope from registrar.roles.default_scope).
STAFF = (
    ("advisor", "陈晓燕", Role.ADVISOR),
    ("counsellor", "刘建明", Role.COUNSELLOR),
    ("secretary", "王国强", Role.COLLEGE_SECRETARY),
    ("dean", "张志远", Role.COLLEGE_DEAN),
    ("teaching_secretary", "李静", Role.TEACHING_SECRETARY),
    ("instructor", "赵文博", Role.INSTRUCTOR),
    ("student_affairs", "孙丽华", Role.STUDENT_AFFAIRS),
    ("sa_head", "林振国", Role.STUDENT_AFFAIRS_HEAD),
    ("registrar", "周敏", Role.ACADEMIC_AFFAIRS),
    ("aa_head", "吴建华", Role.ACADEMIC_AFFAIRS_HEAD),
    ("leadership", "郑永清", Role.LEADERSHIP),
    ("party_committee", "郭明德", Role.PARTY_COMMITTEE),
    ("vice_president", "罗志刚", Role.VICE_PRESIDENT),
    ("finance", "钱红梅", Role.FINANCE),
    ("library", "冯书文", Role.LIBRARY),
    ("dorm", "褚卫东", Role.DORM),
    ("apartment", "卫小萍", Role.APARTMENT),
    ("canteen", "蒋大勇", Role.CANTEEN),
    ("textbook", "沈建新", Role.TEXTBOOK),
    ("youth_league", "韩雪", Role.YOUTH_LEAGUE),
    ("college_office", "杨帆", Role.COLLEGE_OFFICE),
    ("president_office", "朱立平", Role.PRESIDENT_OFFICE),
    ("station", "秦海涛", Role.STATION),
    ("supervisor", "尤振华", Role.SUPERVISOR),
)
#: Extra staff beyond one login per role: username, full name, role, college code.
EXTRA_STAFF = (
    ("ce_dean", "何立新", Role.COLLEGE_DEAN, "CE"),  # reviews C4 station status changes
    ("records_leader", "施文涛", Role.RECORDS_LEADER, "CE"),  # signs C4 for the correspondence college
)
STUDENT_LOGIN = "student"
ADMIN_LOGIN = "admin"
STAFF_COLLEGE = "CIE"
STAFF_STATION = "HZ"


@dataclass
class Login:
    username: str
    name: str
    role: str
    scope: str
    password: str = PASSWORD


# --- generation ------------------------------------------------------------------------------
def _with_english_name(obj, name_en: str):
    """Fill the English name of a college, major or station seeded before it had one (kept if edited)."""
    if not obj.name_en:
        obj.name_en = name_en
        obj.save(update_fields=["name_en", "updated_at"])
    return obj


def _class_sizes(total: int) -> list[int]:
    """Split ``total`` students over the classes: full-time classes a little larger."""
    weights = [0.7 if c[5] else 1.1 for c in CLASSES]
    raw = [total * w / sum(weights) for w in weights]
    sizes = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - sizes[i], reverse=True)[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _name(rng: random.Random, male: bool) -> str:
    pool = (GIVEN_MALE if male else GIVEN_FEMALE) + GIVEN_SHARED
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.72 else "")
    return rng.choice(SURNAMES) + given


def _birth_date(rng: random.Random, year: int) -> dt.date:
    start = dt.date(year, 1, 1)
    return start + dt.timedelta(days=rng.randrange((dt.date(year + 1, 1, 1) - start).days))


def _id_number(rng: random.Random, region: str, born: dt.date, male: bool, taken: set[str]) -> str:
    for _attempt in range(1000):
        seq = rng.randrange(0, 50) * 10 + rng.randrange(0, 5) * 2 + (1 if male else 0)
        first17 = f"{region}{born:%Y%m%d}{seq:03d}"
        number = first17 + id_check_digit(first17)
        if number not in taken:
            taken.add(number)
            return number
    raise RuntimeError("no free ID number")  # pragma: no cover - 500 sequences per region and day


def _dates(cohort: int, level: str, correspondence: bool) -> tuple[dt.date, dt.date]:
    if correspondence:  # adult education: spring entry, 2.5 years (5 for bachelor)
        years = {J: 3, U: 3, B: 5}[level]
        return dt.date(cohort, 3, 1), dt.date(cohort + years, 1, 10)
    years = {J: 3, U: 2, B: 4}[level]
    return dt.date(cohort, 9, 1), dt.date(cohort + years, 6, 30)


def _political(rng: random.Random, correspondence: bool, cohort: int) -> str:
    P = Student.PoliticalStatus
    r = rng.random()
    if correspondence:
        return P.PARTY if r < 0.14 else P.LEAGUE if r < 0.28 else P.MASSES
    party = 0.02 + 0.02 * (2025 - cohort)  # older cohorts have joined more often
    if r < party:
        return P.PARTY
    if r < party * 2:
        return P.PROBATIONARY
    return P.LEAGUE if r < 0.8 else P.MASSES


def build_student(*, klass: Class, spec: tuple, college_code: str, number: str, taken: set[str]) -> Student:
    _code, _class_name, cohort, _major, level, station_code = spec
    rng = random.Random(f"{SEED}:{number}")
    correspondence = station_code is not None
    male = rng.random() < MALE_SHARE[college_code]
    if correspondence:
        age = rng.randint(20, 38)
        regions = next(s[3] for s in STATIONS if s[0] == station_code)
    else:
        age = 18 + (1 if rng.random() < 0.3 else 0) - (1 if rng.random() < 0.05 else 0) + (3 if level == U else 0)
        regions = ZJ_REGIONS if rng.random() < 0.8 else OTHER_REGIONS
    born = _birth_date(rng, cohort - age)
    enrolled, graduating = _dates(cohort, level, correspondence)
    return Student(
        student_number=number,
        name=_name(rng, male),
        gender=Student.Gender.MALE if male else Student.Gender.FEMALE,
        id_number=_id_number(rng, rng.choice(regions), born, male, taken),
        birth_date=born,
        ethnicity="汉族" if rng.random() < 0.93 else rng.choice(ETHNIC_MINORITIES),
        political_status=_political(rng, correspondence, cohort),
        level=level,
        study_form=Student.StudyForm.CORRESPONDENCE if correspondence else Student.StudyForm.FULL_TIME,
        college=klass.college,
        major=klass.major,
        klass=klass,
        station=klass.station,
        enrollment_date=enrolled,
        expected_graduation=graduating,
        card_number=number,
        status=Student.Status.ENROLLED,
    )


def photo_png(seed: int = 0) -> bytes:
    """A small 1-inch ID photo (295×413 px): a silhouette on a white or blue background."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    background = rng.choice([(255, 255, 255), (67, 142, 219)])
    img = Image.new("RGB", (295, 413), background)
    draw = ImageDraw.Draw(img)
    shade = rng.choice([(40, 40, 48), (60, 52, 45), (30, 30, 30)])
    draw.ellipse((60, 300, 235, 520), fill=shade)  # shoulders
    draw.ellipse((95, 90, 200, 230), fill=(236, 200, 170))  # face
    draw.pieslice((90, 75, 205, 185), 180, 360, fill=shade)  # hair
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# --- seeding ---------------------------------------------------------------------------------
class DemoSeeder:
    def __init__(self, *, students: int = 600, stdout=None):
        self.total = students
        self.stdout = stdout
        self._password = None

    @property
    def password_hash(self) -> str:
        if self._password is None:  # hash once: a password hash costs ~0.3 s
            self._password = make_password(PASSWORD)
        return self._password

    @transaction.atomic
    def run(self) -> list[Login]:
        self.academic_calendar()
        colleges = self.organisation()
        self.students(colleges)
        logins = self.logins()
        self.requests()
        return logins

    def academic_calendar(self) -> None:
        """The seeds' dates for this academic year and the next (entries already there are kept)."""
        from registrar.approvals.deadlines import academic_year_of
        from registrar.approvals.services import academic_calendar_generate

        first = academic_year_of(timezone.localdate())
        for year in (first, first + 1):
            academic_calendar_generate(year=year)

    def organisation(self) -> dict[str, College]:
        colleges = {}
        for code, _no, name in COLLEGES:
            colleges[code] = _with_english_name(
                College.objects.get_or_create(code=code, defaults={"name": name, "name_en": COLLEGES_EN[code]})[0],
                COLLEGES_EN[code],
            )
        self.majors = {}
        for code, name, college in MAJORS:
            self.majors[code] = _with_english_name(
                Major.objects.get_or_create(
                    code=code, defaults={"name": name, "name_en": MAJORS_EN[code], "college": colleges[college]}
                )[0],
                MAJORS_EN[code],
            )
        self.stations = {}
        for code, name, city, _regions in STATIONS:
            self.stations[code] = _with_english_name(
                Station.objects.get_or_create(
                    code=code, defaults={"name": name, "name_en": STATIONS_EN[code], "city": city}
                )[0],
                STATIONS_EN[code],
            )
        self.classes = {}
        for code, name, cohort, major, _level, station in CLASSES:
            self.classes[code], _ = Class.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "cohort": cohort,
                    "major": self.majors[major],
                    "college": self.majors[major].college,
                    "station": self.stations.get(station),
                },
            )
        return colleges

    def students(self, colleges) -> None:
        college_no = {code: no for code, no, _name in COLLEGES}
        existing = set(Student.objects.values_list("student_number", flat=True))
        taken = set(Student.objects.values_list("id_number", flat=True))
        new = []
        for index, (spec, size) in enumerate(zip(CLASSES, _class_sizes(self.total), strict=True), 1):
            klass = self.classes[spec[0]]
            prefix = f"{spec[2]}{college_no[klass.college.code]}{index:02d}"
            for i in range(1, size + 1):
                number = f"{prefix}{i:03d}"
                if number in existing:
                    continue
                student = build_student(
                    klass=klass, spec=spec, college_code=klass.college.code, number=number, taken=taken
                )
                # Field validators and clean(); foreign keys are known to exist (no query per row).
                student.full_clean(
                    exclude=["college", "major", "klass", "station", "user"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                new.append(student)
        Student.objects.bulk_create(new, batch_size=500)

    def _user(self, username: str, full_name: str, **extra) -> User:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name, "password": self.password_hash, **extra}
        )
        return user

    def logins(self) -> list[Login]:
        demo_class = self.classes[DEMO_CLASS]
        college = demo_class.college
        station = self.stations[STAFF_STATION]
        logins = []

        # The demo student (login "student") and 学号 logins for the rest of the demo class.
        students = list(Student.objects.filter(klass=demo_class).order_by("student_number"))
        demo = students[0] if students else None
        if demo is not None and demo.user_id is None and not User.objects.filter(username=STUDENT_LOGIN).exists():
            demo.user = self._user(STUDENT_LOGIN, demo.name)
            demo.save(update_fields=["user", "updated_at"])
        usernames = set(
            User.objects.filter(username__in=[s.student_number for s in students]).values_list("username", flat=True)
        )
        User.objects.bulk_create(
            [
                User(username=s.student_number, full_name=s.name, password=self.password_hash)
                for s in students[1:]
                if s.user_id is None and s.student_number not in usernames
            ]
        )
        by_name = {u.username: u for u in User.objects.filter(username__in=[s.student_number for s in students])}
        unlinked = [
            s
            for s in students[1:]
            if s.user_id is None
            and s.student_number in by_name
            and not Student.objects.filter(user=by_name[s.student_number]).exists()
        ]
        for s in unlinked:
            s.user = by_name[s.student_number]
        Student.objects.bulk_update(unlinked, ["user"])
        if demo is not None:
            demo.refresh_from_db()
            logins.append(
                Login(
                    demo.user.username if demo.user else STUDENT_LOGIN,
                    demo.name,
                    "student",
                    f"{demo.student_number} {demo.klass.name}",
                )
            )
            if len(students) > 1:
                logins.append(
                    Login(
                        f"{students[1].student_number} … {students[-1].student_number}",
                        "",
                        "student",
                        f"{demo_class.name} (学号 = username)",
                    )
                )

        # Staff, one per role, scoped as the role normally is.
        for username, full_name, role in STAFF:
            user = self._user(username, full_name)
            scope = default_scope(role)
            target = {
                Scope.COLLEGE: {"college": college},
                Scope.CLASS: {"klass": demo_class},
                Scope.STATION: {"station": station},
            }.get(scope, {})
            RoleAssignment.objects.get_or_create(
                user=user,
                role=role,
                scope=scope,
                college=target.get("college"),
                klass=target.get("klass"),
                station=target.get("station"),
            )
            where = {Scope.COLLEGE: college.name, Scope.CLASS: demo_class.name, Scope.STATION: station.name}.get(
                scope, ""
            )
            if role == Role.COUNSELLOR:
                where = f"{demo_class.name}, {self.classes[SECOND_CLASS].name}"
            label = str(Scope(scope).label)
            logins.append(Login(username, full_name, role, f"{label}: {where}" if where else label))
        staff = {u.username: u for u in User.objects.filter(username__in=["advisor", "counsellor"])}
        for code, field, username in (
            (DEMO_CLASS, "advisor", "advisor"),
            (DEMO_CLASS, "counsellor", "counsellor"),
            (SECOND_CLASS, "counsellor", "counsellor"),
        ):
            klass = self.classes[code]
            if getattr(klass, f"{field}_id") is None:
                setattr(klass, field, staff[username])
                klass.save(update_fields=[field, "updated_at"])

        for username, full_name, role, college_code in EXTRA_STAFF:
            user = self._user(username, full_name)
            other = College.objects.get(code=college_code)
            RoleAssignment.objects.get_or_create(user=user, role=role, scope=Scope.COLLEGE, college=other)
            logins.append(Login(username, full_name, role, f"{Scope(Scope.COLLEGE).label}: {other.name}"))

        self._user(ADMIN_LOGIN, "系统管理员", is_staff=True, is_superuser=True)
        logins.append(Login(ADMIN_LOGIN, "系统管理员", "superuser", "Django admin (/admin/)"))
        return logins

    # --- U6 requests in every state, through the kernel ---------------------------------
    def requests(self) -> None:
        from registrar.approvals.services import request_act, request_create

        students = list(
            Student.objects.filter(klass=self.classes[DEMO_CLASS], user__isnull=False)
            .select_related("user", "klass")
            .order_by("student_number")[:10]
        )
        if len(students) < 10:
            return
        staff = {u.username: u for u in User.objects.filter(username__in=["counsellor", "finance", "registrar"])}

        def act(req, who, action, opinion="", data=None):
            actor = User.objects.get(pk=staff[who].pk) if who in staff else User.objects.get(pk=req.applicant_id)
            return request_act(chain=U6, request_id=req.pk, actor=actor, action=action, opinion=opinion, data=data)

        def confirm(req):
            return act(req, "counsellor", "approve", "情况属实，同意补办。")

        def pay(req, receipt):
            return act(
                req, "finance", "approve", "已缴补办工本费 20 元。", {"fee_amount": "20.00", "receipt_number": receipt}
            )

        def reissue(req):
            return act(
                req,
                "registrar",
                "approve",
                "已补办，新证已发放。",
                {"new_card_number": f"XSZ-{req.student.student_number}-2"},
            )

        R = IdCardReissueRequest.Reason
        scenarios = [
            (R.LOST, "在图书馆遗失学生证。", ["confirm", "pay", "reissue"]),  # completed (the demo student)
            (R.DAMAGED, "学生证被水浸泡，照片脱落。", []),  # draft, not submitted
            (R.LOST, "乘坐公交时遗失。", ["submit", "overdue"]),  # at the counsellor, overdue
            (R.STOLEN, "钱包被盗，学生证一并丢失。", ["confirm"]),  # at finance
            (R.LOST, "外出实习期间遗失。", ["confirm", "pay"]),  # at the registrar
            (R.DAMAGED, "证件折断。", ["submit", "reject"]),  # returned to the applicant
            (R.LOST, "找不到学生证。", ["submit", "withdraw"]),  # withdrawn
            (R.STOLEN, "宿舍失窃。", ["confirm", "pay", "reissue"]),  # completed
            (R.LOST, "军训期间遗失。", ["confirm", "pay", "send_back", "pay"]),  # sent back, now at registrar
            (R.OTHER, "学生证信息有误，需要更换。", ["submit", "reject", "resubmit"]),  # resubmitted, round 2
        ]
        for n, (student, (reason, detail, steps)) in enumerate(zip(students, scenarios, strict=True)):
            if IdCardReissueRequest.objects.filter(student=student).exists():
                continue
            photo = SimpleUploadedFile(f"photo-{student.student_number}.png", photo_png(n), content_type="image/png")
            req = request_create(
                chain=U6,
                student=student,
                applicant=student.user,
                data={"reason": reason, "reason_detail": detail, "old_card_number": student.card_number},
                attachments={"photo": photo},
                submit=bool(steps),
            )
            receipt = f"CW{timezone.localdate():%Y}{n + 1:04d}"
            for step in steps:
                if step == "confirm":
                    req = confirm(req)
                elif step == "pay":
                    req = pay(req, receipt)
                    receipt += "A"
                elif step == "reissue":
                    req = reissue(req)
                elif step == "reject":
                    req = act(req, "counsellor", "reject", "照片背景不是白色，请重新上传一寸白底证件照后再提交。")
                elif step == "resubmit":
                    req = act(req, None, "submit")
                elif step == "withdraw":
                    req = act(req, None, "withdraw", "已找到原学生证。")
                elif step == "send_back":
                    req = act(req, "registrar", "send_back", "收据号与财务系统记录不符，请核对后重新登记。")
                elif step == "overdue":
                    # Backdate the stage so the demo shows an overdue request (no sign-off changes).
                    past = timezone.now() - dt.timedelta(days=5)
                    deadline = U6.deadline(req.state)
                    IdCardReissueRequest.objects.filter(pk=req.pk).update(
                        submitted_at=past, stage_entered_at=past, stage_due_at=past + deadline if deadline else past
                    )


def pdf_file(name: str) -> SimpleUploadedFile:
    """A small, well-formed one-page PDF standing in for a scanned document."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def seed_students(*, students: int = 600) -> list[Login]:
    """The students app's part of the demo: the organisation, students, logins and U6 requests."""
    return DemoSeeder(students=students).run()


@transaction.atomic
def seed_demo(*, students: int = 600) -> list[Login]:
    """Run every app's demo seeder, in the order of ``settings.REGISTRAR["DEMO_SEEDERS"]``.

    Each seeder is ``f(*, students: int)`` returning the logins it made (or None); apps come after
    the apps they build on, so the students app knows none of them."""
    logins: list[Login] = []
    for path in settings.REGISTRAR["DEMO_SEEDERS"]:
        logins.extend(import_string(path)(students=students) or ())
    # some demo requests are written in bulk, around the services: register their open work in the
    # kernel's in-flight table (the inbox reads it)
    from registrar.approvals.workitems import workitems_rebuild

    workitems_rebuild()
    return logins
