"""Issue 8, defect 4: no stored file is reachable without the permission of the object it belongs to.

Every FileField (attachments, issued documents, student photos, class prints, station submissions,
import jobs) is stored under an unguessable name, has no public URL, and is downloaded only through
the view of its object: anonymous → login, out of scope → 404, in scope without the right → 404
(403 where the owning page answers 403 for a role that never sees it), allowed → the bytes.
``/media/…`` answers 404 under every settings module, DEBUG or not.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import models
from django.urls import clear_url_caches, reverse

from grades.models import BatchTranscriptRequest, ClassPrint, ImportJob, StationSubmission, TranscriptBatch
from registrar.approvals.models import Attachment
from registrar.approvals.services import request_create
from registrar.documents.models import Document
from registrar.documents.services import document_issue_for_request
from registrar.files import NoPublicURL, PrivateFileSystemStorage, serve_file
from registrar.roles import Role
from students.models import U6, Student
from tests.factories import ClassFactory, StationFactory, StudentFactory, UserFactory, photo_upload, png_bytes, staff
from tests.grades.factories import CourseFactory, TermFactory, make_offering

ROOT = Path(__file__).resolve().parents[2]
#: <folder>/<24 base32 characters>/<name>
TOKEN_DIR = re.compile(r"(^|/)[a-z2-7]{24}/[^/]+$")
CONTENT = {
    "attachment": png_bytes(),  # what photo_upload() uploads
    "document": b"%PDF-1.4 issued document\n",
    "photo": b"\x89PNG photo bytes",
    "class_print": b"%PDF-1.4 class print\n",
    "station_submission": b"PK station workbook",
    "import_job": b"PK import workbook",
}


@pytest.fixture
def files_world(db):
    klass = ClassFactory()
    college = klass.college
    other_class = ClassFactory()
    station = StationFactory()
    sklass = ClassFactory(major=klass.major, station=station)
    student = StudentFactory(klass=klass)
    cstudent = StudentFactory(klass=sklass, study_form=Student.StudyForm.CORRESPONDENCE)
    w = {
        "student": student.user,
        "counsellor": staff(Role.COUNSELLOR, klass=klass, username="counsellor"),
        "other_counsellor": staff(Role.COUNSELLOR, klass=other_class, username="other_counsellor"),
        "registrar": staff(Role.ACADEMIC_AFFAIRS, username="registrar"),
        "canteen": staff(Role.CANTEEN, username="canteen"),
        "dean": staff(Role.COLLEGE_DEAN, college=college, username="dean"),
        "instructor": staff(Role.INSTRUCTOR, college=college, username="instructor"),
        "secretary": staff(Role.TEACHING_SECRETARY, college=college, username="secretary"),
        "secretary2": staff(Role.TEACHING_SECRETARY, college=college, username="secretary2"),
        "other_secretary": staff(Role.TEACHING_SECRETARY, college=other_class.college, username="other_secretary"),
        "student_affairs": staff(Role.STUDENT_AFFAIRS, username="student_affairs"),
        "station": staff(Role.STATION, station=station, username="station"),
        "other_station": staff(Role.STATION, station=StationFactory(), username="other_station"),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    # an attachment: the student's U6 request with its photo
    req = request_create(
        chain=U6,
        student=student,
        applicant=student.user,
        data={"reason": "lost"},
        attachments={"photo": photo_upload("我的照片.png")},
        submit=True,
    )
    attachment = Attachment.objects.get(object_id=req.pk, kind="photo")
    # an issued document (its rendering is not what is tested here: store known bytes)
    document = document_issue_for_request(doc_type="approval_form", request=req, issued_by=student.user)
    document.file.save(f"{document.serial}.pdf", ContentFile(CONTENT["document"]), save=False)
    document.status = Document.Status.READY
    document.save()
    # the student's photo on their record
    student.photo.save("photo.png", ContentFile(CONTENT["photo"]), save=True)
    # a class print of a route (1) transcript batch
    batch = TranscriptBatch.objects.create(purpose=TranscriptBatch.Purpose.GRADUATES, filed_by=w["student_affairs"])
    BatchTranscriptRequest.objects.create(student=student, applicant=w["student_affairs"], batch=batch)
    class_print = ClassPrint(batch=batch, klass=klass, status=ClassPrint.Status.READY, progress=100)
    class_print.file.save(f"batch{batch.pk}-{klass.code}.pdf", ContentFile(CONTENT["class_print"]), save=False)
    class_print.save()
    # a station's results file
    offering = make_offering(course=CourseFactory(college=college), term=TermFactory(), classes=[sklass])
    submission = StationSubmission(station=station, offering=offering, submitted_by=w["station"])
    submission.file.save("results.xlsx", ContentFile(CONTENT["station_submission"]), save=False)
    submission.save()
    # an import job's workbook
    job = ImportJob(kind=ImportJob.Kind.GRADES, created_by=w["secretary"])
    job.file.save("grades.xlsx", ContentFile(CONTENT["import_job"]), save=False)
    job.save()
    assert cstudent.station_id == station.pk
    w.update(
        request=req,
        objects={
            "attachment": (attachment, "file", reverse("approvals:attachment", args=[U6.code, req.pk, attachment.pk])),
            "document": (document, "file", reverse("documents:download", args=[document.pk])),
            "photo": (student, "photo", reverse("students:photo", args=[student.pk])),
            "class_print": (
                class_print,
                "file",
                reverse("grades:transcript_class_print_download", args=[class_print.pk]),
            ),
            "station_submission": (submission, "file", reverse("grades:station_submission_file", args=[submission.pk])),
            "import_job": (job, "file", reverse("grades:import_job_file", args=[job.pk])),
        },
    )
    return w


#: per stored file: who gets the bytes, who is in scope without the right (and what they get), who is out of scope
MATRIX = {
    "attachment": {
        "allowed": ("student", "counsellor", "registrar", "superuser"),
        "not_allowed": {"canteen": 404, "dean": 404, "instructor": 404},
        "out_of_scope": ("other_counsellor", "other_station"),
    },
    "document": {
        "allowed": ("student", "counsellor", "registrar", "superuser"),
        "not_allowed": {"canteen": 404, "dean": 404, "instructor": 404},
        "out_of_scope": ("other_counsellor", "other_secretary"),
    },
    "photo": {
        "allowed": ("student", "counsellor", "registrar", "superuser"),
        "not_allowed": {"dean": 404, "secretary": 404, "instructor": 404, "canteen": 404},
        "out_of_scope": ("other_counsellor", "other_secretary"),
    },
    # the batch pages answer 403 to roles that never see transcript batches (their convention)
    "class_print": {
        "allowed": ("student_affairs", "registrar", "secretary", "superuser"),
        "not_allowed": {"counsellor": 403, "dean": 403, "student": 403},
        "out_of_scope": ("other_secretary",),
    },
    "station_submission": {
        "allowed": ("station", "secretary", "registrar", "superuser"),
        "not_allowed": {"instructor": 404, "dean": 404},
        "out_of_scope": ("other_station", "other_secretary"),
    },
    "import_job": {
        "allowed": ("secretary", "registrar", "superuser"),
        "not_allowed": {"secretary2": 404, "counsellor": 403},
        "out_of_scope": ("other_secretary",),
    },
}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_file_field_is_in_the_matrix():
    """A new FileField must get its download view and a row here."""
    fields = {
        (m._meta.label, f.name)
        for m in apps.get_models()
        for f in m._meta.get_fields()
        if isinstance(f, models.FileField)
    }
    assert fields == {
        ("registrar.Attachment", "file"),
        ("registrar.Document", "file"),
        ("students.Student", "photo"),
        ("grades.ClassPrint", "file"),
        ("grades.StationSubmission", "file"),
        ("grades.ImportJob", "file"),
    }
    assert set(MATRIX) == set(CONTENT)


@pytest.mark.parametrize("kind", list(MATRIX))
def test_download_needs_the_permission_of_the_owning_object(files_world, client, kind):
    w = files_world
    obj, field, url = w["objects"][kind]
    expected = CONTENT[kind]
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]  # anonymous
    for who in MATRIX[kind]["allowed"]:
        client.force_login(w[who])
        response = client.get(url)
        assert response.status_code == 200, who
        assert _body(response) == expected, who
        assert response["Cache-Control"] == "private, no-store"
    for who, status in MATRIX[kind]["not_allowed"].items():
        client.force_login(w[who])
        response = client.get(url)
        assert response.status_code == status, who
        assert expected not in response.content, who
    for who in MATRIX[kind]["out_of_scope"]:
        client.force_login(w[who])
        response = client.get(url)
        assert response.status_code == 404, who
        assert expected not in response.content, who


@pytest.mark.parametrize("kind", list(MATRIX))
def test_stored_names_are_unguessable_and_have_no_public_url(files_world, client, kind):
    obj, field, _url = files_world["objects"][kind]
    fieldfile = getattr(obj, field)
    assert TOKEN_DIR.search(fieldfile.name), fieldfile.name
    with pytest.raises(NoPublicURL):
        fieldfile.url  # noqa: B018 - the property raises
    client.force_login(files_world["superuser"])
    for path in (f"/media/{fieldfile.name}", f"/{fieldfile.name}"):
        assert client.get(path).status_code == 404


def test_the_download_keeps_a_friendly_name(files_world, client):
    w = files_world
    client.force_login(w["counsellor"])
    _obj, _field, url = w["objects"]["attachment"]
    response = client.get(url, {"download": "1"})
    assert "attachment" in response["Content-Disposition"]
    assert "%E6%88%91%E7%9A%84%E7%85%A7%E7%89%87.png" in response["Content-Disposition"]  # 我的照片.png


def test_media_url_is_not_served_even_with_debug(files_world, client, settings):
    """bin/run runs with DEBUG=True (registrar.settings.local): the URLconf built then serves no media."""
    import registrar.urls

    name = files_world["objects"]["class_print"][0].file.name
    settings.DEBUG = True
    try:
        clear_url_caches()
        importlib.reload(registrar.urls)
        client.force_login(files_world["superuser"])
        assert client.get(f"/media/{name}").status_code == 404
    finally:
        settings.DEBUG = False
        clear_url_caches()
        importlib.reload(registrar.urls)


@pytest.mark.parametrize(
    "module", ["registrar.settings.local", "registrar.settings.production", "registrar.settings.test"]
)
def test_no_settings_module_serves_media(module, tmp_path):
    """Each settings module, loaded on its own: private storage, and /media/… resolves to nothing."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.storage import storages\n"
        "from django.urls import Resolver404, resolve\n"
        "try:\n"
        "    resolve('/' + settings.MEDIA_URL.lstrip('/') + 'attachments/2026/01/x.pdf')\n"
        "    served = True\n"
        "except Resolver404:\n"
        "    served = False\n"
        "print(json.dumps({'debug': settings.DEBUG, 'served': served,\n"
        "                  'storage': settings.STORAGES['default']['BACKEND'],\n"
        "                  'storage_class': type(storages['default']).__name__}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REGISTRAR_"))}
    env.update(
        DJANGO_SETTINGS_MODULE=module,
        REGISTRAR_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="registrar.example.edu.cn",
        REGISTRAR_PUBLIC_URL="https://registrar.example.edu.cn",
    )
    if module.endswith("local"):
        env.pop("DATABASE_URL", None)  # bin/run's embedded default
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["storage"] == "registrar.files.PrivateFileSystemStorage"
    assert result["storage_class"] == "PrivateFileSystemStorage"
    assert result["served"] is False
    if module.endswith("local"):
        assert result["debug"] is True  # bin/run's settings, where media used to be served


