"""The 95% Wilson interval of a response rate and the small-sample flag (R22).

Expected bounds were worked out by hand from the Wilson score formula with z = 1.959964:
centre = (p + z²/2n) / (1 + z²/n), half width = z √(p(1−p)/n + z²/4n²) / (1 + z²/n).
"""

from __future__ import annotations

from datetime import date

import pytest

from ledger.analytics import analytics_inmails, response_rates, response_totals
from ledger.analytics.rates import SMALL_SAMPLE_ELIGIBLE, wilson_interval
from ledger.models import InMailStatus
from tests.conftest import Org
from tests.ledger.analytics.helpers import logged
from tests.ledger.helpers import seat_on, utc

NOW = utc(2026, 6, 1, 12)


def test_half_of_ten_is_between_24_and_76_percent() -> None:
    low, high = wilson_interval(5, 10)

    assert low == pytest.approx(0.236593, abs=1e-6)
    assert high == pytest.approx(0.763407, abs=1e-6)


def test_none_of_ten_starts_at_exactly_zero() -> None:
    low, high = wilson_interval(0, 10)

    # p = 0: the centre equals the half width, z²/(n + z²) = 3.841459/13.841459.
    assert low == 0.0
    assert high == pytest.approx(0.277533, abs=1e-6)


def test_all_of_ten_ends_at_exactly_one() -> None:
    low, high = wilson_interval(10, 10)

    # n/(n + z²) = 10/13.841459; the arithmetic alone would give 0.9999999999999999 above.
    assert low == pytest.approx(0.722467, abs=1e-6)
    assert high == 1.0


def test_one_of_one_is_a_wide_interval() -> None:
    low, high = wilson_interval(1, 1)

    assert low == pytest.approx(0.206549, abs=1e-6)
    assert high == 1.0


def test_no_eligible_inmail_has_no_interval() -> None:
    assert wilson_interval(0, 0) == (None, None)


def test_more_answers_than_inmails_is_refused() -> None:
    with pytest.raises(ValueError, match="not a share"):
        wilson_interval(3, 2)


@pytest.mark.django_db
def test_rows_carry_eligible_the_interval_and_small_sample_at_20(org: Org) -> None:
    seat = seat_on(holder=org.recruiter, team=org.team, activated_on=date(2026, 1, 1))
    # January: 20 eligible InMails, 5 answered within 30 days; February: 19, 0 answered;
    # March: one pending InMail is withdrawn (sent, never eligible).
    for number in range(20):
        answered = number < 5
        logged(
            seat,
            utc(2026, 1, 5, 17),
            status=InMailStatus.REPLIED if answered else InMailStatus.NO_RESPONSE,
            responded_at=utc(2026, 1, 6, 17) if answered else None,
        )
    for _ in range(19):
        logged(seat, utc(2026, 2, 5, 17), status=InMailStatus.NO_RESPONSE)
    logged(seat, utc(2026, 3, 5, 17), status=InMailStatus.WITHDRAWN)

    january, february, march = response_rates(
        analytics_inmails(org.admin), group_by="month", now=NOW
    )

    assert SMALL_SAMPLE_ELIGIBLE == 20
    assert (january.eligible, january.answered_30d, january.small_sample) == (20, 5, False)
    assert january.rate_low == pytest.approx(0.111862, abs=1e-6)
    assert january.rate_high == pytest.approx(0.468701, abs=1e-6)
    assert (february.eligible, february.small_sample) == (19, True)
    assert february.rate_low == 0.0
    assert february.rate_high == pytest.approx(0.168179, abs=1e-6)
    assert (march.sent, march.eligible, march.small_sample) == (1, 0, True)
    assert (march.rate_low, march.rate_high) == (None, None)
    total = response_totals(analytics_inmails(org.admin), now=NOW)
    assert (total.eligible, total.answered_30d, total.small_sample) == (39, 5, False)
