"""A seat's monthly refreshes as the refresh tests read them."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from ledger.models import Refresh, RefreshKind
from teams.models import Seat
from tests.ledger.helpers import account_of


class RefreshRow(NamedTuple):
    """One monthly refresh; equal to the plain tuple of its fields, so tests may write either."""

    period_on: date
    capped_before: int
    granted: int
    lost_to_cap: int


def refreshes(seat: Seat) -> list[RefreshRow]:
    """The seat's monthly refreshes, oldest first."""
    rows = (
        Refresh.objects.filter(account=account_of(seat), kind=RefreshKind.REFRESH)
        .order_by("period_on")
        .values_list("period_on", "capped_before", "granted", "lost_to_cap")
    )
    return [RefreshRow(*row) for row in rows]


def refresh_dates(seat: Seat) -> list[date]:
    return [row.period_on for row in refreshes(seat)]
