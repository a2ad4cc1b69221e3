import pytest

from tests.factories import ClassFactory, StudentFactory, staff
from registrar.roles import Role


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
