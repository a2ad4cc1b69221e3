"""Seed the academic calendar with the seeds' dates for the current and the next academic year."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from registrar.approvals.deadlines import CALENDAR_KEYS, academic_year_of

    CalendarEntry = apps.get_model("registrar", "CalendarEntry")
    first = academic_year_of(timezone.localdate())
    for year in (first, first + 1):
        have = set(CalendarEntry.objects.filter(academic_year=year).values_list("key", flat=True))
        CalendarEntry.objects.bulk_create(
            CalendarEntry(key=k.key, academic_year=year, period=k.period, date=k.default_date(year))
            for k in CALENDAR_KEYS
            if k.key not in have
        )


class Migration(migrations.Migration):
    dependencies = [("registrar", "0008_academic_calendar")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
