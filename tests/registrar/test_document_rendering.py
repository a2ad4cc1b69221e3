"""Every registered document type, rendered to PDF the way users get it, with its text layer checked.

The cases come from the registries (``registrar.documents.types`` and the chains), so a new type or
a new chain is covered without touching this file: each is issued from the demo institution
(``seed_demo``, built once for the module and rolled back at its end) through the real issuing
services — ``document_issue_for_request`` and the type's context builder — rendered by the
pipeline (``document_render``) and read back with ``pdftotext``. A type no demo request issues
fails here until the demo (or ``ISSUE_ELSEWHERE``) gives it one.

Also the PDFs printed outside the registry on the same page rules (grade sheet, blank sheets), the
public base URL in the printed link and the QR code, the English transcript's language, and the
approval forms' layout (pages, one institution name, the photo, the seal blanks).
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from django.utils.encoding import force_str
from pypdf import PdfReader

from grades.models import BATCH_TRANSCRIPT
from registrar.approvals.chains import all_chains, get_chain
from registrar.approvals.selectors import request_timeline
from registrar.documents.models import Document
from registrar.documents.services import document_issue_for_request, document_language, document_render
from registrar.documents.types import all_doc_types, get_doc_type
from registrar.models import User
from statuschange.models import U1
from students.models import U6

#: CSS, template syntax, unformatted placeholders and Python's None: never on a printed page.
LEAKS = re.compile(r"[{}]|font-size|\dpt;|\{\{|\{%|%\(\w+\)s|%s\b|\bNone\b|\bTrue\b|\bFalse\b")
#: Han characters, CJK punctuation and full-width forms.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

#: Types issued outside approval requests: code → ``f(demo) -> Document`` (none yet).
ISSUE_ELSEWHERE: dict = {}


def _cases() -> list:
    """(type code, chain code): the approval form of every chain, every other type once."""
    cases = []
    for doc_type in all_doc_types():
        if doc_type.code == "approval_form":
            cases += [
                pytest.param(doc_type.code, chain.code, id=f"approval_form-{chain.code}") for chain in all_chains()
            ]
        else:
            cases.append(pytest.param(doc_type.code, None, id=doc_type.code))
    return cases


# --- the demo institution, once per module ----------------------------------------------------
@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media(settings, media_root):
    """The demo's uploads (photos, certificates) stay readable in every test of the module."""
    settings.MEDIA_ROOT = media_root


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, media_root):
    """``seed_demo`` (240 students: every chain has requests) inside a transaction rolled back at
    the module's end; each test runs in a savepoint inside it. Documents the demo issues stay
    pending (their on-commit rendering never runs): the tests render them."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root), transaction.atomic():
        call_command("seed_demo", "--students", "240", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def registrar_user(demo, db):
    return User.objects.get(username="registrar")


def furthest_request(chain):
    """The chain's demo request that went furthest: completed first, then the most sign-offs."""
    requests = list(chain.model.objects.exclude(state="draft").select_related("student"))
    assert requests, f"the demo has no request of chain {chain.code}: add one to seed_demo"
    return max(requests, key=lambda r: (r.state == "completed", len(request_timeline(r)), -r.pk))


def issuing_chains(code: str) -> list:
    return [c for c in all_chains() if code in c.documents or any(code in s.issues for s in c.stages)]


def issue(code: str, chain_code: str | None, user) -> Document:
    """A document of type ``code`` as the pipeline issues it: one the demo already issued, else
    issued now from the furthest request of a chain that issues the type."""
    if chain_code is None:
        existing = Document.objects.filter(doc_type=code).order_by("pk").first()
        if existing is not None:
            return existing
        if code in ISSUE_ELSEWHERE:
            return ISSUE_ELSEWHERE[code]()
        chains = issuing_chains(code)
        assert chains, f"no chain issues “{code}” and ISSUE_ELSEWHERE has no builder for it"
        chain_code = max(chains, key=lambda c: furthest_request(c).state == "completed").code
    request = furthest_request(get_chain(chain_code))
    return document_issue_for_request(doc_type=code, request=request, issued_by=user)


