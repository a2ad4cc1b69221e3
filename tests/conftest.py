import pytest

from registrar.roles import Role
from tests.factories import ClassFactory, StudentFactory, UserFactory, staff


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def academic_calendar(db):
    """The academic calendar's seed dates for the academic years 2024–2025 to 2028–2029, whatever
    date a test freezes (the migration seeds only the years around the day the database was made)."""
    from registrar.approvals.services import academic_calendar_generate

    for year in range(2024, 2029):
        academic_calendar_generate(year=year)


@pytest.fixture
def u6_world(db):
    """A student with a counsellor (class scope), finance and registrar (university),
    plus an out-of-scope counsellor of another class."""
    klass = ClassFactory()
    other = ClassFactory(major=klass.major)
    student = StudentFactory(klass=klass)
    return {
        "student": student,
        "student_user": student.user,
        "counsellor": staff(Role.COUNSELLOR, klass=klass, username="counsellor"),
        "other_counsellor": staff(Role.COUNSELLOR, klass=other, username="counsellor2"),
        "finance": staff(Role.FINANCE, username="finance"),
        "registrar": staff(Role.ACADEMIC_AFFAIRS, username="registrar"),
    }


@pytest.fixture(autouse=True)
def _fresh_stage_overrides():
    """StageConfig overrides are cached; a rolled-back test must not leak its overrides."""
    from registrar.approvals import config

    config.reset()
    yield
    config.reset()


@pytest.fixture
def u6_people(u6_world):
    """``u6_world`` plus users around it for permission matrices: in scope by other means
    (class counsellor FK, college-scoped counsellor), holding roles U6 does not use, or
    out of scope (another student, another college's registrar)."""
    from students.models import Class

    w = dict(u6_world)
    student = w["student"]
    klass = student.klass
    other_college_class = ClassFactory()
    w["class_counsellor"] = UserFactory(username="class_counsellor")
    w["advisor"] = UserFactory(username="advisor")
    Class.objects.filter(pk=klass.pk).update(counsellor=w["class_counsellor"], advisor=w["advisor"])
    student.klass.refresh_from_db()
    w["college_counsellor"] = staff(Role.COUNSELLOR, college=student.college, username="college_counsellor")
    w["dean"] = staff(Role.COLLEGE_DEAN, college=student.college, username="dean")
    w["other_college_registrar"] = staff(
        Role.ACADEMIC_AFFAIRS, college=other_college_class.college, username="other_college_registrar"
    )
    w["other_student"] = StudentFactory(klass=klass).user
    w["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    return w


@pytest.fixture(autouse=True, scope="session")
def _urlconf_loaded():
    """Import the URLconf (and with it DRF, drf-spectacular …) before any test freezes time:
    importing C extensions while freezegun has patched ``datetime`` warns, and warnings are errors."""
    from django.urls import get_resolver

    _ = get_resolver().url_patterns
