"""Team pools of the pooled Recruiter Corporate plan: spending the pool and transfers (R14)."""

from __future__ import annotations

from datetime import date

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import InsufficientCredits, LedgerValidationError, NoPool, PoolInsufficient
from ledger.models import AccountKind, Entry, EntryKind, Lot, PaidFrom
from ledger.selectors import pool_balance, seat_balance
from ledger.services import (
    TransferResult,
    adjustment_post,
    inmail_record_response,
    pool_transfer,
    seat_update_settings,
)
from teams.models import Seat, Team
from tests.fields import differences
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    footprint,
    new_team,
    own_balance,
    seat_on,
    send,
    utc,
)
from tests.ledger.pool.helpers import pool_credits, pool_of_team

pytestmark = pytest.mark.django_db


# --- spending the pool ----------------------------------------------------------------------------


def test_a_pooled_seat_spends_its_own_credits_first_then_the_pool(team: Team, pooled: Seat) -> None:
    pool_transfer(team=team, seat=pooled, credits=2, cause=SYSTEM)

    paid_from = [send(pooled, f"linkedin.com/in/member-{n}").inmail.paid_from for n in range(3)]

    assert paid_from == [PaidFrom.SEAT, PaidFrom.SEAT, PaidFrom.POOL]
    assert (own_balance(pooled), pool_credits(team)) == (0, 147)


def test_an_inmail_paid_by_the_pool_books_the_spend_on_the_pool(team: Team, pooled: Seat) -> None:
    inmail = send(pooled).inmail

    assert not differences(
        inmail, credit_cost=1, paid_from=PaidFrom.POOL, paid_account=pool_of_team(team)
    )
    spend = Entry.objects.get(inmail=inmail)
    assert not differences(
        spend, account=pool_of_team(team), kind=EntryKind.SPEND, amount=-1, balance_after=149
    )


def test_the_last_pool_credit_can_be_spent_and_then_sends_are_refused(
    team: Team, pooled: Seat
) -> None:
    second = seat_on("recruiter_corporate", team=team, pool_access=False)
    pool_transfer(team=team, seat=second, credits=299, cause=SYSTEM)

    assert send(pooled, "linkedin.com/in/member-1").inmail.paid_from == PaidFrom.POOL
    assert pool_credits(team) == 0
    before = footprint(pooled)
    with pytest.raises(InsufficientCredits):
        send(pooled, "linkedin.com/in/member-2")
    assert footprint(pooled) == before


