"""Compare templates (R22, issue 14 item 1): is the best template's response rate better than the
runner-up's by more than chance?

The two compared are the templates with the highest response rates among those with at least
`SMALL_SAMPLE_ELIGIBLE` (20) eligible InMails. Their difference is *more than chance* when their
95% Wilson intervals don't overlap, or when a two-sided two-proportion z-test (pooled) gives
p < 0.05; otherwise it *could be chance*.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import erfc, sqrt

from ledger.analytics.rates import SMALL_SAMPLE_ELIGIBLE, ResponseRateRow

SIGNIFICANCE = 0.05


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float:
    """The two-sided p-value of a pooled two-proportion z-test; 1.0 when it can't tell (no
    trials, or both shares 0 or both 1)."""
    if trials_a == 0 or trials_b == 0:
        return 1.0
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    spread = sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if spread == 0:
        return 1.0
    z = (successes_a / trials_a - successes_b / trials_b) / spread
    return erfc(abs(z) / sqrt(2))


@dataclass(frozen=True)
class TemplateComparison:
    """The verdict on the top two templates (None: fewer than two have enough InMails)."""

    best: ResponseRateRow | None
    runner_up: ResponseRateRow | None
    intervals_apart: bool = False
    p_value: float | None = None

    @property
    def more_than_chance(self) -> bool:
        return self.intervals_apart or (self.p_value is not None and self.p_value < SIGNIFICANCE)

    @property
    def sentence(self) -> str:
        if self.best is None or self.runner_up is None:
            return (
                f"Fewer than two templates have {SMALL_SAMPLE_ELIGIBLE} or more eligible "
                "InMails, so no two can be compared yet."
            )
        best, second = self.best, self.runner_up
        assert best.response_rate is not None
        assert second.response_rate is not None
        verdict = "is more than chance" if self.more_than_chance else "could be chance"
        return (
            f"“{best.label}” ({best.response_rate:.0%} of {best.eligible}) leads "
            f"“{second.label}” ({second.response_rate:.0%} of {second.eligible}): the "
            f"difference {verdict} ("
            + ("the 95% intervals don't overlap; " if self.intervals_apart else "")
            + f"two-proportion test p = {self.p_value:.3f})."
        )


def compare_templates(rows: list[ResponseRateRow]) -> TemplateComparison:
    """The verdict on the rows of a by-template breakdown (the no-template row is left out)."""
    candidates = sorted(
        (
            row
            for row in rows
            if row.key is not None
            and row.eligible >= SMALL_SAMPLE_ELIGIBLE
            and row.response_rate is not None
        ),
        key=lambda row: (-(row.response_rate or 0.0), -row.eligible, row.label.casefold()),
    )
    if len(candidates) < 2:
        return TemplateComparison(best=None, runner_up=None)
    best, second = candidates[0], candidates[1]
    assert best.rate_low is not None
    assert second.rate_high is not None
    return TemplateComparison(
        best=best,
        runner_up=second,
        intervals_apart=best.rate_low > second.rate_high,
        p_value=two_proportion_p_value(
            best.answered_30d, best.eligible, second.answered_30d, second.eligible
        ),
    )
