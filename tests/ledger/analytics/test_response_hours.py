"""The exact median hours to a response through the hours-to-response rollups (issue 15).

The median read through the rollups (a bucket of hours found in `ledger_response_hours`, then
only that bucket's answered InMails) must be PostgreSQL's PERCENTILE_CONT(0.5) over every
answered InMail, to the last bit, whatever the buckets: each test compares `response_rates`
over a scope as `breakdown_inmails` gives it with the same scope narrowed by nothing (`.all()`,
which counts the InMails themselves). SQLite keeps no rollups: there both sides count the
InMails.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_machine import TimeMachineFixture

from ledger import rate_rollups, schedule
from ledger.analytics import analytics_inmails, breakdown_inmails, response_rates, response_totals
from ledger.analytics.rates import ROLLUP_GROUP_BY, _utc_days
from ledger.analytics.scope import rollup_scope_of
from ledger.models import InMail, InMailStatus, ResponseHoursRollup
from ledger.services import inmail_record_response, seat_reassign
from teams.models import Seat, User
from tests.conftest import Org
from tests.ledger.helpers import SYSTEM, seat_on, send, utc

pytestmark = pytest.mark.django_db

# Monday 15 June 2026, 10:00 in Los Angeles (the analytics tests' zone).
NOW = utc(2026, 6, 15, 17)
ANSWERED = (InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED)


@pytest.fixture
def seats(org: Org, time_machine: TimeMachineFixture) -> tuple[Seat, Seat, Seat]:
    time_machine.move_to(NOW - timedelta(days=200), tick=False)
    return (
        seat_on(holder=org.recruiter, team=org.team, activated_on=utc(2025, 11, 1).date()),
        seat_on(holder=org.teammate, team=org.team, activated_on=utc(2025, 11, 1).date()),
        seat_on(holder=org.outsider, team=org.other_team, activated_on=utc(2025, 11, 1).date()),
    )


_RECIPIENTS = itertools.count()


def _inmail(seat: Seat, sent_at: datetime, status: str, minutes: int) -> InMail:
    someone = f"hours-{next(_RECIPIENTS)}"
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
        responded_at=sent_at + timedelta(minutes=minutes) if status in ANSWERED else None,
    )


def exactly(hours: float) -> object:
    """`hours` to the last bit on PostgreSQL; SQLite's julianday() arithmetic (the development
    database's raw count) is a few nanoseconds off."""
    return hours if connection.vendor == "postgresql" else pytest.approx(hours)


def _rows_match(user: User, group_by: str | None, start: date | None, end: date | None) -> None:
    read: object
    counted: object
    if group_by is None:
        scoped = analytics_inmails(user, start=start, end=end)
        read = response_totals(scoped, now=NOW)
        counted = response_totals(scoped.all(), now=NOW)
    else:
        scoped = breakdown_inmails(user, group_by, start=start, end=end)
        read = response_rates(scoped, group_by=group_by, now=NOW)
        counted = response_rates(scoped.all(), group_by=group_by, now=NOW)
    if connection.vendor == "postgresql":
        assert rollup_scope_of(scoped) is not None
    # Whole rows: the medians equal to the last bit, not approximately.
    assert read == counted, (group_by, start, end)


