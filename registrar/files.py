"""Stored files: unguessable names in storage, no public URL, one way to serve them.

Every file the app stores (attachments, issued PDFs, class prints, station and import
workbooks, student photos) belongs to an object with a permission rule. The file is served
only by a view that first checks that rule and then calls :func:`serve_file`:

- ``PrivateFileSystemStorage`` (``STORAGES["default"]`` in every settings module) puts a
  random directory (120 bits from ``secrets``) in front of each stored file's name, so
  ``attachments/2026/05/k7w…q3/U1-4-medical_certificate.pdf`` cannot be guessed, and its
  ``url()`` refuses: there is no public URL to link to. Link to the owning object's download
  view instead. Files stored before keep their names and are served the same way.
- ``serve_file`` answers with the bytes (``FileResponse``) by default. Behind a web server it
  hands the transfer over (``REGISTRAR["FILE_SERVING"]``): ``"nginx"`` sends an empty response
  with ``X-Accel-Redirect: <FILE_INTERNAL_PREFIX><name>`` (an ``internal`` location aliasing
  ``MEDIA_ROOT``, see README), ``"apache"`` one with ``X-Sendfile: <absolute path>``
  (mod_xsendfile). The friendly file name travels in ``Content-Disposition`` either way.

No settings module serves ``MEDIA_URL``: ``/media/…`` answers 404 everywhere, DEBUG or not.
"""

from __future__ import annotations

import base64
import mimetypes
import posixpath
import secrets
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.html import format_html
from django.utils.http import content_disposition_header

#: Random bytes in each stored name's directory: 15 bytes = 120 bits = 24 base32 characters
#: (lower case, so a case-insensitive file system keeps every bit).
TOKEN_BYTES = 15
SERVING_MODES = ("django", "nginx", "apache")


class NoPublicURL(NotImplementedError):
    """Stored files have no public URL: link to the owning object's download view."""

    # a template that reaches for ``{{ file.url }}`` renders nothing instead of failing the page
    silent_variable_failure = True


def storage_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii").lower()


def with_token(name: str) -> str:
    """``folder/name.pdf`` → ``folder/<token>/name.pdf``."""
    head, tail = posixpath.split(str(name).replace("\\", "/"))
    return posixpath.join(head, storage_token(), tail)


class PrivateFileSystemStorage(FileSystemStorage):
    """The file system under ``MEDIA_ROOT``, with unguessable names and no URLs."""

    def get_available_name(self, name, max_length=None):
        # Every save goes through here (FileField or a direct ``storage.save``): the name gets its
        # random directory first; Django then truncates the file's own name if it is too long.
        return super().get_available_name(with_token(name), max_length=max_length)

    def url(self, name):
        raise NoPublicURL(
            f"Stored file {name!r} has no public URL; link to the download view of the object it belongs to."
        )


def display_name(fieldfile) -> str:
    """The stored file's own name, without its folders (and random directory)."""
    return posixpath.basename(fieldfile.name) if fieldfile else ""


def serve_file(
    request, fieldfile, *, filename: str | None = None, content_type: str | None = None, as_attachment: bool = True
) -> HttpResponse:
    """The response for a stored file whose owner the caller has already checked ``request.user``
    may see. 404 when there is no file (never stored, or lost from storage)."""
    if not fieldfile:
        raise Http404
    filename = filename or display_name(fieldfile)
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    mode = settings.REGISTRAR.get("FILE_SERVING", "django")
    if mode not in SERVING_MODES:
        raise ImproperlyConfigured(f"REGISTRAR['FILE_SERVING'] must be one of {SERVING_MODES}, not {mode!r}.")
    if mode == "django":
        try:
            handle = fieldfile.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404 from None
        response = FileResponse(handle, content_type=content_type, as_attachment=as_attachment, filename=filename)
    else:
        if not fieldfile.storage.exists(fieldfile.name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
        if mode == "nginx":
            prefix = settings.REGISTRAR.get("FILE_INTERNAL_PREFIX", "/protected-media/")
            response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(fieldfile.name)
        else:
            response["X-Sendfile"] = quote(fieldfile.path)  # mod_xsendfile unescapes it
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_link(url: str, fieldfile) -> str:
    """An admin cell: the stored file's name linking to its (permission-checked) download view."""
    if not fieldfile:
        return "—"
    return format_html('<a href="{}">{}</a>', url, display_name(fieldfile))
