"""Response rates by hour and by weekday and hour of sending (R22), the axis of a chart over
weeks or months, and the InMails behind a recruiter's row.

The organisation's time zone is America/Los_Angeles: PST (UTC−8) until 8 March 2026 10:00 UTC,
PDT (UTC−7) after. Every key below was worked out by hand from the local wall clock.
"""

from __future__ import annotations

from datetime import date

import pytest

from ledger.analytics import GROUP_BY, analytics_inmails, breakdown_inmails, response_rates
from ledger.analytics.periods import credit_flows_by_month, month_periods
from ledger.analytics.rates import period_label, recruiter_row_inmails, time_axis
from ledger.models import InMailStatus
from tests.conftest import Org
from tests.ledger.analytics.helpers import logged
from tests.ledger.helpers import seat_on, utc

pytestmark = pytest.mark.django_db

# Long after every InMail below: every 30-day window is over.
NOW = utc(2026, 6, 1, 12)


def test_hour_and_weekday_hour_are_breakdowns_of_the_api() -> None:
    assert {"hour", "weekday_hour"} <= set(GROUP_BY)


def test_hour_rows_are_keyed_by_the_local_hour_as_an_integer_across_a_clock_change(
    org: Org,
) -> None:
    seat = seat_on(holder=org.recruiter, team=org.team, activated_on=date(2026, 1, 1))
    # Saturday 7 March, 09:30 PST; Monday 9 March, 09:30 PDT: the same local hour, 7 hours of
    # UTC apart from 17:30 to 16:30. A reply within a day to the first only.
    logged(
        seat,
        utc(2026, 3, 7, 17, 30),
        status=InMailStatus.REPLIED,
        responded_at=utc(2026, 3, 8, 17),
    )
    logged(seat, utc(2026, 3, 9, 16, 30), status=InMailStatus.NO_RESPONSE)
    # Monday 9 March 17:00 UTC is 10:00 PDT; 00:10 UTC on 10 March is 17:10 PDT on the 9th.
    logged(seat, utc(2026, 3, 9, 17), status=InMailStatus.ACCEPTED, responded_at=utc(2026, 3, 10))
    logged(seat, utc(2026, 3, 10, 0, 10), status=InMailStatus.NO_RESPONSE)

    rows = response_rates(analytics_inmails(org.admin), group_by="hour", now=NOW)

    assert [row.key for row in rows] == list(range(24))
    assert [row.label for row in rows[:2]] == ["00:00", "01:00"]
    assert rows[23].label == "23:00"
    counted = {row.key: (row.sent, row.eligible, row.answered_30d) for row in rows if row.sent}
    assert counted == {9: (2, 2, 1), 10: (1, 1, 1), 17: (1, 1, 0)}
    assert rows[9].response_rate == 0.5
    assert rows[3].response_rate is None
    assert rows[3].sent == 0


def test_weekday_hour_rows_are_keyed_w_hh_monday_first_in_local_time(org: Org) -> None:
    seat = seat_on(holder=org.recruiter, team=org.team, activated_on=date(2026, 1, 1))
    logged(seat, utc(2026, 3, 7, 17, 30))  # Saturday 09:30 PST → "6-09"
    logged(seat, utc(2026, 3, 9, 16, 30))  # Monday 09:30 PDT → "1-09"
    # Monday 16 March 06:30 UTC is still Sunday 15 March, 23:30 PDT → "7-23".
    logged(seat, utc(2026, 3, 16, 6, 30), status=InMailStatus.REPLIED, responded_at=NOW)
    # Monday 16 March 07:00 UTC is Monday 00:00 PDT → "1-00".
    logged(seat, utc(2026, 3, 16, 7))

    rows = response_rates(analytics_inmails(org.admin), group_by="weekday_hour", now=NOW)

    assert len(rows) == 7 * 24
    assert (rows[0].key, rows[0].label) == ("1-00", "Mon 00:00")
    assert (rows[9].key, rows[9].label) == ("1-09", "Mon 09:00")
    assert (rows[-1].key, rows[-1].label) == ("7-23", "Sun 23:00")
    assert rows[24].key == "2-00"
    counted = {row.key: row.sent for row in rows if row.sent}
    assert counted == {"6-09": 1, "1-09": 1, "7-23": 1, "1-00": 1}
    # Answered on 1 June, long after 30 days: eligible, but not answered within the window.
    sunday = next(row for row in rows if row.key == "7-23")
    assert (sunday.eligible, sunday.answered_30d, sunday.response_rate) == (1, 0, 0.0)


