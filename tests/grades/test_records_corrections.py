"""The grade-correction chain U5C (instructor → college dean → Academic Affairs) on the kernel."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from grades.models import (
    CORRECTION,
    CORRECTION_OTHER_STUDENT,
    Grade,
    GradeChange,
    GradeComponent,
    GradeCorrectionRequest,
    Offering,
)
from grades.services.corrections import (
    BAD_NEW_VALUE,
    GIVE_ONE_VALUE,
    NOT_INSTRUCTOR,
    SHEET_NOT_CONFIRMED,
    UNCHANGED,
    WRONG_STUDENT,
    correction_validate,
)
from registrar.approvals.services import request_act, request_create
from registrar.exceptions import ApplicationError
from registrar.roles import Role
from tests.factories import staff
from tests.grades.test_records_support import confirm, enter, sheet


@pytest.fixture
def world(grades_world):
    """The world's sheet entered (student 0: 58, student 1: 75) and confirmed."""
    w = grades_world
    s = w["students"]
    enter(w["offering"], {s[0]: "58", s[1]: "75", s[2]: "缺考"})
    w["offering"] = confirm(w["offering"])
    w["grade"] = Grade.objects.get(offering=w["offering"], student=s[0])
    return w


def _submit(w, *, applicant=None, grade=None, student=None, **values):
    grade = grade or w["grade"]
    data = {"grade": grade, "reason": "阅卷漏计一题 (a question was not counted)", **values}
    return request_create(
        chain=CORRECTION,
        student=student or grade.student,
        applicant=applicant or w["instructor"],
        data=data,
        submit=True,
    )


@pytest.mark.django_db
def test_correction_chain_end_to_end(world):
    w = world
    req = _submit(w, new_score=Decimal(68))
    assert req.state == "college_review"
    assert req.old_value == "58"  # snapshot at submission
    req = request_act(chain=CORRECTION, request_id=req.pk, actor=w["dean"], action="approve", opinion="同意")
    assert req.state == "academic_affairs_review"
    assert Grade.objects.get(pk=w["grade"].pk).score == Decimal("58.0")  # nothing changes before the last stage
    assert not GradeChange.objects.exists()
    req = request_act(
        chain=CORRECTION, request_id=req.pk, actor=w["academic_affairs"], action="approve", opinion="同意更正"
    )
    assert req.state == "completed"
    grade = Grade.objects.get(pk=w["grade"].pk)
    assert grade.score == Decimal("68.0") and grade.passed is True and grade.grade_point == Decimal("2.00")
    assert grade.components == {"final": "68"}
    assert grade.entered_by == w["instructor"]
    change = GradeChange.objects.get()
    assert (change.grade_id, change.old_value, change.new_value) == (grade.pk, "58", "68")
    assert change.reason == req.reason and change.request_type == CORRECTION.code and change.request_id == req.pk
    assert change.actor == w["academic_affairs"]
    stored = GradeCorrectionRequest.objects.get(pk=req.pk)
    assert stored.old_value == "58" and stored.new_score == Decimal(68)


@pytest.mark.django_db
def test_correction_to_a_mark_and_rejection_changes_nothing(world):
    w = world
    grade = Grade.objects.get(offering=w["offering"], student=w["students"][1])
    req = _submit(w, grade=grade, new_mark=Grade.Mark.CHEATING)
    req = request_act(chain=CORRECTION, request_id=req.pk, actor=w["dean"], action="reject", opinion="证据不足")
    assert req.state == "returned"
    assert Grade.objects.get(pk=grade.pk).score == Decimal("75.0") and not GradeChange.objects.exists()
    req = request_act(chain=CORRECTION, request_id=req.pk, actor=w["instructor"], action="submit")
    req = request_act(chain=CORRECTION, request_id=req.pk, actor=w["dean"], action="approve")
    request_act(chain=CORRECTION, request_id=req.pk, actor=w["academic_affairs"], action="approve")
    grade.refresh_from_db()
    assert (grade.mark, grade.score, grade.passed) == ("cheating", Decimal("0.0"), False)
    assert GradeChange.objects.get().new_value == "作弊"


