"""``manage.py flush`` that also empties the append-only logs (registrar.append_only).

Django's flush empties every table (``TRUNCATE`` on PostgreSQL, ``DELETE`` on SQLite), which the
append-only triggers refuse. Wiping the whole database is the owner's business: this command
lifts the triggers inside the flush's own transaction (PostgreSQL lets only the tables' owner do
that) and they are back when it commits. pytest-django flushes with it after every
``transactional_db`` test."""

from django.core.management.commands import flush
from django.db import connections

from registrar.append_only import append_only_suspended


class Command(flush.Command):
    help = flush.Command.help + " Append-only logs are emptied too (needs the tables' owner)."

    def handle(self, **options):
        connection = connections[options["database"]]
        ops = connection.ops
        execute_sql_flush = ops.execute_sql_flush

        def execute_with_triggers_lifted(sql_list):
            with append_only_suspended(connection):
                execute_sql_flush(sql_list)

        # Only the statements Django's flush runs (after its confirmation prompt) are wrapped.
        ops.execute_sql_flush = execute_with_triggers_lifted
        try:
            return super().handle(**options)
        finally:
            del ops.execute_sql_flush
