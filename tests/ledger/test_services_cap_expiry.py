"""The cap, age expiry and catch-up (R4, R5, R17)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from time_machine import TimeMachineFixture

from ledger.models import Entry, EntryKind, Lot, LotSource, Refresh
from ledger.selectors import seat_balance
from ledger.services import (
    adjustment_post,
    bonus_grant,
    ledger_bring_all_up_to_date,
    purchase_record,
)
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    ledger_rows,
    own_balance,
    seat_on,
    send,
    set_plan,
    utc,
)
from tests.ledger.refreshes import refresh_dates, refreshes

pytestmark = pytest.mark.django_db


# --- R4 cap -----------------------------------------------------------------------------------


def test_grants_stop_at_the_cap_and_the_rest_is_lost_to_cap(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 5, 15, 12))
    assert own_balance(seat) == 120

    assert refreshes(seat) == [
        (date(2025, 2, 15), 30, 30, 0),
        (date(2025, 3, 15), 60, 30, 0),
        (date(2025, 4, 15), 90, 30, 0),
        (date(2025, 5, 15), 120, 0, 30),
    ]
    # A refresh that grants nothing writes no grant entry.
    grants = Entry.objects.filter(account=account_of(seat), kind=EntryKind.GRANT)
    assert list(grants.order_by("at").values_list("amount", flat=True)) == [30, 30, 30, 30]


def test_refresh_grants_only_up_to_the_cap(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    bonus_grant(seat=seat, credits=10, memo="Hiring sprint", cause=SYSTEM)
    assert own_balance(seat) == 100

    time_machine.move_to(utc(2025, 4, 15))
    assert own_balance(seat) == 120
    assert refreshes(seat)[-1] == (date(2025, 4, 15), 100, 20, 10)


def test_refresh_grants_in_full_when_it_reaches_the_cap_exactly(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("premium_career", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("premium_career")

    time_machine.move_to(utc(2025, 3, 15))
    assert own_balance(seat) == 15
    assert refreshes(seat) == [(date(2025, 2, 15), 5, 5, 0), (date(2025, 3, 15), 10, 5, 0)]


def test_one_credit_over_the_boundary_loses_one_credit_to_cap(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("premium_career", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("premium_career")
    time_machine.move_to(utc(2025, 2, 20, 9))
    bonus_grant(seat=seat, credits=1, memo="Welcome", cause=SYSTEM)

    time_machine.move_to(utc(2025, 3, 15))
    assert own_balance(seat) == 15
    assert refreshes(seat)[-1] == (date(2025, 3, 15), 11, 4, 1)


def test_at_the_cap_exactly_a_refresh_grants_nothing_and_trims_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("premium_career", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("premium_career")

    time_machine.move_to(utc(2025, 4, 15))
    assert own_balance(seat) == 15
    assert refreshes(seat)[-1] == (date(2025, 4, 15), 15, 0, 5)
    assert not Entry.objects.filter(kind=EntryKind.LOST_TO_CAP).exists()


def test_purchased_credits_do_not_count_towards_the_cap(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    purchase_record(seat=seat, credits=50, cause=SYSTEM)
    assert own_balance(seat) == 140

    time_machine.move_to(utc(2025, 4, 15))
    assert own_balance(seat) == 170
    assert refreshes(seat)[-1] == (date(2025, 4, 15), 90, 30, 0)


def test_at_the_cap_purchased_credits_are_kept_and_the_grant_is_lost(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 4, 20, 9))
    purchase_record(seat=seat, credits=50, cause=SYSTEM)

    time_machine.move_to(utc(2025, 5, 15))
    assert own_balance(seat) == 170
    assert refreshes(seat)[-1] == (date(2025, 5, 15), 120, 0, 30)
    purchased = Lot.objects.get(account=account_of(seat), source=LotSource.PURCHASE)
    assert purchased.remaining == 50


def test_capped_credits_above_the_cap_are_trimmed_earliest_expiring_first(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    adjustment_post(seat=seat, credits=70, reason="LinkedIn shows 160", cause=SYSTEM)
    purchase_record(seat=seat, credits=5, cause=SYSTEM)
    assert own_balance(seat) == 165

    time_machine.move_to(utc(2025, 4, 15))
    # The 15 January lot expires first (30), leaving 130 capped; 10 above the cap of 120 go
    # from the 15 February lot, which expires soonest; the purchase is untouched.
    assert own_balance(seat) == 125
    assert refreshes(seat)[-1] == (date(2025, 4, 15), 130, 0, 40)
    trimmed = Entry.objects.get(account=account_of(seat), kind=EntryKind.LOST_TO_CAP)
    assert (trimmed.at, trimmed.amount, trimmed.balance_after) == (utc(2025, 4, 15), -10, 125)
    assert trimmed.lot.granted_at == utc(2025, 2, 15)
    assert trimmed.lot.remaining == 20
    assert trimmed.refresh == Refresh.objects.get(
        account=account_of(seat), period_on=date(2025, 4, 15)
    )


def test_a_trimmed_refresh_records_the_lost_grant_plus_the_trimmed_credits(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 4, 20, 9))
    adjustment_post(seat=seat, credits=15, reason="LinkedIn shows 135", cause=SYSTEM)

    time_machine.move_to(utc(2025, 5, 15))
    assert own_balance(seat) == 120
    assert refreshes(seat)[-1] == (date(2025, 5, 15), 135, 0, 45)
    lost = Entry.objects.filter(account=account_of(seat), kind=EntryKind.LOST_TO_CAP)
    assert sum(lost.values_list("amount", flat=True)) == -15


# --- R5 age expiry -----------------------------------------------------------------------------


def test_a_grant_expires_exactly_90_days_later_and_not_a_second_before(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    # Refreshes on 10 April and 10 May; the 10 March lot ends on 8 June at 00:00.
    time_machine.move_to(utc(2025, 6, 7, 23, 59, 59))
    assert own_balance(seat) == 90
    time_machine.move_to(utc(2025, 6, 8))
    assert own_balance(seat) == 60

    expiry = Entry.objects.get(account=account_of(seat), kind=EntryKind.EXPIRY)
    assert (expiry.at, expiry.amount, expiry.balance_after) == (utc(2025, 6, 8), -30, 60)
    assert expiry.lot.granted_at == utc(2025, 3, 10)
    assert expiry.lot.remaining == 0
    assert expiry.actor is None


def test_a_credit_is_spendable_one_second_before_its_lifetime_ends(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    first_lot = Lot.objects.get(account=account_of(seat))

    time_machine.move_to(utc(2025, 6, 7, 23, 59, 59))
    sent = send(seat).inmail

    spend = Entry.objects.get(inmail=sent, kind=EntryKind.SPEND)
    assert spend.lot_id == first_lot.pk


def test_an_expired_credit_is_never_spent_at_the_instant_it_expires(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 6, 8))
    sent = send(seat).inmail

    spend = Entry.objects.get(inmail=sent, kind=EntryKind.SPEND)
    assert spend.lot.granted_at == utc(2025, 4, 10)
    assert own_balance(seat) == 59


def test_expiry_applies_before_the_refresh_at_the_same_instant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 1, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    adjustment_post(seat=seat, credits=30, reason="LinkedIn shows 120", cause=SYSTEM)
    assert own_balance(seat) == 120

    time_machine.move_to(utc(2025, 4, 1))
    # The 1 January lot ends at 00:00 on 1 April, the very instant of the refresh: it no
    # longer counts towards the cap, so the refresh grants in full.
    assert own_balance(seat) == 120
    assert refreshes(seat)[-1] == (date(2025, 4, 1), 90, 30, 0)
    at_refresh = [row for row in ledger_rows(account_of(seat)) if row[0] == utc(2025, 4, 1)]
    assert at_refresh == [
        (utc(2025, 4, 1), EntryKind.EXPIRY, -30, 90),
        (utc(2025, 4, 1), EntryKind.GRANT, 30, 120),
    ]


def test_credits_without_a_lifetime_never_expire(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    assert Lot.objects.get(account=account_of(seat)).expires_at is None
    time_machine.move_to(utc(2026, 1, 15, 12))
    own_balance(seat)
    assert not Entry.objects.filter(kind=EntryKind.EXPIRY).exists()


# --- R17 catch-up --------------------------------------------------------------------------------


def test_a_seat_activated_in_the_past_is_brought_up_to_date_at_once(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 2, 10, 9), tick=False)
    seat = seat_on("recruiter_lite", activated_on=date(2024, 10, 31))

    assert ledger_rows(account_of(seat)) == [
        (utc(2024, 10, 31), EntryKind.GRANT, 30, 30),
        (utc(2024, 11, 30), EntryKind.GRANT, 30, 60),
        (utc(2024, 12, 31), EntryKind.GRANT, 30, 90),
        (utc(2025, 1, 29), EntryKind.EXPIRY, -30, 60),
        (utc(2025, 1, 31), EntryKind.GRANT, 30, 90),
    ]
    assert account_of(seat).balance == 90
    assert refresh_dates(seat) == [date(2024, 11, 30), date(2024, 12, 31), date(2025, 1, 31)]


@pytest.mark.parametrize("lifetime_days", [90, None])
def test_a_late_catch_up_leaves_exactly_the_ledger_of_on_time_refreshes(
    time_machine: TimeMachineFixture, lifetime_days: int | None
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=lifetime_days)
    time_machine.move_to(utc(2025, 1, 31, 9), tick=False)
    on_time = seat_on("recruiter_lite")
    day = utc(2025, 2, 1)
    while day <= utc(2025, 8, 31):
        time_machine.move_to(day)
        own_balance(on_time)
        day += timedelta(days=1)

    late = seat_on("recruiter_lite", activated_on=date(2025, 1, 31))

    assert ledger_rows(account_of(late)) == ledger_rows(account_of(on_time))
    assert refreshes(late) == refreshes(on_time)
    assert len(refreshes(late)) == 7


def test_the_tick_job_run_late_dates_every_entry_when_it_was_due(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 7, 1, 3))
    assert ledger_bring_all_up_to_date() == 1

    assert ledger_rows(account_of(seat)) == [
        (utc(2025, 3, 10), EntryKind.GRANT, 30, 30),
        (utc(2025, 4, 10), EntryKind.GRANT, 30, 60),
        (utc(2025, 5, 10), EntryKind.GRANT, 30, 90),
        (utc(2025, 6, 8), EntryKind.EXPIRY, -30, 60),
        (utc(2025, 6, 10), EntryKind.GRANT, 30, 90),
    ]


def test_the_tick_job_run_twice_applies_nothing_twice(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 7, 1, 3))
    ledger_bring_all_up_to_date()
    entries = Entry.objects.count()

    assert ledger_bring_all_up_to_date() == 0
    assert Entry.objects.count() == entries
    assert own_balance(seat) == 90


def test_the_tick_job_applies_only_what_is_due_until_the_given_instant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 7, 1, 3))

    ledger_bring_all_up_to_date(until=utc(2025, 4, 10))

    assert refresh_dates(seat) == [date(2025, 4, 10)]
    assert account_of(seat).balance == 60


def test_a_balance_shown_after_a_missed_refresh_includes_it(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 2, 20, 9))
    assert seat_balance(seat).own == 60


def test_activation_grant_entry_is_dated_at_activation_even_when_recorded_later(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 15), tick=False)
    seat = seat_on("recruiter_lite", activated_on=date(2025, 1, 18))

    entry = Entry.objects.get(account=account_of(seat))
    assert entry.at == utc(2025, 1, 18)
