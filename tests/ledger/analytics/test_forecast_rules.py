"""The forecast projects with the ledger's own rules: with nobody sending, the balances it
projects are, day by day, those the ledger's jobs then really leave (R3, R4, R5, R14, R17)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from time_machine import TimeMachineFixture

from ledger import schedule
from ledger.analytics import seat_forecasts
from ledger.models import Account
from ledger.selectors import account_balance_as_of
from ledger.services import (
    adjustment_post,
    bonus_grant,
    ledger_bring_all_up_to_date,
    pool_transfer,
    purchase_record,
    seats_bring_up_to_date,
)
from teams.models import Seat
from tests.ledger.helpers import SYSTEM, account_of, new_team, seat_on, set_plan

pytestmark = pytest.mark.django_db

DAYS = 130


def local(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=schedule.org_tz())


def closing_balances(account: Account, today: date) -> list[int]:
    """What the ledger says the account held at the end of today and each following day."""
    return [
        account_balance_as_of(
            account,
            schedule.start_of_day(today + timedelta(days=day + 1)) - timedelta(microseconds=1),
        )
        for day in range(DAYS + 1)
    ]


def test_with_nobody_sending_the_projection_is_what_the_jobs_then_do(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(local(1, 31), tick=False)
    # A seat with anchor 31 over its cap: a bonus and an adjustment above it, and purchases
    # outside it; the cap lowered later, so refreshes trim.
    alone = seat_on("premium_business", team=new_team())  # 15 a month, cap 45
    # A pool of two seats, one with an allocation, one holding credits of its own.
    team = new_team()
    first = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(local(2, 3), tick=False)
    second = seat_on("recruiter_corporate", team=team, monthly_allocation=100)
    pool_transfer(team=team, seat=first, credits=60, cause=SYSTEM)
    time_machine.move_to(local(2, 20), tick=False)
    bonus_grant(seat=alone, credits=20, memo="Sprint", cause=SYSTEM)
    adjustment_post(seat=alone, credits=25, reason="LinkedIn shows more", cause=SYSTEM)
    purchase_record(seat=alone, credits=4, cause=SYSTEM)
    set_plan("premium_business", max_balance=40)
    set_plan("recruiter_corporate", max_balance=250)
    seats = [alone, first, second]
    seats_bring_up_to_date([seat.pk for seat in seats])
    today = schedule.today()

    forecasts = seat_forecasts(Seat.objects.filter(pk__in=[seat.pk for seat in seats]))
    pool = Account.objects.get(team=team, kind="pool")
    projected = {
        "alone": forecasts[alone.pk].own[: DAYS + 1],
        "first": forecasts[first.pk].own[: DAYS + 1],
        "second": forecasts[second.pk].own[: DAYS + 1],
        "pool": (forecasts[first.pk].pool or ())[: DAYS + 1],
    }
    time_machine.move_to(schedule.start_of_day(today + timedelta(days=DAYS + 2)), tick=False)
    ledger_bring_all_up_to_date()
    happened = {
        "alone": closing_balances(account_of(alone), today),
        "first": closing_balances(account_of(first), today),
        "second": closing_balances(account_of(second), today),
        "pool": closing_balances(pool, today),
    }

    assert projected == {name: tuple(balances) for name, balances in happened.items()}
    # The story moved: refreshes, trims, expiries and allocations all happened in the window.
    assert len(set(happened["alone"])) > 3
    assert len(set(happened["pool"])) > 3
    assert len(set(happened["second"])) > 2
