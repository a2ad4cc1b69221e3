"""Document types of the grades app (registered at start-up by GradesConfig.ready).

``transcript`` (成绩证明, in the document language: Chinese) and ``transcript_en`` (the English
transcript; its template hard-codes English). Both print the student's record from
``grades.selectors.records.student_record``: every course by term with credits, type,
assessment and the counted result (make-ups 补考 and clearing exams 清考 marked), the totals,
and the seals present on the document — the college seal always, the Academic Affairs seal on
route (1) once Academic Affairs has sealed. Seals are drawn as red SVG stamps; the geometry is
part of the snapshot so a re-render prints exactly the same page.

The pipeline-wide policy (``AUTO_WITHDRAWAL_BANNED_DOCUMENTS``) refuses both types for students
withdrawn automatically (自动退学).
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from registrar.documents.render import institution_name
from registrar.documents.types import DocType, register
from registrar.romanize import name_with_pinyin

from .models.transcripts import TRANSCRIPT, TRANSCRIPT_EN  # re-exported: the document type codes

SEAL_COLLEGE = "college"
SEAL_ACADEMIC_AFFAIRS = "academic_affairs"

ROUTE_PERSONAL = "personal"  # route (2), U5T
ROUTE_BATCH = "batch"  # route (1), U5B
ROUTE_GRADUATE = "graduate"  # C8, two copies per graduate

#: English wording of the record's codes, for the English transcript (its content is English whatever the UI).
LEVEL_EN = {"junior": "Junior college (3-year programme)", "bachelor": "Bachelor", "upgrade": "Junior-to-bachelor"}
GENDER_EN = {"M": "Male", "F": "Female"}
STUDY_FORM_EN = {"full_time": "Full-time", "correspondence": "Correspondence (part-time)"}
KIND_EN = {"required": "Required", "elective": "Elective"}
ASSESSMENT_EN = {"exam": "Exam", "check": "Test"}
LEVEL_RESULT_EN = {
    "优": "Excellent",
    "良": "Good",
    "中": "Fair",
    "及格": "Pass",
    "不及格": "Fail",
    "合格": "Pass",
    "不合格": "Fail",
}
MARK_EN = {"absent": "Absent", "deferred": "Deferred", "cheating": "Misconduct", "exempt": "Exempted"}


# --- seals ----------------------------------------------------------------------------------
def seal_geometry(name: str, *, size: int = 100) -> dict:
    """Where each character of a round seal's legend goes: along the upper arc, upright to the edge.

    Returns ``{"size", "chars": [{"ch", "x", "y", "rot"}], "font", "star"}`` in a ``size``×``size``
    view box; the template draws a red ring, the characters and a five-pointed star.
    """
    chars = [c for c in name if not c.isspace()] or ["·"]
    centre = size / 2
    radius = size * 0.355  # where the characters' centres sit
    n = len(chars)
    span = min(250.0, 22.0 * n + 40)  # degrees of arc the legend covers
    step = span / max(n - 1, 1)
    font = round(min(size * 0.14, 0.92 * math.radians(step) * radius if n > 1 else size * 0.14), 2)
    start = -span / 2 if n > 1 else 0.0
    out = []
    for i, ch in enumerate(chars):
        angle = start + i * step
        rad = math.radians(angle)
        out.append(
            {
                "ch": ch,
                "x": round(centre + radius * math.sin(rad), 2),
                "y": round(centre - radius * math.cos(rad), 2),
                "rot": round(angle, 2),
            }
        )
    star_r, inner_r = size * 0.15, size * 0.06
    points = []
    for k in range(10):
        r = star_r if k % 2 == 0 else inner_r
        a = math.radians(-90 + 36 * k)
        points.append(f"{centre + r * math.cos(a):.2f},{centre + 2 + r * math.sin(a):.2f}")
    return {
        "size": size,
        "chars": out,
        "font": font,
        "star": " ".join(points),
        "centre": centre,
        "ring": round(size * 0.47, 2),
        "inner_ring": round(size * 0.44, 2),
    }


def seal(code: str, student) -> dict:
    """The seal ``code`` for ``student``'s document: the unit's name (also in English, printed under
    the seal of the English transcript) and how to draw it. The seal itself is the Chinese one."""
    institution = settings.REGISTRAR["INSTITUTION_NAME"]
    if code == SEAL_COLLEGE:
        unit = force_str(student.college.name)
        unit_en = student.college.english_name
    else:
        unit = force_str(_("Academic Affairs Office"))
        with translation.override("en"):
            unit_en = force_str(_("Academic Affairs Office"))
    name = f"{institution}{unit}"
    return {"code": code, "unit": unit, "name": name, "drawing": seal_geometry(name), "unit_en": unit_en}


# --- content ----------------------------------------------------------------------------------
def _num(value: Decimal | None, places: str = "0.1") -> str:
    """3.0 → "3", 2.5 → "2.5", None → ""."""
    if value is None:
        return ""
    text = f"{Decimal(value).quantize(Decimal(places)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _result(grade) -> tuple[str, str]:
    """(result as printed in Chinese, in English) of the counted attempt."""
    from grades.scoring import display

    zh = display(grade.score, grade.level, grade.mark)
    if grade.mark:
        en = MARK_EN.get(grade.mark, grade.mark)
    elif grade.level:
        en = LEVEL_RESULT_EN.get(grade.level, grade.level)
    else:
        en = zh
    return zh, en


def record_snapshot(student) -> dict:
    """The student's record as plain JSON: terms → courses (counted result), totals."""
    from grades.selectors.records import student_record

    record = student_record(student)
    terms: dict[int, dict] = {}
    for r in record.courses:
        if r.counted is None:  # nothing decided yet (缓考, not entered): not on a transcript
            continue
        term = r.term
        block = terms.setdefault(
            term.pk, {"code": term.code, "name": term.name, "start": term.start_date.isoformat(), "courses": []}
        )
        zh, en = _result(r.counted)
        course = r.course
        block["courses"].append(
            {
                "code": course.code,
                "name": course.name,
                "name_en": course.name_en or course.name,
                "credits": _num(course.credits),
                "kind": course.kind,
                "assessment": course.assessment,
                "result": zh,
                "result_en": en,
                "attempt": r.counted.kind if r.counted.kind != "regular" else "",
                "passed": bool(r.counted.passed),
            }
        )
    ordered = sorted(terms.values(), key=lambda t: t["start"])
    courses = [c for t in ordered for c in t["courses"]]
    return {
        "terms": ordered,
        "totals": {
            "courses": len(courses),
            "credits_earned": _num(record.credits_earned),
            "credits_attempted": _num(record.credits_attempted),
            "gpa": _num(record.gpa, "0.01") if record.gpa is not None else "",
            "average": _num(record.average_score) if record.average_score is not None else "",
        },
    }


