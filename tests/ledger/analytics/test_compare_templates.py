"""Compare templates (R22): the verdict on the top two templates, checked against numbers worked
out by hand (pooled two-proportion z-test; Wilson intervals)."""

from __future__ import annotations

import pytest

from ledger.analytics.compare import compare_templates, two_proportion_p_value
from ledger.analytics.rates import ResponseRateRow


def row(label: str | None, answered: int, eligible: int) -> ResponseRateRow:
    return ResponseRateRow(
        key=label,
        label=label or "No template",
        sent=eligible,
        answered_30d=answered,
        accepted=answered,
        declined=0,
        replied=0,
        pending=0,
        no_response=eligible - answered,
        response_rate=answered / eligible if eligible else None,
        acceptance_rate=1.0 if answered else None,
        median_hours_to_response=None,
        rate_base=eligible,
    )


def test_the_p_value_matches_the_hand_computed_one() -> None:
    # 30/50 v 15/50: pooled 0.45, se = √(0.45·0.55·0.04) = 0.099499, z = 0.3/0.099499 = 3.0151,
    # p = erfc(3.0151/√2) = 0.00257.
    assert two_proportion_p_value(30, 50, 15, 50) == pytest.approx(0.002569, abs=1e-6)
    # 12/40 v 10/40: pooled 0.275, se = 0.099844, z = 0.50078, p = 0.6165.
    assert two_proportion_p_value(12, 40, 10, 40) == pytest.approx(0.6165, abs=1e-4)
    assert two_proportion_p_value(0, 30, 0, 40) == 1.0
    assert two_proportion_p_value(3, 0, 1, 10) == 1.0


def test_intervals_apart_is_more_than_chance() -> None:
    verdict = compare_templates([row("B", 15, 50), row("A", 30, 50), row(None, 50, 50)])
    assert verdict.best is not None
    assert verdict.runner_up is not None
    assert (verdict.best.label, verdict.runner_up.label) == ("A", "B")
    # Wilson 30/50 ≈ [0.4618, 0.7239], 15/50 ≈ [0.1910, 0.4375]: apart.
    assert verdict.intervals_apart is True
    assert verdict.more_than_chance is True
    assert verdict.sentence == (
        "“A” (60% of 50) leads “B” (30% of 50): the difference is more than chance "
        "(the 95% intervals don't overlap; two-proportion test p = 0.003)."
    )


def test_overlapping_intervals_but_a_significant_test_is_more_than_chance() -> None:
    # 14/40 ≈ [0.2213, 0.5049] and 6/40 ≈ [0.0706, 0.2907] overlap; z = 2.0656, p = 0.0389.
    verdict = compare_templates([row("Intro", 14, 40), row("Follow-up", 6, 40)])
    assert verdict.intervals_apart is False
    assert verdict.p_value == pytest.approx(0.0389, abs=1e-4)
    assert verdict.sentence == (
        "“Intro” (35% of 40) leads “Follow-up” (15% of 40): the difference is more than "
        "chance (two-proportion test p = 0.039)."
    )


def test_a_small_difference_could_be_chance() -> None:
    verdict = compare_templates([row("Intro", 12, 40), row("Follow-up", 10, 40)])
    assert verdict.more_than_chance is False
    assert verdict.sentence == (
        "“Intro” (30% of 40) leads “Follow-up” (25% of 40): the difference could be chance "
        "(two-proportion test p = 0.617)."
    )


def test_templates_under_twenty_eligible_are_left_out() -> None:
    # "Star" has 100% of 19: too few to compare; the two compared are Intro and Follow-up.
    verdict = compare_templates([row("Star", 19, 19), row("Intro", 12, 40), row("F", 10, 20)])
    assert verdict.best is not None
    assert verdict.runner_up is not None
    assert (verdict.best.label, verdict.runner_up.label) == ("F", "Intro")
    alone = compare_templates([row("Star", 19, 19), row("Intro", 12, 40)])
    assert alone.best is None
    assert alone.sentence == (
        "Fewer than two templates have 20 or more eligible InMails, so no two can be compared yet."
    )
