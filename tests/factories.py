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


# --- upload fixtures and U6 drivers for the kernel tests ------------------------------------
def pdf_bytes() -> bytes:
    """A small but well-formed one-page PDF."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def pdf_upload(name="scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def fake_png_upload(name="photo.png") -> SimpleUploadedFile:
    """A text file that only pretends to be an image (name and declared type)."""
    return SimpleUploadedFile(name, b"this is not an image\n" * 10, content_type="image/png")


def oversize_png_upload(nbytes: int, name="big.png") -> SimpleUploadedFile:
    """A real PNG padded past ``nbytes`` (trailing bytes after IEND are ignored by readers)."""
    data = png_bytes()
    return SimpleUploadedFile(name, data + b"\0" * max(0, nbytes - len(data) + 1), content_type="image/png")


#: The stage form data each U6 signer must give when approving (by stage code).
U6_STAGE_DATA = {
    "counsellor_confirm": {},
    "finance_payment": {"fee_amount": "20.00", "receipt_number": "R2024001"},
    "registrar_reissue": {"new_card_number": "SC-000123"},
}


def u6_submitted(world, **data):
    """A U6 request by ``world``'s student, photo attached and submitted (at counsellor_confirm)."""
    from registrar.approvals.services import request_create
    from students.models import U6

    return request_create(
        chain=U6,
        student=world["student"],
        applicant=world["student_user"],
        data={"reason": "lost", **data},
        attachments={"photo": photo_upload()},
        submit=True,
    )


def u6_advance_to(world, req, stage: str):
    """Approve ``req`` stage by stage (counsellor, finance, registrar of ``world``) until it is at ``stage``."""
    from registrar.approvals.services import request_act
    from students.models import U6

    signer = {"counsellor_confirm": "counsellor", "finance_payment": "finance", "registrar_reissue": "registrar"}
    while req.state != stage:
        assert req.state in signer, f"cannot advance from {req.state} to {stage}"
        req = request_act(
            chain=U6,
            request_id=req.pk,
            actor=world[signer[req.state]],
            action="approve",
            opinion="同意",
            data=U6_STAGE_DATA[req.state],
        )
    return req
