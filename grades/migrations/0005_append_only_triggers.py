"""The grade logs are append-only in the database too (registrar.append_only)."""

from django.db import migrations

from registrar.append_only import AppendOnlyTriggers


class Migration(migrations.Migration):
    dependencies = [("grades", "0004_grade_entered_by_no_db_constraint")]
    operations = [
        AppendOnlyTriggers("grades.SheetEvent"),
        AppendOnlyTriggers("grades.GradeChange"),
        AppendOnlyTriggers("grades.GraduateTranscriptCopy"),
        AppendOnlyTriggers("grades.SubmissionReview"),
    ]
