"""C8 station submissions: upload (all-or-nothing), return with reasons, resubmit, accept into the grades."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from grades.models import Grade, GradeComponent, Offering, StationSubmission, SubmissionReview
from grades.selectors.stations import blank_sheets
from grades.services.stations import (
    REASON_REQUIRED,
    ROW_DUPLICATE,
    ROW_EMPTY_VALUE,
    ROW_NOT_ON_OFFERING,
    ROW_OTHER_STATION,
    ROW_UNKNOWN_STUDENT,
    SHEET_NOT_ENTERING,
    UPLOAD_REFUSED,
    WRONG_STATE,
    blank_sheets_xlsx,
    station_submission_accept,
    station_submission_create,
    station_submission_resubmit,
    station_submission_return,
)
from registrar.exceptions import ApplicationError
from registrar.notifications.models import Notification
from registrar.roles import Role
from registrar.spreadsheets.base import NOT_XLSX
from students.models import Student
from tests.factories import ClassFactory, StationFactory, StudentFactory, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def sw(db):
    """A station's class and another station's class on one offering (平时 30 % + 期末 70 %), the station
    staff of both, the college's teaching secretary, another college's secretary and Academic Affairs."""
    station, other_station = StationFactory(), StationFactory()
    klass = ClassFactory(station=station)
    other_klass = ClassFactory(station=other_station, major=klass.major)
    college = klass.college
    students = [StudentFactory(klass=klass, study_form=Student.StudyForm.CORRESPONDENCE) for _ in range(3)]
    others = [StudentFactory(klass=other_klass, study_form=Student.StudyForm.CORRESPONDENCE) for _ in range(2)]
    term = TermFactory()
    offering = make_offering(
        course=CourseFactory(college=college, name="函授课程"), term=term, classes=[klass, other_klass]
    )
    GradeComponent.objects.filter(offering=offering).delete()
    GradeComponent.objects.bulk_create(
        [
            GradeComponent(offering=offering, code="regular", weight=30, position=0),
            GradeComponent(offering=offering, code="final", weight=70, position=1),
        ]
    )
    other_college_class = ClassFactory()
    return {
        "station": station,
        "other_station": other_station,
        "klass": klass,
        "college": college,
        "students": sorted(students, key=lambda s: s.student_number),
        "others": others,
        "term": term,
        "offering": offering,
        "station_staff": staff(Role.STATION, station=station, username="station"),
        "other_station_staff": staff(Role.STATION, station=other_station, username="other_station"),
        "secretary": staff(Role.TEACHING_SECRETARY, college=college, username="secretary"),
        "other_secretary": staff(
            Role.TEACHING_SECRETARY, college=other_college_class.college, username="other_secretary"
        ),
        "academic_affairs": staff(Role.ACADEMIC_AFFAIRS, username="aa"),
        "instructor": staff(Role.INSTRUCTOR, college=college, username="instructor"),
    }


def filled_blank_sheet(w, values) -> SimpleUploadedFile:
    """The station's blank sheet workbook for its class, filled with ``values`` ({student: [regular, final]})."""
    data = blank_sheets_xlsx(
        term=w["term"], class_sheets=blank_sheets(term=w["term"], classes=[w["klass"]], station=w["station"])
    )
    wb = load_workbook(io.BytesIO(data))
    ws = wb[w["offering"].code]
    for row in ws.iter_rows(min_row=3):
        student = next(s for s in values if s.student_number == row[0].value)
        row[2].value, row[3].value = values[student]
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("results.xlsx", buffer.getvalue(), content_type=XLSX)


def workbook(rows, header=("学号", "姓名", "平时", "期末")) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("results.xlsx", buffer.getvalue(), content_type=XLSX)


def grades_of(w):
    return {g.student_id: g for g in Grade.objects.filter(offering=w["offering"])}


