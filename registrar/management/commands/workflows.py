import json

from django.core.management.base import BaseCommand

from registrar.approvals.chains import all_chains


class Command(BaseCommand):
    help = "Print every approval chain as JSON: stages in order, transitions, signer roles, deadlines, documents."

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", help="Only these chains, by code or seed code (e.g. id_card C4).")

    def handle(self, *args, codes=(), **options):
        chains = [c for c in all_chains() if not codes or c.code in codes or c.seed_code in codes]
        self.stdout.write(json.dumps([c.describe() for c in chains], ensure_ascii=False, indent=2))