def rendered(document: Document) -> bytes:
    document = document_render(document_id=document.pk)
    assert document.status == Document.Status.READY, document.error
    with document.file.open("rb") as fh:
        return fh.read()


def pdftotext(pdf: bytes, tmp_path: Path, *, layout: bool = False) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def squeeze(text: str) -> str:
    """Text without whitespace (letter-spaced headings and wrapped cells read as one string)."""
    return re.sub(r"\s+", "", text)


# --- every registered type -----------------------------------------------------------------------
@pytest.mark.parametrize(("code", "chain_code"), _cases())
def test_every_document_type_renders_a_clean_text_layer(code, chain_code, registrar_user, tmp_path):
    document = issue(code, chain_code, registrar_user)
    pdf = rendered(document)
    text = pdftotext(pdf, tmp_path)
    doc_type = get_doc_type(code)

    leaks = sorted({m.group(0) for m in LEAKS.finditer(text)})
    assert not leaks, f"{code}: CSS, template syntax or a placeholder printed: {leaks}\n{text[:1500]}"
    assert document.serial in text and document.display_code in text
    assert document.holder_name in text
    if (doc_type.language or document_language()).startswith("zh"):
        assert squeeze(document.title) in squeeze(text), f"{code}: the title “{document.title}” is not printed"
    else:
        # a document in another language prints no Chinese but the holder's name as stored
        foreign = set(CJK.findall(text)) - set(document.holder_name)
        assert not foreign, f"{code}: Chinese on an English document: {''.join(sorted(foreign))}"


# --- PDFs printed outside the registry, on the same page rules ----------------------------------
def test_grade_sheet_and_blank_sheets_print_clean_text(demo, db, tmp_path):
    from grades.models import Grade, Offering
    from grades.selectors.stations import blank_sheets
    from grades.services.stations import blank_sheets_pdf
    from grades.views.entry import gradesheet_html
    from registrar.documents.render import render_pdf

    offering = Offering.objects.filter(sheet_state="confirmed").order_by("pk").first()
    sheet = pdftotext(render_pdf(gradesheet_html(offering)), tmp_path)
    assert offering.course.name in sheet and offering.code in sheet

    grade = Grade.objects.filter(student__station__isnull=False).select_related("student__klass", "term").first()
    classes = [grade.student.klass]
    sheets = blank_sheets(term=grade.term, classes=classes, station=grade.student.station)
    blank = pdftotext(blank_sheets_pdf(term=grade.term, class_sheets=sheets, station=grade.student.station), tmp_path)
    assert grade.student.student_number in blank

    for text in (sheet, blank):
        leaks = sorted({m.group(0) for m in LEAKS.finditer(text)})
        assert not leaks, leaks


# --- the public base URL --------------------------------------------------------------------------
PUBLIC = "http://10.1.2.3:8123"


def test_documents_print_and_encode_the_public_url(registrar_user, settings, tmp_path):
    import zxingcpp
    from PIL import Image

    settings.REGISTRAR = {**settings.REGISTRAR, "PUBLIC_URL": PUBLIC}
    document = issue("approval_form", U6.code, registrar_user)
    pdf = rendered(document)
    url = f"{PUBLIC}/verify/{document.code}/"
    assert url in squeeze(pdftotext(pdf, tmp_path))
    assert "localhost" not in pdftotext(pdf, tmp_path)

    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(tmp_path / "doc.pdf"), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    with Image.open(next(tmp_path.glob("page*.png"))) as page:
        codes = [r.text for r in zxingcpp.read_barcodes(page)]
    assert codes == [url]


def test_e_mail_links_use_the_public_url(settings, db, django_capture_on_commit_callbacks):
    from registrar.notifications.services import notify
    from tests.factories import UserFactory

    settings.REGISTRAR = {**settings.REGISTRAR, "PUBLIC_URL": PUBLIC}
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[UserFactory(email="x@example.edu.cn")], message="hello", url="/requests/id_card/1/")
    assert f"{PUBLIC}/requests/id_card/1/" in mail.outbox[0].body


