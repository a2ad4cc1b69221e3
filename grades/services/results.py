"""Turning typed component values into a stored result — the one path every writer of grades
uses (entry grid, Excel upload, bulk import, station submissions, corrections, exemptions)."""

from __future__ import annotations

from django.utils import timezone

from ..models import Grade, Offering
from ..scoring import Entry, Result, ScoreError, compute, parse_entry


def offering_weights(offering: Offering) -> list[tuple[str, int]]:
    """The composition as (component code, weight) pairs, in order (uses the prefetch cache)."""
    return [(c.code, c.weight) for c in offering.components.all()]


def evaluate(*, scale: str, rounding: str, kind: str, weights: list[tuple[str, int]], raw: dict) -> tuple[dict, Result]:
    """Parse ``raw`` ({component code: typed value}) and compute the result.

    Returns the component values to store (as strings: "85", "72.5", "良", "absent") and the
    ``Result``. Raises ``ScoreError`` naming the component for a bad value; unknown codes are ignored.
    """
    entries: dict[str, Entry] = {}
    stored: dict[str, str] = {}
    for code, _weight in weights:
        try:
            entry = parse_entry(raw.get(code), scale=scale)
        except ScoreError as exc:
            raise ScoreError(f"{code}: {exc}") from None
        entries[code] = entry
        if entry.number is not None:
            stored[code] = f"{entry.number:.1f}".rstrip("0").rstrip(".")
        elif entry.level or entry.mark:
            stored[code] = entry.level or entry.mark
    return stored, compute(scale=scale, rounding=rounding, weights=weights, entries=entries, kind=kind)


def apply_result(grade: Grade, *, components: dict, result: Result, actor, now=None) -> Grade:
    """Set the result fields on ``grade`` in memory (callers save, in bulk where they can)."""
    grade.components = components
    grade.score = result.score
    grade.level = result.level
    grade.mark = result.mark
    grade.passed = result.passed
    grade.grade_point = result.grade_point
    grade.entered_by = actor
    grade.entered_at = now or timezone.now()
    return grade


RESULT_FIELDS = ["components", "score", "level", "mark", "passed", "grade_point", "entered_by", "entered_at"]
