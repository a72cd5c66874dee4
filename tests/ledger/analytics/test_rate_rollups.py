"""Response-rate rollups (issue 15): the numbers read from them are the numbers counted from the
InMails, whatever wrote the InMails, and `rates_check` finds a rollup that is not.

Each test compares `response_rates` over a scope as `analytics_inmails`/`breakdown_inmails` give
it (rollups, on PostgreSQL) with the same scope narrowed by nothing (`.all()`: a new queryset,
which always counts the InMails themselves). SQLite keeps no rollups: there both sides count
the InMails, and `rates_check` says so.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_machine import TimeMachineFixture

from ledger import rate_rollups
from ledger.analytics import analytics_inmails, breakdown_inmails, response_rates, response_totals
from ledger.analytics.rates import ROLLUP_GROUP_BY
from ledger.analytics.scope import rollup_filter_of
from ledger.models import InMail, InMailStatus, RateRollup
from ledger.services import (
    Cause,
    HistoricInMail,
    inmail_record_response,
    inmail_withdraw,
    inmails_import,
    seat_reassign,
)
from teams.models import Seat, Team, User
from tests.conftest import Org
from tests.ledger.helpers import SYSTEM, seat_on, send, utc

pytestmark = pytest.mark.django_db

# Monday 15 June 2026, 10:00 in Los Angeles (the analytics tests' zone, PDT): the 30-day cutoff
# is 16 May 2026 10:00 PDT.
NOW = utc(2026, 6, 15, 17)
CUTOFF = NOW - timedelta(days=30)


@pytest.fixture
def rollups() -> None:
    """The rollups rebuilt in the test's time zone, so that the analytics read them."""
    rate_rollups.rollup_rebuild()


@pytest.fixture
def seats(org: Org, time_machine: TimeMachineFixture) -> tuple[Seat, Seat, Seat]:
    # The clock stops 60 days before NOW; the tests only move it forward.
    time_machine.move_to(NOW - timedelta(days=60), tick=False)
    return (
        seat_on(holder=org.recruiter, team=org.team, activated_on=utc(2026, 1, 1).date()),
        seat_on(holder=org.teammate, team=org.team, activated_on=utc(2026, 1, 1).date()),
        seat_on(holder=org.outsider, team=org.other_team, activated_on=utc(2026, 1, 1).date()),
    )


def assert_rollups_match_inmails(
    user: User, *, team: Team | None = None, now: datetime = NOW
) -> None:
    for group_by in sorted(ROLLUP_GROUP_BY):
        scoped = breakdown_inmails(user, group_by, team=team)
        if connection.vendor == "postgresql":
            assert rollup_filter_of(scoped) is not None
        assert rollup_filter_of(scoped.all()) is None
        assert response_rates(scoped, group_by=group_by, now=now) == response_rates(
            scoped.all(), group_by=group_by, now=now
        ), group_by
    everything = analytics_inmails(user, team=team)
    assert response_totals(everything, now=now) == response_totals(everything.all(), now=now)


def check_output() -> str:
    out = StringIO()
    call_command("rates_check", stdout=out, stderr=out)
    return out.getvalue()


def assert_check_is_clean() -> None:
    """`rates_check` finds nothing: on PostgreSQL 0 differences, on SQLite no rollups to check."""
    found = check_output()
    if connection.vendor == "postgresql":
        assert "0 differences" in found
    else:
        assert found == "No rate rollups on SQLite: the analytics count the InMails.\n"


_RECIPIENTS = itertools.count()


def _inmail(seat: Seat, sent_at: datetime, status: str, answered_after: timedelta | None) -> InMail:
    # One pending InMail per seat and recipient: every InMail to someone new.
    someone = f"someone-{next(_RECIPIENTS)}"
    return InMail(
        seat=seat,
        sender=seat.holder,
        recipient=f"linkedin.com/in/{someone}",
        recipient_key=someone,
        subject="A role " * (1 + int(sent_at.timestamp()) % 7),
        body="x" * (int(sent_at.timestamp()) % 1300),
        open_profile=int(sent_at.timestamp()) % 3 == 0,
        status=status,
        sent_at=sent_at,
        responded_at=sent_at + answered_after if answered_after is not None else None,
    )


