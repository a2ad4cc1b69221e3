"""The record history is append-only in the database too (registrar.append_only)."""

from django.db import migrations

from registrar.append_only import AppendOnlyTriggers


class Migration(migrations.Migration):
    dependencies = [("students", "0003_student_withdrawal_kind")]
    operations = [AppendOnlyTriggers("students.StatusHistory")]