def test_returned_resubmitted_then_accepted_writes_the_grades(sw):
    w = sw
    s1, s2, s3 = w["students"]
    first = filled_blank_sheet(w, {s1: [90, 80], s2: [70, 50], s3: [60, "缺考"]})
    sub = station_submission_create(
        station=w["station"], offering=w["offering"], upload=first, actor=w["station_staff"]
    )
    assert sub.state == StationSubmission.State.SUBMITTED and sub.round == 1
    assert [r["student_number"] for r in sub.rows] == [s1.student_number, s2.student_number, s3.student_number]
    assert sub.rows[0]["result"] == "83"
    assert all(g.score is None and not g.mark for g in grades_of(w).values())  # nothing written before acceptance
    assert Notification.objects.filter(user=w["secretary"]).exists()

    with pytest.raises(ApplicationError) as exc:
        station_submission_return(submission=sub, actor=w["secretary"], reason="  ")
    assert exc.value.message == REASON_REQUIRED
    sub = station_submission_return(submission=sub, actor=w["secretary"], reason="学生2的期末成绩有误，请核对。")
    assert sub.state == StationSubmission.State.RETURNED
    note = Notification.objects.get(user=w["station_staff"])
    assert "学生2的期末成绩有误" in note.message and note.url.endswith(f"/stations/submissions/{sub.pk}/")
    with pytest.raises(ApplicationError) as exc:
        station_submission_accept(submission=sub, actor=w["secretary"])
    assert exc.value.message == WRONG_STATE % {"state": sub.get_state_display(), "action": gettext("Accept")}

    corrected = filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, "缺考"]})
    sub = station_submission_resubmit(submission=sub, upload=corrected, actor=w["station_staff"])
    assert sub.state == StationSubmission.State.SUBMITTED and sub.round == 2
    sub = station_submission_accept(submission=sub, actor=w["secretary"], opinion="同意")
    assert sub.state == StationSubmission.State.ACCEPTED

    grades = grades_of(w)
    assert grades[s1.pk].score == Decimal("83.0") and grades[s1.pk].passed is True
    assert grades[s1.pk].components == {"regular": "90", "final": "80"}
    assert grades[s2.pk].score == Decimal("67.0")  # 0.3 × 70 + 0.7 × 65 = 66.5, rounded half up
    assert grades[s3.pk].mark == Grade.Mark.ABSENT and grades[s3.pk].passed is False
    assert grades[s1.pk].entered_by == w["secretary"]
    assert all(grades[o.pk].score is None for o in w["others"])  # the other station's students are untouched

    log = [(r.decision, r.round, r.actor_label) for r in SubmissionReview.objects.filter(submission=sub)]
    assert [(d, n) for d, n, _a in log] == [("submit", 1), ("return", 1), ("submit", 2), ("accept", 2)]
    assert log[1][2] == w["secretary"].display_name
    assert Notification.objects.filter(user=w["station_staff"]).count() == 2  # returned, then accepted


def test_bad_upload_writes_nothing_and_lists_every_bad_row_and_column(sw):
    w = sw
    s1, s2, s3 = w["students"]
    other = w["others"][0]
    stranger = StudentFactory(klass=ClassFactory(station=w["station"]), study_form=Student.StudyForm.CORRESPONDENCE)
    upload = workbook(
        [
            (s1.student_number, s1.name, 90, 80),  # row 2: fine
            (s2.student_number, s2.name, "abc", 101),  # row 3: both values bad
            ("9999999999", "", 70, 70),  # row 4: unknown student
            (other.student_number, other.name, 70, 70),  # row 5: another station's student
            (stranger.student_number, stranger.name, 70, 70),  # row 6: our station, not on the offering
            (s3.student_number, s3.name, 60, None),  # row 7: empty final
            (s1.student_number, s1.name, 90, 80),  # row 8: s1 again
        ]
    )
    with pytest.raises(ApplicationError) as exc:
        station_submission_create(station=w["station"], offering=w["offering"], upload=upload, actor=w["station_staff"])
    errors = exc.value.extra["errors"]
    number = gettext("Student number")
    assert {(e["row"], e["column"]) for e in errors} == {
        (3, "平时"),
        (3, "期末"),
        (4, number),
        (5, number),
        (6, number),
        (7, "期末"),
        (8, number),
    }
    messages = {e["row"]: e["message"] for e in errors if e["row"] != 3}
    assert messages[4] == str(ROW_UNKNOWN_STUDENT % {"number": "9999999999"})
    assert messages[5] == str(ROW_OTHER_STATION % {"name": other.name, "number": other.student_number})
    assert messages[6] == str(ROW_NOT_ON_OFFERING % {"name": stranger.name, "number": stranger.student_number})
    assert messages[7] == str(ROW_EMPTY_VALUE)
    assert messages[8] == str(ROW_DUPLICATE % {"number": s1.student_number, "row": 2})
    assert exc.value.message == UPLOAD_REFUSED % {"count": 7}
    assert not StationSubmission.objects.exists() and not SubmissionReview.objects.exists()
    assert all(g.score is None for g in grades_of(w).values())


