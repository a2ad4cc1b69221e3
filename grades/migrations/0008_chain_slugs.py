"""Grade changes name the request's chain by its readable code (``grade_correction``) instead of its
seed code (``U5C``); the log is append-only, so its triggers are lifted for the rename and installed
again. Reversible."""

from django.db import migrations

from registrar.migrations._chain_slugs import SEED_TO_SLUG, SLUG_TO_SEED, rename_append_only_column


def forwards(apps, schema_editor):
    rename_append_only_column(schema_editor, apps.get_model("grades", "GradeChange"), "request_type", SEED_TO_SLUG)


def backwards(apps, schema_editor):
    rename_append_only_column(schema_editor, apps.get_model("grades", "GradeChange"), "request_type", SLUG_TO_SEED)


class Migration(migrations.Migration):
    dependencies = [("grades", "0007_backfill_workitems")]

    operations = [migrations.RunPython(forwards, backwards)]
