"""R17: a ledger brought up to date once after months equals one kept up to date every day."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledger.exceptions import InsufficientCredits
from ledger.models import Account, Entry, InMail
from ledger.selectors import ledger_discrepancies
from ledger.services import (
    Cause,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    ledger_tick,
    pool_transfer,
    purchase_record,
    seat_update_settings,
    seats_bring_up_to_date,
)
from teams.models import Seat, Team
from tests.factories import TeamFactory, UserFactory, make_seat

START = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
CAUSE = Cause.system("test")


def _organisation(prefix: str) -> tuple[list[Seat], Team]:
    solo = TeamFactory.create(name=f"{prefix} solo")
    seats = [
        make_seat(plan_code="recruiter_lite", team=solo, activated_on=date(2025, 1, 31)),
        make_seat(plan_code="premium_career", team=solo, activated_on=date(2025, 1, 15)),
        make_seat(plan_code="sales_navigator_core", team=solo, activated_on=date(2025, 1, 20)),
    ]
    corporate = TeamFactory.create(name=f"{prefix} corporate")
    for activated_on in (date(2025, 1, 5), date(2025, 1, 10), date(2025, 1, 30)):
        seats.append(
            make_seat(
                plan_code="recruiter_corporate",
                team=corporate,
                holder=UserFactory.create(),
                activated_on=activated_on,
            )
        )
    seat_update_settings(seat=seats[3], cause=CAUSE, monthly_allocation=40)
    return seats, corporate


def _activity(day: int, seats: list[Seat], corporate: Team, tag: str) -> None:
    """The same business on both organisations: sends, answers, a bonus, a purchase, moves."""
    for index, seat in enumerate(seats):
        if (day + index) % 3 == 0:
            # Running out of credits is part of the scenario; any other refusal is a failure.
            with contextlib.suppress(InsufficientCredits):
                inmail_send(
                    seat=seat,
                    recipient=f"linkedin.com/in/member-{tag}-{day}-{index}",
                    subject="A role you may like",
                    body="Hello, would this be worth a conversation?",
                    cause=CAUSE,
                )
    if day % 7 == 0:
        pending = InMail.objects.filter(seat__in=seats, status="pending").order_by("id")
        for inmail in pending[:2]:
            inmail_record_response(inmail=inmail, outcome="accepted", cause=CAUSE)
    if day == 20:
        bonus_grant(seat=seats[0], credits=50, memo="Campaign bonus", cause=CAUSE)
    if day == 45:
        purchase_record(seat=seats[1], credits=5, cause=CAUSE)
    if day in (10, 70):
        pool_transfer(team=corporate, seat=seats[4], credits=25, cause=CAUSE)


def _history(seats: list[Seat], corporate: Team) -> list[tuple[object, ...]]:
    accounts = [Account.objects.get(seat=seat) for seat in seats]
    accounts.append(Account.objects.get(kind="pool", team=corporate))
    rows: list[tuple[object, ...]] = []
    for position, account in enumerate(accounts):
        entries = Entry.objects.filter(account=account).select_related("lot").order_by("at", "id")
        for entry in entries:
            rows.append(
                (
                    position,
                    entry.at,
                    entry.kind,
                    entry.amount,
                    entry.balance_after,
                    entry.lot.source,
                    entry.lot.granted_at,
                    entry.lot.expires_at,
                )
            )
    return rows


@pytest.mark.django_db
def test_one_late_catch_up_equals_hourly_catch_ups() -> None:
    with time_machine.travel(START, tick=False) as traveller:
        hourly_seats, hourly_pool_team = _organisation("hourly")
        late_seats, late_pool_team = _organisation("late")
        hourly_ids = [seat.pk for seat in hourly_seats]
        for hour in range(1, 100 * 24):
            traveller.move_to(START + timedelta(hours=hour))
            # What a page does before it reads balances: whatever is due on these seats and
            # their teams' pools, under their locks (one indexed read when nothing is).
            seats_bring_up_to_date(hourly_ids)
            if hour % 24 == 0:
                day = hour // 24
                _activity(day, hourly_seats, hourly_pool_team, "hourly")
                _activity(day, late_seats, late_pool_team, "late")
        ledger_tick()

        assert _history(late_seats, late_pool_team) == _history(hourly_seats, hourly_pool_team)
        kinds = {row[2] for row in _history(late_seats, late_pool_team)}
        assert {"grant", "expiry", "spend", "refund", "allocation", "transfer"} <= kinds
        assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_tick_after_three_idle_months_dates_every_refresh_when_it_was_due() -> None:
    with time_machine.travel(datetime(2024, 1, 31, 12, 0, tzinfo=UTC), tick=False) as traveller:
        seat = make_seat(plan_code="recruiter_lite", activated_on=date(2024, 1, 31))
        traveller.move_to(datetime(2024, 5, 2, 8, 0, tzinfo=UTC))
        call_command("ledger_tick")

        entries = Entry.objects.filter(account__seat=seat).order_by("at", "id")
        assert [(e.at, e.kind, e.amount, e.balance_after) for e in entries] == [
            (datetime(2024, 1, 31, tzinfo=UTC), "grant", 30, 30),
            (datetime(2024, 2, 29, tzinfo=UTC), "grant", 30, 60),
            (datetime(2024, 3, 31, tzinfo=UTC), "grant", 30, 90),
            # Jan 31 + 90 days = Apr 30: the first grant expires at the very instant of the
            # April refresh, and expiries apply first.
            (datetime(2024, 4, 30, tzinfo=UTC), "expiry", -30, 60),
            (datetime(2024, 4, 30, tzinfo=UTC), "grant", 30, 90),
        ]


@pytest.mark.django_db
def test_tick_twice_changes_nothing_the_second_time() -> None:
    with time_machine.travel(datetime(2025, 3, 1, tzinfo=UTC), tick=False) as traveller:
        make_seat(plan_code="premium_business", activated_on=date(2025, 3, 1))
        traveller.move_to(datetime(2025, 9, 1, tzinfo=UTC))
        first = ledger_tick()
        entries = Entry.objects.count()
        second = ledger_tick()

        assert first.groups == 1
        assert second.groups == 0
        assert Entry.objects.count() == entries


@pytest.mark.django_db
def test_tick_refuses_to_move_the_ledger_into_the_future() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="future"):
        call_command("ledger_tick", "--until", "2999-01-01T00:00:00+00:00")
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("ledger_tick", "--until", "next tuesday")


def _send_after_a_month_on_a_pool_of(seats: int) -> int:
    """Statements of the first send on one seat of a pool of `seats` pooled seats (half with a
    monthly allocation) after a month and a day with nothing run: the send brings the group
    up to date itself."""
    with time_machine.travel(datetime(2025, 1, 5, 9, tzinfo=UTC), tick=False) as traveller:
        team = TeamFactory.create(name=f"Pool of {seats}")
        pooled = [
            make_seat(
                plan_code="recruiter_corporate",
                team=team,
                activated_on=date(2025, 1, 5),
                monthly_allocation=20 if n % 2 else None,
            )
            for n in range(seats)
        ]
        traveller.move_to(datetime(2025, 2, 6, 9, tzinfo=UTC))
        due = Account.objects.filter(team=team, next_due_at__lte=timezone.now())
        assert due.exists()
        with CaptureQueriesContext(connection) as statements:
            inmail_send(
                seat=pooled[0].pk,
                recipient="linkedin.com/in/first-after-a-month",
                subject="A role",
                body="Hello",
                cause=CAUSE,
            )
        assert not due.exists()
    assert ledger_discrepancies() == []
    return len(statements)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_send_bringing_a_pool_up_to_date_costs_the_same_statements_for_4_or_20_seats() -> None:
    # The group's new account states and its takes from lots are one statement each
    # (`save_fields_many`, `_take_many`), not one per account and per lot: for twenty seats,
    # 67 statements before, 17 after (bench/RESULTS.md, "Tick").
    small = _send_after_a_month_on_a_pool_of(4)
    large = _send_after_a_month_on_a_pool_of(20)
    assert large == small
    assert large <= 20