def test_a_direct_storage_save_gets_a_token_too(settings, tmp_path):
    storage = PrivateFileSystemStorage(location=tmp_path)
    first = storage.save("exports/report.xlsx", ContentFile(b"1"))
    second = storage.save("exports/report.xlsx", ContentFile(b"2"))
    assert first != second and TOKEN_DIR.search(first) and first.endswith("/report.xlsx")
    long = storage.save("exports/" + "长" * 120 + ".xlsx", ContentFile(b"3"), max_length=100)
    assert len(long) <= 100 and TOKEN_DIR.search(long) and long.endswith(".xlsx")


@pytest.mark.parametrize("mode", ["nginx", "apache"])
def test_production_hands_the_transfer_to_the_web_server(files_world, client, settings, mode):
    settings.REGISTRAR = {**settings.REGISTRAR, "FILE_SERVING": mode, "FILE_INTERNAL_PREFIX": "/protected-media/"}
    document = files_world["objects"]["document"][0]
    client.force_login(files_world["student"])
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{document.serial}.pdf"' in response["Content-Disposition"]
    if mode == "nginx":
        assert response["X-Accel-Redirect"] == f"/protected-media/{document.file.name}"
    else:
        assert response["X-Sendfile"] == document.file.path
    # still only after the permission check
    client.force_login(files_world["canteen"])
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 404 and "X-Accel-Redirect" not in response and "X-Sendfile" not in response


