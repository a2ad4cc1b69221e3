"""The roles that sign workflow steps (WORKFLOWS.md, "Roles") and their scopes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STUDENT = "student", _("Student")
    ADVISOR = "advisor", _("Class advisor")
    COUNSELLOR = "counsellor", _("Counsellor")
    COLLEGE_SECRETARY = "college_secretary", _("College party secretary")
    COLLEGE_DEAN = "college_dean", _("College dean")
    TEACHING_SECRETARY = "teaching_secretary", _("Teaching secretary")
    INSTRUCTOR = "instructor", _("Course instructor")
    STUDENT_AFFAIRS = "student_affairs", _("Student Affairs Office")
    #: 学生处处长 (主管处长): signs U2 beside the Academic Affairs head
    STUDENT_AFFAIRS_HEAD = "student_affairs_head", _("Head of Student Affairs")
    ACADEMIC_AFFAIRS = "academic_affairs", _("Academic Affairs Office")
    ACADEMIC_AFFAIRS_HEAD = "academic_affairs_head", _("Academic Affairs head in charge")
    LEADERSHIP = "leadership", _("University leadership")
    #: 学校党委 / 院党委: signs U1 and U2 beside the vice-president in charge, never alone
    PARTY_COMMITTEE = "party_committee", _("Party committee")
    #: 分管校长 / 分管院长
    VICE_PRESIDENT = "vice_president", _("Vice-president in charge")
    #: 学籍主管领导: the correspondence college's leader in charge of student records (signs C4)
    RECORDS_LEADER = "records_leader", _("Leader in charge of student records")
    FINANCE = "finance", _("Finance office")
    LIBRARY = "library", _("Library")
    DORM = "dorm", _("Dorm management centre")
    APARTMENT = "apartment", _("Apartment office")
    CANTEEN = "canteen", _("Canteen")
    TEXTBOOK = "textbook", _("Textbook centre")
    YOUTH_LEAGUE = "youth_league", _("Youth League branch")
    COLLEGE_OFFICE = "college_office", _("College office")
    PRESIDENT_OFFICE = "president_office", _("President's office")
    STATION = "station", _("Correspondence station")
    SUPERVISOR = "supervisor", _("Thesis supervisor")


class Scope(models.TextChoices):
    UNIVERSITY = "university", _("University")
    COLLEGE = "college", _("College")
    CLASS = "class", _("Class")
    STATION = "station", _("Station")


#: The scope a role is normally granted with (seed defaults; an assignment may narrow it).
DEFAULT_SCOPE = {
    Role.ADVISOR: Scope.CLASS,
    Role.COUNSELLOR: Scope.CLASS,
    Role.COLLEGE_SECRETARY: Scope.COLLEGE,
    Role.COLLEGE_DEAN: Scope.COLLEGE,
    Role.TEACHING_SECRETARY: Scope.COLLEGE,
    Role.INSTRUCTOR: Scope.COLLEGE,
    Role.COLLEGE_OFFICE: Scope.COLLEGE,
    Role.YOUTH_LEAGUE: Scope.COLLEGE,
    Role.STATION: Scope.STATION,
    Role.RECORDS_LEADER: Scope.COLLEGE,
    Role.SUPERVISOR: Scope.COLLEGE,
}


def default_scope(role: str) -> str:
    return DEFAULT_SCOPE.get(role, Scope.UNIVERSITY)
