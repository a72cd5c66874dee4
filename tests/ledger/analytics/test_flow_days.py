"""The entries' days (`EntryDay`) and the responses' days (`ResponseDay`): the rollups credit
flows read, kept by triggers on the entry and InMail tables, equal to the raw rows whatever
wrote them (issue 15, goal 2).

The analytics conftest counts the days in the organisation's zone (America/Los_Angeles) before
each test, so credit flows read the rollup; moving the rollup to another zone makes them read
the entries, which is how each test compares the two.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_machine import TimeMachineFixture

from ledger.analytics import credit_flows, monthly_credit_flows
from ledger.analytics.periods import credit_flows_by_month
from ledger.models import Entry, EntryDay, EntryDayZone, EntryKind, InMailStatus, ResponseDay
from ledger.selectors import flow_day_discrepancies, flow_days_zone
from ledger.services import (
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    ledger_tick,
    purchase_record,
)
from ledger.services.flow_days import flow_days_rebuild
from ledger.services.imports import HistoricInMail, inmails_import
from ledger.tasks import check_ledger
from teams.models import AuditEvent
from tests.conftest import Org
from tests.ledger.analytics.helpers import ORG_TZ
from tests.ledger.analytics.test_credit_flows import BOOK_NOW, Book
from tests.ledger.analytics.test_credit_flows import book as book
from tests.ledger.helpers import SYSTEM, run_busy_ledger, seat_on, send, utc

pytestmark = pytest.mark.django_db


@contextmanager
def from_entries() -> Iterator[None]:
    """Credit flows read the entries meanwhile (the rollup counted in another zone)."""
    EntryDayZone.objects.update(time_zone="UTC")
    try:
        yield
    finally:
        EntryDayZone.objects.update(time_zone=ORG_TZ)


def all_flows(user: Any, now: Any, **scope: Any) -> list[dict[str, Any]]:
    """Every flow figure the pages show, over many periods: each month, 30 days, odd ranges."""
    results = monthly_credit_flows(user, months=12, now=now, **scope)
    results.append(credit_flows(user, now=now, **scope))
    results += credit_flows_by_month(
        user, start=date(2026, 3, 7), end=date(2026, 5, 2), now=now, **scope
    )
    return [asdict(result) for result in results]


def assert_rollup_is_the_entries(user: Any, now: Any, **scope: Any) -> None:
    assert flow_day_discrepancies() == []
    from_days = all_flows(user, now, **scope)
    with from_entries():
        assert all_flows(user, now, **scope) == from_days


def test_flows_from_the_days_are_the_flows_from_the_entries(org: Org, book: Book) -> None:
    assert EntryDay.objects.exists()
    assert_rollup_is_the_entries(org.admin, BOOK_NOW)
    assert_rollup_is_the_entries(org.lead, BOOK_NOW, team=org.team)
    assert_rollup_is_the_entries(org.admin, BOOK_NOW, seat=book.zed)
    # The book's story, as test_credit_flows worked it out by hand, read from the days.
    april = credit_flows(org.admin, team=org.team, start=date(2026, 4, 1), end=date(2026, 4, 30))
    assert (april.purchased, april.expired, april.forfeited) == (3, 2, 4)


def test_a_day_is_a_local_day_of_the_organisation_across_both_dst_changes(
    org: Org, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2026, 3, 1, 17), tick=False)
    seat = seat_on("premium_career", holder=org.recruiter, team=org.team)
    # 23:30 and 00:30 local around each change (PDT from 8 March, PST from 1 November).
    instants = [
        (utc(2026, 3, 8, 7, 30), date(2026, 3, 7)),  # 23:30 PST on 7 March
        (utc(2026, 3, 8, 8, 30), date(2026, 3, 8)),  # 00:30 PST on 8 March
        (utc(2026, 3, 9, 6, 30), date(2026, 3, 8)),  # 23:30 PDT on 8 March
        (utc(2026, 3, 9, 7, 30), date(2026, 3, 9)),  # 00:30 PDT on 9 March
        (utc(2026, 11, 1, 6, 30), date(2026, 10, 31)),  # 23:30 PDT on 31 October
        (utc(2026, 11, 2, 7, 30), date(2026, 11, 1)),  # 23:30 PST on 1 November
        (utc(2026, 11, 2, 8, 30), date(2026, 11, 2)),  # 00:30 PST on 2 November
    ]
    for credits, (at, _day) in enumerate(instants, start=1):
        time_machine.move_to(at, tick=False)
        bonus_grant(seat=seat, credits=credits, memo="", cause=SYSTEM)
    bonuses = dict(EntryDay.objects.filter(kind=EntryKind.BONUS).values_list("day", "amount"))
    expected: dict[date, int] = {}
    for credits, (_at, day) in enumerate(instants, start=1):
        expected[day] = expected.get(day, 0) + credits
    assert bonuses == expected
    now = utc(2026, 11, 3, 20)
    for start, end in [
        (date(2026, 3, 8), date(2026, 3, 8)),
        (date(2026, 11, 1), date(2026, 11, 1)),
    ]:
        flows = credit_flows(org.admin, start=start, end=end, now=now)
        assert flows.bonus == expected[start]
        with from_entries():
            assert credit_flows(org.admin, start=start, end=end, now=now).bonus == expected[start]
    assert_rollup_is_the_entries(org.admin, now)


def test_the_tick_and_its_batched_catch_up_keep_the_days(
    org: Org, time_machine: TimeMachineFixture
) -> None:
    """A busy half year, then the tick (batched, with COPY, on PostgreSQL) months late."""
    seats = run_busy_ledger(time_machine)
    time_machine.move_to(utc(2025, 12, 20, 9), tick=False)
    ledger_tick()
    assert Entry.objects.filter(kind=EntryKind.EXPIRY).exists()
    assert flow_day_discrepancies() == []
    assert_rollup_is_the_entries(org.admin, utc(2025, 12, 20, 9))
    assert_rollup_is_the_entries(org.admin, utc(2025, 12, 20, 9), team=seats[0].team)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40 * 24),  # hours later
            st.sampled_from(["send", "bonus", "purchase", "adjust", "answer", "tick"]),
            st.integers(min_value=1, max_value=4),
        ),
        min_size=1,
        max_size=14,
    )
)
def test_the_days_are_the_entries_over_random_histories(
    org: Org, time_machine: TimeMachineFixture, steps: list[tuple[int, str, int]]
) -> None:
    flow_days_rebuild()
    now = utc(2026, 1, 5, 17)
    time_machine.move_to(now, tick=False)
    seat = seat_on("recruiter_lite", holder=org.recruiter, team=org.team)
    sent = []
    for number, (hours, action, credits) in enumerate(steps):
        now += timedelta(hours=hours)
        time_machine.move_to(now, tick=False)
        if action == "send" and seat.account.balance > 0:
            sent.append(send(seat, f"linkedin.com/in/random-{number}").inmail)
        elif action == "bonus":
            bonus_grant(seat=seat, credits=credits, memo="", cause=SYSTEM)
        elif action == "purchase":
            purchase_record(seat=seat, credits=credits, cause=SYSTEM)
        elif action == "adjust":
            adjustment_post(seat=seat, credits=credits, reason="LinkedIn shows more", cause=SYSTEM)
        elif action == "answer" and sent:
            inmail_record_response(inmail=sent.pop(), outcome="accepted", cause=SYSTEM)
        elif action == "tick":
            ledger_tick()
        seat.account.refresh_from_db()
    ledger_tick()
    assert_rollup_is_the_entries(org.admin, now)


def test_an_entry_changed_by_hand_is_refused_or_moves_its_day(org: Org, book: Book) -> None:
    """Entries are append-only: PostgreSQL refuses a change (migration 0002); SQLite, which
    doesn't, moves the days with it. Either way the days are the entries."""
    spend = Entry.objects.filter(kind=EntryKind.SPEND).order_by("pk").first()
    assert spend is not None
    try:
        with transaction.atomic():
            Entry.objects.filter(pk=spend.pk).update(at=F("at") - timedelta(days=40), amount=-2)
    except DatabaseError:
        assert connection.vendor == "postgresql"
    assert flow_day_discrepancies() == []
    bonus = Entry.objects.filter(kind=EntryKind.BONUS).order_by("pk")
    try:
        with transaction.atomic():
            Entry.objects.filter(pk__in=list(bonus.values_list("pk", flat=True)[:1])).delete()
    except DatabaseError:
        assert connection.vendor == "postgresql"
    assert flow_day_discrepancies() == []


