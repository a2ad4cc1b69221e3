"""Chains are stored under readable codes (``suspension``) instead of seed codes (``U1``): the
columns that hold a chain's code widen to 40 characters; 0012 moves the rows. (Two migrations, so on
PostgreSQL no ALTER TABLE runs in the transaction that updated the rows.)"""

from django.db import migrations, models

from registrar.append_only import install_sql


def signoff_triggers(apps, schema_editor):
    """Backward only: SQLite rebuilds the table when the column narrows again, dropping its triggers."""
    table = apps.get_model("registrar", "SignOff")._meta.db_table
    for sql in install_sql(schema_editor.connection.vendor, table):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("registrar", "0010_workitem")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, signoff_triggers),
        migrations.AlterField(
            model_name="document",
            name="chain",
            field=models.CharField(blank=True, max_length=40, verbose_name="chain"),
        ),
        migrations.AlterField(
            model_name="signoff",
            name="chain",
            field=models.CharField(max_length=40, verbose_name="chain"),
        ),
        migrations.AlterField(
            model_name="stageconfig",
            name="chain",
            field=models.CharField(max_length=40, verbose_name="chain"),
        ),
    ]
