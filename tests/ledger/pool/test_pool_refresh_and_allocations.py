"""Team pools of the pooled Recruiter Corporate plan: pooled activations, the pool cap and
allocations (R14)."""

from __future__ import annotations

from datetime import date

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import LedgerValidationError
from ledger.models import AccountKind, Entry, EntryKind, Lot, Refresh, RefreshKind
from ledger.selectors import pool_balance, seat_balance
from ledger.services import (
    adjustment_post,
    bonus_grant,
    ledger_bring_all_up_to_date,
    pool_transfer,
    seat_cancel,
    seat_update_settings,
)
from teams.models import AuditEvent, Seat, Team
from tests.fields import differences
from tests.ledger.helpers import SYSTEM, account_of, own_balance, seat_on, set_plan, utc
from tests.ledger.pool.helpers import pool_credits, pool_of_team, pool_refreshes

pytestmark = pytest.mark.django_db


# --- the pool and pooled activations --------------------------------------------------------------


def test_the_first_pooled_seat_creates_the_team_pool_holding_its_credits(
    team: Team, pooled: Seat
) -> None:
    pool = pool_of_team(team)
    assert (pool.kind, pool.anchor_on, pool.seat) == (AccountKind.POOL, date(2025, 1, 10), None)
    assert pool_credits(team) == 150
    assert own_balance(pooled) == 0
    grant = Refresh.objects.get(account=pool)
    assert not differences(
        grant,
        kind=RefreshKind.ACTIVATION,
        seat=pooled,
        due_at=utc(2025, 1, 10),
        monthly=150,
        cap=600,
        granted=150,
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
    assert not differences(grant, due_at=utc(2025, 1, 20), granted=150, cap=1200, capped_before=150)
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
    assert not differences(trimmed, account=account_of(seat), at=utc(2025, 2, 10), amount=-50)
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
    assert not differences(
        moved,
        source=moved.moved_from.source,
        granted_at=moved.moved_from.granted_at,
        expires_at=moved.moved_from.expires_at,
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
    # The pool is emptied and the seat's own balance leaves the cap room for 50 credits only.
    pool_transfer(team=team, seat=pooled, credits=150, cause=SYSTEM)
    adjustment_post(seat=pooled, credits=400, reason="LinkedIn shows 550", cause=SYSTEM)
    seat_update_settings(seat=pooled, monthly_allocation=150, cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 10))
    assert (pool_credits(team), own_balance(pooled)) == (0, 600)


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


# --- the allocation's bound: the pool's monthly grant ------------------------------------------


def test_an_allocation_equal_to_the_pools_monthly_grant_is_allowed(
    team: Team, pooled: Seat
) -> None:
    seat_on("recruiter_corporate", team=team)  # two pooled seats: the pool gets 300 a month

    pooled = seat_update_settings(seat=pooled, monthly_allocation=300, cause=SYSTEM)

    pooled.refresh_from_db()
    assert pooled.monthly_allocation == 300


def test_an_allocation_above_the_pools_monthly_grant_is_refused_and_nothing_changes(
    team: Team, pooled: Seat
) -> None:
    seat_on("recruiter_corporate", team=team)
    seat_update_settings(seat=pooled, monthly_allocation=40, cause=SYSTEM)
    events = AuditEvent.objects.count()

    with pytest.raises(LedgerValidationError) as refused:
        seat_update_settings(seat=pooled, monthly_allocation=301, pool_access=False, cause=SYSTEM)

    assert refused.value.field == "monthly_allocation"
    assert refused.value.message == (
        "An allocation of 301 credits a month is more than the team pool receives: its monthly "
        "grant is 300 credits (the monthly credits of the team's active pooled seats)."
    )
    pooled.refresh_from_db()
    assert (pooled.monthly_allocation, pooled.pool_access) == (40, True)
    assert AuditEvent.objects.count() == events


def test_a_cancelled_pooled_seat_no_longer_counts_toward_the_grant(
    team: Team, pooled: Seat
) -> None:
    second = seat_on("recruiter_corporate", team=team)
    seat_cancel(seat=second, cause=SYSTEM)

    with pytest.raises(LedgerValidationError):
        seat_update_settings(seat=pooled, monthly_allocation=151, cause=SYSTEM)
    assert seat_update_settings(seat=pooled, monthly_allocation=150, cause=SYSTEM)


def test_an_allocation_kept_as_it_was_stays_allowed_after_the_grant_shrinks(
    team: Team, pooled: Seat
) -> None:
    second = seat_on("recruiter_corporate", team=team)
    seat_update_settings(seat=pooled, monthly_allocation=200, cause=SYSTEM)
    seat_cancel(seat=second, cause=SYSTEM)

    pooled = seat_update_settings(
        seat=pooled, monthly_allocation=200, pool_access=False, cause=SYSTEM
    )

    assert (pooled.monthly_allocation, pooled.pool_access) == (200, False)


def test_activation_counts_the_new_seat_in_the_grant(team: Team, pooled: Seat) -> None:
    second = seat_on("recruiter_corporate", team=team, monthly_allocation=300)
    assert second.monthly_allocation == 300
    seats = Seat.objects.count()

    with pytest.raises(LedgerValidationError) as refused:
        seat_on("recruiter_corporate", team=team, monthly_allocation=451)

    assert refused.value.field == "monthly_allocation"
    assert refused.value.message.startswith("An allocation of 451 credits a month")
    assert "its monthly grant is 450 credits" in refused.value.message
    assert Seat.objects.count() == seats
    assert pool_credits(team) == 300
