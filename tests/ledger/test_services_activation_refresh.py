"""Activation and monthly refresh dates (R2, R3)."""

from __future__ import annotations

from datetime import date

import pytest
from pytest_django import Settings
from time_machine import TimeMachineFixture

from ledger.exceptions import LedgerValidationError
from ledger.models import Entry, EntryKind, Lot, LotSource, Refresh, RefreshKind
from ledger.services.catch_up_rules import expiry_memo
from teams.models import Seat
from tests.fields import differences
from tests.ledger.helpers import account_of, ledger_rows, own_balance, seat_on, set_plan, utc
from tests.ledger.refreshes import refresh_dates, refreshes

pytestmark = pytest.mark.django_db


# --- R2 activation ------------------------------------------------------------------------


def test_activation_grants_the_monthly_credits_at_midnight_of_the_activation_day(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9, 30), tick=False)
    seat = seat_on("recruiter_lite")

    assert seat.activated_on == date(2025, 1, 15)
    assert seat.anchor_day == 15
    assert ledger_rows(account_of(seat)) == [(utc(2025, 1, 15), EntryKind.GRANT, 30, 30)]
    grant = Refresh.objects.get(account=account_of(seat))
    assert not differences(
        grant, kind=RefreshKind.ACTIVATION, period_on=date(2025, 1, 15), due_at=utc(2025, 1, 15)
    )
    assert not differences(grant, monthly=30, cap=120, capped_before=0, granted=30, lost_to_cap=0)


def test_activation_grant_lot_lives_90_days_from_midnight(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9, 30), tick=False)
    seat = seat_on("recruiter_lite")

    lot = Lot.objects.get(account=account_of(seat))
    assert not differences(
        lot, source=LotSource.GRANT, granted_at=utc(2025, 1, 15), expires_at=utc(2025, 4, 15)
    )
    assert (lot.initial, lot.remaining) == (30, 30)


@pytest.mark.parametrize(
    ("plan_code", "credits"),
    [
        ("premium_career", 5),
        ("premium_business", 15),
        ("sales_navigator_core", 50),
        ("sales_navigator_advanced", 50),
        ("recruiter_lite", 30),
        ("recruiter_professional", 100),
    ],
)
def test_activation_grants_each_plans_monthly_credits(
    time_machine: TimeMachineFixture, plan_code: str, credits: int
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on(plan_code)

    assert own_balance(seat) == credits


def test_activation_grant_follows_an_edited_plan(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", monthly_credits=25)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    assert own_balance(seat) == 25


def test_activation_in_the_future_is_refused(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 23, 59, 59), tick=False)

    with pytest.raises(LedgerValidationError) as refused:
        seat_on(activated_on=date(2025, 1, 16))

    assert refused.value.field == "activated_on"
    assert not Seat.objects.exists()
    assert not Entry.objects.exists()


def test_activation_today_is_the_default(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 31, 23, 59, 59), tick=False)
    seat = seat_on()

    assert seat.activated_on == date(2025, 3, 31)
    assert seat.anchor_day == 31


def test_activation_grant_is_at_local_midnight_in_the_organisation_time_zone(
    time_machine: TimeMachineFixture, settings: Settings
) -> None:
    settings.TIME_ZONE = "America/New_York"
    # 03:00 UTC on 16 January is still 15 January in New York.
    time_machine.move_to(utc(2025, 1, 16, 3), tick=False)
    seat = seat_on("recruiter_lite")

    assert seat.activated_on == date(2025, 1, 15)
    assert ledger_rows(account_of(seat)) == [(utc(2025, 1, 15, 5), EntryKind.GRANT, 30, 30)]


def test_activation_tomorrow_in_the_organisation_time_zone_is_in_the_future(
    time_machine: TimeMachineFixture, settings: Settings
) -> None:
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(utc(2025, 1, 16, 3), tick=False)

    with pytest.raises(LedgerValidationError) as refused:
        seat_on(activated_on=date(2025, 1, 16))

    assert refused.value.field == "activated_on"


# --- R3 refresh dates -----------------------------------------------------------------------


def test_refresh_happens_at_midnight_of_the_anchor_day_and_not_a_second_before(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 2, 14, 23, 59, 59))
    assert own_balance(seat) == 30
    time_machine.move_to(utc(2025, 2, 15))
    assert own_balance(seat) == 60

    refresh = Refresh.objects.get(account=account_of(seat), kind=RefreshKind.REFRESH)
    assert (refresh.period_on, refresh.due_at) == (date(2025, 2, 15), utc(2025, 2, 15))
    assert not differences(refresh, monthly=30, cap=120, capped_before=30, granted=30)
    assert refresh.lost_to_cap == 0


