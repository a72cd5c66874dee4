"""The run-out forecast (docs/rules.md, "Run-out forecast"): a year's projection with the real
rules, hand-computed.

The organisation's time zone is America/Los_Angeles (PST until 8 March 2026, PDT after); every
story runs on local dates. "Day d" is today + d days; the forecast is the first day whose end
finds the account empty. With r credits a day expected, the credits taken by the end of day d
are ⌊d × r⌋ (day 0, today, spends nothing more), unless the account ran dry.
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

import pytest
from time_machine import TimeMachineFixture

from ledger import schedule
from ledger.analytics import SeatForecast, SpendRate, seat_forecast
from ledger.models import InMail
from ledger.services import (
    adjustment_post,
    inmail_record_response,
    purchase_record,
    seat_cancel,
    seats_bring_up_to_date,
)
from teams.models import Seat
from tests.ledger.helpers import SYSTEM, new_team, seat_on, send, set_plan

pytestmark = pytest.mark.django_db


def local(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An instant of 2026 on the organisation's wall clock (UTC−8 before 8 March, −7 after)."""
    return datetime(2026, month, day, hour, minute, tzinfo=schedule.org_tz())


def sends(seat: Seat, count: int) -> list[InMail]:
    """`count` paid InMails to different people, now."""
    return [send(seat, f"linkedin.com/in/m-{seat.pk}-{n}").inmail for n in range(count)]


def forecast_at(time_machine: TimeMachineFixture, at: datetime, seat: Seat) -> SeatForecast:
    """The forecast at `at`, beside a balance brought up to date, as every caller shows it."""
    time_machine.move_to(at, tick=False)
    seats_bring_up_to_date([seat.pk])
    return seat_forecast(seat)


# --- no date, today --------------------------------------------------------------------------


def test_a_seat_that_sent_nothing_in_the_last_30_days_has_no_run_out_date(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())  # 30 credits
    time_machine.move_to(local(3, 2), tick=False)
    sends(seat, 1)  # 31 days before 2 April: outside the window

    forecast = forecast_at(time_machine, local(4, 2), seat)

    assert forecast.run_out_on is None
    assert forecast.own_rate == SpendRate(paid_30d=0, paid_90d=1, refunded_90d=0)
    # Still projected, for the chart: 29 + 30 from the 1 April refresh, nothing spent.
    assert forecast.own[:3] == (59, 59, 59)
    assert len(forecast.own) == 366


