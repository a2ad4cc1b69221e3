"""What each chain needs from a walk: who applies for whom, the applicant's data, the data each
stage's signers record, and how to count the chain's effects on the record.

Every chain registered in the approval kernel must have a spec here (test_r2_walks checks it), so a
new chain cannot be added without a walk.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from grades.models import BATCH_TRANSCRIPT, CORRECTION, EXEMPTION, PERSONAL_TRANSCRIPT
from registrar.approvals.chains import COMPLETED, get_chain
from registrar.approvals.services import request_create
from registrar.roles import Role
from statuschange.models import C4, U1, U2, U3, U4
from students.models import U6, ScheduledChange, StatusHistory, Student
from tests.factories import pdf_upload, photo_upload

from .world import World, today

#: the kind of every effect row a walk counts: (what, request id or None)
Effects = Counter


class ChainSpec:
    """Defaults: the student applies for themself, no data, no attachment, no effect."""

    code: str = ""
    subject_key = "subject"  # world object: the student the requests are about
    applicant_key = "student"  # world user: who applies

    @property
    def chain(self):
        return get_chain(self.code)

    def prepare(self, w: World) -> None:
        """Per example, inside the example's savepoint (e.g. make the student suspended for U2)."""

    def subject(self, w: World) -> Student:
        return Student.objects.select_related("klass", "college").get(pk=w[self.subject_key].pk)

    def create_data(self, w: World, n: int) -> dict:
        return {}

    def attachments(self, w: World, n: int) -> dict:
        return {}

    def create(self, w: World, actor, n: int, submit: bool):
        return request_create(
            chain=self.chain,
            student=self.subject(w),
            applicant=actor,
            data=self.create_data(w, n),
            attachments=self.attachments(w, n),
            submit=submit,
        )

    def amend_data(self, w: World, req, n: int) -> dict:
        return {}

    def stage_data(self, w: World, req, stage: str, role: str) -> dict:
        return {}

    # --- effects --------------------------------------------------------------------------
    def effects(self, w: World) -> Effects:
        """Effect rows on record now, by (field, request id): the record history this chain wrote, and
        the changes it scheduled for a later effective date that are not made yet (pending) or never
        will be (superseded by a later change); a scheduled change once made is its history row."""
        made = StatusHistory.objects.filter(request_type=self.code).values_list("field", "request_id")
        waiting = (
            ScheduledChange.objects.filter(request_type=self.code)
            .exclude(state=ScheduledChange.State.APPLIED)
            .values_list("field", "request_id")
        )
        return Counter(made) + Counter(waiting)

    def applied_effects(self, w: World, req) -> Effects:
        """The effect rows one request writes when its effect stage is passed."""
        return Counter()

    def check_applied(self, w: World, req) -> None:
        """Extra assertions once ``req``'s effect is applied (e.g. the corrected grade's value)."""

    def extra_snapshot(self, w: World) -> tuple:
        """Rows outside the kernel a refused action must leave alone (grades …)."""
        return ()

    # --- documents --------------------------------------------------------------------------
    def docs_at(self, stage_code: str, req) -> set[str]:
        """Document types issued when ``stage_code`` is passed: what the stage declares in ``issues``."""
        stage = self.chain.stage(stage_code)
        return set(stage.issues) if stage else set()


def effective(req) -> str:
    """The effective date a signer records: today for odd requests, a month ahead for even ones (made
    on that date by the hourly task: issue 8, defect 16)."""
    return (today() + dt.timedelta(days=0 if req.pk % 2 else 30)).isoformat()


def _history(*fields):
    def applied(self, w, req):
        return Counter({(f, req.pk): 1 for f in fields})

    return applied


class U6Spec(ChainSpec):
    code = U6.code

    def create_data(self, w, n):
        return {"reason": "lost", "reason_detail": f"丢失{n}", "old_card_number": f"OLD-{n:04d}"}

    def attachments(self, w, n):
        return {"photo": photo_upload()}

    def amend_data(self, w, req, n):
        return {"reason_detail": f"补充说明{n}"}

    def stage_data(self, w, req, stage, role):
        return {
            "finance_payment": {"fee_amount": "20.00", "receipt_number": f"R{req.pk:06d}"},
            "registrar_reissue": {"new_card_number": f"SC-{req.pk:06d}"},
        }.get(stage, {})

    applied_effects = _history("card_number")


