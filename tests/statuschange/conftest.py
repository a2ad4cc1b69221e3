import pytest

from registrar.roles import Role
from tests.factories import ClassFactory, StationFactory, StudentFactory, staff


@pytest.fixture
def sc_world(db, academic_calendar):
    """One full-time student with every signer of U1–U4 in scope, one correspondence student with a
    station, and out-of-scope doubles (another class's advisor and counsellor, another college's dean)."""
    klass = ClassFactory()
    college = klass.college
    other = ClassFactory()
    station = StationFactory()
    cklass = ClassFactory(major=klass.major, station=station)
    student = StudentFactory(klass=klass)
    cstudent = StudentFactory(klass=cklass, study_form="correspondence", station=station)
    people = {
        "student": student,
        "cstudent": cstudent,
        "advisor": staff(Role.ADVISOR, klass=klass, username="advisor"),
        "counsellor": staff(Role.COUNSELLOR, klass=klass, username="counsellor"),
        "secretary": staff(Role.COLLEGE_SECRETARY, college=college, username="secretary"),
        "dean": staff(Role.COLLEGE_DEAN, college=college, username="dean"),
        "teaching_secretary": staff(Role.TEACHING_SECRETARY, college=college, username="teaching_secretary"),
        "college_office": staff(Role.COLLEGE_OFFICE, college=college, username="college_office"),
        "youth_league": staff(Role.YOUTH_LEAGUE, college=college, username="youth_league"),
        "other_advisor": staff(Role.ADVISOR, klass=other, username="other_advisor"),
        "other_dean": staff(Role.COLLEGE_DEAN, college=other.college, username="other_dean"),
        "station": staff(Role.STATION, station=station, username="station"),
        # the correspondence college's leader in charge of records (here the college of both students)
        "records_leader": staff(Role.RECORDS_LEADER, college=college, username="records_leader"),
        "other_records_leader": staff(Role.RECORDS_LEADER, college=other.college, username="other_records_leader"),
        "other_station": staff(Role.STATION, station=StationFactory(), username="other_station"),
    }
    for role in (
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
    ):
        people[role.value] = staff(role, username=role.value)
    # out-of-scope doubles for every class-, college- and station-scoped signer
    people["other_counsellor"] = staff(Role.COUNSELLOR, klass=other, username="other_counsellor")
    for role in (Role.COLLEGE_SECRETARY, Role.TEACHING_SECRETARY, Role.COLLEGE_OFFICE, Role.YOUTH_LEAGUE):
        people[f"other_{role.value}"] = staff(role, college=other.college, username=f"other_{role.value}")
    people["receiving_class"] = ClassFactory(
        major=klass.major, cohort=klass.cohort + 1, advisor=people["advisor"], counsellor=people["counsellor"]
    )
    return people
