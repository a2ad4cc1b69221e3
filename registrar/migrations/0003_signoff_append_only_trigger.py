"""On PostgreSQL, refuse UPDATE and DELETE on the sign-off log at the database level."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION registrar_signoff_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'registrar_signoff is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS registrar_signoff_append_only ON registrar_signoff;
CREATE TRIGGER registrar_signoff_append_only
    BEFORE UPDATE OR DELETE ON registrar_signoff
    FOR EACH ROW EXECUTE FUNCTION registrar_signoff_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS registrar_signoff_append_only ON registrar_signoff;
DROP FUNCTION IF EXISTS registrar_signoff_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("registrar", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
