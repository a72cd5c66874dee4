"""The run-out forecast: when a seat's credits reach zero at its trailing net spend."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import (
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ledger import schedule
from ledger.models import (
    Entry,
    EntryKind,
)
from ledger.selectors import seat_balance
from teams.models import Seat, SeatStatus

RUN_OUT_TRAILING_DAYS = 30


# --------------------------------------------------------------------------------------------
# Run-out forecast
# --------------------------------------------------------------------------------------------


def seat_net_spend(seat: Seat, *, now: datetime, days: int = RUN_OUT_TRAILING_DAYS) -> int:
    """Credits the seat's InMails took over the last `days` days, less those refunded.

    Counted by InMail, whichever account paid: a pooled seat's spends from the pool draw down
    the same `available` balance the forecast divides.
    """
    total = Entry.objects.filter(
        inmail__seat=seat,
        kind__in=[EntryKind.SPEND, EntryKind.REFUND],
        at__gt=schedule.add_days(now, -days),
        at__lte=now,
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    return -int(total)


def seat_run_out_on(
    seat: Seat, *, now: datetime | None = None, available: int | None = None
) -> date | None:
    """The local date the seat's available credits reach zero at its trailing 30-day net spend.

    today + ⌊available ÷ (net spend ÷ 30)⌋ days, in whole integer arithmetic; today when nothing
    is left. None when the seat spends nothing net (or more comes back than goes out), and for
    a cancelled seat, which has nothing left to run out of. A caller that has already read the
    seat's available credits (a page listing many seats) passes them as `available`.
    """
    if seat.status != SeatStatus.ACTIVE:
        return None
    at = now or timezone.now()
    net = seat_net_spend(seat, now=at)
    if net <= 0:
        return None
    if available is None:
        available = seat_balance(seat, as_of=now).available
    days_left = max(0, available) * RUN_OUT_TRAILING_DAYS // net
    return schedule.local_date(at) + timedelta(days=days_left)
