from decimal import Decimal

import pytest

from grades.scoring import (
    WEIGHTS_NOT_100,
    Entry,
    ScoreError,
    check_weights,
    compute,
    grade_point_for,
    parse_entry,
)


def test_weights_must_sum_to_100():
    check_weights([("regular", 30), ("final", 70)])
    with pytest.raises(ScoreError) as exc:
        check_weights([("regular", 30), ("final", 60)])
    assert str(exc.value) == str(WEIGHTS_NOT_100 % {"total": 90})


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("85", Entry(number=Decimal("85.0"))),
        (72.5, Entry(number=Decimal("72.5"))),
        ("缺考", Entry(mark="absent")),
        ("", Entry()),
        (None, Entry()),
        ("免修", Entry(mark="exempt")),
    ],
)
def test_parse_entry(raw, expected):
    assert parse_entry(raw) == expected


@pytest.mark.parametrize("raw", ["101", "-1", "abc", "72.55", "优"])
def test_parse_entry_refuses(raw):
    with pytest.raises(ScoreError):
        parse_entry(raw)


def test_composite_is_weighted_and_rounded_half_up():
    weights = [("regular", 30), ("final", 70)]
    r = compute(
        scale="hundred",
        rounding="integer",
        weights=weights,
        entries={"regular": Entry(number=Decimal(85)), "final": Entry(number=Decimal("58.5"))},
    )
    # 0.3*85 + 0.7*58.5 = 25.5 + 40.95 = 66.45 → 66
    assert r.score == Decimal("66.0") and r.passed is True and r.grade_point == Decimal("1.50")


def test_incomplete_entries_give_no_result():
    r = compute(
        scale="hundred",
        rounding="integer",
        weights=[("regular", 30), ("final", 70)],
        entries={"regular": Entry(number=Decimal(85))},
    )
    assert r.score is None and r.passed is None


def test_marks_decide():
    w = [("final", 100)]
    assert (
        compute(scale="hundred", rounding="integer", weights=w, entries={"final": Entry(mark="absent")}).passed is False
    )
    assert (
        compute(scale="hundred", rounding="integer", weights=w, entries={"final": Entry(mark="deferred")}).passed
        is None
    )
    assert (
        compute(scale="hundred", rounding="integer", weights=w, entries={"final": Entry(mark="exempt")}).passed is True
    )


def test_makeup_pass_is_capped():
    r = compute(
        scale="hundred",
        rounding="integer",
        weights=[("final", 100)],
        entries={"final": Entry(number=Decimal(88))},
        kind="makeup",
    )
    assert r.score == Decimal("60.0") and r.passed


def test_five_level_and_pass_fail():
    r = compute(scale="five_level", rounding="integer", weights=[("final", 100)], entries={"final": Entry(level="良")})
    assert r.level == "良" and r.passed
    r = compute(
        scale="pass_fail", rounding="integer", weights=[("final", 100)], entries={"final": Entry(level="不合格")}
    )
    assert r.passed is False and r.grade_point is None


def test_grade_points_follow_the_setting(settings):
    assert grade_point_for(Decimal(95)) == Decimal("4.00")
    assert grade_point_for(Decimal(59)) == Decimal("0.00")
