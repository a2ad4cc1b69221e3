"""The instructor's home lists their grade sheets that are late or open for entry (registrar.todo,
grades.todo): it said "Nothing is waiting for you." while four of their sheets were overdue."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grades.models import Offering
from grades.todo import SHEET_LATE, SHEET_OPEN
from tests.grades.factories import TermFactory, make_offering

pytestmark = pytest.mark.django_db

NOTHING_ALERT = 'class="alert alert-success mb-0"><i class="bi bi-check2-circle"'  # "Nothing is waiting for you."


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def test_the_instructors_late_and_open_sheets_are_on_their_home(client, grades_world):
    w = grades_world
    mine = {"instructors": [w["instructor"]], "classes": [w["klass"]], "term": w["term"]}
    late = [w["offering"]] + [make_offering(exam_date=days_ago(20 + i), **mine) for i in range(3)]
    open_now = make_offering(exam_date=days_ago(1), **mine)  # window open, not yet due
    later_term = make_offering(
        exam_date=timezone.localdate() + dt.timedelta(days=30),
        term=TermFactory(code="2026-2027-2", start_date=dt.date(2027, 2, 20), end_date=dt.date(2027, 7, 10)),
        instructors=[w["instructor"]],
    )  # no window yet, not due
    submitted = make_offering(exam_date=days_ago(25), **mine)
    Offering.objects.filter(pk=submitted.pk).update(sheet_state=Offering.SheetState.SUBMITTED)
    others = make_offering(exam_date=days_ago(25), term=w["term"], instructors=[w["other_instructor"]])

    client.force_login(w["instructor"])
    page = client.get(reverse("home"))
    todo = page.context["todo"]
    assert [i.url for i in todo if i.overdue] == [
        reverse("grades:offering_detail", args=[o.pk]) for o in sorted(late, key=lambda o: o.exam_date)
    ]
    assert [i.url for i in todo if not i.overdue] == [reverse("grades:offering_detail", args=[open_now.pk])]
    urls = {i.url for i in todo}
    for absent in (later_term, submitted, others):
        assert reverse("grades:offering_detail", args=[absent.pk]) not in urls
    late_text = str(SHEET_LATE).split("%")[0]
    assert sum(late_text in i.detail for i in todo) == 4
    assert str(SHEET_OPEN).split("%")[0] in todo[-1].detail
    html = page.content.decode()
    assert 'id="todo"' in html and html.count("row-overdue") >= 4
    assert NOTHING_ALERT not in html


def test_an_instructor_with_nothing_to_enter_hears_so(client, grades_world):
    w = grades_world
    Offering.objects.filter(pk=w["offering"].pk).update(sheet_state=Offering.SheetState.CONFIRMED)
    client.force_login(w["instructor"])
    page = client.get(reverse("home"))
    assert page.context["todo"] == []
    assert NOTHING_ALERT in page.content.decode()
    client.force_login(w["other_instructor"])
    assert client.get(reverse("home")).context["todo"] == []
