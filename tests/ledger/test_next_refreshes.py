"""The next refresh of many accounts at once (what the org-wide alert pass reads for every seat
near its cap and every pool): the same answers as one account at a time, in a fixed number of
queries whatever the number of accounts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db.models import Q, Sum

from ledger import schedule
from ledger.models import Account, AccountKind, Lot, LotSource
from ledger.selectors import next_refreshes_of_pools, next_refreshes_of_seat_accounts
from ledger.services import ledger_tick
from ledger.services.accounts import capped_balances, last_refreshes_at, refreshes_due_at
from tests.ledger.helpers import new_team, seat_on, send, utc

pytestmark = pytest.mark.django_db

START = utc(2025, 1, 31, 9)


@pytest.fixture
def accounts(clock: time_machine.Traveller) -> list[Account]:
    """Own seats on three plans (one anchored on the 31st), and two pooled teams; 75 days of
    refreshes and expiries applied, some credits spent."""
    own = [
        seat_on("recruiter_lite"),
        seat_on("premium_business"),
        seat_on("sales_navigator_core", activated_on=START.date()),
    ]
    for n in range(2):
        team = new_team(f"Pooled {n}")
        for _ in range(2 + n):
            seat_on("recruiter_corporate", team=team, pool_access=True, monthly_allocation=10)
    clock.shift(timedelta(days=40))
    ledger_tick()
    for n, seat in enumerate(own):
        send(seat, f"linkedin.com/in/candidate-{n}")
    clock.shift(timedelta(days=35))
    ledger_tick()
    return list(Account.objects.filter(is_open=True).select_related("seat__plan").order_by("pk"))


def capped_by_sum(account: Account, past: Any) -> int:
    """R4's capped balance as one SUM, the way `capped_balance` used to read it."""
    lots = Lot.objects.filter(account=account, remaining__gt=0).exclude(source=LotSource.PURCHASE)
    if past is not None:
        lots = lots.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=past))
    return int(lots.aggregate(total=Sum("remaining"))["total"] or 0)


def test_capped_balances_equal_one_sum_per_account(
    accounts: list[Account], django_assert_num_queries: Any
) -> None:
    now = START + timedelta(days=75)
    for past in (None, now, now + timedelta(days=20), now + timedelta(days=60)):
        wanted = {account.pk: past for account in accounts}
        with django_assert_num_queries(1):
            found = capped_balances(wanted)
        assert found == {account.pk: capped_by_sum(account, past) for account in accounts}
    assert sum(capped_balances({a.pk: None for a in accounts}).values()) > 0


def test_refreshes_due_at_equal_one_account_at_a_time(
    accounts: list[Account], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        together = refreshes_due_at(accounts)
    alone = {account.pk: refreshes_due_at([account])[account.pk] for account in accounts}
    assert together == alone
    refreshing = [a for a in accounts if together[a.pk] is not None]
    assert len(refreshing) == 5, "the three own seats and the two pools refresh, pooled seats don't"
    assert last_refreshes_at(refreshing) == {a.pk: last_refreshes_at([a])[a.pk] for a in refreshing}


def test_seat_accounts_together_equal_one_at_a_time(
    accounts: list[Account], django_assert_num_queries: Any
) -> None:
    own = [a for a in accounts if a.kind == AccountKind.SEAT]
    with django_assert_num_queries(2):
        together = next_refreshes_of_seat_accounts(own)
    assert together == {a.pk: next_refreshes_of_seat_accounts([a])[a.pk] for a in own}
    assert sum(1 for upcoming in together.values() if upcoming.on is not None) == 3
    dues = refreshes_due_at(own)
    for account in own:
        due, upcoming = dues[account.pk], together[account.pk]
        if due is None:
            continue
        # R4, from the lots themselves: min(monthly, max(0, cap - capped balance at the refresh)).
        plan = account.seat.plan  # type: ignore[union-attr]
        room = max(0, plan.max_balance - capped_by_sum(account, due))
        assert upcoming.on == schedule.local_date(due)
        assert upcoming.credits == min(plan.monthly_credits, room)
        assert upcoming.lost_to_cap == plan.monthly_credits - upcoming.credits


def test_pools_together_equal_one_at_a_time(
    accounts: list[Account], django_assert_num_queries: Any
) -> None:
    pools = [a for a in accounts if a.kind == AccountKind.POOL]
    assert len(pools) == 2
    with django_assert_num_queries(3):
        together = next_refreshes_of_pools(pools)
    assert together == {pool.pk: next_refreshes_of_pools([pool])[pool.pk] for pool in pools}
    # Recruiter Corporate adds 150 a month per active pooled seat (2 and 3 seats); the pools
    # were anchored on 31 January, so April's refresh falls on the 30th.
    assert sorted((u.on, u.credits, u.lost_to_cap) for u in together.values()) == [
        (date(2025, 4, 30), 300, 0),
        (date(2025, 4, 30), 450, 0),
    ]