# Minutes to the answer: exact bucket limits (15 min, 30 min, 1 h, 2 h, 2048 h), ties, and any.
MINUTES = st.one_of(
    st.sampled_from([0, 1, 15, 30, 60, 120, 180, 300, 2048 * 60, 2048 * 60 + 1]),
    st.integers(0, 120 * 24 * 60),
)
HISTORY = st.lists(
    st.tuples(
        st.integers(0, 2),  # seat
        st.integers(0, 150 * 24 * 60),  # minutes before now: about five months
        st.sampled_from([*ANSWERED, *ANSWERED, InMailStatus.PENDING, InMailStatus.WITHDRAWN]),
        MINUTES,
    ),
    max_size=40,
)
DAYS = st.one_of(st.none(), st.integers(0, 155).map(lambda d: NOW.date() - timedelta(days=d)))
ZONES = st.sampled_from(["America/Los_Angeles", "UTC", "Asia/Kolkata", "Pacific/Chatham"])


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=HISTORY,
    # Later: a late answer, an answer taken back (the response-hours trigger then has only
    # answered rows before the statement), a reassignment to another seat, a deletion.
    later=st.lists(
        st.tuples(st.integers(0, 39), st.sampled_from(["answer", "unanswer", "move", "delete"]))
    ),
    ranges=st.lists(st.tuples(DAYS, DAYS), min_size=1, max_size=3),
    zone=ZONES,
)
def test_the_median_through_the_rollups_is_percentile_cont_over_the_inmails(
    org: Org,
    seats: tuple[Seat, Seat, Seat],
    history: list[tuple[int, int, str, int]],
    later: list[tuple[int, str]],
    ranges: list[tuple[date | None, date | None]],
    zone: str,
) -> None:
    with override_settings(TIME_ZONE=zone):
        InMail.objects.all().delete()
        # Rebuilt before the writes: the triggers keep them from then on.
        rate_rollups.rollup_rebuild()
        created = InMail.objects.bulk_create(
            _inmail(seats[seat], NOW - timedelta(minutes=minutes), status, after)
            for seat, minutes, status, after in history
        )
        for index, what in later:
            if index >= len(created):
                continue
            one = InMail.objects.filter(pk=created[index].pk)
            if what == "answer":
                one.update(status=InMailStatus.REPLIED, responded_at=NOW)
            elif what == "unanswer":
                one.update(status=InMailStatus.PENDING, responded_at=None)
            elif what == "move":
                other = seats[(index + 1) % 3]
                one.update(seat=other, sender=other.holder)
            else:
                one.delete()
        for start, end in ranges:
            for group_by in [None, *sorted(ROLLUP_GROUP_BY)]:
                _rows_match(org.admin, group_by, start, end)
        _rows_match(org.lead, "recruiter", *ranges[0])
        out = StringIO()
        call_command("rates_check", stdout=out, stderr=out)
        expected = "0 differences" if connection.vendor == "postgresql" else "SQLite"
        assert expected in out.getvalue()


def test_two_answers_after_3_and_5_hours_have_a_median_of_4_hours(
    org: Org, seats: tuple[Seat, Seat, Seat]
) -> None:
    rate_rollups.rollup_rebuild()
    InMail.objects.bulk_create(
        [
            _inmail(seats[0], NOW - timedelta(days=3), InMailStatus.REPLIED, 180),
            _inmail(seats[1], NOW - timedelta(days=40), InMailStatus.ACCEPTED, 300),
            _inmail(seats[1], NOW - timedelta(days=41), InMailStatus.PENDING, 0),
        ]
    )
    assert response_totals(
        analytics_inmails(org.admin), now=NOW
    ).median_hours_to_response == exactly(4.0)
    by_team = response_rates(breakdown_inmails(org.admin, "team"), group_by="team", now=NOW)
    assert {row.key: row.median_hours_to_response for row in by_team} == {
        org.team.name: exactly(4.0)
    }
    # Range from the day of the first: only the 3 h answer.
    since = (NOW - timedelta(days=3)).date()
    only = response_totals(analytics_inmails(org.admin, start=since), now=NOW)
    assert only.median_hours_to_response == exactly(3.0)
    # Odd count: the middle one. A third answer after 61 minutes: 1.0166.. 3 5 -> 3.
    InMail.objects.bulk_create(
        [_inmail(seats[2], NOW - timedelta(days=90), InMailStatus.DECLINED, 61)]
    )
    assert response_totals(
        analytics_inmails(org.admin), now=NOW
    ).median_hours_to_response == exactly(3.0)
    assert ResponseHoursRollup.objects.exists() == (connection.vendor == "postgresql")


