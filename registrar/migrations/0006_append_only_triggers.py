"""The sign-off log is append-only on both databases, TRUNCATE included (registrar.append_only);
the shared trigger function replaces 0003's PostgreSQL-only one."""

from importlib import import_module

from django.db import migrations

from registrar.append_only import AppendOnlyTriggers

signoff_trigger_0003 = import_module("registrar.migrations.0003_signoff_append_only_trigger")


class Migration(migrations.Migration):
    dependencies = [("registrar", "0005_signoff_reentry_index")]
    operations = [
        migrations.RunPython(signoff_trigger_0003.backwards, signoff_trigger_0003.forwards),
        AppendOnlyTriggers("registrar.SignOff"),
    ]
