"""Team pools, allocations and transfers of the pooled Recruiter Corporate plan (SPEC R14)."""

from __future__ import annotations

from datetime import date

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import (
    InsufficientCredits,
    LedgerValidationError,
    NoPool,
    PoolInsufficient,
)
from ledger.models import (
    Account,
    AccountKind,
    Entry,
    EntryKind,
    Lot,
    PaidFrom,
    Refresh,
    RefreshKind,
)
from ledger.selectors import pool_balance, seat_balance
from ledger.services import (
    TransferResult,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    ledger_bring_all_up_to_date,
    pool_transfer,
    seat_cancel,
    seat_update_settings,
)
from teams.models import Seat, Team
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    footprint,
    new_team,
    own_balance,
    seat_on,
    send,
    set_plan,
    utc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db: None) -> Team:
    return new_team("Talent North")


@pytest.fixture
def pooled(team: Team, time_machine: TimeMachineFixture) -> Seat:
    """The team's first Recruiter Corporate seat, activated on 10 January 2025; now 12 January."""
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 1, 12, 9))
    return seat


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


# --- the pool and pooled activations --------------------------------------------------------------


def test_the_first_pooled_seat_creates_the_team_pool_holding_its_credits(
    team: Team, pooled: Seat
) -> None:
    pool = pool_of_team(team)
    assert (pool.kind, pool.anchor_on, pool.seat) == (AccountKind.POOL, date(2025, 1, 10), None)
    assert pool_credits(team) == 150
    assert own_balance(pooled) == 0
    grant = Refresh.objects.get(account=pool)
    assert (grant.kind, grant.seat, grant.due_at, grant.monthly, grant.cap, grant.granted) == (
        RefreshKind.ACTIVATION,
        pooled,
        utc(2025, 1, 10),
        150,
        600,
        150,
    )


def test_a_pooled_seat_may_spend_the_pool(pooled: Seat) -> None:
    balance = seat_balance(pooled)

    assert pooled.pool_access is True
    assert (balance.own, balance.pool_available, balance.available) == (0, 150, 150)


def test_a_later_pooled_seat_adds_its_monthly_credits_at_its_activation(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 15))
    second = seat_on("recruiter_corporate", team=team)

    assert pool_credits(team) == 300
    assert own_balance(second) == 0
    grant = Refresh.objects.get(account=pool_of_team(team), seat=second)
    assert (grant.due_at, grant.granted, grant.cap, grant.capped_before) == (
        utc(2025, 1, 20),
        150,
        1200,
        150,
    )
    assert pool_of_team(team).anchor_on == date(2025, 1, 10)


def test_the_pool_refreshes_on_the_anchor_day_of_its_first_pooled_seat(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 15))
    seat_on("recruiter_corporate", team=team)

    time_machine.move_to(utc(2025, 2, 9, 23, 59, 59))
    assert pool_credits(team) == 300
    time_machine.move_to(utc(2025, 2, 10))
    assert pool_credits(team) == 600
    time_machine.move_to(utc(2025, 2, 20, 12))
    assert pool_credits(team) == 600

    assert pool_refreshes(team) == [(date(2025, 2, 10), 300, 1200, 300, 300, 0)]


def test_a_pooled_seat_activated_in_the_past_creates_a_pool_brought_up_to_date(
    team: Team, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 9), tick=False)
    seat_on("recruiter_corporate", team=team, activated_on=date(2024, 12, 10))

    assert pool_of_team(team).anchor_on == date(2024, 12, 10)
    assert pool_credits(team) == 300
    assert pool_refreshes(team) == [(date(2025, 1, 10), 150, 600, 150, 150, 0)]


def test_a_refresh_missed_before_a_later_activation_counts_only_the_seats_active_then(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    # Nothing touched the pool on 10 February; the second seat comes on 15 February.
    time_machine.move_to(utc(2025, 2, 15, 9))
    seat_on("recruiter_corporate", team=team)

    assert pool_credits(team) == 450
    assert pool_refreshes(team) == [(date(2025, 2, 10), 150, 600, 150, 150, 0)]


def test_a_pooled_seat_may_be_activated_today_after_the_pool_refreshed_today(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 10, 9))
    ledger_bring_all_up_to_date()
    assert pool_credits(team) == 300

    second = seat_on("recruiter_corporate", team=team)

    assert second.activated_on == date(2025, 2, 10)
    assert pool_credits(team) == 450


def test_a_pooled_seat_cannot_be_activated_before_a_pool_refresh_already_applied(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 15, 9))
    assert pool_credits(team) == 300
    seats = Seat.objects.count()

    with pytest.raises(LedgerValidationError) as refused:
        seat_on("recruiter_corporate", team=team, activated_on=date(2025, 2, 5))

    assert refused.value.field == "activated_on"
    assert Seat.objects.count() == seats
    assert pool_credits(team) == 300