class U1Spec(ChainSpec):
    code = U1.code

    def create_data(self, w, n):
        start = today() + dt.timedelta(days=7)
        return {
            "reason": "personal",
            "reason_detail": f"家庭原因{n}",
            "period_start": start,
            "period_end": start + dt.timedelta(days=150),
        }

    def amend_data(self, w, req, n):
        return {"reason_detail": f"家庭原因（补充{n}）"}

    def stage_data(self, w, req, stage, role):
        return {"effective_date": effective(req)} if stage == "registrar_issue" else {}

    applied_effects = _history("status")


class U2Spec(ChainSpec):
    code = U2.code

    def prepare(self, w):
        Student.objects.filter(pk=w["subject"].pk).update(status=Student.Status.SUSPENDED)

    def create_data(self, w, n):
        return {"reason_detail": f"康复返校{n}"}

    def amend_data(self, w, req, n):
        return {"reason_detail": f"康复返校（补充{n}）"}

    def stage_data(self, w, req, stage, role):
        return {
            "registrar_issue": {"receiving_class": w["receiving_class"].pk, "effective_date": effective(req)},
            "finance_settlement": {"tuition_amount": "2500.00", "tuition_receipt": f"TU-{req.pk:04d}"},
        }.get(stage, {})

    applied_effects = _history("status", "klass", "expected_graduation")  # the next cohort: one year later


class U3Spec(ChainSpec):
    code = U3.code

    def create_data(self, w, n):
        return {"reason_detail": f"出国留学{n}"}

    def amend_data(self, w, req, n):
        return {"reason_detail": f"出国留学（补充{n}）"}

    def stage_data(self, w, req, stage, role):
        if stage == "clearance":
            return {"arrears": "0", "refund": f"{350 + req.pk % 7}.00"} if role == Role.FINANCE else {}
        return {
            "registrar_certificate": {
                "notice_returned": "on",
                "photos_received": "2",
                "id_card_returned": "on",
                "effective_date": effective(req),
            },
            "dossier": {"dossier_filed_on": today().isoformat()},
        }.get(stage, {})

    applied_effects = _history("status", "withdrawal_kind")


class U4Spec(ChainSpec):
    code = U4.code
    applicant_key = "counsellor"

    def create_data(self, w, n):
        return {"absent_since": today() - dt.timedelta(days=60), "evidence": f"连续两月未到校{n}"}

    def attachments(self, w, n):
        return {"absence_evidence": photo_upload()}

    def amend_data(self, w, req, n):
        return {"evidence": f"连续两月未到校（补充{n}）"}

    applied_effects = _history("status", "withdrawal_kind")


class C4Spec(ChainSpec):
    code = C4.code
    subject_key = "csubject"
    applicant_key = "station"

    def create_data(self, w, n):
        suspended = self.subject(w).status == Student.Status.SUSPENDED
        return {"change_type": "resumption" if suspended else "suspension", "reason_detail": f"工作调动{n}"}

    def attachments(self, w, n):
        return {"written_application": photo_upload()}

    def amend_data(self, w, req, n):
        return {"reason_detail": f"工作调动（补充{n}）"}

    def stage_data(self, w, req, stage, role):
        if stage == "province_filing":
            return {
                "filed_on": today().isoformat(),
                "filing_reference": f"浙教备〔2026〕{req.pk}号",
                "filing_outcome": "准予备案",
            }
        return {}

    applied_effects = _history("status")


