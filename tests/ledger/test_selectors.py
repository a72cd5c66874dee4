"""Balances now and as of any past instant, lots, entries and credits at risk (R1, R17)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import DatabaseError, transaction
from time_machine import TimeMachineFixture

from ledger.exceptions import LedgerValidationError
from ledger.models import Account, Entry, EntryKind, LotSource
from ledger.selectors import (
    SeatBalance,
    account_balance_as_of,
    ledger_discrepancies,
    pool_balance,
    seat_balance,
    seat_entries,
)
from ledger.services import (
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    pool_transfer,
    purchase_record,
    seat_cancel,
)
from teams.models import Seat
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    new_team,
    run_busy_ledger,
    seat_on,
    send,
    set_plan,
    utc,
)

pytestmark = pytest.mark.django_db


def shown(balance: SeatBalance) -> tuple[object, ...]:
    """Everything of a balance that depends on the instant it is read at."""
    return (
        balance.own,
        balance.pool_available,
        balance.available,
        [(lot.id, lot.source, lot.expires_at, lot.remaining) for lot in balance.lots],
        balance.expiring_7d,
        balance.expiring_30d,
    )


# --- balances now --------------------------------------------------------------------------------


def test_a_seat_balance_lists_its_lots_in_spend_order(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 2, 20, 9))
    purchase_record(seat=seat, credits=5, cause=SYSTEM)
    bonus_grant(seat=seat, credits=2, memo="Welcome", cause=SYSTEM)
    send(seat)

    balance = seat_balance(seat)

    assert (balance.own, balance.pool_available, balance.available) == (66, 0, 66)
    assert balance.as_of == utc(2025, 2, 20, 9)
    assert [(lot.source, lot.expires_at, lot.remaining) for lot in balance.lots] == [
        (LotSource.BONUS, utc(2025, 3, 22, 9), 1),
        (LotSource.GRANT, utc(2025, 4, 15), 30),
        (LotSource.GRANT, utc(2025, 5, 16), 30),
        (LotSource.PURCHASE, None, 5),
    ]


def test_a_cancelled_seat_shows_nothing_and_no_next_refresh(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_cancel(seat=seat_on("recruiter_lite"), cause=SYSTEM)

    balance = seat_balance(seat)

    assert (balance.own, balance.available, balance.lots) == (0, 0, [])
    assert (balance.next_refresh_on, balance.next_refresh_credits) == (None, 0)
    assert balance.lost_to_cap_next_refresh == 0


def test_a_balance_is_read_after_bringing_the_seat_up_to_date(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 6, 8))
    assert seat_balance(seat).own == 60
    assert account_of(seat).balance == 60


# --- next refresh and credits at risk -----------------------------------------------------------


def test_the_next_refresh_of_anchor_31_is_the_last_day_of_february(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 31, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 2, 10))
    balance = seat_balance(seat)
    assert (balance.next_refresh_on, balance.next_refresh_credits) == (date(2025, 2, 28), 30)

    time_machine.move_to(utc(2025, 2, 28))
    assert seat_balance(seat).next_refresh_on == date(2025, 3, 31)


def test_the_next_refresh_of_a_month_start_plan_is_the_1st(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("sales_navigator_core")

    balance = seat_balance(seat)
    assert (balance.next_refresh_on, balance.next_refresh_credits) == (date(2025, 2, 1), 50)


def test_credits_expiring_within_7_and_30_days(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 1, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 1, 9))
    # Lives to 31 March 09:00.
    bonus_grant(seat=seat, credits=5, memo="Welcome", cause=SYSTEM)

    # The 1 January lot ends on 1 April at 00:00, seven days after 25 March at 00:00.
    time_machine.move_to(utc(2025, 3, 24, 23, 59, 59))
    balance = seat_balance(seat)
    assert (balance.expiring_7d, balance.expiring_30d) == (5, 35)
    time_machine.move_to(utc(2025, 3, 25))
    balance = seat_balance(seat)
    assert (balance.expiring_7d, balance.expiring_30d) == (35, 35)


def test_credits_expiring_within_30_days_but_not_7(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 1, 9), tick=False)
    seat = seat_on("recruiter_lite")

    # Lots: 1 February (to 2 May), 1 March (to 30 May), 1 April (to 30 June).
    time_machine.move_to(utc(2025, 4, 5, 12))
    balance = seat_balance(seat)
    assert (balance.own, balance.expiring_7d, balance.expiring_30d) == (90, 0, 30)


def test_purchased_credits_are_never_at_risk_of_expiring(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    adjustment_post(seat=seat, credits=-30, reason="LinkedIn shows 0", cause=SYSTEM)
    purchase_record(seat=seat, credits=5, cause=SYSTEM)

    balance = seat_balance(seat)
    assert (balance.own, balance.expiring_7d, balance.expiring_30d) == (5, 0, 0)


@pytest.mark.parametrize(
    ("bonus", "credits", "lost"),
    [(0, 30, 0), (9, 21, 9), (10, 20, 10), (30, 0, 30), (45, 0, 45)],
)
def test_credits_lost_to_cap_at_the_next_refresh(
    time_machine: TimeMachineFixture, bonus: int, credits: int, lost: int
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    if bonus:
        adjustment_post(seat=seat, credits=bonus, reason="LinkedIn shows more", cause=SYSTEM)

    # 90 capped credits plus the adjustment, before the 15 April refresh.
    balance = seat_balance(seat)
    assert balance.own == 90 + bonus
    assert (balance.next_refresh_on, balance.next_refresh_credits) == (date(2025, 4, 15), credits)
    assert balance.lost_to_cap_next_refresh == lost


def test_the_lost_to_cap_forecast_matches_what_the_refresh_does(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    adjustment_post(seat=seat, credits=12, reason="LinkedIn shows 102", cause=SYSTEM)
    forecast = seat_balance(seat)

    time_machine.move_to(utc(2025, 4, 15))
    seat_balance(seat)
    refresh = account_of(seat).refreshes.get(period_on=date(2025, 4, 15))
    assert (refresh.granted, refresh.lost_to_cap) == (
        forecast.next_refresh_credits,
        forecast.lost_to_cap_next_refresh,
    )


def test_purchased_credits_are_not_lost_to_cap_in_the_forecast(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 4, 20, 9))
    purchase_record(seat=seat, credits=50, cause=SYSTEM)

    balance = seat_balance(seat)
    assert balance.own == 170
    assert (balance.next_refresh_credits, balance.lost_to_cap_next_refresh) == (0, 30)


def test_credits_expiring_before_the_refresh_do_not_count_in_the_forecast(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 1, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 25, 9))
    adjustment_post(seat=seat, credits=30, reason="LinkedIn shows 120", cause=SYSTEM)

    # 120 now, but the 1 January lot is gone by the 1 April refresh.
    balance = seat_balance(seat)
    assert balance.own == 120
    assert (balance.next_refresh_on, balance.next_refresh_credits) == (date(2025, 4, 1), 30)
    assert balance.lost_to_cap_next_refresh == 0


# --- as-of balances ------------------------------------------------------------------------------


def test_a_balance_as_of_a_past_instant_equals_the_balance_shown_then(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    recorded: dict[datetime, tuple[object, ...]] = {}

    def record(instant: datetime) -> None:
        time_machine.move_to(instant)
        recorded[instant] = shown(seat_balance(seat))

    record(utc(2025, 3, 10, 9))
    time_machine.move_to(utc(2025, 3, 20, 10))
    answered = send(seat, "linkedin.com/in/member-1").inmail
    send(seat, "linkedin.com/in/member-2")
    record(utc(2025, 3, 20, 10))
    record(utc(2025, 4, 9, 23, 59, 59))
    record(utc(2025, 4, 10))
    time_machine.move_to(utc(2025, 4, 15, 12))
    bonus_grant(seat=seat, credits=5, memo="Hiring sprint", cause=SYSTEM)
    inmail_record_response(
        inmail=answered, outcome="accepted", responded_at=utc(2025, 4, 1, 8), cause=SYSTEM
    )
    record(utc(2025, 4, 15, 12))
    record(utc(2025, 5, 15, 11, 59, 59))
    record(utc(2025, 5, 15, 12))
    record(utc(2025, 6, 7, 23, 59, 59))
    record(utc(2025, 6, 8))
    record(utc(2025, 6, 10))

    time_machine.move_to(utc(2025, 8, 1, 9))
    for instant, then in recorded.items():
        assert shown(seat_balance(seat, as_of=instant)) == then, instant
    assert [then[0] for then in recorded.values()] == [30, 28, 28, 58, 64, 94, 89, 89, 61, 91]


def test_a_balance_as_of_a_past_instant_equals_the_balance_shown_then_in_a_pool(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team()
    seat = seat_on("recruiter_corporate", team=team, monthly_allocation=10)
    recorded: dict[datetime, tuple[object, ...]] = {}

    def record(instant: datetime) -> None:
        time_machine.move_to(instant)
        recorded[instant] = shown(seat_balance(seat))

    record(utc(2025, 1, 10, 9))
    time_machine.move_to(utc(2025, 1, 20, 9))
    pool_transfer(team=team, seat=seat, credits=3, cause=SYSTEM)
    for n in range(5):
        send(seat, f"linkedin.com/in/member-{n}")
    record(utc(2025, 1, 20, 9))
    record(utc(2025, 2, 9, 23, 59, 59))
    record(utc(2025, 2, 10))
    record(utc(2025, 4, 9, 23, 59, 59))
    record(utc(2025, 4, 10))

    time_machine.move_to(utc(2025, 6, 1, 9))
    as_of = {instant: shown(seat_balance(seat, as_of=instant)) for instant in recorded}
    # (own, pool): the 10 February refresh grants 150 and allocates 10 to the seat; on 10 April
    # the 10 January pool lot and the allocations cut from it expire before the refresh.
    assert [(then[0], then[1]) for then in as_of.values()] == [
        (0, 150),
        (0, 145),
        (0, 145),
        (10, 285),
        (20, 425),
        (10, 440),
    ]
    assert recorded == as_of


def test_a_pooled_seats_balance_includes_a_pool_refresh_no_job_has_applied_yet(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=new_team())

    time_machine.move_to(utc(2025, 2, 10, 9))
    balance = seat_balance(seat)

    assert (balance.own, balance.pool_available, balance.available) == (0, 300, 300)


def test_a_balance_as_of_before_the_activation_is_zero(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    balance = seat_balance(seat, as_of=utc(2025, 1, 14, 23, 59, 59))
    assert (balance.own, balance.available, balance.lots) == (0, 0, [])


def test_a_balance_as_of_now_is_accepted(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    assert seat_balance(seat, as_of=utc(2025, 1, 15, 9)).own == 30


def test_a_balance_cannot_be_read_in_the_future(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    with pytest.raises(LedgerValidationError) as refused:
        seat_balance(seat, as_of=utc(2025, 1, 15, 9, 0, 1))

    assert refused.value.field == "as_of"


def test_a_pool_balance_cannot_be_read_in_the_future(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    team = new_team()
    seat_on("recruiter_corporate", team=team)

    with pytest.raises(LedgerValidationError):
        pool_balance(team, as_of=utc(2025, 1, 16))


def test_a_pool_balance_as_of_a_past_instant(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team()
    seat = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 1, 20, 9))
    pool_transfer(team=team, seat=seat, credits=40, cause=SYSTEM)

    time_machine.move_to(utc(2025, 3, 1, 9))
    then = pool_balance(team, as_of=utc(2025, 1, 20, 9))
    before = pool_balance(team, as_of=utc(2025, 1, 20, 8, 59, 59))
    assert then is not None
    assert before is not None
    assert (then.available, [s.own for s in then.seats]) == (110, [40])
    assert (before.available, [s.own for s in before.seats]) == (150, [0])


def test_account_balance_as_of_sums_the_entries_up_to_the_instant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 7, 1))
    account = account_of(seat)
    seat_balance(seat)

    assert account_balance_as_of(account, utc(2025, 3, 9, 23, 59, 59)) == 0
    assert account_balance_as_of(account, utc(2025, 3, 10)) == 30
    assert account_balance_as_of(account, utc(2025, 6, 7, 23, 59, 59)) == 90
    assert account_balance_as_of(account, utc(2025, 6, 8)) == 60
    assert account_balance_as_of(account, utc(2025, 6, 10)) == 90


# --- entries --------------------------------------------------------------------------------------


def test_each_accounts_entries_are_in_time_order_with_a_running_balance(
    time_machine: TimeMachineFixture,
) -> None:
    run_busy_ledger(time_machine)

    for account in Account.objects.all():
        entries = list(Entry.objects.filter(account=account).order_by("id"))
        assert entries, account
        instants = [entry.at for entry in entries]
        assert instants == sorted(instants), account
        running = 0
        for entry in entries:
            running += entry.amount
            assert entry.balance_after == running, entry
            assert entry.balance_after >= 0
        assert account.balance == running


def test_the_busy_ledger_has_no_discrepancy(time_machine: TimeMachineFixture) -> None:
    run_busy_ledger(time_machine)

    assert ledger_discrepancies() == []


def test_the_busy_ledger_balances_as_of_every_entry_match_the_running_balance(
    time_machine: TimeMachineFixture,
) -> None:
    run_busy_ledger(time_machine)

    for account in Account.objects.all():
        last_at_instant: dict[datetime, int] = {}
        for entry in Entry.objects.filter(account=account).order_by("at", "id"):
            last_at_instant[entry.at] = entry.balance_after
        for instant, balance_after in last_at_instant.items():
            assert account_balance_as_of(account, instant) == balance_after
            assert account_balance_as_of(account, instant - timedelta(microseconds=1)) >= 0


def test_seat_entries_lists_a_seats_ledger_oldest_first_and_filters_it(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 20, 9))
    send(seat)
    time_machine.move_to(utc(2025, 7, 1))
    seat_balance(seat)

    assert [(e.at, e.kind) for e in seat_entries(seat)] == [
        (utc(2025, 3, 10), EntryKind.GRANT),
        (utc(2025, 3, 20, 9), EntryKind.SPEND),
        (utc(2025, 4, 10), EntryKind.GRANT),
        (utc(2025, 5, 10), EntryKind.GRANT),
        (utc(2025, 6, 8), EntryKind.EXPIRY),
        (utc(2025, 6, 10), EntryKind.GRANT),
    ]
    assert [e.at for e in seat_entries(seat, kind=EntryKind.GRANT, since=utc(2025, 4, 10))] == [
        utc(2025, 4, 10),
        utc(2025, 5, 10),
        utc(2025, 6, 10),
    ]
    assert [e.kind for e in seat_entries(seat, until=utc(2025, 3, 20, 9))] == [
        EntryKind.GRANT,
        EntryKind.SPEND,
    ]


def test_an_expiry_entry_removes_exactly_what_was_left_of_its_lot(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    for n in range(4):
        send(seat, f"linkedin.com/in/member-{n}")

    time_machine.move_to(utc(2025, 6, 8))
    seat_balance(seat)

    expiry = Entry.objects.get(account=account_of(seat), kind=EntryKind.EXPIRY)
    assert expiry.amount == -26


@pytest.mark.postgres
def test_an_entry_cannot_be_updated_on_postgresql(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    entry = Entry.objects.get(account=account_of(seat))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=31, balance_after=31)

    entry.refresh_from_db()
    assert (entry.amount, entry.balance_after) == (30, 30)


@pytest.mark.postgres
def test_an_entry_cannot_be_deleted_on_postgresql(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    entry = Entry.objects.get(account=account_of(seat))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()

    assert Entry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
def test_an_entry_saved_again_is_refused_on_postgresql(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat: Seat = seat_on("recruiter_lite")
    entry = Entry.objects.get(account=account_of(seat))
    entry.memo = "edited"

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.save()

    assert Entry.objects.get(pk=entry.pk).memo != "edited"