def test_missing_component_column_is_reported(sw):
    w = sw
    s1 = w["students"][0]
    with pytest.raises(ApplicationError) as exc:
        station_submission_create(
            station=w["station"],
            offering=w["offering"],
            actor=w["station_staff"],
            upload=workbook([(s1.student_number, s1.name, 80)], header=("学号", "姓名", "期末")),
        )
    [error] = exc.value.extra["errors"]
    assert "平时" in error["message"] or "Regular" in error["message"]
    assert not StationSubmission.objects.exists()


def test_one_score_column_for_a_single_component_sheet(sw):
    w = sw
    GradeComponent.objects.filter(offering=w["offering"]).delete()
    GradeComponent.objects.create(offering=w["offering"], code="final", weight=100)
    s1, s2, _s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        actor=w["station_staff"],
        upload=workbook([(s1.student_number, 75), (s2.student_number, "缓考")], header=("Student number", "成绩")),
    )
    station_submission_accept(submission=sub, actor=w["academic_affairs"])
    grades = grades_of(w)
    assert grades[s1.pk].score == Decimal("75.0") and grades[s2.pk].mark == Grade.Mark.DEFERRED


def test_accept_refused_once_the_sheet_is_submitted(sw):
    w = sw
    s1, s2, s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        actor=w["station_staff"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]}),
    )
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    with pytest.raises(ApplicationError) as exc:
        station_submission_accept(submission=sub, actor=w["secretary"])
    assert exc.value.message == SHEET_NOT_ENTERING % {
        "offering": w["offering"].code,
        "state": Offering.SheetState.SUBMITTED.label,
    }
    sub.refresh_from_db()
    assert sub.state == StationSubmission.State.SUBMITTED
    assert all(g.score is None for g in grades_of(w).values())
    assert list(sub.reviews.values_list("decision", flat=True)) == ["submit"]


def test_scope_other_station_and_other_college(sw):
    w = sw
    s1, s2, s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        actor=w["station_staff"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]}),
    )
    with pytest.raises(Http404):
        station_submission_return(submission=sub, actor=w["other_secretary"], reason="x")
    with pytest.raises(Http404):
        station_submission_accept(submission=sub, actor=w["other_station_staff"])
    with pytest.raises(PermissionDenied):  # in scope (own station) but not a reviewer
        station_submission_accept(submission=sub, actor=w["station_staff"])
    with pytest.raises(PermissionDenied):  # staff of another station cannot submit for this one
        station_submission_create(
            station=w["station"], offering=w["offering"], actor=w["other_station_staff"], upload=workbook([])
        )
    sub.refresh_from_db()
    assert sub.state == StationSubmission.State.SUBMITTED


@pytest.mark.parametrize(
    "who,status",
    [
        ("station_staff", 200),
        ("secretary", 200),
        ("academic_affairs", 200),
        ("other_station_staff", 404),
        ("other_secretary", 404),
        ("instructor", 404),
    ],
)
def test_detail_scope(client, sw, who, status):
    w = sw
    s1, s2, s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        actor=w["station_staff"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]}),
    )
    client.force_login(w[who])
    assert client.get(f"/grades/stations/submissions/{sub.pk}/").status_code == status
    assert client.get(f"/grades/stations/submissions/{sub.pk}/file/").status_code == status