def test_a_range_to_today_reads_its_month_from_the_rollups_and_a_later_inmail_keeps_the_bound(
    org: Org, seats: tuple[Seat, Seat, Seat]
) -> None:
    rate_rollups.rollup_rebuild()
    InMail.objects.bulk_create(
        [
            _inmail(seats[0], utc(2026, 5, 20, 17), InMailStatus.REPLIED, 60),  # May: 1 h
            _inmail(seats[1], utc(2026, 6, 2, 17), InMailStatus.ACCEPTED, 180),  # June: 3 h
            _inmail(seats[2], utc(2026, 6, 10, 17), InMailStatus.DECLINED, 600),  # June: 10 h
        ]
    )
    # From May's first day to today (the pages' default kind of range): 1, 3, 10 h -> 3 h.
    # Nothing was sent after today, so June's rollup row counts exactly June's InMails so far:
    # no read of the InMails by bucket of hours (the partial month's, `width_bucket`).
    with CaptureQueriesContext(connection) as queries:
        to_today = response_totals(
            analytics_inmails(org.admin, start=date(2026, 5, 1), end=NOW.date()), now=NOW
        )
    assert to_today.median_hours_to_response == exactly(3.0)
    if connection.vendor == "postgresql":
        assert not [q["sql"] for q in queries if "width_bucket" in q["sql"]]
    # To 9 June: the answer of 10 June is after the range, and June's row counts it, so June
    # is read from the InMails: 1 and 3 h -> 2 h.
    to_ninth = response_totals(
        analytics_inmails(org.admin, start=date(2026, 5, 1), end=date(2026, 6, 9)), now=NOW
    )
    assert to_ninth.median_hours_to_response == exactly(2.0)
    for group_by in sorted(ROLLUP_GROUP_BY):
        _rows_match(org.admin, group_by, date(2026, 5, 1), NOW.date())
        _rows_match(org.admin, group_by, date(2026, 5, 1), date(2026, 6, 9))
        _rows_match(org.admin, group_by, date(2026, 5, 21), date(2026, 6, 10))


def test_a_late_answer_through_the_service_and_a_reassignment_keep_the_median_exact(
    org: Org, seats: tuple[Seat, Seat, Seat], time_machine: TimeMachineFixture
) -> None:
    rate_rollups.rollup_rebuild()
    seat = seats[0]
    time_machine.move_to(NOW - timedelta(days=45), tick=False)
    first = send(seat, "linkedin.com/in/ann").inmail
    second = send(seat, "linkedin.com/in/bob").inmail
    time_machine.move_to(NOW - timedelta(days=45) + timedelta(hours=7), tick=False)
    inmail_record_response(inmail=first, outcome=InMailStatus.ACCEPTED, cause=SYSTEM)
    seat = seat_reassign(seat=seat, holder=org.teammate, cause=SYSTEM)
    time_machine.move_to(NOW, tick=False)
    inmail_record_response(inmail=second, outcome=InMailStatus.REPLIED, cause=SYSTEM)
    # 7 h and 45 days (1080 h): 543.5 h.
    totals = response_totals(analytics_inmails(org.admin), now=NOW)
    assert totals.median_hours_to_response == exactly(543.5)
    for group_by in sorted(ROLLUP_GROUP_BY):
        _rows_match(org.admin, group_by, None, None)


def test_rates_check_finds_a_tampered_hours_rollup_and_a_rebuild_repairs_it(
    org: Org, seats: tuple[Seat, Seat, Seat]
) -> None:
    rate_rollups.rollup_rebuild()
    InMail.objects.bulk_create(
        [_inmail(seats[0], NOW - timedelta(days=d), InMailStatus.REPLIED, 90) for d in range(5)]
    )
    if connection.vendor != "postgresql":
        assert not ResponseHoursRollup.objects.exists()
        return
    tampered = ResponseHoursRollup.objects.filter(dimension="all").order_by("month")[0]
    ResponseHoursRollup.objects.filter(pk=tampered.pk).update(h00=3)
    out = StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("rates_check", stdout=out, stderr=out)
    assert "hours-to-response rollup" in out.getvalue()
    call_command("rates_check", "--rebuild", stdout=out, stderr=out)
    out = StringIO()
    call_command("rates_check", stdout=out, stderr=out)
    assert "0 differences" in out.getvalue()


