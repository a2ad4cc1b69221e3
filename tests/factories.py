"""factory_boy factories for the organisation, people and roles."""

import datetime as dt
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from registrar.models import User
from registrar.roles import Role, Scope, default_scope
from students.models import Class, College, IdCardReissueRequest, Major, RoleAssignment, Station, Student
from students.validators import id_check_digit


def make_id_number(n: int, birth: dt.date = dt.date(2004, 5, 17)) -> str:
    first17 = f"110105{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.edu.cn")
    password = factory.django.Password("pass12345")


class CollegeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = College

    code = factory.Sequence(lambda n: f"C{n:02d}")
    name = factory.Sequence(lambda n: f"学院{n}")


class MajorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Major

    code = factory.Sequence(lambda n: f"M{n:03d}")
    name = factory.Sequence(lambda n: f"专业{n}")
    college = factory.SubFactory(CollegeFactory)


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.Sequence(lambda n: f"函授站{n}")


class ClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Class

    code = factory.Sequence(lambda n: f"K{n:04d}")
    name = factory.Sequence(lambda n: f"2024级{n}班")
    cohort = 2024
    major = factory.SubFactory(MajorFactory)
    college = factory.LazyAttribute(lambda o: o.major.college)


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    student_number = factory.Sequence(lambda n: f"2024{n:06d}")
    name = factory.Sequence(lambda n: f"学生{n}")
    gender = Student.Gender.FEMALE
    id_number = factory.Sequence(make_id_number)
    birth_date = dt.date(2004, 5, 17)
    level = Student.Level.BACHELOR
    study_form = Student.StudyForm.FULL_TIME
    klass = factory.SubFactory(ClassFactory)
    major = factory.LazyAttribute(lambda o: o.klass.major)
    college = factory.LazyAttribute(lambda o: o.klass.college)
    station = factory.LazyAttribute(lambda o: o.klass.station)
    enrollment_date = dt.date(2024, 9, 1)
    expected_graduation = dt.date(2028, 6, 30)
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..student_number"))


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.ACADEMIC_AFFAIRS
    scope = factory.LazyAttribute(lambda o: default_scope(o.role))


def staff(role: str, *, college=None, klass=None, station=None, username=None, **kw) -> User:
    """A staff user holding ``role`` with the scope the target implies (university if none)."""
    user = UserFactory(**({"username": username} if username else {}), **kw)
    scope = Scope.CLASS if klass else Scope.COLLEGE if college else Scope.STATION if station else Scope.UNIVERSITY
    RoleAssignment.objects.create(user=user, role=role, scope=scope, college=college, klass=klass, station=station)
    return user


def png_bytes(size=(120, 160), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def photo_upload(name="photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


class IdCardReissueRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdCardReissueRequest

    student = factory.SubFactory(StudentFactory)
    applicant = factory.LazyAttribute(lambda o: o.student.user)
    reason = IdCardReissueRequest.Reason.LOST
