"""Rebuild the in-flight table (the inbox's WorkItem rows) from the requests', sheets' and
station submissions' own state: the backfill, and the repair after data was written around the
services (bulk loads, direct SQL)."""

from django.core.management.base import BaseCommand

from registrar.approvals.workitems import workitems_rebuild


class Command(BaseCommand):
    help = "Rebuild the open work items behind the inbox from the state of every open request and sheet."

    def handle(self, *args, **options):
        count = workitems_rebuild()
        self.stdout.write(self.style.SUCCESS(f"{count} open work items"))
