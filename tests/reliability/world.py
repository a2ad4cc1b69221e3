"""The world the R2 walks act in: one institution with a user for every persona a walk draws.

Every user is recorded with the grants it was given (role, scope, target), so the walks decide
who may see and sign a request from this record (the test's own oracle), not by asking the
kernel's permission code they are testing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from registrar.roles import Role, Scope
from students.models import Class, RoleAssignment, Student
from tests.factories import ClassFactory, CollegeFactory, MajorFactory, StationFactory, StudentFactory, UserFactory
from tests.grades.factories import CourseFactory, TermFactory, make_offering, open_window

#: university-wide roles (one user each, in scope for every student)
UNIVERSITY_ROLES = (
    Role.STUDENT_AFFAIRS,
    Role.STUDENT_AFFAIRS_HEAD,
    Role.ACADEMIC_AFFAIRS,
    Role.ACADEMIC_AFFAIRS_HEAD,
    Role.LEADERSHIP,
    Role.PARTY_COMMITTEE,
    Role.VICE_PRESIDENT,
    Role.FINANCE,
    Role.LIBRARY,
    Role.DORM,
    Role.APARTMENT,
    Role.CANTEEN,
    Role.TEXTBOOK,
    Role.PRESIDENT_OFFICE,
)
#: college-scoped roles (one user in the students' college, one in another college)
COLLEGE_ROLES = (
    Role.COLLEGE_SECRETARY,
    Role.COLLEGE_DEAN,
    Role.TEACHING_SECRETARY,
    Role.INSTRUCTOR,
    Role.COLLEGE_OFFICE,
    Role.YOUTH_LEAGUE,
    Role.SUPERVISOR,
    Role.RECORDS_LEADER,
)
#: class-scoped roles (one user on the students' class, one on another class of the same college)
CLASS_ROLES = (Role.ADVISOR, Role.COUNSELLOR)


@dataclass
class World:
    """Users by persona key, each with the grants it holds, plus the objects the chains need."""

    users: dict = field(default_factory=dict)
    grants: dict = field(default_factory=dict)  # key → [(role, scope, target id)]
    objects: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.objects[key] if key in self.objects else self.users[key]

    def user_keys(self) -> list[str]:
        return sorted(self.users)

    def key_of(self, user) -> str:
        return next(k for k, u in self.users.items() if u.pk == user.pk)

    # --- the oracle: who holds which role over a student (from the recorded grants) ---------
    def roles_over(self, key: str, student) -> set[str]:
        roles = set()
        for role, scope, target in self.grants.get(key, ()):
            if (
                scope == Scope.UNIVERSITY
                or (scope == Scope.COLLEGE and target == student.college_id)
                or (scope == Scope.CLASS and target == student.klass_id)
                or (scope == Scope.STATION and target == student.station_id)
            ):
                roles.add(role)
        return roles

    def holders(self, role: str, student) -> list[str]:
        """Keys of the users holding ``role`` over ``student``."""
        return [k for k in self.user_keys() if role in self.roles_over(k, student)]


def persona_keys() -> list[str]:
    """The keys of every user ``build_world`` makes (known before the database exists, so the
    walks' strategies can draw them)."""
    keys = [
        "student",
        "cstudent",
        "classmate",
        "outsider",
        "fk_counsellor",
        "instructor2",
        "station",
        "other_station",
        "other_college_registrar",
        "dual_college",
        "dual_offices",
        "superuser",
    ]
    keys += [r.value for r in (*CLASS_ROLES, *COLLEGE_ROLES, *UNIVERSITY_ROLES)]
    keys += [f"other_{r.value}" for r in (*CLASS_ROLES, *COLLEGE_ROLES)]
    return sorted(keys)


def _grant(w: World, key: str, role: str, *, college=None, klass=None, station=None, fk: bool = False):
    """Give ``w.users[key]`` a role (a RoleAssignment, or a class's advisor/counsellor foreign key)."""
    key = str(key)
    user = w.users[key]
    if fk:  # implied by being the class's advisor or counsellor (Class.advisor / Class.counsellor)
        Class.objects.filter(pk=klass.pk).update(**{str(role): user})
        w.grants.setdefault(key, []).append((role, Scope.CLASS, klass.pk))
        return
    scope = Scope.CLASS if klass else Scope.COLLEGE if college else Scope.STATION if station else Scope.UNIVERSITY
    RoleAssignment.objects.create(user=user, role=role, scope=scope, college=college, klass=klass, station=station)
    target = (klass or college or station).pk if scope != Scope.UNIVERSITY else None
    w.grants.setdefault(key, []).append((role, scope, target))


def _user(w: World, key: str, **kw):
    key = str(key)
    w.users[key] = UserFactory(username=f"r2_{key}", full_name=f"R2 {key}", **kw)
    w.grants.setdefault(key, [])
    return w.users[key]


def build_world() -> World:
    """The institution (built once per test; every example runs in a savepoint rolled back after it).

    - college A: class K (the student, a classmate), a correspondence class CK at station ST (the
      correspondence student), the receiving class RK of the next cohort (U2);
    - a signer for every role in scope of the students, and its double out of scope (another class,
      another college, another station; Academic Affairs scoped to another college);
    - two users holding two roles that sign the same stage (college secretary + dean of A; Student
      Affairs + Academic Affairs), a superuser, the classmate and a student of another college;
    - grades: a confirmed sheet taught by ``instructor`` (corrections), a sheet being entered
      (exemptions), both with the student on them.
    """
    w = World()
    college = CollegeFactory()
    major = MajorFactory(college=college)
    klass = ClassFactory(major=major)
    same_college_class = ClassFactory(major=major)
    other_college_class = ClassFactory()
    other_college = other_college_class.college
    station, other_station = StationFactory(), StationFactory()
    cklass = ClassFactory(major=major, station=station)
    receiving = ClassFactory(major=major, cohort=klass.cohort + 1)

    student = StudentFactory(klass=klass)
    cstudent = StudentFactory(klass=cklass, study_form=Student.StudyForm.CORRESPONDENCE, station=station)
    classmate = StudentFactory(klass=klass)
    outsider = StudentFactory(klass=other_college_class)
    for key, s in (("student", student), ("cstudent", cstudent), ("classmate", classmate), ("outsider", outsider)):
        w.users[key] = s.user
        w.grants[key] = []

    for role in CLASS_ROLES:
        _user(w, role)
        _grant(w, role, role, klass=klass)
        _grant(w, role, role, klass=receiving, fk=True)  # the receiving class's advisor and counsellor
        _user(w, f"other_{role.value}")
        _grant(w, f"other_{role.value}", role, klass=same_college_class)
    _user(w, "fk_counsellor")  # counsellor of K through Class.counsellor only
    _grant(w, "fk_counsellor", Role.COUNSELLOR, klass=klass, fk=True)
    for role in COLLEGE_ROLES:
        _user(w, role)
        _grant(w, role, role, college=college)
        _user(w, f"other_{role.value}")
        _grant(w, f"other_{role.value}", role, college=other_college)
    _user(w, "instructor2")  # an instructor of the college who does not teach the sheets below
    _grant(w, "instructor2", Role.INSTRUCTOR, college=college)
    for role in UNIVERSITY_ROLES:
        _user(w, role)
        _grant(w, role, role)
    _user(w, "station")
    _grant(w, "station", Role.STATION, station=station)
    _user(w, "other_station")
    _grant(w, "other_station", Role.STATION, station=other_station)
    _user(w, "other_college_registrar")
    _grant(w, "other_college_registrar", Role.ACADEMIC_AFFAIRS, college=other_college)
    _user(w, "dual_college")
    _grant(w, "dual_college", Role.COLLEGE_SECRETARY, college=college)
    _grant(w, "dual_college", Role.COLLEGE_DEAN, college=college)
    _user(w, "dual_offices")
    _grant(w, "dual_offices", Role.STUDENT_AFFAIRS)
    _grant(w, "dual_offices", Role.ACADEMIC_AFFAIRS)
    _user(w, "superuser", is_superuser=True, is_staff=True)

    term = TermFactory()
    open_window(term, published_by=w.users[Role.ACADEMIC_AFFAIRS])
    course = CourseFactory(college=college)
    confirmed = make_offering(course=course, term=term, classes=[klass], instructors=[w.users[Role.INSTRUCTOR]])
    _enter_and_confirm(confirmed, {student: 58, classmate: 75})
    entering = make_offering(
        course=CourseFactory(college=college), term=term, classes=[klass], instructors=[w.users[Role.INSTRUCTOR]]
    )
    assert w.user_keys() == persona_keys()
    w.objects.update(
        {
            "college": college,
            "klass": klass,
            "cklass": cklass,
            "receiving_class": receiving,
            "station_obj": station,
            "subject": student,
            "csubject": cstudent,
            "term": term,
            "confirmed_offering": confirmed,
            "entering_offering": entering,
        }
    )
    return w


def _enter_and_confirm(offering, values: dict) -> None:
    from grades.models import Grade, Offering
    from grades.services.results import apply_result, evaluate, offering_weights

    weights = offering_weights(offering)
    for grade in Grade.objects.filter(offering=offering).select_related("student"):
        value = values.get(grade.student)
        if value is None:
            value = 80
        stored, result = evaluate(
            scale=offering.scale,
            rounding=offering.rounding,
            kind=offering.kind,
            weights=weights,
            raw={weights[0][0]: Decimal(value)},
        )
        apply_result(grade, components=stored, result=result, actor=None)
        grade.save()
    Offering.objects.filter(pk=offering.pk).update(
        sheet_state=Offering.SheetState.CONFIRMED, confirmed_at=timezone.now()
    )


def today() -> dt.date:
    return timezone.localdate()