STATUSES = st.sampled_from([s.value for s in InMailStatus])
HISTORY = st.lists(
    st.tuples(
        st.integers(0, 2),  # seat
        # From 70 days before now to now, in minutes: the cutoff's day (day 30) and its
        # neighbours are in it.
        st.integers(0, 70 * 24 * 60),
        STATUSES,
        st.integers(0, 40 * 24 * 60),  # minutes to the answer, if answered
    ),
    max_size=40,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=HISTORY, later=st.lists(st.tuples(st.integers(0, 39), STATUSES), max_size=10))
def test_rollups_equal_the_inmails_for_random_histories_written_in_bulk(
    org: Org,
    seats: tuple[Seat, Seat, Seat],
    rollups: None,
    history: list[tuple[int, int, str, int]],
    later: list[tuple[int, str]],
) -> None:
    InMail.objects.all().delete()
    answered = {InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED}
    created = InMail.objects.bulk_create(
        _inmail(
            seats[seat],
            NOW - timedelta(minutes=minutes),
            status,
            timedelta(minutes=after) if status in answered else None,
        )
        for seat, minutes, status, after in history
    )
    # Later changes of status (an update statement per InMail, as no service would).
    for index, status in later:
        if index < len(created):
            inmail = created[index]
            InMail.objects.filter(pk=inmail.pk).update(
                status=status,
                responded_at=NOW if status in answered else None,
            )
    for user in (org.admin, org.lead, org.recruiter):
        assert_rollups_match_inmails(user)
    assert_rollups_match_inmails(org.admin, team=org.team)
    assert_check_is_clean()


