"""Reads the services need under their locks: spendable lots, the capped balance, refresh times.

The selectors use them too (a seat's balance, what the next refresh grants); they live here,
below both, so that a service never imports a selector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db.models import Max, Q, QuerySet, Sum

from ledger import schedule
from ledger.models import (
    SPEND_ORDER,
    Account,
    AccountKind,
    AccountRefresh,
    Lot,
    LotSource,
    Refresh,
    RefreshKind,
)
from teams.models import SeatStatus

# --------------------------------------------------------------------------------------------
# Building blocks shared with the services
# --------------------------------------------------------------------------------------------


def spendable_lots(account: Account | int, at: datetime) -> QuerySet[Lot]:
    """Lots with credits that can still be spent at `at`, in spend order (R6)."""
    return (
        Lot.objects.filter(account=account, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .order_by(*SPEND_ORDER)
    )


def capped_balance(account: Account, *, surviving_past: datetime | None = None) -> int:
    """Credits that count towards the cap: all but purchased ones (R4).

    With `surviving_past`, only credits still alive at that instant (expiring after it).
    """
    return capped_balances({account.pk: surviving_past})[account.pk]


def capped_balances(surviving_past: Mapping[int, datetime | None]) -> dict[int, int]:
    """`capped_balance` of many accounts in one query. `surviving_past` maps each account's id
    to the instant its credits must outlive (None: count them all); the answer maps it to its
    credits."""
    if not surviving_past:
        return {}
    found = dict.fromkeys(surviving_past, 0)
    rows = (
        Lot.objects.filter(account_id__in=list(surviving_past), remaining__gt=0)
        .exclude(source=LotSource.PURCHASE)
        .values_list("account_id", "expires_at")
        .annotate(total=Sum("remaining"))
        .order_by()
    )
    for account_id, expires_at, total in rows:
        past = surviving_past[account_id]
        if past is None or expires_at is None or expires_at > past:
            found[account_id] += int(total)
    return found


def last_refresh_at(account: Account) -> datetime:
    """The instant of the last refresh applied to the account (or its schedule's start)."""
    return last_refreshes_at([account])[account.pk]


def last_refreshes_at(accounts: Iterable[Account]) -> dict[int, datetime]:
    """`last_refresh_at` of many accounts in one query."""
    accounts = list(accounts)
    last = dict(
        Refresh.objects.filter(account__in=accounts, kind=RefreshKind.REFRESH)
        .values("account_id")
        .annotate(last=Max("period_on"))
        .values_list("account_id", "last")
        .order_by()
    )
    return {a.pk: schedule.start_of_day(last.get(a.pk) or a.anchor_on) for a in accounts}


def refresh_due_at(account: Account) -> datetime | None:
    """When the account's next monthly refresh is due; None for accounts that don't refresh."""
    return refreshes_due_at([account])[account.pk]


def refreshes_due_at(accounts: Iterable[Account]) -> dict[int, datetime | None]:
    """`refresh_due_at` of many accounts in one query."""
    accounts = list(accounts)
    last = last_refreshes_at(
        [a for a in accounts if a.is_open and a.refresh != AccountRefresh.NONE]
    )
    return {
        a.pk: schedule.next_refresh_at(a.anchor_on, a.refresh, last[a.pk]) if a.pk in last else None
        for a in accounts
    }


def pool_of(team_id: int) -> Account | None:
    return Account.objects.filter(kind=AccountKind.POOL, team_id=team_id).first()


def active_pooled_seat_accounts(team_id: int) -> list[Account]:
    return active_pooled_seat_accounts_by_team([team_id]).get(team_id, [])


def active_pooled_seat_accounts_by_team(team_ids: Iterable[int]) -> dict[int, list[Account]]:
    """The open accounts of the active pooled seats of these teams, by team, in seat order."""
    found: dict[int, list[Account]] = {}
    accounts = (
        Account.objects.filter(
            team_id__in=list(team_ids),
            kind=AccountKind.SEAT,
            refresh=AccountRefresh.NONE,
            is_open=True,
            seat__status=SeatStatus.ACTIVE,
        )
        .select_related("seat__plan", "seat__holder")
        .order_by("seat_id")
    )
    for account in accounts:
        found.setdefault(account.team_id, []).append(account)
    return found


# --------------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------------


def _update_next_due(account: Account) -> None:
    next_expiry = (
        Lot.objects.filter(account=account, remaining__gt=0, expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    candidates = [t for t in (next_expiry, refresh_due_at(account)) if t is not None]
    account.next_due_at = min(candidates) if candidates else None