def test_a_pooled_seat_may_be_backdated_to_after_the_last_pool_refresh(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 15, 9))
    assert pool_credits(team) == 300

    seat_on("recruiter_corporate", team=team, activated_on=date(2025, 2, 12))

    assert pool_credits(team) == 450
    assert Refresh.objects.filter(account=pool_of_team(team)).latest("id").due_at == utc(
        2025, 2, 12
    )


def test_a_cancelled_pooled_seat_no_longer_counts_at_the_pool_refresh(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 15))
    second = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 2, 1, 9))
    seat_cancel(seat=second, cause=SYSTEM)
    assert pool_credits(team) == 300

    time_machine.move_to(utc(2025, 2, 10))
    assert pool_credits(team) == 450
    assert pool_refreshes(team) == [(date(2025, 2, 10), 150, 600, 300, 150, 0)]


def test_cancelling_a_pooled_seat_forfeits_its_own_credits_not_the_pool(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 15))
    second = seat_on("recruiter_corporate", team=team)
    pool_transfer(team=team, seat=second, credits=20, cause=SYSTEM)

    seat_cancel(seat=second, cause=SYSTEM)

    assert account_of(second).balance == 0
    forfeits = Entry.objects.filter(account=account_of(second), kind=EntryKind.FORFEIT)
    assert sum(forfeits.values_list("amount", flat=True)) == -20
    assert pool_credits(team) == 280


# --- the pool cap ------------------------------------------------------------------------------


def test_the_pool_stops_at_the_cap_counted_over_the_pool_and_its_seats(
    team: Team, time_machine: TimeMachineFixture
) -> None:
    set_plan("recruiter_corporate", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 3, 15, 9))
    pool_transfer(team=team, seat=seat, credits=100, cause=SYSTEM)
    assert (pool_credits(team), own_balance(seat)) == (350, 100)

    time_machine.move_to(utc(2025, 5, 10))
    assert (pool_credits(team), own_balance(seat)) == (500, 100)
    assert pool_refreshes(team) == [
        (date(2025, 2, 10), 150, 600, 150, 150, 0),
        (date(2025, 3, 10), 150, 600, 300, 150, 0),
        (date(2025, 4, 10), 150, 600, 450, 150, 0),
        (date(2025, 5, 10), 150, 600, 600, 0, 150),
    ]


def test_the_pool_cap_grows_with_each_active_pooled_seat(
    team: Team, time_machine: TimeMachineFixture
) -> None:
    set_plan("recruiter_corporate", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat_on("recruiter_corporate", team=team)
    seat_on("recruiter_corporate", team=team)

    time_machine.move_to(utc(2025, 5, 10))
    assert pool_credits(team) == 1200
    assert pool_refreshes(team)[-1] == (date(2025, 5, 10), 300, 1200, 1200, 0, 300)
    balance = pool_balance(team)
    assert balance is not None
    assert balance.cap == 1200


def test_credits_above_the_pool_cap_are_trimmed_earliest_expiring_first_across_pool_and_seats(
    team: Team, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 1, 20, 9))
    adjustment_post(seat=seat, credits=300, reason="LinkedIn shows 450", cause=SYSTEM)
    time_machine.move_to(utc(2025, 2, 5, 9))
    bonus_grant(seat=seat, credits=200, memo="Hiring sprint", cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 10))
    # 150 (pool) + 300 + 200 (seat) = 650 > 600: nothing granted, and 50 of the seat's bonus,
    # which expires soonest (7 March), go.
    assert (pool_credits(team), own_balance(seat)) == (150, 450)
    assert pool_refreshes(team) == [(date(2025, 2, 10), 150, 600, 650, 0, 200)]
    trimmed = Entry.objects.get(kind=EntryKind.LOST_TO_CAP)
    assert (trimmed.account, trimmed.at, trimmed.amount) == (
        account_of(seat),
        utc(2025, 2, 10),
        -50,
    )
    assert trimmed.lot.expires_at == utc(2025, 3, 7, 9)


# --- allocations -----------------------------------------------------------------------------


def test_a_monthly_allocation_moves_credits_from_the_pool_at_each_refresh(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    seat_update_settings(seat=pooled, monthly_allocation=40, cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 9, 23, 59, 59))
    assert (pool_credits(team), own_balance(pooled)) == (150, 0)
    time_machine.move_to(utc(2025, 2, 10))
    assert (pool_credits(team), own_balance(pooled)) == (260, 40)

    moves = Entry.objects.filter(kind=EntryKind.ALLOCATION).order_by("id")
    assert [(e.account.kind, e.at, e.amount) for e in moves] == [
        (AccountKind.POOL, utc(2025, 2, 10), -40),
        (AccountKind.SEAT, utc(2025, 2, 10), 40),
    ]