@pytest.mark.parametrize(
    ("who", "action"), [("station_staff", "return"), ("secretary", "resubmit"), ("academic_affairs", "resubmit")]
)
def test_a_wrong_role_is_refused_before_the_form_is_read(client, sw, who, action):
    """Station staff may not return, reviewers may not resubmit: an empty POST answers 403 (not the
    detail page re-rendered with the form's errors), and writes nothing (found by the R1 matrix)."""
    w = sw
    s1, s2, s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        actor=w["station_staff"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]}),
    )
    client.force_login(w[who])
    reviews = SubmissionReview.objects.count()
    assert client.post(f"/grades/stations/submissions/{sub.pk}/{action}/", {}).status_code == 403
    sub.refresh_from_db()
    assert sub.state == StationSubmission.State.SUBMITTED and SubmissionReview.objects.count() == reviews


def test_pages_submit_return_resubmit_accept(client, sw):
    w = sw
    s1, s2, s3 = w["students"]
    client.force_login(w["station_staff"])
    form = client.get("/grades/stations/submissions/new/")
    assert form.status_code == 200
    assert [o.pk for o in form.context["form"].fields["offering"].queryset] == [w["offering"].pk]
    bad = client.post(
        "/grades/stations/submissions/new/",
        {
            "station": w["station"].pk,
            "offering": w["offering"].pk,
            "file": workbook([(s1.student_number, s1.name, "abc", 80)]),
        },
    )
    assert bad.status_code == 200 and len(bad.context["errors"]) == 1
    assert "upload-errors" in bad.content.decode() and not StationSubmission.objects.exists()
    resp = client.post(
        "/grades/stations/submissions/new/",
        {
            "station": w["station"].pk,
            "offering": w["offering"].pk,
            "file": filled_blank_sheet(w, {s1: [90, 80], s2: [70, 50], s3: [60, 60]}),
        },
    )
    sub = StationSubmission.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/grades/stations/submissions/{sub.pk}/"
    listing = client.get("/grades/stations/submissions/", {"state": "submitted", "q": "函授课程"})
    assert [s.pk for s in listing.context["page_obj"]] == [sub.pk]

    client.force_login(w["secretary"])
    page = client.get(f"/grades/stations/submissions/{sub.pk}/")
    assert page.context["can_review"] and s2.name in page.content.decode()
    assert client.post(f"/grades/stations/submissions/{sub.pk}/return/", {"reason": ""}).status_code == 400
    client.post(f"/grades/stations/submissions/{sub.pk}/return/", {"reason": "期末成绩缺页"})
    sub.refresh_from_db()
    assert sub.state == StationSubmission.State.RETURNED

    client.force_login(w["station_staff"])
    page = client.get(f"/grades/stations/submissions/{sub.pk}/")
    assert page.context["can_resubmit"] and "期末成绩缺页" in page.content.decode()
    client.post(
        f"/grades/stations/submissions/{sub.pk}/resubmit/",
        {"file": filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]})},
    )
    sub.refresh_from_db()
    assert sub.state == StationSubmission.State.SUBMITTED and sub.round == 2

    client.force_login(w["secretary"])
    client.post(f"/grades/stations/submissions/{sub.pk}/accept/", {"opinion": "同意"})
    sub.refresh_from_db()
    assert sub.state == StationSubmission.State.ACCEPTED
    assert Grade.objects.get(offering=w["offering"], student=s2).score == Decimal("67.0")


def test_list_is_scoped_and_paginated(client, sw):
    w = sw
    s1, s2, s3 = w["students"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        actor=w["station_staff"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]}),
    )
    client.force_login(w["other_station_staff"])
    assert list(client.get("/grades/stations/submissions/").context["page_obj"]) == []
    client.force_login(w["academic_affairs"])
    assert [s.pk for s in client.get("/grades/stations/submissions/").context["page_obj"]] == [sub.pk]
    client.force_login(w["instructor"])
    assert client.get("/grades/stations/submissions/").status_code == 403