# --- the English transcript --------------------------------------------------------------------
def test_english_transcript_names_everything_in_english(registrar_user, tmp_path):
    from registrar.romanize import name_pinyin

    document = issue("transcript_en", None, registrar_user)
    text = pdftotext(rendered(document), tmp_path)
    student = document.student
    assert f"{student.name} ({name_pinyin(student.name)})" in text
    for english in (
        student.college.name_en,
        student.major.name_en,
        "Demonstration University",
        "Page 1 / 1",
        "Verification code",
    ):
        assert english and english in re.sub(r"\s+", " ", text), english
    assert set(CJK.findall(text)) <= set(student.name)


# --- the approval forms -------------------------------------------------------------------------
def _form(chain_code: str, user, tmp_path) -> tuple[Document, bytes, str]:
    document = issue("approval_form", chain_code, user)
    pdf = rendered(document)
    return document, pdf, pdftotext(pdf, tmp_path)


def _images(pdf: bytes) -> list:
    return [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


@pytest.mark.parametrize(("chain_code", "max_pages"), [(U6.code, 1), (U1.code, 2)])
def test_approval_form_is_short_names_the_institution_once_and_prints_every_signer(
    chain_code, max_pages, registrar_user, settings, tmp_path
):
    document, pdf, text = _form(chain_code, registrar_user, tmp_path)
    assert len(PdfReader(io.BytesIO(pdf)).pages) <= max_pages
    institution = settings.REGISTRAR["INSTITUTION_NAME"]
    assert squeeze(text).count(institution) == 1
    flat = squeeze(text)
    for stage in document.context["stages"]:
        assert squeeze(stage["label"])[:4] in flat  # (a wrapped cell reads interleaved with its row)
        for signer in stage["signers"]:  # every sign-off beside its stage
            if signer["signoff"]:
                assert signer["signoff"]["signer"] in flat
    # one table: no sign-off is printed a second time (the old form repeated them all in a log)
    printed = [s["signoff"] for st in document.context["stages"] for s in st["signers"] if s["signoff"]]
    assert printed
    for signoff in printed:
        times = sum(
            1 for row in printed + document.context["returns"] if squeeze(signoff["opinion"]) in squeeze(row["opinion"])
        )
        assert flat.count(squeeze(signoff["opinion"])) == times, signoff["opinion"]


def test_u6_form_prints_the_photo_not_its_file_name(registrar_user, tmp_path):
    document, pdf, text = _form(U6.code, registrar_user, tmp_path)
    assert document.context["photo"].startswith("data:image/jpeg;base64,")
    assert _images(pdf), "the photo is not embedded as an image"
    assert "photo-" not in text and ".png" not in text


def test_form_prints_the_student_record_photo_when_the_request_has_none(registrar_user, tmp_path):
    from django.core.files.base import ContentFile

    from students.management.demo import photo_png

    request = furthest_request(get_chain(U1.code))
    request.student.photo.save("p.png", ContentFile(photo_png(3)), save=True)
    _document, pdf, _text = _form(U1.code, registrar_user, tmp_path)
    assert _images(pdf)


def _seal_blank(unit: str) -> str:
    with translation.override(document_language()):
        return squeeze(force_str(translation.gettext("(%(unit)s seal)") % {"unit": unit}))


def test_sealed_stages_print_seal_blanks_where_the_seed_seals(registrar_user, tmp_path):
    # U5B: the college seals, then Academic Affairs (seed: 二级学院盖章 … 到教务处盖章)
    document, _pdf, text = _form(BATCH_TRANSCRIPT.code, registrar_user, tmp_path)
    college = document.student.college.name
    with translation.override(document_language()):
        academic_affairs = force_str(translation.gettext("Academic Affairs Office"))
    assert _seal_blank(college) in squeeze(text)
    assert _seal_blank(academic_affairs) in squeeze(text)
    # U6's form is not sealed
    _document, _pdf, text = _form(U6.code, registrar_user, tmp_path)
    assert _seal_blank(college) not in squeeze(text) and _seal_blank(academic_affairs) not in squeeze(text)
