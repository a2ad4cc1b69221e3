"""Pure grade arithmetic, shared by the entry grid, the Excel upload, the bulk import, station
submissions, corrections and transcripts: parse what a person typed, compute the composite,
decide pass/fail and the grade point. No database access here, so it is fast and easy to test.

Settings come from ``REGISTRAR["GRADES"]`` (see registrar/settings/base.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext_lazy as _

WEIGHTS_NOT_100 = _("The weights add up to %(total)s %%; they must add up to exactly 100 %%.")
NO_COMPONENTS = _("Give at least one component.")
DUPLICATE_COMPONENT = _("The component “%(component)s” is listed twice.")
NOT_A_SCORE = _(
    "“%(value)s” is not a score: give a number from 0 to 100, a level (%(levels)s) or a mark (缺考, 缓考, 作弊, 免修)."
)
SCORE_OUT_OF_RANGE = _("%(value)s is outside 0–100.")
TOO_MANY_DECIMALS = _("%(value)s has more than one decimal place.")
LEVEL_NOT_ON_SCALE = _("“%(value)s” is not a grade on this sheet's scale (%(levels)s).")
NUMBER_ON_PASS_FAIL = _("This sheet is graded pass/fail: give 合格 or 不合格, not a number.")

#: Special marks as typed (Chinese, English codes, as printed) → Grade.Mark value
MARKS = {
    "缺考": "absent",
    "absent": "absent",
    "缓考": "deferred",
    "deferred": "deferred",
    "作弊": "cheating",
    "cheating": "cheating",
    "免修": "exempt",
    "免试": "exempt",
    "exempt": "exempt",
}
FAILING_MARKS = {"absent", "cheating"}
#: How a mark is printed on sheets and transcripts
MARK_TEXT = {"absent": "缺考", "deferred": "缓考", "cheating": "作弊", "exempt": "免修"}

ONE = Decimal("1")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")


def conf() -> dict:
    return settings.REGISTRAR["GRADES"]


def five_levels() -> dict[str, Decimal]:
    return {name: Decimal(str(v)) for name, v in conf()["FIVE_LEVELS"]}


def pass_fail_levels() -> tuple[str, str]:
    passed, failed = conf()["PASS_FAIL_LEVELS"]
    return passed, failed


@dataclass(frozen=True)
class Entry:
    """One parsed cell: exactly one of ``number``, ``level`` or ``mark`` is set (or none: blank)."""

    number: Decimal | None = None
    level: str = ""
    mark: str = ""

    @property
    def is_blank(self) -> bool:
        return self.number is None and not self.level and not self.mark


BLANK = Entry()


class ScoreError(ValueError):
    """A cell that cannot be a grade; ``str()`` is the user-facing message."""


def parse_entry(raw, *, scale: str = "hundred") -> Entry:
    """Parse what was typed (or read from Excel) into an ``Entry``; raise ``ScoreError``."""
    if raw is None:
        return BLANK
    if isinstance(raw, bool):
        raise ScoreError(str(NOT_A_SCORE % {"value": raw, "levels": _levels_text(scale)}))
    if isinstance(raw, (int, float, Decimal)):
        return _number(raw, scale)
    text = str(raw).strip()
    if not text:
        return BLANK
    mark = MARKS.get(text) or MARKS.get(text.lower())
    if mark:
        return Entry(mark=mark)
    if scale == "five_level" and text in five_levels():
        return Entry(level=text)
    if scale == "pass_fail" and text in pass_fail_levels():
        return Entry(level=text)
    if text in five_levels() or text in pass_fail_levels():
        raise ScoreError(str(LEVEL_NOT_ON_SCALE % {"value": text, "levels": _levels_text(scale)}))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ScoreError(str(NOT_A_SCORE % {"value": text, "levels": _levels_text(scale)})) from None
    return _number(number, scale)


def _number(value, scale: str) -> Entry:
    if scale == "pass_fail":
        raise ScoreError(str(NUMBER_ON_PASS_FAIL))
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite() or number < 0 or number > HUNDRED:
        raise ScoreError(str(SCORE_OUT_OF_RANGE % {"value": value}))
    if number != number.quantize(TENTH, rounding=ROUND_HALF_UP):
        raise ScoreError(str(TOO_MANY_DECIMALS % {"value": value}))
    return Entry(number=number.quantize(TENTH))


def _levels_text(scale: str) -> str:
    if scale == "pass_fail":
        return "、".join(pass_fail_levels())
    return "0–100, " + "、".join(five_levels())


def check_weights(components: list[tuple[str, int]]) -> None:
    """Refuse a composition whose weights do not sum to 100 (or that repeats a component)."""
    if not components:
        raise ScoreError(str(NO_COMPONENTS))
    seen = set()
    for code, _weight in components:
        if code in seen:
            raise ScoreError(str(DUPLICATE_COMPONENT % {"component": code}))
        seen.add(code)
    total = sum(int(w) for _c, w in components)
    if total != 100:
        raise ScoreError(str(WEIGHTS_NOT_100 % {"total": total}))


@dataclass(frozen=True)
class Result:
    """What a ``Grade`` stores for one attempt."""

    score: Decimal | None = None
    level: str = ""
    mark: str = ""
    passed: bool | None = None
    grade_point: Decimal | None = None


EMPTY = Result()


def round_score(value: Decimal, rounding: str) -> Decimal:
    step = ONE if rounding == "integer" else TENTH
    return value.quantize(step, rounding=ROUND_HALF_UP).quantize(TENTH)


def level_for(score: Decimal) -> str:
    for lowest, level in conf()["FIVE_LEVEL_BOUNDS"]:
        if score >= Decimal(str(lowest)):
            return level
    return conf()["FIVE_LEVEL_BOUNDS"][-1][1]


def grade_point_for(score: Decimal | None) -> Decimal | None:
    if score is None:
        return None
    for lowest, point in conf()["GRADE_POINTS"]:
        if score >= Decimal(str(lowest)):
            return Decimal(str(point)).quantize(Decimal("0.01"))
    return Decimal("0.00")


def _value(entry: Entry) -> Decimal:
    """A component's numeric value (a five-level grade counts as its equivalent)."""
    if entry.number is not None:
        return entry.number
    return five_levels()[entry.level]