@pytest.mark.django_db
def test_multi_component_sheet_correction_replaces_the_composite(world):
    w = world
    o = sheet(students=[w["students"][3]], instructors=[w["instructor"]], confirmed=False)
    GradeComponent.objects.filter(offering=o).delete()
    GradeComponent.objects.bulk_create(
        [
            GradeComponent(offering=o, code="regular", weight=30, position=0),
            GradeComponent(offering=o, code="final", weight=70, position=1),
        ]
    )
    s3 = w["students"][3]
    enter(o, {s3: {"regular": "50", "final": "55"}})
    confirm(o)
    grade = Grade.objects.get(offering=o)
    assert grade.score == Decimal("54.0") and grade.passed is False
    req = _submit(w, grade=grade, new_score=Decimal(61))
    req = request_act(chain=CORRECTION, request_id=req.pk, actor=w["dean"], action="approve")
    request_act(chain=CORRECTION, request_id=req.pk, actor=w["academic_affairs"], action="approve")
    grade.refresh_from_db()
    assert grade.score == Decimal("61.0") and grade.passed is True and grade.grade_point == Decimal("1.00")
    assert grade.components == {"regular": "50", "final": "55"}  # the component scores stay as entered
    change = GradeChange.objects.get()
    assert (change.old_value, change.new_value) == ("54", "61")


@pytest.mark.django_db
def test_refused_for_an_unconfirmed_sheet(grades_world):
    w = grades_world
    s = w["students"]
    enter(w["offering"], {s[0]: "58"})
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    grade = Grade.objects.get(offering=w["offering"], student=s[0])
    with pytest.raises(ApplicationError) as exc:
        _submit(w, grade=grade, new_score=Decimal(68))
    assert str(exc.value) == str(SHEET_NOT_CONFIRMED % {"offering": w["offering"].code})
    assert not GradeCorrectionRequest.objects.exists()  # request_create is atomic: nothing kept


@pytest.mark.django_db
def test_refused_for_an_instructor_who_does_not_teach_the_offering(world):
    w = world
    colleague = staff(Role.INSTRUCTOR, college=w["college"], username="colleague")
    with pytest.raises(ApplicationError) as exc:
        _submit(w, applicant=colleague, new_score=Decimal(68))
    assert str(exc.value) == str(NOT_INSTRUCTOR % {"offering": w["offering"].code})
    assert not GradeCorrectionRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values,message",
    [
        ({"new_score": Decimal(58)}, UNCHANGED % {"value": "58"}),
        ({}, GIVE_ONE_VALUE),
        ({"new_score": Decimal(60), "new_mark": "absent"}, GIVE_ONE_VALUE),
    ],
)
def test_refused_for_an_unchanged_or_missing_value(world, values, message):
    with pytest.raises(ApplicationError) as exc:
        _submit(world, **values)
    assert str(exc.value) == str(message)
    assert Grade.objects.get(pk=world["grade"].pk).score == Decimal("58.0")


@pytest.mark.django_db
def test_refused_for_a_value_not_on_the_scale(world):
    with pytest.raises(ApplicationError) as exc:
        _submit(world, new_level="合格")  # a pass/fail level on a hundred-point sheet
    assert str(exc.value).startswith(str(BAD_NEW_VALUE % {"error": ""}).rstrip())


@pytest.mark.django_db
def test_refused_when_the_grade_is_another_students(world):
    w = world
    # not even as a draft: the model refuses it, and nothing is written
    with pytest.raises(ValidationError) as exc:
        request_create(
            chain=CORRECTION,
            student=w["students"][1],
            applicant=w["instructor"],
            data={"grade": w["grade"], "reason": "x", "new_score": Decimal(68)},
        )
    assert exc.value.message_dict["grade"] == [str(CORRECTION_OTHER_STUDENT)]
    assert not GradeCorrectionRequest.objects.exists()
    # and the chain's own check still holds for a request that got past the model somehow
    req = GradeCorrectionRequest(
        student=w["students"][1], applicant=w["instructor"], grade=w["grade"], reason="x", new_score=Decimal(68)
    )
    with pytest.raises(ApplicationError) as exc:
        correction_validate(request=req)
    assert str(exc.value) == str(WRONG_STUDENT)