def test_the_thirtieth_and_thirty_first_day_before_now_count_as_sql_counts_them(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    seat = seats[0]
    # Around the cutoff (16 May 10:00 PDT): the day before it, its day before and after the
    # cutoff's minute, the cutoff itself, and the day after.
    for sent_at in (
        CUTOFF - timedelta(days=1),
        CUTOFF - timedelta(hours=9, minutes=59),  # 00:01 local on the cutoff's day
        CUTOFF - timedelta(minutes=1),
        CUTOFF,
        CUTOFF + timedelta(minutes=1),
        CUTOFF + timedelta(hours=13),  # 23:00 local on the cutoff's day
        CUTOFF + timedelta(days=1),
    ):
        InMail.objects.bulk_create(
            [
                _inmail(seat, sent_at, InMailStatus.PENDING, None),
                _inmail(seat, sent_at, InMailStatus.WITHDRAWN, None),
                _inmail(seat, sent_at, InMailStatus.REPLIED, timedelta(days=2)),
            ]
        )
    totals = response_totals(analytics_inmails(org.admin), now=NOW)
    # Windows over: the two days' pending InMails before or at the cutoff (4 of them); every
    # reply (7) counts; no withdrawn one does.
    assert (totals.sent, totals.rate_base, totals.answered_30d) == (21, 7 + 4, 7)
    assert_rollups_match_inmails(org.admin)
    # A minute, an hour, a day later: the boundary moves, the numbers follow.
    for moved in (timedelta(minutes=1), timedelta(hours=14), timedelta(days=1)):
        assert_rollups_match_inmails(org.admin, now=NOW + moved)


def test_a_late_response_a_withdrawal_and_a_reassignment_keep_the_rollups_exact(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None, time_machine: TimeMachineFixture
) -> None:
    seat = seats[0]
    time_machine.move_to(NOW - timedelta(days=45), tick=False)
    first = send(seat, "linkedin.com/in/ann", subject="One two three four five six").inmail
    second = send(seat, "linkedin.com/in/bob", body="b" * 500).inmail
    third = send(seat, "linkedin.com/in/cid", open_profile=True).inmail
    time_machine.move_to(NOW - timedelta(days=44), tick=False)
    inmail_withdraw(inmail=third, cause=SYSTEM)
    time_machine.move_to(NOW - timedelta(days=2), tick=False)
    # Answered 43 days after sending: counts as answered, not within 30 days.
    inmail_record_response(inmail=first, outcome=InMailStatus.ACCEPTED, cause=SYSTEM)
    seat = seat_reassign(seat=seat, holder=org.teammate, cause=SYSTEM)
    time_machine.move_to(NOW, tick=False)
    send(seat, "linkedin.com/in/dan")
    inmail_record_response(
        inmail=second, outcome=InMailStatus.REPLIED, cause=SYSTEM, responded_at=NOW
    )
    totals = response_totals(analytics_inmails(org.admin), now=NOW)
    assert (totals.sent, totals.withdrawn, totals.answered_30d, totals.rate_base) == (4, 1, 0, 2)
    rows = {
        r.key: r
        for r in response_rates(
            breakdown_inmails(org.admin, "recruiter"), group_by="recruiter", now=NOW
        )
    }
    assert {key: row.sent for key, row in rows.items()} == {
        org.recruiter.username: 3,
        org.teammate.username: 1,
    }
    assert_rollups_match_inmails(org.admin)
    assert_rollups_match_inmails(org.lead, team=org.team)
    assert_check_is_clean()


def test_an_import_keeps_the_rollups_exact(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(NOW, tick=False)
    rows = [
        HistoricInMail(
            line=2 + n,
            seat=seats[n % 2],
            recipient=f"linkedin.com/in/imported-{n}",
            subject="Imported " * (n % 8 + 1),
            body="y" * (n * 97 % 1500 + 1),
            sent_at=NOW - timedelta(days=n * 3 + 1),
            open_profile=n % 4 == 0,
            status=InMailStatus.REPLIED if n % 3 == 0 else InMailStatus.PENDING,
            responded_at=NOW - timedelta(days=n * 3) if n % 3 == 0 else None,
        )
        for n in range(20)
    ]
    assert inmails_import(user=org.admin, rows=rows, cause=Cause(org.admin, "test")) == 20
    assert RateRollup.objects.exists() == (connection.vendor == "postgresql")
    assert_rollups_match_inmails(org.admin)
    assert_check_is_clean()


def test_rates_check_finds_a_tampered_rollup_and_a_rebuild_repairs_it(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    InMail.objects.bulk_create(
        [_inmail(seats[0], NOW - timedelta(days=d), InMailStatus.PENDING, None) for d in range(5)]
    )
    if connection.vendor != "postgresql":
        # No rollups to tamper with: the check says so and passes.
        assert "SQLite" in check_output()
        return
    RateRollup.objects.filter(seat=seats[0]).order_by("day").filter(
        pk=RateRollup.objects.filter(seat=seats[0]).order_by("day").values("pk")[:1]
    ).update(all_sent=7)
    with pytest.raises(CommandError, match="1 difference"):
        check_output()
    out = StringIO()
    call_command("rates_check", "--rebuild", stdout=out, stderr=out)
    assert_check_is_clean()


def test_the_analytics_count_the_inmails_while_the_rollups_are_kept_in_another_zone(
    org: Org,
    seats: tuple[Seat, Seat, Seat],
) -> None:
    # No rebuild: the rollups are kept in the zone they were built in (UTC, the migration's),
    # not the analytics tests' Los Angeles.
    InMail.objects.bulk_create(
        [
            _inmail(seats[0], NOW - timedelta(days=d, hours=20), InMailStatus.PENDING, None)
            for d in range(3)
        ]
    )
    assert rollup_filter_of(analytics_inmails(org.admin)) is None
    if connection.vendor == "postgresql":
        with pytest.raises(CommandError):
            check_output()


@pytest.mark.postgres
def test_rollups_stop_being_read_the_moment_their_zone_row_goes(
    org: Org, seats: tuple[Seat, Seat, Seat], rollups: None
) -> None:
    """No copy of the zone outlives the row: after a flush (or a rebuild elsewhere) the next
    read counts the InMails, not rollups that no longer hold them."""
    assert rollup_filter_of(analytics_inmails(org.admin)) is not None
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rate_rollups.ZONE_TABLE}")  # noqa: S608
    assert rollup_filter_of(analytics_inmails(org.admin)) is None
