"""Grade sheets and station submissions in the kernel's in-flight table (the one inbox).

A submitted grade sheet awaits Academic Affairs' confirmation; a station submission awaits the
college's review while submitted and the station's resubmission while returned. The services of
``entry`` and ``stations`` call these after every change of state; ``work_rebuild`` re-registers
all open work (the backfill, ``manage.py workitems_rebuild``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from registrar.approvals.workitems import WorkKind, register_kind, workitems_close, workitems_set
from registrar.roles import Role

from ..models import Offering, StationSubmission
from ..selectors.stations import REVIEWER_ROLES

SHEET_KIND = register_kind(
    WorkKind(
        code="grade_sheet",
        name=_("Grade sheet"),
        url_name="grades:offering_detail",
        stage_labels={Offering.SheetState.SUBMITTED: _("Awaiting confirmation by Academic Affairs")},
    )
)
SUBMISSION_KIND = register_kind(
    WorkKind(
        code="station_submission",
        name=_("Station results"),
        url_name="grades:station_submission_detail",
        stage_labels={
            StationSubmission.State.SUBMITTED: _("Awaiting the college's review"),
            StationSubmission.State.RETURNED: _("Returned to the station"),
        },
    )
)


def _sheet_title(offering: Offering) -> str:
    return f"{offering.course.name} · {offering.code}"


def sheet_work_sync(*, offering: Offering) -> None:
    """A submitted sheet awaits Academic Affairs; any other state is no open work of the kernel's
    (the instructor's entry is on their home page's to-do list)."""
    if offering.sheet_state != Offering.SheetState.SUBMITTED:
        workitems_close(subject=offering)
        return
    workitems_set(
        subject=offering,
        kind=SHEET_KIND.code,
        stage=offering.sheet_state,
        roles=[Role.ACADEMIC_AFFAIRS],
        college_id=offering.college_id,
        title=_sheet_title(offering),
        detail=str(offering.college.name) if offering.college_id else "",
        opened_at=offering.submitted_at,
    )


def submission_work_sync(*, submission: StationSubmission) -> None:
    """Submitted: the college's reviewers; returned: the station; accepted: nothing open."""
    state = submission.state
    if state == StationSubmission.State.SUBMITTED:
        roles = sorted(REVIEWER_ROLES)
    elif state == StationSubmission.State.RETURNED:
        roles = [Role.STATION]
    else:
        workitems_close(subject=submission)
        return
    offering = submission.offering
    workitems_set(
        subject=submission,
        kind=SUBMISSION_KIND.code,
        stage=state,
        roles=roles,
        college_id=offering.college_id,
        station_id=submission.station_id,
        title=f"{_sheet_title(offering)} · {submission.station.name}",
        detail=str(submission.station.name),
    )


def work_rebuild() -> int:
    """Register every open sheet and submission (rows closed beforehand by the kernel's rebuild)."""
    count = 0
    for offering in Offering.objects.filter(sheet_state=Offering.SheetState.SUBMITTED).select_related(
        "course", "college"
    ):
        sheet_work_sync(offering=offering)
        count += 1
    for submission in StationSubmission.objects.exclude(state=StationSubmission.State.ACCEPTED).select_related(
        "offering__course", "station"
    ):
        submission_work_sync(submission=submission)
        count += len(REVIEWER_ROLES) if submission.state == StationSubmission.State.SUBMITTED else 1
    return count