def test_a_lost_file_is_404(files_world, rf):
    job = files_world["objects"]["import_job"][0]
    job.file.storage.delete(job.file.name)
    from django.http import Http404

    with pytest.raises(Http404):
        serve_file(rf.get("/"), job.file)


def test_admin_links_files_to_their_download_views(files_world, client):
    """The admin shows each stored file as a link to its permission-checked view (no /media/ link, no error)."""
    w = files_world
    client.force_login(w["superuser"])
    pages = {
        "attachment": reverse("admin:registrar_attachment_change", args=[w["objects"]["attachment"][0].pk]),
        "document": reverse("admin:registrar_document_change", args=[w["objects"]["document"][0].pk]),
        "photo": reverse("admin:students_student_change", args=[w["objects"]["photo"][0].pk]),
        "class_print": reverse("admin:grades_classprint_change", args=[w["objects"]["class_print"][0].pk]),
        "station_submission": reverse(
            "admin:grades_stationsubmission_change", args=[w["objects"]["station_submission"][0].pk]
        ),
        "import_job": reverse("admin:grades_importjob_change", args=[w["objects"]["import_job"][0].pk]),
    }
    for kind, page in pages.items():
        response = client.get(page)
        assert response.status_code == 200, kind
        html = response.content.decode()
        assert f'href="{w["objects"][kind][2]}"' in html, kind
        assert "/media/" not in html, kind
    # the request's admin page lists its attachment the same way
    response = client.get(reverse("admin:students_idcardreissuerequest_change", args=[w["request"].pk]))
    assert response.status_code == 200 and f'href="{w["objects"]["attachment"][2]}"' in response.content.decode()


def test_pages_and_api_link_files_through_their_views(files_world, client):
    w = files_world
    client.force_login(w["secretary"])
    job = w["objects"]["import_job"][0]
    html = client.get(reverse("grades:import_job", args=[job.pk])).content.decode()
    assert f'href="{w["objects"]["import_job"][2]}"' in html and ">grades.xlsx<" in html
    client.force_login(w["counsellor"])
    req = w["request"]
    data = client.get(reverse("api:request", args=[U6.code, req.pk])).json()
    assert data["attachments"][0]["download_url"] == w["objects"]["attachment"][2]
    html = client.get(req.get_absolute_url()).content.decode()
    assert w["objects"]["attachment"][2] in html and "/media/" not in html
