"""The documents the status-change chains issue, registered with the shared pipeline."""

from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from registrar.documents.context import fmt_time, request_fields, student_block
from registrar.documents.types import DocType, register

STATEMENTS = {
    "suspension_slip": _(
        "Approved by the university, the student named below is granted suspension of studies "
        "(休学) for the period stated. Student status: suspended."
    ),
    "resumption_certificate": _(
        "Approved by the university, the student named below resumes studies (复学) "
        "and is placed in the class stated. Student status: enrolled."
    ),
    "leave_notice": _(
        "Approved by the university, the student named below withdraws. Before leaving, the student "
        "completes clearance at the college office, Youth League branch, apartment office, finance, "
        "library and textbook centre, then hands this notice, two 1-inch photos and the student "
        "ID card to the registrar section."
    ),
    "withdrawal_certificate": _(
        "This certifies that the student named below has withdrawn from the university "
        "(退学) with effect from the date stated."
    ),
}


def status_document_context(request) -> dict:
    """Certificate and slip content: the statement, the student, the request's fields, who approved."""
    from registrar.approvals.selectors import request_timeline

    approvals = [s for s in request_timeline(request) if s.decision == "approve"]
    return {
        "statement": "",  # filled per type by the builders below
        "student": student_block(request.student),
        "request": {"number": f"{request.chain.seed_code}-{request.pk}", "chain": force_str(request.chain.name)},
        "fields": request_fields(request),
        "approved_at": fmt_time(approvals[-1].created_at) if approvals else "",
    }


def _builder(code):
    def build(request) -> dict:
        context = status_document_context(request)
        context["statement"] = force_str(STATEMENTS[code])
        return context

    build.__name__ = f"{code}_context"
    return build


suspension_slip_context = _builder("suspension_slip")
resumption_certificate_context = _builder("resumption_certificate")
leave_notice_context = _builder("leave_notice")
withdrawal_certificate_context = _builder("withdrawal_certificate")

for code, label, prefix in (
    ("suspension_slip", _("Suspension change slip (休学异动单)"), "XY"),
    ("resumption_certificate", _("Resumption certificate (复学证明)"), "FX"),
    ("leave_notice", _("Leave-school notice (离校通知单)"), "LX"),
    ("withdrawal_certificate", _("Withdrawal certificate (退学证明)"), "TX"),
):
    register(
        DocType(
            code=code,
            label=label,
            template="statuschange/certificate_pdf.html",
            serial_prefix=prefix,
            context_builder=f"statuschange.documents.{code}_context",
        )
    )
