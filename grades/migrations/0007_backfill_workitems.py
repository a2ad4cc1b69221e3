"""Backfill the in-flight table (registrar.WorkItem) for the open work that exists: requests at a
stage, submitted grade sheets, station submissions not yet accepted.

It runs the kernel's rebuild (``manage.py workitems_rebuild``), which reads the current models; on
an empty database (a fresh install, the tests) there is nothing to do and nothing is read."""

from django.db import migrations

CLOSED = ("draft", "returned", "withdrawn", "completed")


def backfill(apps, schema_editor):
    from registrar.approvals.chains import all_chains

    anything = any(
        apps.get_model(chain.model._meta.label).objects.exclude(state__in=CLOSED).exists()
        for chain in all_chains()
        if chain.model is not None
    )
    anything = anything or apps.get_model("grades", "Offering").objects.filter(sheet_state="submitted").exists()
    anything = anything or apps.get_model("grades", "StationSubmission").objects.exclude(state="accepted").exists()
    if not anything:
        return
    from registrar.approvals.workitems import workitems_rebuild

    workitems_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("grades", "0006_transcript_purpose_kind"),
        ("registrar", "0010_workitem"),
        ("statuschange", "0001_initial"),
        ("students", "0006_scheduled_change"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
