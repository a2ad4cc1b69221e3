"""Append-only tables at the database level, on PostgreSQL and SQLite alike.

``registrar.common.AppendOnlyModel`` refuses changes in Python (``save`` of an existing row,
``delete``, queryset ``update``/``delete``). This module makes the database refuse them too,
whoever writes — raw SQL, ``QuerySet._raw_delete``, a ``psql`` session of the app's role:

* PostgreSQL: ``BEFORE UPDATE OR DELETE`` (per row) and ``BEFORE TRUNCATE`` (per statement)
  triggers calling one plpgsql function that raises. In production the app connects as a role
  that does not own the tables (README, docker-compose.yml), so it can neither drop the
  triggers nor truncate.
* SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers that ``RAISE(ABORT, …)``.

Every app installs them with the migration operation :class:`AppendOnlyTriggers` for each of
its ``AppendOnlyModel`` subclasses; ``tests/registrar/test_append_only_tables.py`` finds every
subclass and fails for a table without them. On SQLite a migration that rebuilds a table
(most ``AlterField``/``AddField``/``RemoveField`` there) drops its triggers: add
``AppendOnlyTriggers`` again after such a migration.

``manage.py flush`` (registrar/management/commands/flush.py; pytest-django flushes between
``transactional_db`` tests with it) is the one writer allowed past the triggers: it suspends them
inside the flush's transaction, which only the tables' owner may do.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.apps import apps
from django.db import transaction
from django.db.migrations.operations.base import Operation

PG_FUNCTION = "registrar_append_only"


def append_only_models() -> list:
    """Every installed concrete model that is an append-only log (an ``AppendOnlyModel`` subclass)."""
    from registrar.common import AppendOnlyModel

    return [m for m in apps.get_models() if issubclass(m, AppendOnlyModel) and not m._meta.proxy]


def trigger_names(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"{table}_append_only", f"{table}_append_only_truncate"]
    if vendor == "sqlite":
        return [f"{table}_append_only_update", f"{table}_append_only_delete"]
    return []


def _q(name: str) -> str:
    return '"{}"'.format(name.replace('"', '""'))


def install_sql(vendor: str, table: str) -> list[str]:
    """Statements (one per item: SQLite executes one at a time) that make ``table`` append-only."""
    if vendor == "postgresql":
        row, truncate = trigger_names(vendor, table)
        return [
            f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql""",
            f"DROP TRIGGER IF EXISTS {_q(row)} ON {_q(table)}",
            f"CREATE TRIGGER {_q(row)} BEFORE UPDATE OR DELETE ON {_q(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
            f"DROP TRIGGER IF EXISTS {_q(truncate)} ON {_q(table)}",
            f"CREATE TRIGGER {_q(truncate)} BEFORE TRUNCATE ON {_q(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
        ]
    if vendor == "sqlite":
        out = []
        for name, event in zip(trigger_names(vendor, table), ("UPDATE", "DELETE"), strict=True):
            message = f"{table} is append-only ({event} refused)".replace("'", "''")
            out += [
                f"DROP TRIGGER IF EXISTS {_q(name)}",
                f"CREATE TRIGGER {_q(name)} BEFORE {event} ON {_q(table)} BEGIN SELECT RAISE(ABORT, '{message}'); END",
            ]
        return out
    return []  # other databases: the Python-level refusal only


def drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {_q(name)} ON {_q(table)}" for name in trigger_names(vendor, table)] + [
            # the function is shared by every table: drop it with the last trigger that uses it
            f"""DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                   WHERE p.proname = '{PG_FUNCTION}') THEN
        DROP FUNCTION IF EXISTS {PG_FUNCTION}();
    END IF;
END $$""",
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {_q(name)}" for name in trigger_names(vendor, table)]
    return []


class AppendOnlyTriggers(Operation):
    """Migration operation: install (reverse: drop) the append-only triggers of one model's table.

    ``AppendOnlyTriggers("grades.GradeChange")`` in a migration of any app; idempotent."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_label: str):
        self.model_label = model_label

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_label], {}

    def state_forwards(self, app_label, state):
        pass  # triggers are not part of Django's model state

    def _run(self, schema_editor, state, builder) -> None:
        model = state.apps.get_model(self.model_label)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        for sql in builder(schema_editor.connection.vendor, model._meta.db_table):
            schema_editor.execute(sql, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, to_state, install_sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, from_state, drop_sql)

    def describe(self):
        return f"Refuse UPDATE, DELETE and TRUNCATE of {self.model_label} in the database (triggers)"

    @property
    def migration_name_fragment(self):
        return f"{self.model_label.split('.')[-1].lower()}_append_only"


def installed_triggers(connection) -> dict[str, list[str]]:
    """{table: [trigger names present]} for every append-only table in the database."""
    tables = {m._meta.db_table for m in append_only_models()} & set(connection.introspection.table_names())
    wanted = {name: table for table in tables for name in trigger_names(connection.vendor, table)}
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)", [list(wanted)])
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN ({})".format(
                    ", ".join(["%s"] * len(wanted))
                ),
                list(wanted),
            )
        present = {row[0] for row in cursor.fetchall()}
    out: dict[str, list[str]] = {}
    for name, table in wanted.items():
        if name in present:
            out.setdefault(table, []).append(name)
    return out


@contextmanager
def append_only_suspended(connection):
    """Lift the append-only triggers inside one transaction (for ``manage.py flush`` only).

    PostgreSQL disables them (``ALTER TABLE … DISABLE TRIGGER``, which only the owner may do) and
    enables them again; SQLite drops and re-creates them. Both are transactional: whatever
    happens, the triggers are back when the transaction ends."""
    with transaction.atomic(using=connection.alias):
        present = installed_triggers(connection)
        with connection.cursor() as cursor:
            for table, names in present.items():
                for name in names:
                    if connection.vendor == "postgresql":
                        cursor.execute(f"ALTER TABLE {_q(table)} DISABLE TRIGGER {_q(name)}")
                    else:
                        cursor.execute(f"DROP TRIGGER {_q(name)}")
        yield
        with connection.cursor() as cursor:
            for table, names in present.items():
                if connection.vendor == "postgresql":
                    for name in names:
                        cursor.execute(f"ALTER TABLE {_q(table)} ENABLE TRIGGER {_q(name)}")
                else:
                    for sql in install_sql(connection.vendor, table):
                        cursor.execute(sql)


@contextmanager
def append_only_lifted(schema_editor, table: str):
    """In a data migration: drop the append-only triggers of ``table``, let the body rewrite rows,
    install the triggers again (both databases; inside the migration's transaction, so a failure
    leaves the triggers as they were). Stored codes renamed in place are the use: the rows' meaning
    does not change, only the word that names it."""
    vendor = schema_editor.connection.vendor
    for sql in drop_sql(vendor, table):
        schema_editor.execute(sql, params=None)
    yield
    for sql in install_sql(vendor, table):
        schema_editor.execute(sql, params=None)