def test_anchor_31_refreshes_on_the_last_day_of_each_short_month_in_2023(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2023, 1, 31, 9), tick=False)
    seat = seat_on("recruiter_lite")

    for day in (
        utc(2023, 2, 27, 12),
        utc(2023, 2, 28, 12),
        utc(2023, 3, 30, 12),
        utc(2023, 3, 31, 12),
        utc(2023, 4, 30, 12),
        utc(2023, 5, 31, 12),
    ):
        time_machine.move_to(day)
        own_balance(seat)

    assert refresh_dates(seat) == [
        date(2023, 2, 28),
        date(2023, 3, 31),
        date(2023, 4, 30),
        date(2023, 5, 31),
    ]


def test_anchor_31_refreshes_on_february_29_in_2024(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2024, 1, 31, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2024, 2, 28, 23, 59, 59))
    assert own_balance(seat) == 30
    time_machine.move_to(utc(2024, 2, 29))
    assert own_balance(seat) == 60
    time_machine.move_to(utc(2024, 5, 31, 12))
    own_balance(seat)

    assert refresh_dates(seat) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


def test_anchor_31_catch_up_over_a_year_never_drifts_to_the_28th(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2024, 1, 31, 9), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 1, 31, 12))
    own_balance(seat)

    assert [d.day for d in refresh_dates(seat)] == [29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31]


def test_sales_navigator_core_refreshes_on_the_1st_of_each_following_month(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("sales_navigator_core")

    time_machine.move_to(utc(2025, 1, 31, 23, 59, 59))
    assert own_balance(seat) == 50
    time_machine.move_to(utc(2025, 2, 1))
    assert own_balance(seat) == 100
    time_machine.move_to(utc(2025, 3, 1))
    assert own_balance(seat) == 150

    assert refresh_dates(seat) == [date(2025, 2, 1), date(2025, 3, 1)]


def test_sales_navigator_core_at_the_cap_on_the_1st_loses_its_whole_grant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("sales_navigator_core")

    # 50 + 50 + 50 = 150 (the cap) when April starts: the 15 January lot lives until 15 April.
    time_machine.move_to(utc(2025, 4, 1, 12))
    assert own_balance(seat) == 150

    assert refreshes(seat) == [
        (date(2025, 2, 1), 50, 50, 0),
        (date(2025, 3, 1), 100, 50, 0),
        (date(2025, 4, 1), 150, 0, 50),
    ]


def test_sales_navigator_advanced_refreshes_on_the_billing_day(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("sales_navigator_advanced")

    time_machine.move_to(utc(2025, 2, 1, 12))
    assert own_balance(seat) == 50
    time_machine.move_to(utc(2025, 2, 15))
    assert own_balance(seat) == 100

    assert refresh_dates(seat) == [date(2025, 2, 15)]


def test_refresh_is_at_local_midnight_across_the_dst_change(
    time_machine: TimeMachineFixture, settings: Settings
) -> None:
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(utc(2025, 1, 15, 14), tick=False)
    seat = seat_on("recruiter_lite")

    time_machine.move_to(utc(2025, 2, 15, 4, 59, 59))
    assert own_balance(seat) == 30
    time_machine.move_to(utc(2025, 2, 15, 5))
    assert own_balance(seat) == 60
    # After 9 March New York is UTC−4: midnight of 15 March is 04:00 UTC.
    time_machine.move_to(utc(2025, 3, 15, 3, 59, 59))
    assert own_balance(seat) == 60
    time_machine.move_to(utc(2025, 3, 15, 4))
    assert own_balance(seat) == 90

    due = list(
        Refresh.objects.filter(account=account_of(seat), kind=RefreshKind.REFRESH)
        .order_by("due_at")
        .values_list("due_at", flat=True)
    )
    assert due == [utc(2025, 2, 15, 5), utc(2025, 3, 15, 4)]


def test_lifetime_ends_at_local_midnight_90_days_later_across_the_dst_change(
    time_machine: TimeMachineFixture, settings: Settings
) -> None:
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(utc(2025, 1, 15, 14), tick=False)
    seat = seat_on("recruiter_lite")

    lot = Lot.objects.get(account=account_of(seat))
    assert lot.granted_at == utc(2025, 1, 15, 5)
    assert lot.expires_at == utc(2025, 4, 15, 4)

    time_machine.move_to(utc(2025, 4, 15, 3, 59, 59))
    assert own_balance(seat) == 90
    time_machine.move_to(utc(2025, 4, 15, 4))
    # The 15 January lot expires and the 15 April refresh grants, both at local midnight.
    assert own_balance(seat) == 90
    expiry = Entry.objects.get(account=account_of(seat), kind=EntryKind.EXPIRY)
    assert (expiry.at, expiry.amount, expiry.lot_id) == (utc(2025, 4, 15, 4), -30, lot.pk)
    assert expiry.memo == "30 credits reached the end of their life"


@pytest.mark.parametrize(
    ("credits", "memo"),
    [
        (1, "1 credit reached the end of its life"),
        (2, "2 credits reached the end of their life"),
        (150, "150 credits reached the end of their life"),
    ],
)
def test_an_expirys_memo_counts_its_credits(credits: int, memo: str) -> None:
    assert expiry_memo(credits) == memo
