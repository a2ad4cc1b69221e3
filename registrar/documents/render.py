"""HTML → PDF. ``build_html`` fills a document type's template; ``render_pdf`` is the bare
WeasyPrint call (kept pure so a benchmark can compare the pipeline with WeasyPrint alone)."""

from __future__ import annotations

import functools
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from registrar.common import public_url

from .types import document_language, find_doc_type


def verify_url(code: str) -> str:
    """The public verification page of a document (printed, and encoded in its QR code)."""
    return public_url(reverse("verify", args=[code]))


def qr_data_uri(data: str) -> str:
    """A QR code (error correction M) as an SVG data URI for an ``<img>``."""
    return segno.make(data, error="m", micro=False).svg_data_uri(scale=4, border=2, dark="#000", light="#fff")


#: A printed 1-inch photo is 25 × 35 mm: 300 × 420 px is 300 dpi.
PHOTO_PX = (300, 420)


def image_data_uri(file, *, size: tuple[int, int] = PHOTO_PX) -> str:
    """A stored image (a ``FieldFile``, read through its storage, never by path or URL) as a JPEG
    data URI at most ``size`` pixels, for embedding in a document; "" when it is not an image or
    cannot be read."""
    import base64
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    if not file or not getattr(file, "name", ""):
        return ""
    try:
        with file.storage.open(file.name, "rb") as fh, Image.open(fh) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail(size)
            if image.mode != "RGB":
                background = Image.new("RGB", image.size, "white")
                rgba = image.convert("RGBA")
                background.paste(rgba, mask=rgba.getchannel("A"))
                image = background
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for ``content:`` in @page margin boxes)."""
    out = []
    for ch in str(text):
        if ch in {'"', "\\"} or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def institution_name(language: str = "") -> str:
    """The institution as a document in ``language`` names it: in English its English name
    (``REGISTRAR_INSTITUTION_NAME_EN``, else the name), otherwise its name."""
    name = settings.REGISTRAR["INSTITUTION_NAME"]
    if language == "en":
        return settings.REGISTRAR.get("INSTITUTION_NAME_EN") or name
    return name


@functools.cache
def base_url() -> str:
    return Path(settings.BASE_DIR).as_uri() + "/"


def build_html(document) -> str:
    """The document's HTML in the document language (templates/documents/<type>.html)."""
    doc_type = find_doc_type(document.doc_type)
    template = doc_type.template if doc_type else "documents/base_pdf.html"
    language = (doc_type.language if doc_type else "") or document_language()
    with translation.override(language):
        url = verify_url(document.code)
        institution = institution_name(language)
        issued = timezone.localtime(document.issued_at)
        context = {
            "document": document,
            "doc_type": doc_type,
            "data": document.context,
            "institution": institution,
            "verify_url": url,
            "qr": qr_data_uri(url),
            "issued_on": issued.strftime("%Y-%m-%d"),
            "issued_at": issued.strftime("%Y-%m-%d %H:%M"),
            "margin": {
                "header": css_string(institution),
                "title": css_string(document.title),
                "footer_left": css_string(
                    _("Serial %(serial)s · Verification code %(code)s")
                    % {"serial": document.serial, "code": document.display_code}
                ),
                "page": css_string(_("Page")),
                "of": css_string("/"),
                "verify": css_string(_("Verify at %(url)s") % {"url": url}),
            },
        }
        return render_to_string(template, context)


def render_pdf(html: str, *, base_url_: str | None = None) -> bytes:
    """WeasyPrint, nothing else: ``HTML(string=…).write_pdf()``."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url_ or base_url()).write_pdf()