def test_upload_picks_the_offerings_sheet_of_a_class_workbook(sw):
    w = sw
    s1, s2, s3 = w["students"]
    second = make_offering(course=CourseFactory(college=w["college"]), term=w["term"], classes=[w["klass"]])
    upload = filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, 60]})
    assert len(load_workbook(io.BytesIO(upload.read())).sheetnames) == 2
    upload.seek(0)
    sub = station_submission_create(
        station=w["station"], offering=w["offering"], upload=upload, actor=w["station_staff"]
    )
    assert len(sub.rows) == 3
    upload.seek(0)
    with pytest.raises(ApplicationError) as exc:  # the second offering's sheet was left blank
        station_submission_create(station=w["station"], offering=second, upload=upload, actor=w["station_staff"])
    assert {e["message"] for e in exc.value.extra["errors"]} == {str(ROW_EMPTY_VALUE)}
    assert len(exc.value.extra["errors"]) == 3


def test_unreadable_file_is_refused(sw):
    w = sw
    with pytest.raises(ApplicationError) as exc:
        station_submission_create(
            station=w["station"],
            offering=w["offering"],
            actor=w["station_staff"],
            upload=SimpleUploadedFile("results.xlsx", b"not a workbook", content_type=XLSX),
        )
    assert exc.value.message == NOT_XLSX
    assert not StationSubmission.objects.exists()


def test_accepted_station_results_become_confirmed_grades_without_a_submit_or_second_confirmation(sw):
    """C8: once the college has accepted every station's results of a sheet, the sheet is confirmed
    by the accepting reviewer, and the students see their grades; no instructor submit happens."""
    from grades.models import SheetEvent
    from grades.selectors.records import published_grades

    w = sw
    s1, s2, s3 = w["students"]
    o1, o2 = w["others"]
    sub = station_submission_create(
        station=w["station"],
        offering=w["offering"],
        upload=filled_blank_sheet(w, {s1: [90, 80], s2: [70, 65], s3: [60, "缺考"]}),
        actor=w["station_staff"],
    )
    station_submission_accept(submission=sub, actor=w["secretary"])
    offering = Offering.objects.get(pk=w["offering"].pk)
    assert offering.sheet_state == Offering.SheetState.ENTERING  # the other station's results are still to come
    assert not published_grades([s1.pk]).exists()

    other = station_submission_create(
        station=w["other_station"],
        offering=w["offering"],
        upload=workbook([(o1.student_number, o1.name, 80, 90), (o2.student_number, o2.name, 50, 40)]),
        actor=w["other_station_staff"],
    )
    station_submission_accept(submission=other, actor=w["secretary"])
    offering.refresh_from_db()
    assert offering.sheet_state == Offering.SheetState.CONFIRMED
    assert offering.confirmed_by == w["secretary"] and offering.submitted_by is None
    events = list(SheetEvent.objects.filter(offering=offering).values_list("decision", "role"))
    assert events == [(SheetEvent.Decision.CONFIRM, Role.TEACHING_SECRETARY)]  # no submit before it
    assert published_grades([s1.pk]).get().score == Decimal("83.0")
    assert published_grades([o1.pk]).get().score == Decimal("87.0")


def test_a_sheet_with_full_time_students_waits_for_its_instructor(sw):
    """Station results do not confirm a sheet that also lists full-time students."""
    w = sw
    full_time = StudentFactory(klass=ClassFactory(major=w["klass"].major))
    offering = make_offering(course=w["offering"].course, term=w["term"], classes=[w["klass"], full_time.klass])
    Grade.objects.filter(offering=offering, student=full_time).update(score=Decimal("70"), passed=True)  # entered
    rows = [(s.student_number, s.name, 80) for s in w["students"]]
    sub = station_submission_create(
        station=w["station"],
        offering=offering,
        upload=workbook(rows, ("学号", "姓名", "成绩")),
        actor=w["station_staff"],
    )
    station_submission_accept(submission=sub, actor=w["secretary"])
    offering.refresh_from_db()
    assert offering.sheet_state == Offering.SheetState.ENTERING
