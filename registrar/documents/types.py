"""Document types as data: what a document is called, how it is laid out, how it is numbered,
and which policies may refuse to issue it.

A chain (or any app) registers its types at import time::

    register(DocType(code="transcript", label=_("Transcript"), template="grades/transcript_pdf.html",
                     serial_prefix="TR", guards=(refuse_withdrawn,)))

Guards are callables ``(doc_type, student) -> None`` (or dotted paths to one) that raise
``ApplicationError`` to refuse issuance. The pipeline runs them on every entry point
(``document_issue``, ``document_issue_for_request``, ``document_reissue``), before anything
is written. ``add_guard`` lets a later app add a policy to a type registered elsewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError

UNKNOWN_DOC_TYPE = _("Unknown document type “%(code)s”.")

Guard = Callable[["DocType", object], None]
#: ``(user, document) -> bool``: who besides the holder and Academic Affairs may see a document of
#: this type that was not issued from a request (see ``registrar.documents.permissions.can_access``).
Viewers = Callable[[object, object], bool]


def document_language() -> str:
    """Official documents are written in the institution's language, whatever the UI shows."""
    return settings.LANGUAGE_CODE


def document_queue() -> str | None:
    """The Celery queue of document work (``REGISTRAR["DOCUMENT_QUEUE"]``), None for the default."""
    return settings.REGISTRAR.get("DOCUMENT_QUEUE") or None


@dataclass(frozen=True)
class DocType:
    """One kind of official document.

    ``serial_prefix`` may contain ``{chain}`` (replaced by the issuing chain's seed code), so the
    approval form of a U6 request is numbered ``U6-2026-000123``. ``context_builder`` is a
    dotted path to ``(request) -> dict`` used by ``document_issue_for_request``.

    ``viewers`` (a ``(user, document) -> bool`` callable or its dotted path) names who else may
    see a document of this type issued *without* a request (a graduate's transcript copy): the
    issuing app declares it with the type. A document issued from a request is seen by whoever
    may see that request; without ``viewers`` only the holder and Academic Affairs see it.
    """

    code: str
    label: str | Promise
    template: str
    serial_prefix: str
    guards: tuple[Guard | str, ...] = ()
    context_builder: str | None = None
    description: str | Promise = ""
    #: the language the document is written in ("en" for the English transcript): its page margins
    #: (header, serial line, page number) and the institution's name follow it; "" is the
    #: institution's language (``services.document_language``)
    language: str = ""
    viewers: Viewers | str | None = None

    def prefix_for(self, chain: str = "") -> str:
        from registrar.approvals.chains import _REGISTRY

        known = _REGISTRY.get(chain) if chain else None
        # a serial is printed: it carries the seed code (U6-2026-000001), as serials always have
        prefix = self.serial_prefix.format(chain=(known.seed_code if known and known.seed_code else chain) or "")
        prefix = prefix.strip("-")
        return prefix or self.code.upper()

    def may_view(self, user, document) -> bool:
        """Whether ``viewers`` lets ``user`` see ``document`` (issued without a request)."""
        if self.viewers is None:
            return False
        viewers = import_string(self.viewers) if isinstance(self.viewers, str) else self.viewers
        return bool(viewers(user, document))

    def resolved_guards(self) -> list[Guard]:
        return [import_string(g) if isinstance(g, str) else g for g in self.guards]

    def check(self, student) -> None:
        """Run the pipeline-wide policies and every guard; the first refusal raises ``ApplicationError``."""
        for policy in pipeline_policies():
            policy(self, student)
        for guard in self.resolved_guards():
            guard(self, student)

    def build_context(self, request) -> dict:
        if not self.context_builder:
            raise ApplicationError(NO_REQUEST_CONTEXT % {"code": self.code})
        return import_string(self.context_builder)(request)


AUTO_WITHDRAWN_REFUSED = _(
    "“%(type)s” is never issued to %(name)s: the student was withdrawn automatically "
    "(自动退学), for whom no certificate of incomplete study, withdrawal certificate or "
    "transcript is issued."
)


def refuse_auto_withdrawn(doc_type: DocType, student) -> None:
    """U4 rule: no 肄业证明书, 退学证明 or transcript for an automatically withdrawn student."""
    from django.conf import settings

    banned = settings.REGISTRAR.get("AUTO_WITHDRAWAL_BANNED_DOCUMENTS", ())
    if doc_type.code in banned and getattr(student, "withdrawal_kind", "") == "automatic":
        raise ApplicationError(AUTO_WITHDRAWN_REFUSED % {"type": doc_type.label, "name": student.name})


def pipeline_policies() -> list[Guard]:
    """Policies every document type obeys, whoever asks (UI, API, admin, tasks)."""
    return [refuse_auto_withdrawn]


NO_REQUEST_CONTEXT = _("Documents of type “%(code)s” are not issued from a request.")

_REGISTRY: dict[str, DocType] = {}


def register(doc_type: DocType) -> DocType:
    _REGISTRY[doc_type.code] = doc_type
    return doc_type


def add_guard(code: str, guard: Guard | str) -> DocType:
    """Add a refusal policy to an already registered type (idempotent)."""
    doc_type = get_doc_type(code)
    if guard in doc_type.guards:
        return doc_type
    return register(dataclasses.replace(doc_type, guards=(*doc_type.guards, guard)))


def unregister(code: str) -> None:
    _REGISTRY.pop(code, None)


def get_doc_type(code: str | DocType) -> DocType:
    """The registered type (a registered code always resolves to the registry's entry, so
    guards added later with ``add_guard`` apply even to callers holding an old instance)."""
    if isinstance(code, DocType):
        return _REGISTRY.get(code.code, code)
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ApplicationError(UNKNOWN_DOC_TYPE % {"code": code}) from None


def find_doc_type(code: str) -> DocType | None:
    return _REGISTRY.get(code)


def all_doc_types() -> list[DocType]:
    return sorted(_REGISTRY.values(), key=lambda t: t.code)


# --- the generic approval form of every chain -------------------------------------------
APPROVAL_FORM = register(
    DocType(
        code="approval_form",
        label=_("Approval form"),
        template="documents/approval_form.html",
        serial_prefix="{chain}",
        context_builder="registrar.documents.context.approval_form_context",
        description=_("审批表: the request's fields, its chain's stages and every opinion, signer and date."),
    )
)
