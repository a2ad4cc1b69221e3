"""Grades (U5, C8, the exam part of C10): teaching data, grade sheets, make-ups, exemptions,
corrections and transcript certificates.

Teaching data
    ``Term`` → ``Course`` → ``TeachingPlan`` (per major, level and cohort) with ``PlanCourse``
    rows → ``Offering`` (one course taught in one term, its instructors, classes and exam date).
Grade sheets (U5)
    An offering's ``GradeComponent`` rows are its composite-grade composition (weights summing
    to 100 %, set by the college teaching secretary). ``Grade`` is one student's place on an
    offering (created at enrolment) and, once entered, its result. The sheet's state is the
    offering's ``sheet_state``: entering → submitted (locked for the instructor) → confirmed
    (认定; students see the grades). Entry happens inside a ``GradeEntryWindow`` published by
    Academic Affairs, or inside a per-offering reopening.
Attempts (C8, C10)
    A make-up (补考) or graduation clearing exam (毕业清考) is itself an ``Offering`` of kind
    ``makeup`` / ``clearing`` for the same course; every attempt is a ``Grade`` row, and which
    attempt counts is a setting (``REGISTRAR["GRADES"]["COUNTED_ATTEMPT"]``).
Chains on the shared kernel
    ``GradeCorrectionRequest`` (instructor → college → Academic Affairs), ``ExemptionRequest``
    (免修/免试, student or station → college), ``TranscriptRequest`` (route 2, personal) and
    ``BatchTranscriptRequest`` (route 1: one per student of a ``TranscriptBatch`` filed by
    Student Affairs, sealed by the college and then by Academic Affairs class by class).
Stations (C8)
    ``StationSubmission``: a station's exam results for one offering, reviewed by the college
    (returned with reasons, resubmitted, accepted into the records); ``SubmissionReview`` is its
    append-only review log.

Modules: ``teaching``, ``sheets``, ``requests`` (corrections, exemptions), ``transcripts``,
``stations`` and ``imports``. Every public name is re-exported here, so
``from grades.models import Grade`` keeps working.
"""

from registrar.approvals.chains import register

from .imports import ImportJob
from .requests import CORRECTION, CORRECTION_OTHER_STUDENT, EXEMPTION, ExemptionRequest, GradeCorrectionRequest
from .sheets import Grade, GradeChange, GradeComponent, GradeEntryWindow, OfferingReopening, SheetEvent
from .stations import StationSubmission, SubmissionReview
from .teaching import Course, Offering, PlanCourse, TeachingPlan, Term, grade_settings
from .transcripts import (
    BATCH_TRANSCRIPT,
    PERSONAL_TRANSCRIPT,
    BatchTranscriptRequest,
    ClassPrint,
    GraduateTranscriptCopy,
    TranscriptBatch,
    TranscriptLanguage,
    TranscriptRequest,
)

__all__ = [
    "BATCH_TRANSCRIPT",
    "CORRECTION",
    "CORRECTION_OTHER_STUDENT",
    "EXEMPTION",
    "PERSONAL_TRANSCRIPT",
    "BatchTranscriptRequest",
    "ClassPrint",
    "Course",
    "ExemptionRequest",
    "Grade",
    "GradeChange",
    "GradeComponent",
    "GradeCorrectionRequest",
    "GradeEntryWindow",
    "GraduateTranscriptCopy",
    "ImportJob",
    "Offering",
    "OfferingReopening",
    "PlanCourse",
    "SheetEvent",
    "StationSubmission",
    "SubmissionReview",
    "TeachingPlan",
    "Term",
    "TranscriptBatch",
    "TranscriptLanguage",
    "TranscriptRequest",
    "grade_settings",
]

for _chain in (CORRECTION, EXEMPTION, PERSONAL_TRANSCRIPT, BATCH_TRANSCRIPT):
    register(_chain)
