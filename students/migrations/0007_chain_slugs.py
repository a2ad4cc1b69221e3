"""Record history and scheduled changes name the request's chain by its readable code
(``suspension``) instead of its seed code (``U1``); the history is append-only, so its triggers are
lifted for the rename and installed again. Reversible."""

from django.db import migrations

from registrar.migrations._chain_slugs import SEED_TO_SLUG, SLUG_TO_SEED, rename_append_only_column, rename_column


def _move(apps, schema_editor, mapping):
    rename_append_only_column(schema_editor, apps.get_model("students", "StatusHistory"), "request_type", mapping)
    rename_column(apps.get_model("students", "ScheduledChange"), "request_type", mapping)


def forwards(apps, schema_editor):
    _move(apps, schema_editor, SEED_TO_SLUG)


def backwards(apps, schema_editor):
    _move(apps, schema_editor, SLUG_TO_SEED)


class Migration(migrations.Migration):
    dependencies = [("students", "0006_scheduled_change")]

    operations = [migrations.RunPython(forwards, backwards)]
