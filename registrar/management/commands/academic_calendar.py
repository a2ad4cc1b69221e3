from django.core.management.base import BaseCommand
from django.utils import timezone

from registrar.approvals.deadlines import academic_year_label, academic_year_of
from registrar.approvals.services import academic_calendar_generate


class Command(BaseCommand):
    help = (
        "Give academic years an entry for every key of the academic calendar they lack, on the seeds' "
        "dates (entries already there are kept). Default: the current academic year and the next."
    )

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int, help="Academic years by their first year, e.g. 2027.")

    def handle(self, *args, years=(), **options):
        if not years:
            first = academic_year_of(timezone.localdate())
            years = (first, first + 1)
        for year in years:
            new = academic_calendar_generate(year=year)
            self.stdout.write(f"{academic_year_label(year)}: {len(new)} added")