def test_a_seat_with_nothing_left_runs_out_today(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("premium_career", team=new_team())  # 5 credits
    time_machine.move_to(local(3, 20), tick=False)
    sends(seat, 5)

    forecast = forecast_at(time_machine, local(3, 20, 11), seat)

    assert forecast.run_out_on == date(2026, 3, 20)
    assert forecast.own[0] == 0


def test_a_cancelled_seat_has_no_forecast(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("premium_career", team=new_team())
    time_machine.move_to(local(3, 20), tick=False)
    sends(seat, 5)
    seat_cancel(seat=seat, cause=SYSTEM)

    forecast = forecast_at(time_machine, local(3, 20, 11), seat)

    assert (forecast.run_out_on, forecast.pool_run_out_on, forecast.own) == (None, None, ())


# --- spend, expiry, refunds ------------------------------------------------------------------


def test_steady_spend_without_refresh_grants_runs_out_when_the_credits_are_spent(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())  # 30 credits, expiring 30 May
    set_plan("recruiter_lite", monthly_credits=0)  # every refresh grants nothing
    time_machine.move_to(local(3, 2, 14), tick=False)
    sends(seat, 10)  # 10 in 30 days: 1/3 a day
    purchase_record(seat=seat, credits=40, cause=SYSTEM)  # never expires

    forecast = forecast_at(time_machine, local(3, 2, 15), seat)

    # 20 granted + 40 purchased = 60; the grant goes first and is spent by day 60 (1 May),
    # before it would expire; ⌊d / 3⌋ = 60 on day 180: 2 March + 180 days = 29 August.
    assert forecast.own_rate.per_day == Fraction(1, 3)
    assert forecast.own[0] == 60
    assert forecast.own[179] == 1
    assert forecast.run_out_on == date(2026, 8, 29)


def test_a_lot_expiring_before_the_run_out_brings_the_date_forward(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())  # 30 credits, expiring 30 May 00:00
    set_plan("recruiter_lite", monthly_credits=0)
    time_machine.move_to(local(3, 2, 14), tick=False)
    sends(seat, 5)  # 1/6 a day
    purchase_record(seat=seat, credits=10, cause=SYSTEM)

    forecast = forecast_at(time_machine, local(3, 2, 15), seat)

    # 25 granted + 10 purchased. By the end of day 88 (29 May) ⌊88/6⌋ = 14 are spent from the
    # grant; its other 11 expire at the start of day 89 (30 May), leaving the 10 purchased.
    # Those are gone when ⌊d/6⌋ = 14 + 10: day 144, 24 July (without the expiry: day 210).
    assert forecast.own[88] == 21
    assert forecast.own[89] == 10
    assert forecast.run_out_on == date(2026, 7, 24)


def test_expected_refunds_reduce_the_daily_spend(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())  # 30 credits, refreshing on the 1st
    time_machine.move_to(local(3, 2), tick=False)
    sent = sends(seat, 25)
    time_machine.move_to(local(3, 3), tick=False)
    for inmail in sent[:5]:
        inmail_record_response(inmail=inmail, outcome="accepted", cause=SYSTEM)

    forecast = forecast_at(time_machine, local(3, 3, 11), seat)

    # 25 paid in 30 days, 5 of the 90 days' 25 refunded: 25/30 × (1 − 5/25) = 2/3 a day.
    # 5 + 5 refunded = 10 left; ⌊2d/3⌋ = 10 on day 15: 18 March, before the 1 April refresh
    # (spending 25/30 a day it would be day 12).
    assert forecast.own_rate == SpendRate(paid_30d=25, paid_90d=25, refunded_90d=5)
    assert forecast.own_rate.per_day == Fraction(2, 3)
    assert forecast.run_out_on == date(2026, 3, 18)


# --- refreshes -------------------------------------------------------------------------------


def test_a_refresh_under_the_cap_pushes_the_run_out_later(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("premium_career", team=new_team())  # 5 credits a month, cap 15
    time_machine.move_to(local(3, 20), tick=False)
    purchase_record(seat=seat, credits=10, cause=SYSTEM)
    sends(seat, 10)  # the 5 granted first, then 5 purchased: 5 purchased left; 1/3 a day

    forecast = forecast_at(time_machine, local(3, 20, 11), seat)

    # Without a refresh, ⌊d/3⌋ = 5 on day 15 (4 April). On day 12 (1 April) the refresh
    # grants 5 (nothing capped is left, so all of it): 5 − 3 + 5 − 1 = 6 at its end, and 10
    # credits last until ⌊d/3⌋ = 10: day 30, 19 April (the next refresh is on day 42).
    assert forecast.own[11] == 2
    assert forecast.own[12] == 6
    assert forecast.run_out_on == date(2026, 4, 19)


def test_at_the_cap_a_refresh_grants_nothing_and_trims_what_stands_above_it(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("premium_career", team=new_team())  # 5 credits a month, cap 15
    time_machine.move_to(local(3, 20), tick=False)
    sends(seat, 3)  # 1/10 a day
    time_machine.move_to(local(3, 20, 10, 30), tick=False)
    adjustment_post(seat=seat, credits=18, reason="LinkedIn shows 18 more", cause=SYSTEM)

    forecast = forecast_at(time_machine, local(3, 20, 11), seat)

    # 2 granted + 18 adjusted = 20 capped credits; 1 spent by day 11. On day 12 (1 April) the
    # capped balance 19 is above the cap 15: nothing is granted and 4 are trimmed. On day 42
    # (1 May) 12 are left (⌊41/10⌋ = 4 spent in all), so that refresh grants 15 − 12 = 3.
    assert forecast.own[0] == 20
    assert forecast.own[11] == 19
    assert forecast.own[12] == 15
    assert forecast.own[41] == 12
    assert forecast.own[42] == 15
    assert forecast.run_out_on is None


def test_an_anchor_day_31_refreshes_on_the_last_day_of_shorter_months(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(1, 31), tick=False)
    seat = seat_on("premium_career", team=new_team())  # 5 credits, anchor 31
    time_machine.move_to(local(2, 10), tick=False)
    purchase_record(seat=seat, credits=20, cause=SYSTEM)
    sends(seat, 10)  # 15 purchased left; 1/3 a day

    forecast = forecast_at(time_machine, local(2, 10, 11), seat)

    # Refreshes on 28 February (day 18) and 31 March (day 49), never 28 March; each grants 5,
    # spent first. 15 + 5 + 5 = 25 credits last until ⌊d/3⌋ = 25: day 75, 26 April, before
    # the 30 April refresh (day 79).
    assert forecast.own[17:19] == (10, 14)
    assert forecast.own[45:50] == (5, 5, 5, 4, 9)
    assert forecast.run_out_on == date(2026, 4, 26)


# --- pools -----------------------------------------------------------------------------------


def test_a_pooled_seat_has_a_pool_date_and_its_allocation_moves_at_the_pool_refresh(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_corporate", monthly_credits=8)
    team = new_team()
    time_machine.move_to(local(3, 1), tick=False)
    drawing = seat_on("recruiter_corporate", team=team)
    aside = seat_on("recruiter_corporate", team=team, pool_access=False)
    allotted = seat_on("recruiter_corporate", team=team, monthly_allocation=12)
    time_machine.move_to(local(3, 20), tick=False)
    sends(drawing, 15)  # nothing of its own: all from the pool, 1/2 a day

    at = local(3, 20, 11)
    mine, theirs, outside = (
        forecast_at(time_machine, at, seat) for seat in (allotted, drawing, aside)
    )

    # The pool: 3 × 8 granted at activation (expiring 30 May) − 15 = 9 on day 0, 4 at the end
    # of day 11. Day 12 (1 April): +24, 12 moved to `allotted` (the 4 of March first, then 8
    # of April), ⌊12/2⌋ − 5 = 1 spent: 15. It lasts while 9 + 24 − 12 − ⌊d/2⌋ > 0, until day
    # 42 (1 May), which first grants 24 and moves 12 again: 33 − ⌊d/2⌋ is 0 on day 66, 25 May.
    assert mine.pool is not None
    assert (mine.pool[0], mine.pool[11], mine.pool[12]) == (9, 4, 15)
    assert mine.pool_run_out_on == date(2026, 5, 25)
    assert theirs.pool_run_out_on == date(2026, 5, 25)
    assert theirs.pool_rate == SpendRate(paid_30d=15, paid_90d=15, refunded_90d=0)
    # The allocated credits keep their lots' expiry: the 4 of March go on 30 May (day 71).
    assert mine.own[11:13] == (0, 12)
    assert mine.own[42] == 24
    assert mine.own[71] == 20
    # It sent nothing itself; `drawing` spent nothing of its own: no own dates.
    assert mine.run_out_on is None
    assert theirs.run_out_on is None
    # Without pool access there is no pool date, however fast the pool goes.
    assert outside.pool is None
    assert outside.pool_run_out_on is None


def test_expiries_apply_before_a_refresh_at_the_same_instant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 20), tick=False)
    # Granted 1 January, 1 February and 1 March: 15 credits, the cap; the first 5 expire at
    # 00:00 on 1 April (day 12), the very instant of the next refresh.
    seat = seat_on("premium_career", team=new_team(), activated_on=date(2026, 1, 1))

    forecast = forecast_at(time_machine, local(3, 20, 11), seat)

    # The 5 expire first, so the refresh finds 10 and grants 5 (the other way round: 10).
    assert forecast.own[11:13] == (15, 15)
    assert forecast.run_out_on is None


@pytest.mark.parametrize(("purchased", "run_out_on"), [(101, date(2027, 2, 28)), (102, None)])
def test_a_run_out_more_than_365_days_away_is_not_within_a_year(
    time_machine: TimeMachineFixture, purchased: int, run_out_on: date | None
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())
    set_plan("recruiter_lite", monthly_credits=0)
    time_machine.move_to(local(3, 2, 14), tick=False)
    sends(seat, 10)  # 1/3 a day
    purchase_record(seat=seat, credits=purchased, cause=SYSTEM)

    forecast = forecast_at(time_machine, local(3, 2, 15), seat)

    # 20 + 101 = 121 credits: ⌊d/3⌋ = 121 on day 363 (28 February 2027); 122 need day 366.
    assert forecast.run_out_on == run_out_on