class CorrectionSpec(ChainSpec):
    """U5C: the instructor asks to correct the student's confirmed grade (58)."""

    code = CORRECTION.code
    applicant_key = "instructor"

    def _grade(self, w):
        from grades.models import Grade

        return Grade.objects.get(offering=w["confirmed_offering"], student=w["subject"])

    def _value(self, w, n) -> Decimal:
        current = self._grade(w).score
        value = Decimal(60 + (n * 7) % 40)
        return value + 1 if value == current else value

    def create_data(self, w, n):
        return {"grade": self._grade(w), "reason": f"阅卷漏计一题{n}", "new_score": self._value(w, n)}

    def amend_data(self, w, req, n):
        return {"new_score": self._value(w, n + 1), "reason": f"阅卷漏计一题（补充{n}）"}

    def effects(self, w):
        from grades.models import GradeChange

        return Counter(
            ("grade_change", rid)
            for rid in GradeChange.objects.filter(request_type=self.code).values_list("request_id", flat=True)
        )

    def applied_effects(self, w, req):
        return Counter({("grade_change", req.pk): 1})

    def check_applied(self, w, req) -> None:
        from grades.models import GradeChange

        change = GradeChange.objects.get(request_type=self.code, request_id=req.pk)
        assert change.new_value == f"{req.new_score:f}".rstrip("0").rstrip("."), (change.new_value, req.new_score)
        assert change.old_value == req.old_value

    def extra_snapshot(self, w):
        from grades.models import Grade, GradeChange

        return (
            list(Grade.objects.filter(offering=w["confirmed_offering"]).order_by("id").values_list()),
            list(GradeChange.objects.order_by("id").values_list()),
        )


class ExemptionSpec(ChainSpec):
    """C8X: the student asks to be exempt from the sheet being entered."""

    code = EXEMPTION.code

    def create_data(self, w, n):
        return {"offering": w["entering_offering"], "kind": "study", "reason": f"已取得同等课程学分{n}"}

    def attachments(self, w, n):
        return {"evidence": pdf_upload()}

    def amend_data(self, w, req, n):
        return {"reason": f"已取得同等课程学分（补充{n}）"}

    def effects(self, w):
        from grades.models import Grade

        exempt = Grade.objects.filter(offering=w["entering_offering"], student=w["subject"], mark=Grade.Mark.EXEMPT)
        return Counter({("exempt", None): 1}) if exempt.exists() else Counter()

    def applied_effects(self, w, req):
        return Counter({("exempt", None): 1})

    def extra_snapshot(self, w):
        from grades.models import Grade

        return (list(Grade.objects.filter(offering=w["entering_offering"]).order_by("id").values_list()),)


class PersonalTranscriptSpec(ChainSpec):
    """U5T: the transcript(s) in the language asked for are issued when ``college_print`` is passed."""

    code = PERSONAL_TRANSCRIPT.code

    def create_data(self, w, n):
        return {"purpose": f"出国留学申请{n}", "language": ("zh", "en", "both")[n % 3], "copies": 1 + n % 3}

    def amend_data(self, w, req, n):
        return {"purpose": f"实习{n}", "language": ("zh", "en", "both")[(n + 1) % 3]}

    def docs_at(self, stage_code, req):
        from grades.services.transcripts import doc_types_for

        stage = self.chain.stage(stage_code)
        return set(doc_types_for(req.language)) if stage and stage.on_pass else set()


class BatchTranscriptSpec(ChainSpec):
    """U5B: Student Affairs files a batch of one student; the two seals; at most three per student."""

    code = BATCH_TRANSCRIPT.code
    applicant_key = "student_affairs"

    def create(self, w, actor, n, submit):
        from grades.services.transcripts import transcript_batch_file

        batch = transcript_batch_file(
            actor=actor,
            purpose="graduates",
            language=("zh", "en", "both")[n % 3],
            note=f"R2 {n}",
            students=[self.subject(w)],
        )
        return batch.requests.get()

    def docs_at(self, stage_code, req):
        from grades.services.transcripts import doc_types_for

        stage = self.chain.stage(stage_code)
        return set(doc_types_for(req.batch.language)) if stage and stage.on_pass else set()


SPECS: dict[str, ChainSpec] = {
    s.code: s
    for s in (
        U6Spec(),
        U1Spec(),
        U2Spec(),
        U3Spec(),
        U4Spec(),
        C4Spec(),
        CorrectionSpec(),
        ExemptionSpec(),
        PersonalTranscriptSpec(),
        BatchTranscriptSpec(),
    )
}


def effect_trigger(chain) -> str | None:
    """Where a chain's effect on the record happens, read from its definition: the first stage with
    ``on_pass``, else completion when it has ``on_complete``."""
    stage = next((s for s in chain.stages if s.on_pass), None)
    if stage is not None:
        return stage.code
    return COMPLETED if chain.on_complete else None