def student_snapshot(student) -> dict:
    return {
        "name": student.name,
        "student_number": student.student_number,
        "gender": student.gender,
        "gender_label": force_str(student.get_gender_display()),
        "gender_en": GENDER_EN.get(student.gender, student.gender),
        "college": force_str(student.college.name),
        "major": force_str(student.major.name),
        "klass": force_str(student.klass.name),
        # for the English transcript: the name as stored with its pinyin, the organisation's English names
        "name_en": name_with_pinyin(student.name),
        "college_en": student.college.english_name,
        "major_en": student.major.english_name,
        "klass_en": student.klass.english_name,
        "station_en": student.station.english_name if student.station_id else "",
        "level": student.level,
        "level_label": force_str(student.get_level_display()),
        "level_en": LEVEL_EN.get(student.level, student.level),
        "study_form_label": force_str(student.get_study_form_display()),
        "study_form_en": STUDY_FORM_EN.get(student.study_form, student.study_form),
        "enrollment_date": student.enrollment_date.isoformat(),
        "expected_graduation": student.expected_graduation.isoformat(),
    }


def transcript_snapshot(
    student,
    *,
    language: str,
    seals: tuple[str, ...],
    route: str,
    purpose: str = "",
    reference: str = "",
    copy: str = "",
    copy_label: str = "",
) -> dict:
    """Everything a transcript prints (JSON; strings already in the document language)."""
    return {
        "language": language,
        "route": route,
        "purpose": purpose,
        "reference": reference,
        "copy": copy,
        "copy_label": copy_label,
        "institution_en": institution_name("en"),
        "student": student_snapshot(student),
        **record_snapshot(student),
        "seals": [seal(code, student) for code in seals],
    }


