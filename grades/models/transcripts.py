"""Transcript certificates (U5): personal requests (route 2), batches filed by Student Affairs (route 1), class prints and graduates' copies."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from registrar.approvals.chains import Chain, Stage
from registrar.approvals.models import ApprovalRequest
from registrar.common import AppendOnlyModel, TimeStampedModel
from students.models import Student

S = "grades.services."


# --- U5 transcript certificates -----------------------------------------------------------
class TranscriptLanguage(models.TextChoices):
    ZH = "zh", _("Chinese")
    EN = "en", _("English")
    BOTH = "both", _("Chinese and English")


#: the document types a transcript request issues (grades.documents registers them)
TRANSCRIPT = "transcript"
TRANSCRIPT_EN = "transcript_en"


PERSONAL_TRANSCRIPT = Chain(
    code="transcript_personal",
    seed_code="U5T",
    name=_("Transcript (personal)"),
    description=_(
        "成绩证明 (2): the student applies to the college; the teaching secretary prints the transcript "
        "with the college seal and hands it over."
    ),
    initiator_roles=("student",),
    validate=S + "transcripts.personal_transcript_validate",
    stages=(
        # on_pass issues the language(s) asked for: transcript and/or transcript_en
        Stage(
            "college_print",
            _("Teaching secretary prints with the college seal"),
            ("teaching_secretary",),
            deadline_days=3,
            on_pass=S + "transcripts.personal_transcript_issue",
            seal="college",
        ),
        Stage("handover", _("Handed to the student"), ("teaching_secretary",), deadline_days=7),
    ),
    documents=("approval_form", TRANSCRIPT, TRANSCRIPT_EN),
)


class TranscriptRequest(ApprovalRequest):
    """成绩证明申请, route (2). States: draft → college_print → handover → completed."""

    class Purpose(models.TextChoices):
        """What the transcript is for; the English transcript prints the label in English."""

        EMPLOYMENT = "employment", _("Employment")
        FURTHER_STUDY = "further_study", _("Further study")
        STUDY_ABROAD = "study_abroad", _("Study or exchange abroad")
        OTHER = "other", _("Other")

    chain = PERSONAL_TRANSCRIPT
    state = PERSONAL_TRANSCRIPT.state_field()
    purpose_kind = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    purpose = models.CharField(_("purpose in detail"), max_length=200)
    language = models.CharField(
        _("language"), max_length=8, choices=TranscriptLanguage.choices, default=TranscriptLanguage.ZH
    )
    copies = models.PositiveSmallIntegerField(
        _("copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("transcript request")
        verbose_name_plural = _("transcript requests")


class TranscriptBatch(TimeStampedModel):
    """Route (1): Student Affairs' written request for transcripts of a list of students
    (graduates, university-wide job fairs). Each student gets a ``BatchTranscriptRequest``."""

    class Purpose(models.TextChoices):
        GRADUATES = "graduates", _("Graduates")
        JOB_FAIR = "job_fair", _("University-wide job fair")

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    language = models.CharField(
        _("language"), max_length=8, choices=TranscriptLanguage.choices, default=TranscriptLanguage.ZH
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("filed by")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transcript batch")
        verbose_name_plural = _("transcript batches")

    def __str__(self):
        return f"{self.get_purpose_display()} #{self.pk}"


BATCH_TRANSCRIPT = Chain(
    code="transcript_batch",
    seed_code="U5B",
    open_per=("batch",),
    name=_("Transcript (batch, route 1)"),
    description=_(
        "成绩证明 (1): Student Affairs files the list; the college teaching secretary prints with the "
        "college seal; Academic Affairs applies its seal class by class. At most three times per student."
    ),
    initiator_roles=("student_affairs",),
    validate=S + "transcripts.batch_transcript_validate",
    opened_elsewhere=_(
        "Route (1) transcripts are filed by Student Affairs as a batch of students on the "
        "transcript batches page (/grades/transcripts/batches/new/); a single request cannot be "
        "opened on its own."
    ),
    stages=(
        Stage(
            "college_seal",
            _("College teaching secretary prints with the college seal"),
            ("teaching_secretary",),
            deadline_days=5,
            seal="college",
        ),
        # on_pass issues the batch's language(s), bearing both seals
        Stage(
            "academic_affairs_seal",
            _("Academic Affairs applies its seal"),
            ("academic_affairs",),
            deadline_days=5,
            on_pass=S + "transcripts.batch_transcript_issue",
            seal="academic_affairs",
        ),
    ),
    documents=(TRANSCRIPT, TRANSCRIPT_EN),
)


#: the stages of a route (1) batch at which a class is sealed
SEAL_STAGES = ("college_seal", "academic_affairs_seal")


class BatchTranscriptRequest(ApprovalRequest):
    """One student's transcript in a route (1) batch. States: draft → college_seal →
    academic_affairs_seal → completed."""

    chain = BATCH_TRANSCRIPT
    state = BATCH_TRANSCRIPT.state_field()
    batch = models.ForeignKey(
        TranscriptBatch, on_delete=models.PROTECT, related_name="requests", verbose_name=_("batch"), editable=False
    )

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("batch transcript request")
        verbose_name_plural = _("batch transcript requests")


class ClassPrint(TimeStampedModel):
    """One PDF with every transcript of a class in a batch, for printing (merged from the
    students' rendered, verifiable documents)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being produced")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(
        TranscriptBatch, on_delete=models.PROTECT, related_name="class_prints", verbose_name=_("batch")
    )
    klass = models.ForeignKey("students.Class", on_delete=models.PROTECT, related_name="+", verbose_name=_("class"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), upload_to="transcripts/classes/%Y/", blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("class transcript print")
        verbose_name_plural = _("class transcript prints")

    def __str__(self):
        return f"{self.batch} · {self.klass}"


class GraduateTranscriptCopy(AppendOnlyModel):
    """C8: each graduate's transcript prints in two copies — one archived by the college, one
    handed to the student work office. Append-only."""

    class Destination(models.TextChoices):
        ARCHIVE = "archive", _("Archived by the college")
        STUDENT_WORK_OFFICE = "student_work_office", _("Handed to the student work office")

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+", verbose_name=_("student"))
    document = models.ForeignKey(
        "registrar.Document", on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    destination = models.CharField(_("destination"), max_length=24, choices=Destination.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("graduate transcript copy")
        verbose_name_plural = _("graduate transcript copies")

    def __str__(self):
        return f"{self.student} · {self.get_destination_display()}"
