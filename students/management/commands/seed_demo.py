"""``python manage.py seed_demo [--students N]`` — build (or complete) the demo institution."""

import time
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.utils.encoding import force_str

from registrar.roles import Role
from students.management.demo import PASSWORD, seed_demo
from students.models import Class, College, IdCardReissueRequest, Major, Station, Student


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _role(code: str) -> str:
    return f"{code} ({force_str(Role(code).label)})" if code in Role.values else code


def _status_change_count() -> int:
    from registrar.approvals.chains import all_chains

    return sum(c.model.objects.count() for c in all_chains() if c.exclusive_group == "statuschange")


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = (
        "Create a demo institution: 4 colleges (one correspondence), majors, 12 classes, 2 stations, "
        "~600 students, one login per role (password demo12345), ID-card reissue requests in every "
        "state and status-change requests (U1–U4, C4) at various stages. Idempotent: running it again "
        "adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=600, help="Number of students (default 600).")

    def handle(self, *args, students: int, **options):
        if students < 0:
            raise CommandError("--students must be 0 or more")
        started = time.monotonic()
        logins = seed_demo(students=students)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {elapsed:.1f}s: {College.objects.count()} colleges, {Major.objects.count()} majors, "
                f"{Class.objects.count()} classes, {Station.objects.count()} stations, {Student.objects.count()} "
                f"students, {IdCardReissueRequest.objects.count()} ID-card reissue requests, "
                f"{_status_change_count()} status-change requests."
            )
        )
        rows = [("username", "role", "scope", "password")] + [
            (login.username, _role(login.role), force_str(login.scope), login.password) for login in logins
        ]
        widths = [max(_width(r[i]) for r in rows) for i in range(4)]
        for n, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.stdout.write(f"All demo logins use the password “{PASSWORD}”.")