def test_a_refund_of_a_pool_paid_inmail_returns_to_the_pool(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    inmail = send(pooled).inmail
    time_machine.move_to(utc(2025, 1, 14, 9))

    answered = inmail_record_response(inmail=inmail, outcome="accepted", cause=SYSTEM)

    assert answered.refunded is True
    assert (pool_credits(team), own_balance(pooled)) == (150, 0)
    refund_lot = Lot.objects.get(refund_of=inmail)
    assert refund_lot.account == pool_of_team(team)
    assert refund_lot.expires_at == utc(2025, 4, 14, 9)


def test_a_refund_of_a_seat_paid_inmail_returns_to_the_seat(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    pool_transfer(team=team, seat=pooled, credits=1, cause=SYSTEM)
    inmail = send(pooled).inmail
    assert inmail.paid_from == PaidFrom.SEAT

    inmail_record_response(inmail=inmail, outcome="replied", cause=SYSTEM)

    assert (pool_credits(team), own_balance(pooled)) == (149, 1)
    assert Lot.objects.get(refund_of=inmail).account == account_of(pooled)


def test_a_pooled_seat_without_pool_access_cannot_spend_the_pool(team: Team, pooled: Seat) -> None:
    barred = seat_on("recruiter_corporate", team=team, pool_access=False)

    assert seat_balance(barred).pool_available == 0
    with pytest.raises(InsufficientCredits):
        send(barred)
    assert pool_credits(team) == 300


def test_revoking_pool_access_stops_spending_from_the_pool(team: Team, pooled: Seat) -> None:
    seat_update_settings(seat=pooled, pool_access=False, cause=SYSTEM)

    with pytest.raises(InsufficientCredits):
        send(pooled)
    assert pool_credits(team) == 150


def test_a_non_pooled_seat_in_the_team_cannot_use_the_pool(team: Team, pooled: Seat) -> None:
    lite = seat_on("recruiter_lite", team=team)
    adjustment_post(seat=lite, credits=-30, reason="LinkedIn shows 0", cause=SYSTEM)

    assert seat_balance(lite).pool_available == 0
    with pytest.raises(InsufficientCredits):
        send(lite)
    assert pool_credits(team) == 150


def test_pool_access_cannot_be_given_to_a_non_pooled_seat(team: Team, pooled: Seat) -> None:
    lite = seat_on("recruiter_lite", team=team)

    with pytest.raises(LedgerValidationError) as refused:
        seat_update_settings(seat=lite, pool_access=True, cause=SYSTEM)

    assert refused.value.field == "pool_access"


# --- transfers -----------------------------------------------------------------------------------


def test_a_transfer_moves_credits_from_the_pool_to_a_seat_and_back(
    team: Team, pooled: Seat
) -> None:
    assert pool_transfer(team=team, seat=pooled, credits=50, cause=SYSTEM) == TransferResult(
        pool_available=100, seat_own=50
    )
    assert pool_transfer(team=team, seat=pooled, credits=-20, cause=SYSTEM) == TransferResult(
        pool_available=120, seat_own=30
    )
    assert (pool_credits(team), own_balance(pooled)) == (120, 30)
    transfers = Entry.objects.filter(kind=EntryKind.TRANSFER).order_by("id")
    assert [(e.account.kind, e.amount) for e in transfers] == [
        (AccountKind.POOL, -50),
        (AccountKind.SEAT, 50),
        (AccountKind.SEAT, -20),
        (AccountKind.POOL, 20),
    ]


def test_transferred_credits_keep_their_expiry(team: Team, pooled: Seat) -> None:
    pool_transfer(team=team, seat=pooled, credits=50, cause=SYSTEM)

    moved = Lot.objects.get(account=account_of(pooled))
    assert (moved.granted_at, moved.expires_at) == (utc(2025, 1, 10), utc(2025, 4, 10))


def test_a_transfer_of_more_than_the_pool_holds_is_refused(team: Team, pooled: Seat) -> None:
    before = footprint(pooled)

    with pytest.raises(PoolInsufficient) as refused:
        pool_transfer(team=team, seat=pooled, credits=151, cause=SYSTEM)

    assert refused.value.code == "pool_insufficient"
    assert footprint(pooled) == before
    assert pool_credits(team) == 150


def test_the_whole_pool_can_be_transferred(team: Team, pooled: Seat) -> None:
    result = pool_transfer(team=team, seat=pooled, credits=150, cause=SYSTEM)

    assert result == TransferResult(pool_available=0, seat_own=150)


def test_a_transfer_back_of_more_than_the_seat_holds_is_refused(team: Team, pooled: Seat) -> None:
    pool_transfer(team=team, seat=pooled, credits=10, cause=SYSTEM)
    before = footprint(pooled)

    with pytest.raises(InsufficientCredits) as refused:
        pool_transfer(team=team, seat=pooled, credits=-11, cause=SYSTEM)

    assert refused.value.code == "insufficient_credits"
    assert footprint(pooled) == before


def test_a_team_without_a_pool_has_nothing_to_transfer(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team("Talent South")
    seat = seat_on("recruiter_lite", team=team)

    with pytest.raises(NoPool) as refused:
        pool_transfer(team=team, seat=seat, credits=5, cause=SYSTEM)

    assert refused.value.code == "no_pool"
    assert pool_balance(team) is None


def test_a_transfer_of_zero_credits_is_refused(team: Team, pooled: Seat) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        pool_transfer(team=team, seat=pooled, credits=0, cause=SYSTEM)

    assert refused.value.field == "credits"


def test_a_non_pooled_seat_cannot_take_pool_credits(team: Team, pooled: Seat) -> None:
    lite = seat_on("recruiter_lite", team=team)

    with pytest.raises(LedgerValidationError) as refused:
        pool_transfer(team=team, seat=lite, credits=5, cause=SYSTEM)

    assert refused.value.field == "seat"
    assert pool_credits(team) == 150


def test_a_seat_of_another_team_cannot_take_pool_credits(team: Team, pooled: Seat) -> None:
    outsider = seat_on("recruiter_corporate", team=new_team("Talent South"))

    with pytest.raises(LedgerValidationError) as refused:
        pool_transfer(team=team, seat=outsider, credits=5, cause=SYSTEM)

    assert refused.value.field == "seat"
    assert pool_credits(team) == 150


def test_the_pool_balance_lists_its_pooled_seats(team: Team, pooled: Seat) -> None:
    second = seat_on("recruiter_corporate", team=team, monthly_allocation=25)
    pool_transfer(team=team, seat=second, credits=10, cause=SYSTEM)

    balance = pool_balance(team)

    assert balance is not None
    assert not differences(balance, available=290, cap=1200, next_refresh_on=date(2025, 2, 10))
    assert [(s.seat, s.monthly_allocation, s.own) for s in balance.seats] == [
        (pooled, None, 0),
        (second, 25, 10),
    ]
    assert balance.next_refresh_credits == 300
