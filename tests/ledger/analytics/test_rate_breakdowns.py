"""Response-rate breakdowns by hour, weekday and hour, template and tag (issue 15): the numbers
read from their all-time rows are the numbers counted from the InMails, whatever wrote the
InMails or their tags and whenever `now` is against the settled day, and `rates_check` finds a
row that is not.

As in test_rate_rollups.py, each comparison is `response_rates` over a scope as
`breakdown_inmails` gives it (the breakdown rows, on PostgreSQL) against the same scope narrowed
by nothing (`.all()`: counted from the InMails). SQLite keeps no breakdowns: both sides count the
InMails there.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_machine import TimeMachineFixture

from ledger import rate_breakdowns, rate_rollups
from ledger.analytics import analytics_inmails, breakdown_inmails, response_rates, response_totals
from ledger.analytics.rates import BREAKDOWN_GROUP_BY
from ledger.analytics.scope import breakdown_filter_of
from ledger.models import InMail, InMailStatus, InMailTag, RateBreakdown, RateBreakdownMonth
from ledger.schedule import start_of_day
from ledger.services import (
    Cause,
    HistoricInMail,
    inmail_record_response,
    inmail_send,
    inmail_update_tags,
    inmail_withdraw,
    inmails_import,
    seat_reassign,
)
from teams.models import Seat, Team, User
from tests.conftest import Org
from tests.ledger.helpers import SYSTEM, seat_on, utc

pytestmark = pytest.mark.django_db

# Monday 15 June 2026, 10:00 in Los Angeles (the analytics tests' zone, PDT): the 30-day cutoff
# is 16 May 2026 10:00 PDT.
NOW = utc(2026, 6, 15, 17)
POSTGRES = "postgresql"


@pytest.fixture
def rollups() -> None:
    """Rollups and breakdowns rebuilt in the test's time zone, so that the analytics read them.
    (The clock then stands 60 days before NOW: the settled day is not NOW's cutoff day.)"""
    rate_rollups.rollup_rebuild()


@pytest.fixture
def seats(org: Org, time_machine: TimeMachineFixture) -> tuple[Seat, Seat, Seat]:
    time_machine.move_to(NOW - timedelta(days=60), tick=False)
    return (
        seat_on(holder=org.recruiter, team=org.team, activated_on=utc(2026, 1, 1).date()),
        seat_on(holder=org.teammate, team=org.team, activated_on=utc(2026, 1, 1).date()),
        seat_on(holder=org.outsider, team=org.other_team, activated_on=utc(2026, 1, 1).date()),
    )


def assert_breakdowns_match_inmails(
    user: User,
    *,
    team: Team | None = None,
    now: datetime = NOW,
    start: date | None = None,
    end: date | None = None,
) -> None:
    for group_by in sorted(BREAKDOWN_GROUP_BY):
        scoped = breakdown_inmails(user, group_by, team=team, start=start, end=end)
        found = breakdown_filter_of(scoped)
        if connection.vendor != POSTGRES or not _whole_months(start, end):
            # A range of days that is not whole months counts the InMails.
            assert found is None
        else:
            assert found is not None
            ranged = start is not None or end is not None
            assert found.model is (RateBreakdownMonth if ranged else RateBreakdown)
        assert breakdown_filter_of(scoped.all()) is None
        assert response_rates(scoped, group_by=group_by, now=now) == response_rates(
            scoped.all(), group_by=group_by, now=now
        ), group_by


def _whole_months(start: date | None, end: date | None) -> bool:
    """Whether the rows by month count the range: it starts on a month's first day and ends on
    a month's last day, or on a day after which no InMail was sent (the current month so far)."""
    if start is not None and start.day != 1:
        return False
    if end is None or (end + timedelta(days=1)).day == 1:
        return True
    return not InMail.objects.filter(sent_at__gte=start_of_day(end + timedelta(days=1))).exists()


# Ranges of whole local months (the history runs from 6 April to 15 June 2026), besides one to
# `now`'s day (after which something may have been sent, or not).
RANGES = ((date(2026, 4, 1), date(2026, 5, 31)), (None, date(2026, 4, 30)))


def assert_all_match(org: Org, *, now: datetime = NOW, ranges: bool = False) -> None:
    """Every breakdown of the admin, a lead and a recruiter, and of a team, over all time; with
    `ranges`, also over ranges of whole months (the rows by month)."""
    for user in (org.admin, org.lead, org.recruiter):
        assert_breakdowns_match_inmails(user, now=now)
    assert_breakdowns_match_inmails(org.admin, team=org.team, now=now)
    if not ranges:
        return
    for start, end in ((date(2026, 5, 1), now.date()), *RANGES):
        assert_breakdowns_match_inmails(org.admin, now=now, start=start, end=end)
    assert_breakdowns_match_inmails(
        org.lead, team=org.team, now=now, start=date(2026, 6, 1), end=now.date()
    )


def check_output() -> str:
    out = StringIO()
    call_command("rates_check", stdout=out, stderr=out)
    return out.getvalue()


def assert_check_clean() -> None:
    out = check_output()
    if connection.vendor == POSTGRES:
        assert "Rate breakdowns exact" in out
        assert "0 differences" in out
    else:
        assert "No rate rollups on SQLite" in out


def rows_of(user: User, group_by: str, *, now: datetime = NOW) -> dict[Any, Any]:
    scoped = breakdown_inmails(user, group_by)
    return {row.key: row for row in response_rates(scoped, group_by=group_by, now=now)}


_RECIPIENTS = itertools.count()
TEMPLATES = ("", "Intro", "Referral")
TAGS = ("alpha", "beta", "gamma")


def _inmail(
    seat: Seat,
    sent_at: datetime,
    status: str,
    answered_after: timedelta | None,
    template: str = "",
) -> InMail:
    someone = f"someone-{next(_RECIPIENTS)}"
    return InMail(
        seat=seat,
        sender=seat.holder,
        recipient=f"linkedin.com/in/{someone}",
        recipient_key=someone,
        subject="A role",
        body="x",
        status=status,
        sent_at=sent_at,
        responded_at=sent_at + answered_after if answered_after is not None else None,
        template=template,
    )


ANSWERED = {InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED}


def _history(
    seats: tuple[Seat, Seat, Seat], history: list[tuple[int, int, str, int, str, set[str]]]
) -> list[InMail]:
    """The InMails of `history` (seat, minutes before NOW, status, minutes to the answer,
    template, tags) in place of any there were, with their tags."""
    InMail.objects.all().delete()
    created = InMail.objects.bulk_create(
        _inmail(
            seats[seat],
            NOW - timedelta(minutes=minutes),
            status,
            timedelta(minutes=after) if status in ANSWERED else None,
            template,
        )
        for seat, minutes, status, after, template, _ in history
    )
    InMailTag.objects.bulk_create(
        InMailTag(inmail=inmail, tag=tag)
        for inmail, (*_, tags) in zip(created, history, strict=True)
        for tag in sorted(tags)
    )
    return created


STATUSES = st.sampled_from([s.value for s in InMailStatus])
TAG_SETS = st.sets(st.sampled_from(TAGS))
HISTORY = st.lists(
    st.tuples(
        st.integers(0, 2),  # seat
        st.integers(0, 70 * 24 * 60),  # minutes before NOW: the cutoff's day is in it
        STATUSES,
        st.integers(0, 40 * 24 * 60),  # minutes to the answer, if answered
        st.sampled_from(TEMPLATES),
        TAG_SETS,
    ),
    max_size=30,
)
# Later writes, each one statement or service call on one InMail: a status change (as no
# service would: an update statement), new tags and template through the service, a move to
# another seat and sender, a deletion.
LATER = st.lists(
    st.tuples(
        st.integers(0, 29),
        st.one_of(
            st.tuples(st.just("status"), STATUSES),
            st.tuples(st.just("tags"), TAG_SETS),
            st.tuples(st.just("template"), st.sampled_from(TEMPLATES)),
            st.tuples(st.just("move"), st.integers(0, 2)),
            st.tuples(st.just("delete"), st.none()),
        ),
    ),
    max_size=10,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=HISTORY, later=LATER)
def test_breakdowns_equal_the_inmails_for_random_histories_and_later_changes(
    org: Org,
    seats: tuple[Seat, Seat, Seat],
    rollups: None,
    history: list[tuple[int, int, str, int, str, set[str]]],
    later: list[tuple[int, tuple[str, Any]]],
) -> None:
    created = _history(seats, history)
    for index, (op, value) in later:
        if index >= len(created) or not InMail.objects.filter(pk=created[index].pk).exists():
            continue
        inmail = created[index]
        one = InMail.objects.filter(pk=inmail.pk)
        if op == "status":
            one.update(status=value, responded_at=NOW if value in ANSWERED else None)
        elif op == "tags":
            inmail_update_tags(inmail=inmail, cause=SYSTEM, tags=sorted(value))
        elif op == "template":
            inmail_update_tags(inmail=inmail, cause=SYSTEM, template=value)
        elif op == "move":
            one.update(seat=seats[value], sender=seats[value].holder)
        else:
            one.delete()
    # NOW, a day later and two days earlier: the settled day (60 days before NOW's cutoff day)
    # is corrected by the InMails in between, whichever side `now` is on.
    for now in (NOW, NOW + timedelta(days=1), NOW - timedelta(days=2)):
        assert_all_match(org, now=now, ranges=now <= NOW)
    # Settled at NOW, as the daily check does: the same numbers, no correction needed.
    assert rate_breakdowns.breakdown_settle(NOW) == (
        date(2026, 5, 16) if connection.vendor == POSTGRES else None
    )
    for now in (NOW, NOW - timedelta(days=1)):
        assert_all_match(org, now=now, ranges=now == NOW)
    assert_check_clean()


def test_hours_are_local_across_daylight_saving_changes(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    seat = seats[0]
    # Los Angeles: 2 November 2025 fell back at 02:00 PDT, so 08:30 and 09:30 UTC are both
    # 01:30 local (PDT, then PST); 8 March 2026 sprang forward at 02:00 PST, so 09:30 UTC is
    # 01:30 PST and 10:30 UTC 03:30 PDT (Sunday both days).
    sent = [
        utc(2025, 11, 2, 8, 30),
        utc(2025, 11, 2, 9, 30),
        utc(2026, 3, 8, 9, 30),
        utc(2026, 3, 8, 10, 30),
    ]
    InMail.objects.bulk_create(
        [_inmail(seat, at, InMailStatus.REPLIED, timedelta(hours=3)) for at in sent]
    )
    hours = rows_of(org.admin, "hour")
    assert {key: row.sent for key, row in hours.items() if row.sent} == {1: 3, 3: 1}
    weekday_hours = rows_of(org.admin, "weekday_hour")
    assert {key: row.sent for key, row in weekday_hours.items() if row.sent} == {
        "7-01": 3,
        "7-03": 1,
    }
    assert_all_match(org)
    assert_check_clean()


def test_the_cutoff_day_and_its_neighbours_count_as_the_inmails_do(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    cutoff = NOW - timedelta(days=30)
    for n, sent_at in enumerate(
        (
            cutoff - timedelta(days=1),
            cutoff - timedelta(hours=9, minutes=59),  # 00:01 local on the cutoff's day
            cutoff - timedelta(minutes=1),
            cutoff,
            cutoff + timedelta(minutes=1),
            cutoff + timedelta(hours=13),  # 23:00 local on the cutoff's day
            cutoff + timedelta(days=1),
        )
    ):
        InMail.objects.bulk_create(
            [
                _inmail(seats[0], sent_at, InMailStatus.PENDING, None, TEMPLATES[n % 3]),
                _inmail(seats[0], sent_at, InMailStatus.NO_RESPONSE, None, TEMPLATES[n % 3]),
                _inmail(seats[0], sent_at, InMailStatus.WITHDRAWN, None, TEMPLATES[n % 3]),
                _inmail(seats[0], sent_at, InMailStatus.REPLIED, timedelta(days=2)),
            ]
        )
    rows = rows_of(org.admin, "template")
    # Windows over: the unanswered InMails sent by the cutoff (the day before, and three on
    # its day: 8 of them), every reply (7); no withdrawn one.
    assert sum(row.rate_base for row in rows.values()) == 8 + 7
    assert sum(row.sent for row in rows.values()) == 28
    assert rows[None].label == "No template"
    for settle_at in (None, NOW):
        if settle_at is not None:
            rate_breakdowns.breakdown_settle(settle_at)
        for moved in (timedelta(0), timedelta(minutes=1), timedelta(hours=14), timedelta(days=1)):
            assert_all_match(org, now=NOW + moved, ranges=not moved)
    assert_check_clean()


def test_services_imports_and_tags_changed_later_keep_the_breakdowns_exact(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None, time_machine: TimeMachineFixture
) -> None:
    seat = seats[0]
    time_machine.move_to(NOW - timedelta(days=45), tick=False)

    def send(recipient: str, **extra: Any) -> InMail:
        return inmail_send(
            seat=seat, recipient=recipient, subject="A role", body="Hello", cause=SYSTEM, **extra
        ).inmail

    first = send("linkedin.com/in/ann", template="Intro", tags=["alpha", "beta"])
    second = send("linkedin.com/in/bob", tags=["alpha"])
    third = send("linkedin.com/in/cid", template="Referral")
    time_machine.move_to(NOW - timedelta(days=44), tick=False)
    inmail_withdraw(inmail=third, cause=SYSTEM)
    inmail_update_tags(inmail=second, cause=SYSTEM, tags=["beta", "gamma"], template="Intro")
    time_machine.move_to(NOW - timedelta(days=2), tick=False)
    # Answered 43 days after sending: answered, not within 30 days.
    inmail_record_response(inmail=first, outcome=InMailStatus.ACCEPTED, cause=SYSTEM)
    seat = seat_reassign(seat=seat, holder=org.teammate, cause=SYSTEM)
    time_machine.move_to(NOW, tick=False)
    inmail_update_tags(inmail=first, cause=SYSTEM, tags=[])
    imported = [
        HistoricInMail(
            line=2 + n,
            seat=seats[n % 2],
            recipient=f"linkedin.com/in/imported-{n}",
            subject="Imported",
            body="y",
            sent_at=NOW - timedelta(days=n * 3 + 1, hours=n),
            status=InMailStatus.REPLIED if n % 3 == 0 else InMailStatus.PENDING,
            responded_at=NOW - timedelta(days=n * 3) if n % 3 == 0 else None,
            template=TEMPLATES[n % 3],
            tags=tuple(TAGS[: n % 4]),
        )
        for n in range(12)
    ]
    assert inmails_import(user=org.admin, rows=imported, cause=Cause(org.admin, "test")) == 12
    tags = rows_of(org.admin, "tag")
    # first: no tags any more; second: beta, gamma; imported n: TAGS[: n % 4].
    assert {key: row.sent for key, row in tags.items()} == {
        "alpha": 9,
        "beta": 1 + 6,
        "gamma": 1 + 3,
    }
    templates = rows_of(org.admin, "template")
    assert templates["Intro"].sent == 2 + 4
    assert templates["Referral"].withdrawn == 1
    assert RateBreakdown.objects.exists() == (connection.vendor == POSTGRES)
    assert_all_match(org)
    assert_breakdowns_match_inmails(org.lead, team=org.team)
    # A range of days counts the InMails, exactly as before; a range of whole months reads the
    # rows by month.
    assert_breakdowns_match_inmails(
        org.admin, start=(NOW - timedelta(days=20)).date(), end=NOW.date()
    )
    for start, end in (
        (date(2026, 5, 1), NOW.date()),
        (date(2026, 5, 1), None),
        (date(2026, 5, 2), date(2026, 6, 30)),  # not whole months: the InMails
    ):
        assert_breakdowns_match_inmails(org.admin, start=start, end=end)
    assert_check_clean()


def test_rates_check_finds_a_tampered_breakdown_and_a_rebuild_repairs_it(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    InMail.objects.bulk_create(
        [_inmail(seats[0], NOW - timedelta(days=d), InMailStatus.PENDING, None) for d in range(5)]
    )
    if connection.vendor != POSTGRES:
        assert "SQLite" in check_output()
        return
    assert "Rate breakdowns exact" in check_output()
    RateBreakdown.objects.filter(kind="template", seat=seats[0]).update(settled_unanswered=9)
    with pytest.raises(CommandError, match="1 difference"):
        check_output()
    out = StringIO()
    call_command("rates_check", "--rebuild", stdout=out, stderr=out)
    assert_check_clean()
    # A row by month, and one that the InMails do not account for at all.
    RateBreakdownMonth.objects.filter(kind="hour", seat=seats[0]).update(sent=F("sent") + 1)
    counts = {"withdrawn": 2}
    RateBreakdownMonth.objects.create(
        kind="tag",
        seat=seats[1],
        sender=seats[1].holder,
        month=date(2025, 1, 1),
        bucket="x",
        **counts,
    )
    out = StringIO()
    with pytest.raises(CommandError, match="2 differences"):
        call_command("rates_check", stdout=out, stderr=out)
    # The five InMails were sent at 10:00 in Los Angeles from 11 to 15 June.
    assert "'10' seat" in out.getvalue()
    assert "month 2026-06: sent is 6, the InMails say 5" in out.getvalue()
    assert "month 2025-01: withdrawn is 2, the InMails say 0" in out.getvalue()
    call_command("rates_check", "--rebuild", stdout=out, stderr=out)
    assert_check_clean()


def test_another_time_zone_counts_the_inmails_until_a_rebuild(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None, settings: Any
) -> None:
    InMail.objects.bulk_create(
        [
            _inmail(seats[0], NOW - timedelta(days=d, hours=7), InMailStatus.REPLIED, timedelta(2))
            for d in range(3)
        ]
    )
    settings.TIME_ZONE = "Asia/Tokyo"
    scoped = breakdown_inmails(org.admin, "hour")
    # Kept in Los Angeles time: not read, the InMails are counted in Tokyo's hours.
    assert breakdown_filter_of(scoped) is None
    tokyo = {row.key: row.sent for row in response_rates(scoped, group_by="hour", now=NOW)}
    assert tokyo == {
        row.key: row.sent for row in response_rates(scoped.all(), group_by="hour", now=NOW)
    }
    assert sum(tokyo.values()) == 3
    if connection.vendor != POSTGRES:
        return
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rates_check", stdout=out, stderr=out)
    assert "rate breakdowns are kept in time zone 'America/Los_Angeles'" in out.getvalue()
    call_command("rates_check", "--rebuild", stdout=StringIO())
    assert_all_match(org)
    # With the state row gone (a flush), the InMails are counted at once.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rate_breakdowns.STATE_TABLE}")  # noqa: S608
    assert breakdown_filter_of(breakdown_inmails(org.admin, "hour")) is None


# --- Medians through the rows' hours buckets --------------------------------------------------


def test_medians_by_hour_template_and_tag_are_read_through_the_rows_exactly(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    # Mondays at 09:00 in Los Angeles (NOW is Monday 10:00), answered after 1, 2 and 3 hours
    # (Intro, alpha) and after 30 minutes and 5 hours (Referral, alpha and beta); one pending.
    monday_nine = NOW - timedelta(hours=1)
    answers = [
        (seats[0], 7, 60, "Intro", ("alpha",)),
        (seats[0], 14, 120, "Intro", ("alpha",)),
        (seats[0], 21, 180, "Intro", ("alpha",)),
        (seats[1], 7, 30, "Referral", ("alpha", "beta")),
        (seats[1], 28, 300, "Referral", ("alpha", "beta")),
    ]
    created = InMail.objects.bulk_create(
        _inmail(
            seat, monday_nine - timedelta(days=days), InMailStatus.REPLIED, timedelta(minutes=m), t
        )
        for seat, days, m, t, _tags in answers
    )
    InMailTag.objects.bulk_create(
        InMailTag(inmail=inmail, tag=tag)
        for inmail, (*_, tags) in zip(created, answers, strict=True)
        for tag in tags
    )
    _inmail(seats[1], monday_nine, InMailStatus.PENDING, None, "Intro").save()
    medians = {
        (group_by, key): row.median_hours_to_response
        for group_by in sorted(BREAKDOWN_GROUP_BY)
        for key, row in rows_of(org.admin, group_by).items()
        if row.median_hours_to_response is not None
    }
    # 0.5 1 2 3 5 -> 2; 1 2 3 -> 2; 0.5 5 -> 2.75. To the last bit on PostgreSQL (SQLite's
    # julianday() arithmetic is a few nanoseconds off).
    expected = {
        ("hour", 9): 2.0,
        ("weekday_hour", "1-09"): 2.0,
        ("template", "Intro"): 2.0,
        ("template", "Referral"): 2.75,
        ("tag", "alpha"): 2.0,
        ("tag", "beta"): 2.75,
    }
    assert medians == (expected if connection.vendor == POSTGRES else pytest.approx(expected))
    if connection.vendor == POSTGRES:
        # Counted in the rows: 1, 2 and 3 hours are three buckets (sixth-octave steps).
        intro = RateBreakdown.objects.get(kind="template", bucket="Intro", seat=seats[0])
        hours = [getattr(intro, f"h{n:02d}") for n in range(80)]
        assert sum(hours) == 3
        assert sorted(n for n, count in enumerate(hours) if count) == [13, 19, 22]
    assert_all_match(org)
    # Without medians (the heat map shows none): the same rows, their medians unread, and no
    # read of the hours buckets nor of the answered InMails for them.
    for start in (None, date(2026, 5, 1)):
        for group_by in sorted(BREAKDOWN_GROUP_BY):
            scoped = breakdown_inmails(org.admin, group_by, start=start, end=NOW.date())
            with CaptureQueriesContext(connection) as queries:
                bare = response_rates(scoped, group_by=group_by, now=NOW, medians=False)
            assert not [q for q in queries if re.search("h79|PERCENTILE|percentile", q["sql"])]
            full = response_rates(scoped, group_by=group_by, now=NOW)
            assert [replace(row, median_hours_to_response=None) for row in full] == bare
            assert any(row.median_hours_to_response for row in full), group_by


# Minutes to the answer on the buckets' limits (15 and 30 minutes, 1, 2 and 2048 hours), ties
# and anything up to four months.
EDGE_MINUTES = st.one_of(
    st.sampled_from([0, 1, 15, 30, 60, 120, 180, 300, 2048 * 60, 2048 * 60 + 1]),
    st.integers(0, 120 * 24 * 60),
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=st.lists(
        st.tuples(
            st.integers(0, 2),  # seat
            st.integers(0, 200 * 24 * 60),  # minutes before NOW
            st.sampled_from([*ANSWERED, *ANSWERED, InMailStatus.PENDING]),
            EDGE_MINUTES,
            st.sampled_from(TEMPLATES),
            TAG_SETS,
        ),
        max_size=40,
    ),
    moved=st.lists(st.integers(0, 39), max_size=3),
)
def test_medians_through_the_rows_are_percentile_cont_on_bucket_limits_and_ties(
    org: Org,
    seats: tuple[Seat, Seat, Seat],
    rollups: None,
    history: list[tuple[int, int, str, int, str, set[str]]],
    moved: list[int],
) -> None:
    created = _history(seats, history)
    # A few moved to another seat and sender after the fact (a reassignment's rewrite).
    for index in moved:
        if index < len(created):
            other = seats[(history[index][0] + 1) % 3]
            InMail.objects.filter(pk=created[index].pk).update(seat=other, sender=other.holder)
    assert_all_match(org)
    assert_check_clean()


def test_rates_check_finds_a_tampered_hours_bucket_of_a_breakdown(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    InMail.objects.bulk_create(
        [
            _inmail(seats[0], NOW - timedelta(days=d), InMailStatus.REPLIED, timedelta(hours=2))
            for d in range(3)
        ]
    )
    if connection.vendor != POSTGRES:
        assert "SQLite" in check_output()
        return
    RateBreakdown.objects.filter(kind="tag").delete()  # none: no InMail is tagged
    row = RateBreakdown.objects.filter(kind="hour").order_by("bucket")[0]
    RateBreakdown.objects.filter(pk=row.pk).update(h05=1)
    with pytest.raises(CommandError, match="1 difference"):
        check_output()
    call_command("rates_check", "--rebuild", stdout=StringIO())
    assert_check_clean()


def _commit_a_copy(other: psycopg.Connection[Any], sent_at: str, responded_at: str) -> None:
    """Another connection commits a copy of the first InMail, sent and answered at the given
    SQL expressions of the original's columns (a write between two reads of the analytics)."""
    other.execute(
        "INSERT INTO ledger_inmail (recipient, recipient_key, subject, body, "  # noqa: S608
        "open_profile, status, sent_at, responded_at, reminder_at, closed_at, "
        "credit_cost, paid_from, refunded, imported, created_at, created_by_id, "
        "paid_account_id, seat_id, sender_id, template) "
        "SELECT recipient || '-2', recipient_key || '-2', subject, body, open_profile, "
        f"status, {sent_at}, {responded_at}, reminder_at, closed_at, "
        "credit_cost, paid_from, refunded, imported, created_at, created_by_id, "
        "paid_account_id, seat_id, sender_id, template FROM ledger_inmail "
        "ORDER BY id LIMIT 1"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("group_by", ["hour", None])
def test_a_response_committed_between_a_medians_reads_does_not_shift_its_ranks(
    org: Org, seats: tuple[Seat, Seat, Seat], group_by: str | None
) -> None:
    """Answers after 1, 2.1 and 3 hours (median 2.1). Another connection commits an answer after
    2.05 hours just before the median's read of the InMails, in the same bucket of hours (2 to
    2.24): read in a later snapshot than the bucket counts, the middle rank would pick 2.05,
    neither the median before (2.1) nor after (2.075)."""
    rate_rollups.rollup_rebuild()
    nine = NOW - timedelta(days=7, hours=1)
    InMail.objects.bulk_create(
        _inmail(seats[0], nine + timedelta(minutes=n), InMailStatus.REPLIED, timedelta(minutes=m))
        for n, m in ((0, 60), (1, 126), (2, 180))
    )

    def median() -> float | None:
        if group_by is None:
            return response_totals(analytics_inmails(org.admin), now=NOW).median_hours_to_response
        hours: float | None = rows_of(org.admin, "hour")[9].median_hours_to_response
        return hours

    if connection.vendor != POSTGRES:
        # No rollups: one statement reads the InMails (and a second connection to the same
        # SQLite file is no test of isolation).
        assert median() == pytest.approx(2.1)
        return
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    committed: list[bool] = []

    def answer_meanwhile(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "PERCENTILE_CONT" in sql and not committed:
            _commit_a_copy(other, "sent_at", "sent_at + interval '123 minutes'")
            committed.append(True)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(answer_meanwhile):
            during = median()
    finally:
        other.close()
    assert committed
    assert during == 2.1
    assert median() == 2.075


def test_a_month_is_local_an_inmail_late_on_its_last_evening_counts_in_it(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    # 30 April 23:30 in Los Angeles is 1 May 06:30 UTC: April's, not May's.
    InMail.objects.bulk_create(
        [
            _inmail(seats[0], utc(2026, 5, 1, 6, 30), InMailStatus.REPLIED, timedelta(hours=2)),
            _inmail(seats[0], utc(2026, 5, 1, 7, 30), InMailStatus.PENDING, None),  # 1 May 00:30
        ]
    )
    april = breakdown_inmails(org.admin, "hour", start=date(2026, 4, 1), end=date(2026, 4, 30))
    may = breakdown_inmails(org.admin, "hour", start=date(2026, 5, 1), end=date(2026, 5, 31))
    for scoped, hour, other in ((april, 23, 0), (may, 0, 23)):
        rows = {row.key: row for row in response_rates(scoped, group_by="hour", now=NOW)}
        assert (rows[hour].sent, rows[other].sent) == (1, 0)
        assert list(rows.values()) == response_rates(scoped.all(), group_by="hour", now=NOW)
        if connection.vendor == POSTGRES:
            assert breakdown_filter_of(scoped) is not None
    assert rows_of(org.admin, "hour")[23].median_hours_to_response == pytest.approx(2.0)


@pytest.mark.django_db(transaction=True)
def test_an_inmail_committed_after_the_probe_is_counted_by_neither_the_rows_nor_a_later_read(
    org: Org, seats: tuple[Seat, Seat, Seat]
) -> None:
    """Whether a range ends before anything was sent (and its month's rows count it) is asked
    in the snapshot of the reads, every time: another connection commits an InMail sent on 14
    June just after that question, for a range of 1 to 12 June. The rows of June, which count
    it, must not be read, now or on the next read of the same scope."""
    rate_rollups.rollup_rebuild()
    InMail.objects.bulk_create(
        _inmail(seats[0], utc(2026, 6, 5, 17), InMailStatus.PENDING, None, "Intro") for _ in "ab"
    )
    scoped = breakdown_inmails(org.admin, "template", start=date(2026, 6, 1), end=date(2026, 6, 12))

    def sent() -> dict[Any, int]:
        return {row.key: row.sent for row in response_rates(scoped, group_by="template", now=NOW)}

    if connection.vendor != POSTGRES:
        assert sent() == {"Intro": 2}
        return
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    committed: list[bool] = []

    def send_meanwhile(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if 'FROM "ledger_inmail" WHERE "ledger_inmail"."sent_at" >=' in sql and not committed:
            _commit_a_copy(other, "sent_at + interval '9 days'", "responded_at")
            committed.append(True)
        return result

    try:
        with connection.execute_wrapper(send_meanwhile):
            during = sent()
    finally:
        other.close()
    assert committed
    assert during == {"Intro": 2}
    assert sent() == {"Intro": 2}
    month = RateBreakdownMonth.objects.filter(kind="template", bucket="Intro")
    assert month.values_list("sent", flat=True).get() == 3
