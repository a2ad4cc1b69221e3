"""The instructor's grade sheets on the home page's to-do list (registrar.todo)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registrar.todo import TodoItem

from .selectors.entry import sheets_to_enter

SHEET_LATE = _("Grade sheet overdue since %(due)s: %(entered)s of %(total)s results entered.")
SHEET_OPEN = _("Grade sheet to enter by %(due)s: %(entered)s of %(total)s results entered.")


def sheets_todo(user) -> list[TodoItem]:
    """One item per sheet the user teaches that is late or open for entry."""
    if not user.is_authenticated:
        return []
    items = []
    for offering in sheets_to_enter(user, timezone.localdate()):
        due = offering.entry_due
        detail = SHEET_LATE if offering.is_late else SHEET_OPEN
        items.append(
            TodoItem(
                title=f"{offering.course.name} · {offering.code}",
                detail=str(detail)
                % {"due": due.isoformat() if due else "—", "entered": offering.entered, "total": offering.total},
                url=reverse("grades:offering_detail", args=[offering.pk]),
                due=due,
                overdue=offering.is_late,
            )
        )
    return items
