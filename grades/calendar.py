"""Grade sheets on the kernel's calendar page (registrar.approvals.calendar): a sheet still being
entered falls due a few days (a setting) after its exam, in the scope of the grade-sheet lists."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from registrar.approvals.calendar import DueItem

from .models import Offering, grade_settings
from .selectors.entry import offerings_visible


def sheets_due(user, first: dt.date, last: dt.date) -> list[DueItem]:
    after = grade_settings()["ENTRY_DAYS_AFTER_EXAM"]
    days = dt.timedelta(days=after)
    today = timezone.localdate()
    qs = (
        offerings_visible(user)
        .filter(sheet_state=Offering.SheetState.ENTERING, exam_date__gte=first - days, exam_date__lte=last - days)
        .select_related("course", "college")
    )
    return [
        DueItem(
            date=o.entry_due,
            kind="sheet",
            title=f"{o.course.name} · {o.code}",
            detail=_("Grades due %(days)s days after the exam of %(exam)s")
            % {"days": after, "exam": f"{o.exam_date:%Y-%m-%d}"},
            url=reverse("grades:offering_detail", args=[o.pk]),
            college_id=o.college_id,
            college=o.college.name,
            overdue=o.entry_due < today,
        )
        for o in qs
    ]
