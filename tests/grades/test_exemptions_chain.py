"""C8X exemption (免修/免试) on the kernel: validation on submit, the grade marked exempt on completion."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from grades.models import EXEMPTION, ExemptionRequest, Grade, Offering
from grades.selectors.records import student_record
from grades.services.exemptions import (
    ALREADY_EXEMPT,
    ALREADY_REQUESTED,
    NOT_ON_OFFERING,
    SHEET_CLOSED,
    exemption_validate,
)
from grades.services.results import RESULT_FIELDS, apply_result, evaluate
from registrar.approvals.services import ALREADY_OPEN, request_act, request_create
from registrar.exceptions import ApplicationError
from registrar.roles import Role
from students.models import Student
from tests.factories import ClassFactory, StationFactory, StudentFactory, pdf_upload, staff
from tests.grades.factories import CourseFactory, make_offering


def apply(w, student, offering, *, applicant=None, submit=True):
    return request_create(
        chain=EXEMPTION,
        student=student,
        applicant=applicant or student.user,
        data={
            "offering": offering,
            "kind": ExemptionRequest.Kind.EXEMPT_STUDY,
            "reason": "已取得同等课程学分（附成绩证明）",
        },
        attachments={"evidence": pdf_upload()},
        submit=submit,
    )


def approve_all(w, req):
    req = request_act(chain=EXEMPTION, request_id=req.pk, actor=w["secretary"], action="approve", opinion="同意")
    assert req.state == "college_approval"
    return request_act(chain=EXEMPTION, request_id=req.pk, actor=w["dean"], action="approve", opinion="同意")


def test_exemption_chain_marks_the_grade_exempt_and_out_of_the_gpa(grades_world):
    w = grades_world
    student, offering = w["student"], w["offering"]
    other = make_offering(
        course=CourseFactory(college=w["college"], credits=Decimal("2.0")), term=w["term"], classes=[w["klass"]]
    )
    req = apply(w, student, offering)
    assert req.state == "secretary_review"
    assert Grade.objects.get(offering=offering, student=student).mark == ""  # nothing until approved
    req = approve_all(w, req)
    assert req.state == "completed"

    grade = Grade.objects.get(offering=offering, student=student)
    assert grade.mark == Grade.Mark.EXEMPT and grade.passed is True
    assert grade.grade_point is None and grade.score is None
    assert grade.components == {"final": "exempt"} and grade.entered_by == w["dean"]

    # another course graded normally; both sheets confirmed
    g2 = Grade.objects.get(offering=other, student=student)
    stored, result = evaluate(
        scale="hundred", rounding="integer", kind="regular", weights=[("final", 100)], raw={"final": 86}
    )
    apply_result(g2, components=stored, result=result, actor=w["instructor"])
    g2.save(update_fields=RESULT_FIELDS)
    Offering.objects.filter(pk__in=[offering.pk, other.pk]).update(sheet_state=Offering.SheetState.CONFIRMED)
    record = student_record(student)
    exempt = next(r for r in record.courses if r.course == offering.course)
    assert exempt.exempt and exempt.passed
    assert record.gpa == Decimal("3.70")  # only the graded course counts (86 → 3.7)
    assert record.credits_earned == offering.course.credits + Decimal("2.0")


def test_refused_when_not_on_the_offering(grades_world):
    w = grades_world
    elsewhere = make_offering(term=w["term"], classes=[w["other_class"]])
    with pytest.raises(ApplicationError) as exc:
        apply(w, w["student"], elsewhere)
    assert exc.value.message == NOT_ON_OFFERING % {
        "name": w["student"].name,
        "offering": f"{elsewhere.code} {elsewhere.course.name}",
    }
    assert not ExemptionRequest.objects.exists()  # the whole create rolled back


def test_refused_duplicate_open_request(grades_world):
    w = grades_world
    first = apply(w, w["student"], w["offering"])
    with pytest.raises(ApplicationError) as exc:  # the kernel: one open C8X request per student
        apply(w, w["student"], w["offering"])
    assert exc.value.message == ALREADY_OPEN % {"chain": EXEMPTION.name, "id": first.pk}
    # and the chain's own rule, should a second open request for the same offering exist anyway
    second = ExemptionRequest.objects.create(
        student=w["student"], applicant=w["student"].user, offering=w["offering"], reason="again"
    )
    with pytest.raises(ApplicationError) as exc:
        exemption_validate(request=second)
    assert exc.value.message == ALREADY_REQUESTED % {
        "name": w["student"].name,
        "offering": f"{w['offering'].code} {w['offering'].course.name}",
        "id": first.pk,
    }


def test_refused_when_already_exempt_or_sheet_closed(grades_world):
    w = grades_world
    approve_all(w, apply(w, w["student"], w["offering"]))
    names = {"name": w["student"].name, "offering": f"{w['offering'].code} {w['offering'].course.name}"}
    with pytest.raises(ApplicationError) as exc:
        apply(w, w["student"], w["offering"])
    assert exc.value.message == ALREADY_EXEMPT % names

    classmate = w["students"][1]
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    with pytest.raises(ApplicationError) as exc:
        apply(w, classmate, w["offering"])
    assert exc.value.message == SHEET_CLOSED % {
        "name": classmate.name,
        "offering": names["offering"],
        "state": Offering.SheetState.SUBMITTED.label,
    }


def test_sheet_submitted_before_the_last_approval_blocks_it(grades_world):
    w = grades_world
    req = apply(w, w["student"], w["offering"])
    req = request_act(chain=EXEMPTION, request_id=req.pk, actor=w["secretary"], action="approve", opinion="同意")
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    with pytest.raises(ApplicationError):
        request_act(chain=EXEMPTION, request_id=req.pk, actor=w["dean"], action="approve", opinion="同意")
    req.refresh_from_db()
    assert req.state == "college_approval"
    assert Grade.objects.get(offering=w["offering"], student=w["student"]).mark == ""


@pytest.fixture
def station_student(grades_world):
    station = StationFactory()
    klass = ClassFactory(station=station, major=grades_world["klass"].major)
    student = StudentFactory(klass=klass, study_form=Student.StudyForm.CORRESPONDENCE)
    offering = make_offering(term=grades_world["term"], classes=[klass])
    return {
        "station": station,
        "student": student,
        "offering": offering,
        "station_staff": staff(Role.STATION, station=station, username="station"),
        "other_station_staff": staff(Role.STATION, station=StationFactory(), username="other_station"),
    }


def test_station_staff_file_for_their_students(grades_world, station_student):
    w, s = grades_world, station_student
    req = apply(w, s["student"], s["offering"], applicant=s["station_staff"])
    assert req.state == "secretary_review" and req.applicant == s["station_staff"]
    with pytest.raises(PermissionDenied):
        apply(w, s["student"], s["offering"], applicant=s["other_station_staff"])


def test_application_form_offers_only_the_students_offerings(client, grades_world, station_student):
    w, s = grades_world, station_student
    closed = make_offering(term=w["term"], classes=[w["klass"]])
    Offering.objects.filter(pk=closed.pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    make_offering(term=w["term"], classes=[w["other_class"]])  # not the student's
    client.force_login(w["student"].user)
    page = client.get("/requests/exemption/new/")
    assert page.status_code == 200
    assert {o.pk for o in page.context["form"].fields["offering"].queryset} == {w["offering"].pk}

    client.force_login(s["station_staff"])
    page = client.get("/requests/exemption/new/")
    assert {o.pk for o in page.context["form"].fields["offering"].queryset} == {s["offering"].pk}
    page = client.get(f"/requests/exemption/new/?student={s['student'].pk}")
    assert {o.pk for o in page.context["form"].fields["offering"].queryset} == {s["offering"].pk}


def test_open_requests_are_counted_per_offering(grades_world):
    """Chain.open_per=("offering",): a student may ask for exemption from two courses at once,
    but not twice from the same one."""
    w = grades_world
    other = make_offering(course=CourseFactory(college=w["college"]), term=w["term"], classes=[w["klass"]])
    first = apply(w, w["student"], w["offering"])
    second = apply(w, w["student"], other)
    assert first.state == second.state == "secretary_review"
    with pytest.raises(ApplicationError) as exc:
        apply(w, w["student"], other)
    assert exc.value.message == ALREADY_OPEN % {"chain": EXEMPTION.name, "id": second.pk}
