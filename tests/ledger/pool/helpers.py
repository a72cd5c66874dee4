"""A team's pool as the pool tests read it: its account, balance and refreshes."""

from __future__ import annotations

from datetime import date

from ledger.models import Account, AccountKind, Refresh, RefreshKind
from ledger.selectors import pool_balance
from teams.models import Team


def pool_of_team(team: Team) -> Account:
    return Account.objects.get(team=team, kind=AccountKind.POOL)


def pool_credits(team: Team) -> int:
    """The pool's balance now (brought up to date)."""
    balance = pool_balance(team)
    assert balance is not None
    return balance.available


def pool_refreshes(team: Team) -> list[tuple[date, int, int, int, int, int]]:
    """(period_on, monthly, cap, capped_before, granted, lost_to_cap) of the pool's refreshes."""
    return list(
        Refresh.objects.filter(account=pool_of_team(team), kind=RefreshKind.REFRESH)
        .order_by("period_on")
        .values_list("period_on", "monthly", "cap", "capped_before", "granted", "lost_to_cap")
    )