def compute(
    *, scale: str, rounding: str, weights: list[tuple[str, int]], entries: dict[str, Entry], kind: str = "regular"
) -> Result:
    """The composite result of one student's component entries on one sheet.

    * A special mark in any component decides the result: 缺考/作弊 fail (score 0), 缓考 is
      pending (not passed, not failed), 免修 passes without a grade point.
    * Until every component is entered the result is empty (the sheet shows it incomplete).
    * Pass/fail sheets take one overall level; five-level sheets average the levels' equivalents.
    * A passed make-up or clearing exam is recorded at most at ``MAKEUP_SCORE_CAP``.
    """
    marks = [e.mark for e in entries.values() if e.mark]
    if marks:
        return _marked(marks)
    if scale == "pass_fail":
        entry = next((e for e in entries.values() if not e.is_blank), BLANK)
        if entry.is_blank:
            return EMPTY
        passed_level, _failed = pass_fail_levels()
        return Result(level=entry.level, passed=entry.level == passed_level)
    if any(entries.get(code, BLANK).is_blank for code, _w in weights):
        return EMPTY
    total = sum((_value(entries[code]) * Decimal(int(w)) for code, w in weights), Decimal(0)) / HUNDRED
    score = round_score(total, rounding)
    pass_score = Decimal(str(conf()["PASS_SCORE"]))
    passed = score >= pass_score
    cap = conf().get("MAKEUP_SCORE_CAP")
    if kind != "regular" and passed and cap is not None and score > Decimal(str(cap)):
        score = Decimal(str(cap)).quantize(TENTH)
    level = level_for(score) if scale == "five_level" else ""
    return Result(score=score, level=level, passed=passed, grade_point=grade_point_for(score))


def _marked(marks: list[str]) -> Result:
    for mark in ("cheating", "absent", "deferred", "exempt"):
        if mark in marks:
            break
    if mark in FAILING_MARKS:
        return Result(score=Decimal("0.0"), mark=mark, passed=False, grade_point=Decimal("0.00"))
    if mark == "deferred":
        return Result(mark=mark, passed=None)
    return Result(mark=mark, passed=True)


def display(score: Decimal | None, level: str, mark: str) -> str:
    """How a result is shown and printed: the mark, else the level, else the score."""
    if mark:
        return MARK_TEXT.get(mark, mark)
    if level:
        return level
    if score is None:
        return ""
    return f"{score:.1f}".rstrip("0").rstrip(".")
