"""Balances day by day: what each account held at the end of each of the last days.

The burn-down chart of a seat card reads it beside the forecast. One query, the accounts'
entries of the window summed by local day, whatever the number of accounts and days: each
earlier day's closing balance is the next day's less that day's entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ledger import schedule
from ledger.models import Entry


def daily_balances(
    balances: Mapping[int, int], *, days: int, now: datetime | None = None
) -> dict[int, list[int]]:
    """Each account's balance at the end of the local day, for the `days` days before today
    and today (`days + 1` numbers, oldest first); today's is the balance now.

    `balances` are the accounts' balances now, by account id, as a balance read model that
    brought them up to date (R17) has just read them.
    """
    now = now or timezone.now()
    today = schedule.local_date(now)
    ids = set(balances)
    # Entries dated after the end of the first day of the window change the closing balances.
    since = schedule.start_of_day(today - timedelta(days=days - 1))
    moved: dict[int, dict[date, int]] = defaultdict(dict)
    for account_id, day, total in (
        Entry.objects.filter(account_id__in=ids, at__gte=since)
        .annotate(day=TruncDate("at", tzinfo=schedule.org_tz()))
        .values("account_id", "day")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "day", "total")
    ):
        moved[account_id][day] = int(total)
    history = {}
    for account_id, balance in balances.items():
        by_day = moved[account_id]
        # Anything dated after today (never, with a clock that moves forward) is not yet held.
        closing = balance - sum(total for day, total in by_day.items() if day > today)
        closings = [closing]
        for back in range(days):
            closing -= by_day.get(today - timedelta(days=back), 0)
            closings.append(closing)
        history[account_id] = closings[::-1]
    return history
