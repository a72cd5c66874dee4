"""How the forecast reads the ledger: set-based, read-only, at a past instant; and the balances
day by day the burn-down chart draws (America/Los_Angeles, as every analytics test)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from ledger import schedule
from ledger.analytics import daily_balances, seat_forecast, seat_forecasts
from ledger.models import Account, Entry, Lot
from ledger.services import pool_transfer, purchase_record, seats_bring_up_to_date
from teams.models import Seat
from tests.ledger.helpers import SYSTEM, account_of, new_team, seat_on, send

pytestmark = pytest.mark.django_db


def local(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=schedule.org_tz())


def sends(seat: Seat, count: int, label: str = "m") -> None:
    for n in range(count):
        send(seat, f"linkedin.com/in/{label}-{seat.pk}-{n}")


def test_the_forecast_at_a_past_instant_is_the_one_made_then(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("premium_career", team=new_team())
    time_machine.move_to(local(3, 20), tick=False)
    purchase_record(seat=seat, credits=10, cause=SYSTEM)
    sends(seat, 10)
    then = local(3, 20, 11)
    time_machine.move_to(then, tick=False)
    made_then = seat_forecast(seat)
    # Ten days later: five more sends, a purchase, the 1 April refresh.
    time_machine.move_to(local(4, 2), tick=False)
    sends(seat, 5, "later")
    purchase_record(seat=seat, credits=3, cause=SYSTEM)
    seats_bring_up_to_date([seat.pk])

    looking_back = seat_forecast(seat, as_of=then)

    # test_forecast.py works this one out: 19 April.
    assert made_then.run_out_on == date(2026, 4, 19)
    assert looking_back.run_out_on == date(2026, 4, 19)
    assert looking_back.own == made_then.own
    assert seat_forecast(seat).run_out_on != date(2026, 4, 19)


def test_a_pool_nobody_spends_from_has_no_pool_date(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    team = new_team()
    seat = seat_on("recruiter_corporate", team=team)
    pool_transfer(team=team, seat=seat, credits=20, cause=SYSTEM)
    time_machine.move_to(local(3, 20), tick=False)
    sends(seat, 6)  # from its own 20: 1/5 a day

    forecast = seat_forecast(seat)

    # 14 own credits: ⌊d/5⌋ = 14 on day 70, 29 May; the pool (130) is not being spent.
    assert forecast.run_out_on == date(2026, 5, 29)
    assert forecast.pool is not None
    assert forecast.pool[0] == 130
    assert forecast.pool_run_out_on is None


def _many_seats(count: int) -> list[Seat]:
    team = new_team()
    seats = []
    for n in range(count):
        seat = seat_on("recruiter_corporate" if n % 2 else "recruiter_lite", team=team)
        sends(seat, 2, f"s{n}")
        seats.append(seat)
    return seats


def test_the_forecast_of_many_seats_takes_as_many_queries_as_of_one_and_writes_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seats = _many_seats(6)
    time_machine.move_to(local(3, 20), tick=False)
    seats_bring_up_to_date([seat.pk for seat in seats])
    before = (Entry.objects.count(), Lot.objects.count(), list(Account.objects.values()))

    with CaptureQueriesContext(connection) as one:
        seat_forecasts(Seat.objects.filter(pk=seats[1].pk))  # a pooled one: its pool too
    with CaptureQueriesContext(connection) as many:
        forecasts = seat_forecasts(Seat.objects.filter(pk__in=[seat.pk for seat in seats]))
    read = list(
        Seat.objects.filter(pk__in=[seat.pk for seat in seats]).select_related("account", "plan")
    )
    with CaptureQueriesContext(connection) as given:
        seat_forecasts(read)

    assert len(forecasts) == 6
    assert len(one.captured_queries) == len(many.captured_queries) == 4
    # Seats read with their accounts and plans are not read again.
    assert len(given.captured_queries) == 3
    statements = [query["sql"].split()[0].upper() for query in many.captured_queries]
    assert set(statements) == {"SELECT"}
    assert (Entry.objects.count(), Lot.objects.count(), list(Account.objects.values())) == before


# --- balances day by day ---------------------------------------------------------------------


def test_daily_balances_close_each_local_day_with_what_the_account_held(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())  # 30
    time_machine.move_to(local(3, 5, 23), tick=False)  # 5 March 23:00 here, 6 March in UTC
    sends(seat, 2)
    time_machine.move_to(local(3, 10, 1), tick=False)
    sends(seat, 1, "late")
    time_machine.move_to(local(3, 12), tick=False)
    account = account_of(seat)

    history = daily_balances({account.pk: account.balance}, days=8)

    # 4 March … 12 March (today, last).
    assert history == {account.pk: [30, 28, 28, 28, 28, 28, 27, 27, 27]}


def test_daily_balances_before_the_first_entry_are_zero(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(local(3, 10), tick=False)
    seat = seat_on("premium_career", team=new_team())  # 5, granted at 00:00 on 10 March
    time_machine.move_to(local(3, 11), tick=False)

    account = account_of(seat)

    history = daily_balances({account.pk: account.balance}, days=3)

    assert history == {account.pk: [0, 0, 5, 5]}


def test_daily_balances_of_many_accounts_take_one_query(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(3, 1), tick=False)
    seats = _many_seats(4)
    time_machine.move_to(local(3, 20), tick=False)
    balances = {account_of(seat).pk: account_of(seat).balance for seat in seats}

    with CaptureQueriesContext(connection) as queries:
        history = daily_balances(balances, days=90)

    assert len(queries.captured_queries) == 1
    assert all(len(closings) == 91 for closings in history.values())