def _request_seals(request) -> tuple[str, ...]:
    """College seal always; the Academic Affairs seal once a route (1) request has passed its seal."""
    from grades.models import BatchTranscriptRequest

    if isinstance(request, BatchTranscriptRequest) and request.state == "completed":
        return (SEAL_COLLEGE, SEAL_ACADEMIC_AFFAIRS)
    return (SEAL_COLLEGE,)


def personal_purpose(request, language: str) -> str:
    """A personal transcript's purpose as printed: in Chinese the choice and the applicant's words
    (出国（境）留学交流（申请出国交流）), in English the choice's English label only (the applicant's
    words are Chinese); "other" prints the words in Chinese and nothing in English."""
    kind = getattr(request, "purpose_kind", "") or "other"
    detail = (getattr(request, "purpose", "") or "").strip()
    if language == "en":
        with translation.override("en"):
            return "" if kind == "other" else force_str(request.get_purpose_kind_display())
    if kind == "other":
        return detail
    label = force_str(request.get_purpose_kind_display())
    return f"{label}（{detail}）" if detail and detail != label else label


def _request_context(request, language: str) -> dict:
    from grades.models import BatchTranscriptRequest

    if isinstance(request, BatchTranscriptRequest):
        # the batch's purpose is a choice: print it in the transcript's own language
        with translation.override("en" if language == "en" else translation.get_language()):
            route, purpose = ROUTE_BATCH, force_str(request.batch.get_purpose_display())
    else:
        route, purpose = ROUTE_PERSONAL, personal_purpose(request, language)
    return transcript_snapshot(
        request.student,
        language=language,
        seals=_request_seals(request),
        route=route,
        purpose=purpose,
        reference=f"{request.chain.seed_code}-{request.pk}",
    )


def transcript_request_context(request) -> dict:
    """Context builder of ``transcript`` (called by document_issue_for_request)."""
    return _request_context(request, "zh")


def transcript_viewers(user, document) -> bool:
    """Who besides the holder and Academic Affairs sees a transcript issued without a request (a
    graduate's two copies, C8): the college's teaching secretary, who prints and files them."""
    from registrar.approvals.permissions import roles_covering
    from registrar.roles import Role

    return Role.TEACHING_SECRETARY in roles_covering(user, document.student)


def transcript_en_request_context(request) -> dict:
    """Context builder of ``transcript_en``."""
    return _request_context(request, "en")


register(
    DocType(
        code=TRANSCRIPT,
        label=_("Transcript"),
        template="grades/transcript_pdf.html",
        serial_prefix="CJ",
        context_builder="grades.documents.transcript_request_context",
        viewers="grades.documents.transcript_viewers",
        description=_(
            "成绩证明: every course by term with credits, type, assessment and the counted result, "
            "totals, and the college (and Academic Affairs) seal."
        ),
    )
)
register(
    DocType(
        code=TRANSCRIPT_EN,
        label=_("Transcript (English)"),
        template="grades/transcript_en_pdf.html",
        serial_prefix="CJE",
        context_builder="grades.documents.transcript_en_request_context",
        language="en",
        viewers="grades.documents.transcript_viewers",
        description=_("The English transcript: course names in English, English labels."),
    )
)