def test_a_recruiter_gets_hour_totals_of_a_team_that_shares_usage(org: Org) -> None:
    mine = seat_on(holder=org.recruiter, team=org.team, activated_on=date(2026, 1, 1))
    theirs = seat_on(holder=org.teammate, team=org.team, activated_on=date(2026, 1, 1))
    outside = seat_on(holder=org.outsider, team=org.other_team, activated_on=date(2026, 1, 1))
    for seat in (mine, theirs, outside):
        logged(seat, utc(2026, 3, 9, 16, 30))  # Monday 09:30 PDT

    inmails = breakdown_inmails(org.recruiter, "weekday_hour", team=org.team)
    rows = response_rates(inmails, group_by="weekday_hour", now=NOW)

    # Team totals (not a breakdown by person): both of Talent North's InMails, not Talent South's.
    assert {row.key: row.sent for row in rows if row.sent} == {"1-09": 2}


def test_the_time_axis_has_every_month_between_the_first_and_the_last() -> None:
    axis = time_axis("month", "2025-04", "2026-06")

    assert len(axis) == 15
    assert axis[0] == ("2025-04", "Apr 2025")
    assert axis[1] == ("2025-05", "May 2025")
    assert axis[8] == ("2025-12", "Dec 2025")
    assert axis[9] == ("2026-01", "Jan 2026")
    assert axis[-1] == ("2026-06", "Jun 2026")
    assert time_axis("month", "2026-06", "2026-06") == [("2026-06", "Jun 2026")]


def test_the_time_axis_of_weeks_crosses_a_53_week_year() -> None:
    # 2026 starts on a Thursday, so it has an ISO week 53 (28 Dec 2026 – 3 Jan 2027).
    axis = time_axis("week", "2026-W52", "2027-W02")

    assert [key for key, _ in axis] == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert axis[1][1] == "Week of 28 Dec 2026"
    assert period_label("week", "2027-W01") == "Week of 4 Jan 2027"


def test_only_weeks_and_months_have_a_time_axis() -> None:
    with pytest.raises(ValueError, match="not a breakdown over time"):
        time_axis("weekday", "Monday", "Sunday")


def test_a_range_is_cut_into_calendar_months_at_its_ends() -> None:
    assert month_periods(date(2025, 11, 15), date(2026, 2, 3)) == [
        (date(2025, 11, 15), date(2025, 11, 30)),
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 3)),
    ]
    assert month_periods(date(2026, 2, 1), date(2026, 2, 1)) == [
        (date(2026, 2, 1), date(2026, 2, 1))
    ]
    with pytest.raises(ValueError, match="after it ends"):
        month_periods(date(2026, 2, 2), date(2026, 2, 1))


def test_flows_of_a_range_count_only_its_days_of_the_first_month(org: Org) -> None:
    # Activated 10 January: Recruiter Lite grants 30 credits then, and 30 on 10 February.
    seat_on(holder=org.recruiter, team=org.team, activated_on=date(2026, 1, 10))

    cut = credit_flows_by_month(
        org.admin, team=org.team, start=date(2026, 1, 11), end=date(2026, 2, 10), now=NOW
    )
    whole = credit_flows_by_month(
        org.admin, team=org.team, start=date(2026, 1, 1), end=date(2026, 2, 28), now=NOW
    )

    assert [(flows.start, flows.end, flows.granted) for flows in cut] == [
        (date(2026, 1, 11), date(2026, 1, 31), 0),
        (date(2026, 2, 1), date(2026, 2, 10), 30),
    ]
    assert [flows.granted for flows in whole] == [30, 30]


def test_a_recruiters_row_inmails_are_the_ones_the_row_counts(org: Org) -> None:
    mine = seat_on(holder=org.recruiter, team=org.team, activated_on=date(2026, 1, 1))
    theirs = seat_on(holder=org.teammate, team=org.team, activated_on=date(2026, 1, 1))
    sent = [logged(mine, utc(2026, 3, 9, 16, 30)), logged(mine, utc(2026, 4, 1, 16))]
    logged(theirs, utc(2026, 3, 9, 16, 30))

    lead_view = breakdown_inmails(org.lead, "recruiter", team=org.team)
    row = next(
        row
        for row in response_rates(lead_view, group_by="recruiter", now=NOW)
        if row.key == org.recruiter.username
    )
    behind = recruiter_row_inmails(lead_view, org.recruiter.username)

    assert row.sent == 2
    assert sorted(behind.values_list("pk", flat=True)) == sorted(inmail.pk for inmail in sent)
    # A recruiter's breakdown holds only their own row: a teammate's InMails are not behind it.
    recruiter_view = breakdown_inmails(org.recruiter, "recruiter", team=org.team)
    assert not recruiter_row_inmails(recruiter_view, org.teammate.username).exists()
    assert not recruiter_row_inmails(lead_view, "nobody-of-that-name").exists()