def test_answers_taken_back_or_deleted_leave_the_hours_rollup_exact(
    org: Org, seats: tuple[Seat, Seat, Seat]
) -> None:
    """The response-hours trigger skips a statement with no answered row before or after it; a
    statement whose rows were answered only before it (an answer taken back, a deletion) must
    still take them off."""
    rate_rollups.rollup_rebuild()
    created = InMail.objects.bulk_create(
        [_inmail(seats[0], NOW - timedelta(days=d), InMailStatus.REPLIED, 90) for d in range(4)]
        + [_inmail(seats[0], NOW - timedelta(days=9), InMailStatus.PENDING, 0)]
    )
    InMail.objects.filter(pk=created[0].pk).update(status=InMailStatus.PENDING, responded_at=None)
    InMail.objects.filter(pk=created[1].pk).update(status=InMailStatus.WITHDRAWN, responded_at=None)
    InMail.objects.filter(pk=created[2].pk).delete()
    InMail.objects.filter(pk=created[4].pk).update(subject="No answer, only a new subject")

    out = StringIO()
    call_command("rates_check", stdout=out, stderr=out)
    if connection.vendor == "postgresql":
        assert "0 differences" in out.getvalue()
        counted = sum(
            getattr(row, f"h{bucket:02d}")
            for row in ResponseHoursRollup.objects.filter(dimension="all")
            for bucket in range(80)
        )
        assert counted == 1  # created[3], the one answer left
    totals = response_totals(analytics_inmails(org.admin), now=NOW)
    assert totals.median_hours_to_response == exactly(90 / 60)


def _utc_days_one_by_one(local_days: list[date]) -> list[date]:
    """The UTC dates of the local days' instants, day by day (what `_utc_days` gives by runs)."""
    found: set[date] = set()
    for day in local_days:
        begins = schedule.start_of_day(day).astimezone(UTC).date()
        ends = schedule.start_of_day(day + timedelta(days=1)) - timedelta(microseconds=1)
        last = ends.astimezone(UTC).date()
        found.update(begins + timedelta(days=n) for n in range((last - begins).days + 1))
    return sorted(found)


# West and east of UTC with daylight saving, half-hour offsets, UTC+14, and Samoa, which skipped
# 30 December 2011 (its local days of that week cross a day the zone never had).
_ZONES = ("America/Los_Angeles", "Pacific/Auckland", "Asia/Kolkata", "Pacific/Kiritimati")


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from((*_ZONES, "Pacific/Apia", "UTC")),
    start=st.dates(min_value=date(2011, 12, 1), max_value=date(2027, 12, 31)),
    offsets=st.lists(st.integers(min_value=0, max_value=400), max_size=40),
    step=st.sampled_from((1, 7)),
)
def test_the_utc_days_of_local_days_by_runs_are_those_day_by_day(
    zone: str, start: date, offsets: list[int], step: int
) -> None:
    local_days = [start + timedelta(days=offset * step) for offset in offsets]
    with override_settings(TIME_ZONE=zone):
        assert _utc_days(local_days) == _utc_days_one_by_one(local_days)


@pytest.mark.parametrize("zone", [*_ZONES, "Pacific/Apia"])
def test_a_year_of_local_days_and_the_week_samoa_skipped_a_day_are_one_run(zone: str) -> None:
    year = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    samoa = [date(2011, 12, 28) + timedelta(days=n) for n in range(6)]
    with override_settings(TIME_ZONE=zone):
        for days in (year, samoa):
            assert _utc_days(days) == _utc_days_one_by_one(days)
        # West of UTC a local day ends on the next UTC date; east, it begins on the one before.
        found = _utc_days(year)
        assert len(found) == 366