def test_allocated_credits_keep_the_expiry_of_the_pool_lot_they_came_from(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    seat_update_settings(seat=pooled, monthly_allocation=40, cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 10))
    own_balance(pooled)

    moved = Lot.objects.get(account=account_of(pooled))
    assert moved.moved_from is not None
    assert moved.moved_from.account == pool_of_team(team)
    assert (moved.source, moved.granted_at, moved.expires_at) == (
        moved.moved_from.source,
        moved.moved_from.granted_at,
        moved.moved_from.expires_at,
    )
    # Spend order: the pool's 10 January lot (to 10 April) goes before the new grant.
    assert moved.expires_at == utc(2025, 4, 10)


def test_each_pooled_seat_receives_its_own_allocation(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    second = seat_on("recruiter_corporate", team=team, monthly_allocation=60)
    seat_update_settings(seat=pooled, monthly_allocation=40, cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 10))
    assert (own_balance(pooled), own_balance(second), pool_credits(team)) == (40, 60, 500)


def test_an_allocation_larger_than_the_pool_moves_what_the_pool_holds(
    team: Team, pooled: Seat, time_machine: TimeMachineFixture
) -> None:
    seat_update_settings(seat=pooled, monthly_allocation=400, cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 10))
    assert (pool_credits(team), own_balance(pooled)) == (0, 300)


def test_a_pooled_seats_next_refresh_is_the_pools_and_brings_its_allocation(
    team: Team, pooled: Seat
) -> None:
    pooled = seat_update_settings(seat=pooled, monthly_allocation=40, cause=SYSTEM)

    balance = seat_balance(pooled)
    assert (balance.next_refresh_on, balance.next_refresh_credits) == (date(2025, 2, 10), 40)


def test_an_allocation_is_refused_for_a_seat_outside_a_pooled_plan(
    team: Team, pooled: Seat
) -> None:
    lite = seat_on("recruiter_lite", team=team)

    with pytest.raises(LedgerValidationError) as refused:
        seat_update_settings(seat=lite, monthly_allocation=10, cause=SYSTEM)

    assert refused.value.field == "monthly_allocation"


def test_a_negative_allocation_is_refused(pooled: Seat) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        seat_update_settings(seat=pooled, monthly_allocation=-5, cause=SYSTEM)

    assert refused.value.field == "monthly_allocation"


# --- spending the pool ----------------------------------------------------------------------------


def test_a_pooled_seat_spends_its_own_credits_first_then_the_pool(team: Team, pooled: Seat) -> None:
    pool_transfer(team=team, seat=pooled, credits=2, cause=SYSTEM)

    paid_from = [send(pooled, f"member-{n}").inmail.paid_from for n in range(3)]

    assert paid_from == [PaidFrom.SEAT, PaidFrom.SEAT, PaidFrom.POOL]
    assert (own_balance(pooled), pool_credits(team)) == (0, 147)


def test_an_inmail_paid_by_the_pool_books_the_spend_on_the_pool(team: Team, pooled: Seat) -> None:
    inmail = send(pooled).inmail

    assert (inmail.credit_cost, inmail.paid_from, inmail.paid_account) == (
        1,
        PaidFrom.POOL,
        pool_of_team(team),
    )
    spend = Entry.objects.get(inmail=inmail)
    assert (spend.account, spend.kind, spend.amount, spend.balance_after) == (
        pool_of_team(team),
        EntryKind.SPEND,
        -1,
        149,
    )


def test_the_last_pool_credit_can_be_spent_and_then_sends_are_refused(
    team: Team, pooled: Seat
) -> None:
    second = seat_on("recruiter_corporate", team=team, pool_access=False)
    pool_transfer(team=team, seat=second, credits=299, cause=SYSTEM)

    assert send(pooled, "member-1").inmail.paid_from == PaidFrom.POOL
    assert pool_credits(team) == 0
    before = footprint(pooled)
    with pytest.raises(InsufficientCredits):
        send(pooled, "member-2")
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
    assert (balance.available, balance.cap, balance.next_refresh_on) == (
        290,
        1200,
        date(2025, 2, 10),
    )
    assert [(s.seat, s.monthly_allocation, s.own) for s in balance.seats] == [
        (pooled, None, 0),
        (second, 25, 10),
    ]
    assert balance.next_refresh_credits == 300