@pytest.mark.django_db
def test_makeup_correction_is_capped_and_unchanged_when_capped(world):
    w = world
    s0 = w["students"][0]
    makeup = sheet(
        students=[s0], course=w["course"], kind=Offering.Kind.MAKEUP, instructors=[w["instructor"]], values={s0: "75"}
    )
    grade = Grade.objects.get(offering=makeup)
    assert grade.score == Decimal("60.0")
    with pytest.raises(ApplicationError):  # 80 on a make-up is capped to 60 as well: nothing would change
        _submit(w, grade=grade, new_score=Decimal(80))
    req = _submit(w, grade=grade, new_score=Decimal(50))
    req = request_act(chain=CORRECTION, request_id=req.pk, actor=w["dean"], action="approve")
    request_act(chain=CORRECTION, request_id=req.pk, actor=w["academic_affairs"], action="approve")
    grade.refresh_from_db()
    assert grade.score == Decimal("50.0") and grade.passed is False


# --- the generic kernel UI --------------------------------------------------------------------------
@pytest.mark.django_db
def test_generic_form_lists_only_the_instructors_confirmed_grades_of_the_student(client, world):
    w = world
    s0, s1 = w["students"][0], w["students"][1]
    unconfirmed = sheet(students=[s0], instructors=[w["instructor"]], values={s0: "50"}, confirmed=False)
    not_mine = sheet(students=[s0], instructors=[w["other_instructor"]], values={s0: "50"})
    client.force_login(w["instructor"])
    url = reverse("approvals:create", args=[CORRECTION.code]) + f"?student={s0.pk}&grade={w['grade'].pk}"
    response = client.get(url)
    assert response.status_code == 200
    field = response.context["form"].fields["grade"]
    assert list(field.queryset) == [w["grade"]]
    html = response.content.decode()
    assert f'<option value="{w["grade"].pk}" selected>' in html
    for other in (
        Grade.objects.get(offering=unconfirmed),
        Grade.objects.get(offering=not_mine),
        Grade.objects.get(offering=w["offering"], student=s1),
    ):
        assert f'<option value="{other.pk}"' not in html
    response = client.post(
        url,
        {
            "student_number": "ignored",
            "grade": w["grade"].pk,
            "new_score": "66",
            "new_level": "",
            "new_mark": "",
            "reason": "复核",
            "submit": "1",
        },
    )
    req = GradeCorrectionRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == req.get_absolute_url()
    assert (req.student, req.state, req.old_value) == (s0, "college_review", "58")
    client.force_login(w["dean"])
    assert client.get(req.get_absolute_url()).status_code == 200
    client.force_login(w["instructor"])
    # a grade of another student is not a valid choice for this student
    GradeCorrectionRequest.objects.all().delete()
    s1_grade = Grade.objects.get(offering=w["offering"], student=s1)
    response = client.post(url, {"grade": s1_grade.pk, "new_score": "66", "reason": "复核", "submit": "1"})
    assert response.status_code == 200 and "grade" in response.context["form"].errors
    assert not GradeCorrectionRequest.objects.exists()


@pytest.mark.django_db
def test_generic_form_student_out_of_scope_is_404(client, world):
    w = world
    client.force_login(w["other_instructor"])
    url = reverse("approvals:create", args=[CORRECTION.code]) + f"?student={w['students'][0].pk}"
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_api_refuses_another_students_grade_by_field(client, world):
    w = world
    client.force_login(w["instructor"])
    response = client.post(
        reverse("api:requests", args=[CORRECTION.code]),
        {"student": w["students"][1].pk, "grade": w["grade"].pk, "reason": "x", "new_score": "68"},
    )
    assert response.status_code == 400, response.content
    assert response.json()["grade"] == [str(CORRECTION_OTHER_STUDENT)]
    assert not GradeCorrectionRequest.objects.exists()
