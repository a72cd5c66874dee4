"""Calendar months of a period, and the credit flows of each.

A page may show any range of days, not only the last 3, 6 or 12 months: its flows come month by
month, the first and last months cut at the range's ends.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from ledger.analytics.flows import CreditFlows, _flows
from ledger.analytics.scope import Viewer
from teams.models import Seat, Team


def month_periods(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months of [start, end], oldest first, the first and last cut at its ends."""
    if start > end:
        raise ValueError(f"The period starts ({start}) after it ends ({end}).")
    periods = []
    first = start
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        periods.append((first, min(following - timedelta(days=1), end)))
        first = following
    return periods


def credit_flows_by_month(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date,
    end: date,
    now: datetime | None = None,
) -> list[CreditFlows]:
    """Credit flows per calendar month of [start, end] (local dates), in a fixed number of
    queries however many months: `monthly_credit_flows` for any range."""
    return _flows(
        user, team=team, seat=seat, periods=month_periods(start, end), now=now or timezone.now()
    )


def credit_flows_months_and_period(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date,
    end: date,
    now: datetime | None = None,
) -> tuple[list[CreditFlows], CreditFlows]:
    """`credit_flows_by_month` of [start, end] and `credit_flows` of the whole of it, read
    together (each period is summed on its own, so the figures are those of the two calls)."""
    *months, whole = _flows(
        user,
        team=team,
        seat=seat,
        periods=[*month_periods(start, end), (start, end)],
        now=now or timezone.now(),
    )
    return months, whole
