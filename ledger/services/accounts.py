"""Reads the services need under their locks: spendable lots, the capped balance, refresh times.

The selectors use them too (a seat's balance, what the next refresh grants); they live here,
below both, so that a service never imports a selector.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet, Sum

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
    lots = Lot.objects.filter(account=account, remaining__gt=0).exclude(source=LotSource.PURCHASE)
    if surviving_past is not None:
        lots = lots.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=surviving_past))
    return int(lots.aggregate(total=Sum("remaining"))["total"] or 0)


def last_refresh_at(account: Account) -> datetime:
    """The instant of the last refresh applied to the account (or its schedule's start)."""
    last = (
        Refresh.objects.filter(account=account, kind=RefreshKind.REFRESH)
        .order_by("-period_on")
        .values_list("period_on", flat=True)
        .first()
    )
    return schedule.start_of_day(last or account.anchor_on)


def refresh_due_at(account: Account) -> datetime | None:
    """When the account's next monthly refresh is due; None for accounts that don't refresh."""
    if not account.is_open or account.refresh == AccountRefresh.NONE:
        return None
    return schedule.next_refresh_at(account.anchor_on, account.refresh, last_refresh_at(account))


def pool_of(team_id: int) -> Account | None:
    return Account.objects.filter(kind=AccountKind.POOL, team_id=team_id).first()


def active_pooled_seat_accounts(team_id: int) -> list[Account]:
    return list(
        Account.objects.filter(
            team_id=team_id,
            kind=AccountKind.SEAT,
            refresh=AccountRefresh.NONE,
            is_open=True,
            seat__status=SeatStatus.ACTIVE,
        )
        .select_related("seat__plan", "seat__holder")
        .order_by("seat_id")
    )


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