def test_the_check_finds_a_tampered_day_and_the_daily_task_logs_it(
    org: Org, book: Book, caplog: pytest.LogCaptureFixture
) -> None:
    call_command("ledger_flows_check", stdout=StringIO())
    day = EntryDay.objects.filter(kind=EntryKind.SPEND).order_by("pk").first()
    assert day is not None
    EntryDay.objects.filter(pk=day.pk).update(amount=F("amount") - 1)
    gone = EntryDay.objects.filter(kind=EntryKind.GRANT).order_by("pk").first()
    assert gone is not None
    EntryDay.objects.filter(pk=gone.pk).delete()
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("ledger_flows_check", stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert f"account #{day.account_id} spend on {day.day} credits" in err.getvalue()
    assert f"account #{gone.account_id} grant on {gone.day} credits" in err.getvalue()
    assert "3 differences" in str(raised.value)  # the spend's credits, the grant's both
    answered = ResponseDay.objects.order_by("pk").first()
    assert answered is not None
    ResponseDay.objects.filter(pk=answered.pk).update(responses=F("responses") + 1)
    assert check_ledger() == 4
    assert f"seat #{answered.seat_id} responses on {answered.day}" in caplog.text
    assert "ledger_flows_check: account #" in caplog.text
    call_command("ledger_flows_check", "--rebuild", stdout=StringIO())
    assert flow_day_discrepancies() == []


def test_a_new_time_zone_reads_the_entries_until_the_days_are_counted_again(
    org: Org, book: Book, settings: Any
) -> None:
    in_los_angeles = all_flows(org.admin, BOOK_NOW)
    settings.TIME_ZONE = "Asia/Tokyo"
    in_tokyo = all_flows(org.admin, BOOK_NOW)  # from the entries: the days are still LA's
    assert in_tokyo != in_los_angeles
    err = StringIO()
    call_command("ledger_flows_check", stdout=StringIO(), stderr=err)
    assert "counted in America/Los_Angeles, not the organisation's Asia/Tokyo" in err.getvalue()
    out = StringIO()
    call_command("ledger_flows_check", "--rebuild", stdout=out)
    assert "in Asia/Tokyo (before: America/Los_Angeles)" in out.getvalue()
    assert flow_days_zone() == "Asia/Tokyo"
    rebuilt = AuditEvent.objects.filter(action="flow_days.rebuild").latest("pk")
    assert rebuilt.changes == {"time_zone": ["America/Los_Angeles", "Asia/Tokyo"]}
    assert all_flows(org.admin, BOOK_NOW) == in_tokyo
    assert flow_day_discrepancies() == []


def test_imported_and_backdated_answers_land_on_their_local_days(
    org: Org, book: Book, time_machine: TimeMachineFixture
) -> None:
    """An import's InMails (COPY on PostgreSQL) and a response recorded late, dated back."""
    rows = [
        HistoricInMail(
            line=line + 2,
            seat=book.zed,
            recipient=f"linkedin.com/in/imported-{line}",
            subject="Hello",
            body="x" * 50,
            sent_at=utc(2026, 3, 1, 18),
            status=status,
            responded_at=responded_at,
        )
        for line, (status, responded_at) in enumerate(
            [
                (InMailStatus.ACCEPTED, utc(2026, 3, 8, 7, 30)),  # 7 March, 23:30 PST
                (InMailStatus.REPLIED, utc(2026, 3, 8, 8, 30)),  # 8 March, 00:30 PST
                (InMailStatus.NO_RESPONSE, None),
            ]
        )
    ]
    assert inmails_import(user=org.admin, rows=rows, cause=SYSTEM) == 3
    days = dict(ResponseDay.objects.filter(seat=book.zed).values_list("day", "responses"))
    assert days[date(2026, 3, 7)] == 1
    assert days[date(2026, 3, 8)] == 1
    pending = send(book.zed, "linkedin.com/in/member-late").inmail
    time_machine.move_to(utc(2026, 6, 12, 19), tick=False)
    inmail_record_response(
        inmail=pending, outcome="replied", responded_at=utc(2026, 6, 11, 6), cause=SYSTEM
    )
    days = dict(ResponseDay.objects.filter(seat=book.zed).values_list("day", "responses"))
    assert days[date(2026, 6, 10)] == 1  # 23:00 PDT on 10 June
    march = credit_flows(org.admin, seat=book.zed, start=date(2026, 3, 8), end=date(2026, 3, 8))
    assert march.responses == 1
    assert_rollup_is_the_entries(org.admin, utc(2026, 6, 12, 19))
