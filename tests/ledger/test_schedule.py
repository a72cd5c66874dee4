"""Calendar arithmetic of refreshes and lifetimes (R3, R5): pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pytest_django import Settings

from ledger import schedule
from ledger.schedule import BILLING_DAY, MONTH_START
from tests.ledger.helpers import utc

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def new_york(settings: Settings) -> None:
    settings.TIME_ZONE = "America/New_York"


def refresh_dates(anchor_on: date, rule: str, count: int) -> list[date]:
    return [schedule.refresh_date(anchor_on, rule, k) for k in range(1, count + 1)]


def test_anchor_31_refreshes_on_the_last_day_of_short_months_in_2023() -> None:
    assert refresh_dates(date(2023, 1, 31), BILLING_DAY, 6) == [
        date(2023, 2, 28),
        date(2023, 3, 31),
        date(2023, 4, 30),
        date(2023, 5, 31),
        date(2023, 6, 30),
        date(2023, 7, 31),
    ]


def test_anchor_31_refreshes_on_february_29_in_the_leap_year_2024() -> None:
    assert refresh_dates(date(2024, 1, 31), BILLING_DAY, 4) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


def test_anchor_31_never_drifts_to_the_28th_over_a_year() -> None:
    dates = refresh_dates(date(2023, 1, 31), BILLING_DAY, 12)
    assert dates[-1] == date(2024, 1, 31)
    assert [d.day for d in dates] == [28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31]


def test_anchor_30_uses_february_28_then_returns_to_the_30th() -> None:
    assert refresh_dates(date(2023, 1, 30), BILLING_DAY, 3) == [
        date(2023, 2, 28),
        date(2023, 3, 30),
        date(2023, 4, 30),
    ]


def test_anchor_29_february_in_a_leap_year_gives_the_29th_every_other_month() -> None:
    assert refresh_dates(date(2024, 2, 29), BILLING_DAY, 3) == [
        date(2024, 3, 29),
        date(2024, 4, 29),
        date(2024, 5, 29),
    ]
    assert schedule.refresh_date(date(2024, 2, 29), BILLING_DAY, 12) == date(2025, 2, 28)
    assert schedule.refresh_date(date(2024, 2, 29), BILLING_DAY, 48) == date(2028, 2, 29)


def test_billing_day_schedule_rolls_over_the_year_end() -> None:
    assert refresh_dates(date(2024, 12, 31), BILLING_DAY, 3) == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
    ]


def test_month_start_plans_refresh_on_the_1st_of_each_following_month() -> None:
    assert refresh_dates(date(2025, 1, 15), MONTH_START, 3) == [
        date(2025, 2, 1),
        date(2025, 3, 1),
        date(2025, 4, 1),
    ]


def test_month_start_schedule_activated_on_the_1st_refreshes_a_month_later() -> None:
    assert schedule.refresh_date(date(2025, 3, 1), MONTH_START, 1) == date(2025, 4, 1)


def test_month_start_schedule_rolls_over_the_year_end() -> None:
    assert refresh_dates(date(2024, 12, 20), MONTH_START, 2) == [date(2025, 1, 1), date(2025, 2, 1)]


def test_refresh_numbers_start_at_1() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        schedule.refresh_date(date(2025, 1, 15), BILLING_DAY, 0)


def test_an_unknown_refresh_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="no refresh schedule"):
        schedule.refresh_date(date(2025, 1, 15), "fortnightly", 1)


def test_next_refresh_date_one_second_before_the_refresh_is_that_refresh() -> None:
    after = utc(2023, 2, 27, 23, 59, 59)
    assert schedule.next_refresh_date(date(2023, 1, 31), BILLING_DAY, after) == date(2023, 2, 28)


def test_next_refresh_date_at_the_refresh_instant_is_the_following_one() -> None:
    after = utc(2023, 2, 28)
    assert schedule.next_refresh_date(date(2023, 1, 31), BILLING_DAY, after) == date(2023, 3, 31)


def test_next_refresh_date_at_the_activation_instant_is_the_first_refresh() -> None:
    after = utc(2024, 1, 31)
    assert schedule.next_refresh_date(date(2024, 1, 31), BILLING_DAY, after) == date(2024, 2, 29)


def test_next_refresh_date_from_far_later_skips_to_the_right_month() -> None:
    after = utc(2025, 6, 10, 12)
    assert schedule.next_refresh_date(date(2023, 1, 31), BILLING_DAY, after) == date(2025, 6, 30)
    assert schedule.next_refresh_date(date(2023, 1, 5), BILLING_DAY, after) == date(2025, 7, 5)


def test_next_refresh_date_of_a_month_start_plan() -> None:
    after = utc(2025, 1, 15, 9)
    assert schedule.next_refresh_date(date(2025, 1, 15), MONTH_START, after) == date(2025, 2, 1)
    assert schedule.next_refresh_date(date(2025, 1, 15), MONTH_START, utc(2025, 2, 1)) == date(
        2025, 3, 1
    )


def test_next_refresh_at_is_midnight_utc_by_default() -> None:
    assert schedule.next_refresh_at(date(2023, 1, 31), BILLING_DAY, utc(2023, 2, 1)) == utc(
        2023, 2, 28
    )


def test_start_of_day_is_midnight_in_the_organisation_time_zone(new_york: None) -> None:
    assert schedule.start_of_day(date(2025, 1, 15)) == datetime(2025, 1, 15, 5, tzinfo=UTC)
    assert schedule.start_of_day(date(2025, 7, 15)) == datetime(2025, 7, 15, 4, tzinfo=UTC)


def test_local_date_follows_the_organisation_time_zone(new_york: None) -> None:
    assert schedule.local_date(utc(2025, 1, 15, 4, 59, 59)) == date(2025, 1, 14)
    assert schedule.local_date(utc(2025, 1, 15, 5)) == date(2025, 1, 15)


def test_add_days_keeps_the_wall_clock_across_the_spring_dst_change(new_york: None) -> None:
    granted = schedule.start_of_day(date(2025, 1, 15))
    expires = schedule.add_days(granted, 90)
    assert expires.astimezone(NEW_YORK) == datetime(2025, 4, 15, tzinfo=NEW_YORK)
    assert expires == datetime(2025, 4, 15, 4, tzinfo=UTC)
    # One hour shorter than 90 × 24 hours of real time: the clocks went forward on 9 March.
    assert expires.astimezone(UTC) - granted.astimezone(UTC) == timedelta(days=90, hours=-1)


def test_add_days_keeps_the_wall_clock_across_the_autumn_dst_change(new_york: None) -> None:
    granted = schedule.start_of_day(date(2025, 10, 1))
    expires = schedule.add_days(granted, 90)
    assert expires == datetime(2025, 12, 30, 5, tzinfo=UTC)
    assert expires.astimezone(UTC) - granted.astimezone(UTC) == timedelta(days=90, hours=1)


def test_add_days_counts_calendar_days_in_utc() -> None:
    assert schedule.add_days(utc(2025, 1, 1), 90) == utc(2025, 4, 1)
    assert schedule.add_days(utc(2024, 1, 1), 90) == utc(2024, 3, 31)
    assert schedule.add_days(utc(2025, 1, 15, 10, 30), 90) == utc(2025, 4, 15, 10, 30)


def test_month_start_of_an_instant_is_midnight_on_the_local_1st(new_york: None) -> None:
    # 02:00 UTC on 1 March is still 28 February in New York.
    assert schedule.month_start(utc(2025, 3, 1, 2)) == datetime(2025, 2, 1, 5, tzinfo=UTC)
    assert schedule.month_start(utc(2025, 3, 1, 6)) == datetime(2025, 3, 1, 5, tzinfo=UTC)


def test_next_refresh_at_is_local_midnight_after_the_dst_change(new_york: None) -> None:
    after = schedule.start_of_day(date(2025, 2, 15))
    assert schedule.next_refresh_at(date(2025, 1, 15), BILLING_DAY, after) == datetime(
        2025, 3, 15, 4, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("day", "month_end", "after", "before"),
    [
        (date(2026, 1, 31), True, date(2026, 2, 1), date(2025, 12, 1)),
        (date(2026, 2, 28), True, date(2026, 3, 1), date(2026, 1, 1)),
        (date(2028, 2, 28), False, date(2028, 3, 1), date(2028, 1, 1)),  # leap year
        (date(2028, 2, 29), True, date(2028, 3, 1), date(2028, 1, 1)),
        (date(2026, 12, 31), True, date(2027, 1, 1), date(2026, 11, 1)),
        (date(2026, 12, 1), False, date(2027, 1, 1), date(2026, 11, 1)),
    ],
)
def test_month_ends_and_the_first_of_the_months_around(
    day: date, month_end: bool, after: date, before: date
) -> None:
    assert schedule.is_month_end(day) is month_end
    assert schedule.first_of_month_after(day) == after
    assert schedule.first_of_month_after(day, -1) == before
