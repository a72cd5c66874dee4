"""Analytics: response rates and their breakdowns, and who sees which InMails (docs/rules.md,
"Analytics definitions").

Every expected number below was worked out by hand from the fixture's story (the comments tell
it), in the organisation's time zone America/Los_Angeles: PDT (UTC−7) until 1 Nov 2026 09:00
UTC, PST (UTC−8) after; in 2026, PDT starts on 8 March.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db.models import QuerySet
from time_machine import TimeMachineFixture

from ledger.analytics import (
    GROUP_BY,
    ResponseRateRow,
    analytics_inmails,
    response_rates,
    response_totals,
)
from ledger.models import InMail, InMailStatus
from ledger.services import inmail_withdraw
from teams.models import Seat, Team, User
from tests.conftest import Org
from tests.ledger.analytics.helpers import logged, name
from tests.ledger.helpers import SYSTEM, seat_on, send, utc

pytestmark = pytest.mark.django_db


# ==============================================================================================
# Response rates
# ==============================================================================================

# 15 Dec 2026, 10:00 PST (a Tuesday). The 30-day window of InMails sent up to 15 Nov 10:00 PST
# (18:00 UTC) is over.
NOW = utc(2026, 12, 15, 18)


@dataclass
class Outreach:
    """Two recruiters of Talent North and an outsider, and their InMails (see `outreach`)."""

    zed: Seat  # org.recruiter, named Zed Young
    amy: Seat  # org.teammate, named Amy Brown
    outsider: Seat
    inmails: dict[str, InMail]


@pytest.fixture
def outreach(org: Org, time_machine: TimeMachineFixture) -> Outreach:
    """Twelve InMails of Talent North, one of Talent South.

    | InMail | seat | sent (local)        | outcome                              | 30d | rate base |
    |--------|------|---------------------|--------------------------------------|-----|-----------|
    | a0     | Zed  | Mon 31 Aug 10:00    | no_response                          | no  | yes       |
    | a1     | Zed  | Tue 1 Sep 09:00     | accepted exactly 30 days later       | yes | yes       |
    | a2     | Zed  | Mon 5 Oct 09:00     | replied 30 local days later (721 h)  | yes | yes       |
    | a3     | Zed  | Tue 6 Oct 09:00     | declined 30 days + 1 s later         | no  | yes       |
    | a4     | Zed  | Fri 30 Oct 23:30    | pending (Sat 31 Oct in UTC)          | no  | yes       |
    | a5     | Zed  | Mon 30 Nov 23:59    | replied 2 h later; Open Profile      | yes | yes       |
    |        |      |                     | (Tue 1 Dec in UTC)                   |     |           |
    | a6     | Zed  | Tue 10 Nov 10:00    | withdrawn                            | no  | no        |
    | a7     | Zed  | Mon 16 Nov 10:00    | pending, 29 days old                 | no  | no        |
    | a8     | Zed  | Sat 14 Nov 10:00    | pending, 31 days old                 | no  | yes       |
    | b1     | Amy  | Sun 20 Sep 09:00    | accepted 24 h later                  | yes | yes       |
    | b2     | Amy  | Mon 2 Nov 12:00     | replied 6 h later                    | yes | yes       |
    | b3     | Amy  | Thu 10 Dec 10:00    | pending, Open Profile                | no  | no        |
    | c1     | out  | Thu 1 Oct 09:00     | accepted 24 h later                  | yes | yes       |

    a6, a7 and a8 go through the services (sent, charged, withdrawn); the rest are imported.
    Bodies and subjects: see the length tests.
    """
    name(org.recruiter, "Zed", "Young")
    name(org.teammate, "Amy", "Brown")
    time_machine.move_to(utc(2026, 8, 31, 17), tick=False)
    zed = seat_on("recruiter_lite", holder=org.recruiter, team=org.team)
    time_machine.move_to(utc(2026, 9, 15, 17), tick=False)
    amy = seat_on("recruiter_lite", holder=org.teammate, team=org.team)
    outsider = seat_on("recruiter_lite", holder=org.outsider, team=org.other_team)

    five_words = "A role you may like"  # the helpers' default subject
    inmails = {
        "a0": logged(
            zed, utc(2026, 8, 31, 17), status=InMailStatus.NO_RESPONSE, subject="Quick question"
        ),
        "a1": logged(
            zed,
            utc(2026, 9, 1, 16),
            status=InMailStatus.ACCEPTED,
            responded_at=utc(2026, 10, 1, 16),
            subject="  Open   role\tin  Lisbon now ",
            body="x" * 399,
        ),
        "a2": logged(
            zed,
            utc(2026, 10, 5, 16),
            status=InMailStatus.REPLIED,
            responded_at=utc(2026, 11, 4, 17),
            subject="One two three four five six",
            body="x" * 400,
        ),
        "a3": logged(
            zed,
            utc(2026, 10, 6, 16),
            status=InMailStatus.DECLINED,
            responded_at=utc(2026, 11, 5, 17, 0, 1),
            subject="a b c d e",
            body="x" * 999,
        ),
        "a4": logged(
            zed,
            datetime.fromisoformat("2026-10-31T06:30:00+00:00"),
            subject="A very long subject line indeed here",
            body="x" * 1900,
        ),
        "a5": logged(
            zed,
            datetime.fromisoformat("2026-12-01T07:59:00+00:00"),
            status=InMailStatus.REPLIED,
            responded_at=datetime.fromisoformat("2026-12-01T09:59:00+00:00"),
            subject="Six words in this subject line",
            body="x" * 1000,
            open_profile=True,
        ),
        "b1": logged(
            amy,
            utc(2026, 9, 20, 16),
            status=InMailStatus.ACCEPTED,
            responded_at=utc(2026, 9, 21, 16),
            subject="Hello",
            body="x" * 10,
        ),
        "b2": logged(
            amy,
            utc(2026, 11, 2, 20),
            status=InMailStatus.REPLIED,
            responded_at=utc(2026, 11, 3, 2),
            subject="Senior engineer role at our company",
            body="x" * 1500,
        ),
        "b3": logged(
            amy,
            utc(2026, 12, 10, 18),
            subject="Open profile hello",
            body="x" * 300,
            open_profile=True,
        ),
        "c1": logged(
            outsider,
            utc(2026, 10, 1, 16),
            status=InMailStatus.ACCEPTED,
            responded_at=utc(2026, 10, 2, 16),
        ),
    }
    time_machine.move_to(utc(2026, 11, 10, 18), tick=False)
    inmails["a6"] = send(zed, "linkedin.com/in/member-withdrawn", subject=five_words).inmail
    time_machine.move_to(utc(2026, 11, 12, 18), tick=False)
    inmail_withdraw(inmail=inmails["a6"], cause=SYSTEM)
    time_machine.move_to(utc(2026, 11, 14, 18), tick=False)
    inmails["a8"] = send(zed, "linkedin.com/in/member-31-days", subject=five_words).inmail
    time_machine.move_to(utc(2026, 11, 16, 18), tick=False)
    inmails["a7"] = send(zed, "linkedin.com/in/member-29-days", subject=five_words).inmail
    time_machine.move_to(NOW, tick=False)
    return Outreach(zed=zed, amy=amy, outsider=outsider, inmails=inmails)


def of(*inmails: InMail) -> QuerySet[InMail]:
    return InMail.objects.filter(pk__in=[inmail.pk for inmail in inmails])


def numbers(row: ResponseRateRow) -> tuple[object, ...]:
    """(key, sent, answered_30d, rate base, accepted, declined, replied, pending, no_response,
    withdrawn, response rate, acceptance rate)."""
    return (
        row.key,
        row.sent,
        row.answered_30d,
        row.rate_base,
        row.accepted,
        row.declined,
        row.replied,
        row.pending,
        row.no_response,
        row.withdrawn,
        row.response_rate,
        row.acceptance_rate,
    )


def rates(
    rows: list[ResponseRateRow],
) -> list[tuple[str | int | None, int, int, int, float | None]]:
    """(key, sent, answered_30d, rate base, response rate) per row."""
    return [(r.key, r.sent, r.answered_30d, r.rate_base, r.response_rate) for r in rows]


# --- the definition ----------------------------------------------------------------------------


def test_team_totals_count_answers_within_30_days_over_settled_inmails(
    org: Org, outreach: Outreach
) -> None:
    totals = response_totals(analytics_inmails(org.lead))

    # Answered within 30 days: a1 a2 a5 b1 b2. Base: those, a3 (answered late), a0 a4 a8 (window
    # over). Responses: accepted a1 b1, declined a3, replied a2 a5 b2.
    assert numbers(totals) == ("all", 12, 5, 9, 2, 1, 3, 4, 1, 1, 5 / 9, 2 / 6)
    # Hours to response: 2, 6, 24, 720, 721, 721 h 1 s: the median is between 24 and 720.
    assert totals.median_hours_to_response == pytest.approx(372.0)


def test_an_answer_exactly_30_local_days_after_sending_counts(outreach: Outreach) -> None:
    row = response_totals(of(outreach.inmails["a1"]))

    assert (row.answered_30d, row.rate_base, row.response_rate) == (1, 1, 1.0)
    assert row.median_hours_to_response == pytest.approx(720.0)


def test_30_days_are_wall_clock_days_across_a_daylight_saving_change(outreach: Outreach) -> None:
    # Sent 09:00 PDT, answered 09:00 PST 30 days later: 721 elapsed hours, still day 30.
    row = response_totals(of(outreach.inmails["a2"]))

    assert (row.answered_30d, row.response_rate) == (1, 1.0)
    assert row.median_hours_to_response == pytest.approx(721.0)


def test_an_answer_one_second_after_day_30_is_late_but_counts_in_the_base(
    outreach: Outreach,
) -> None:
    row = response_totals(of(outreach.inmails["a3"]))

    assert numbers(row) == ("all", 1, 0, 1, 0, 1, 0, 0, 0, 0, 0.0, 0.0)


def test_a_pending_inmail_counts_in_the_base_only_once_its_30_days_are_over(
    outreach: Outreach,
) -> None:
    days_29, days_31 = outreach.inmails["a7"], outreach.inmails["a8"]

    assert response_totals(of(days_29)).rate_base == 0
    assert response_totals(of(days_29)).response_rate is None
    assert response_totals(of(days_31)).rate_base == 1
    assert response_totals(of(days_31)).response_rate == 0.0
    # Two days later the 29-day-old one is 31 days old.
    later = response_totals(of(days_29), now=NOW + timedelta(days=2))
    assert (later.rate_base, later.response_rate) == (1, 0.0)


def test_an_inmail_answered_before_it_is_30_days_old_counts_in_the_base(
    outreach: Outreach,
) -> None:
    row = response_totals(of(outreach.inmails["a5"]))  # 14 days old, answered

    assert (row.sent, row.answered_30d, row.rate_base, row.response_rate) == (1, 1, 1, 1.0)


def test_a_withdrawn_inmail_is_sent_but_not_in_the_rate(outreach: Outreach) -> None:
    row = response_totals(of(outreach.inmails["a6"]))

    assert numbers(row) == ("all", 1, 0, 0, 0, 0, 0, 0, 0, 1, None, None)


def test_the_rate_moves_with_now(org: Org, outreach: Outreach) -> None:
    # By 17 Dec a7 (sent 16 Nov) is past its window too: base 10.
    totals = response_totals(analytics_inmails(org.lead), now=NOW + timedelta(days=2))

    assert (totals.answered_30d, totals.rate_base, totals.response_rate) == (5, 10, 0.5)


def test_no_inmails_give_zeros_and_no_rates(org: Org, outreach: Outreach) -> None:
    totals = response_totals(analytics_inmails(org.nobody))

    assert numbers(totals) == ("all", 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None)
    assert totals.median_hours_to_response is None


# --- breakdowns --------------------------------------------------------------------------------


def test_by_recruiter_rows_are_ordered_by_name_and_keyed_by_username(
    org: Org, outreach: Outreach
) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="recruiter")

    assert [(row.key, row.label) for row in rows] == [
        ("teammate", "Amy Brown"),
        ("recruiter", "Zed Young"),
    ]
    assert numbers(rows[0]) == ("teammate", 3, 2, 2, 1, 0, 1, 1, 0, 0, 1.0, 1 / 2)
    assert numbers(rows[1]) == ("recruiter", 9, 3, 7, 1, 1, 2, 3, 1, 1, 3 / 7, 1 / 4)
    # Amy: 6 h and 24 h. Zed: 2, 720, 721 and 721 h 1 s.
    assert rows[0].median_hours_to_response == pytest.approx(15.0)
    assert rows[1].median_hours_to_response == pytest.approx(720.5)


def test_by_team_rows_are_ordered_by_name(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.admin), group_by="team")

    assert [(row.key, row.label) for row in rows] == [
        ("Talent North", "Talent North"),
        ("Talent South", "Talent South"),
    ]
    assert rates(rows) == [("Talent North", 12, 5, 9, 5 / 9), ("Talent South", 1, 1, 1, 1.0)]


def test_by_month_uses_local_dates(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="month")

    # a5, sent on 1 Dec in UTC, is a November InMail in Los Angeles.
    assert rates(rows) == [
        ("2026-08", 1, 0, 1, 0.0),
        ("2026-09", 2, 2, 2, 1.0),
        ("2026-10", 3, 1, 3, 1 / 3),
        ("2026-11", 5, 2, 3, 2 / 3),
        ("2026-12", 1, 0, 0, None),
    ]
    assert [row.label for row in rows] == [
        "Aug 2026",
        "Sep 2026",
        "Oct 2026",
        "Nov 2026",
        "Dec 2026",
    ]


def test_by_week_uses_local_iso_weeks(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="week")

    assert rates(rows) == [
        ("2026-W36", 2, 1, 2, 1 / 2),  # a0 a1
        ("2026-W38", 1, 1, 1, 1.0),  # b1
        ("2026-W41", 2, 1, 2, 1 / 2),  # a2 a3
        ("2026-W44", 1, 0, 1, 0.0),  # a4
        ("2026-W45", 1, 1, 1, 1.0),  # b2
        ("2026-W46", 2, 0, 1, 0.0),  # a6 (withdrawn) a8
        ("2026-W47", 1, 0, 0, None),  # a7
        ("2026-W49", 1, 1, 1, 1.0),  # a5
        ("2026-W50", 1, 0, 0, None),  # b3
    ]
    assert rows[0].label == "Week of 31 Aug 2026"


def test_by_weekday_lists_every_day_in_local_time(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="weekday")

    # a4 is a Friday and a5 a Monday in Los Angeles (Saturday and Tuesday in UTC).
    assert rates(rows) == [
        ("Monday", 5, 3, 4, 3 / 4),  # a0 a2 a5 a7 b2
        ("Tuesday", 3, 1, 2, 1 / 2),  # a1 a3 a6
        ("Wednesday", 0, 0, 0, None),
        ("Thursday", 1, 0, 0, None),  # b3
        ("Friday", 1, 0, 1, 0.0),  # a4
        ("Saturday", 1, 0, 1, 0.0),  # a8
        ("Sunday", 1, 1, 1, 1.0),  # b1
    ]
    assert [row.label for row in rows] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert rows[2].median_hours_to_response is None


def test_by_body_length_buckets_at_400_and_1000_characters(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="body_length")

    assert rates(rows) == [
        ("<400", 7, 2, 4, 1 / 2),  # 50 399 41 41 41 10 300
        ("400-999", 2, 1, 2, 1 / 2),  # 400 999
        (">=1000", 3, 2, 3, 2 / 3),  # 1900 1000 1500
    ]
    assert [row.label for row in rows] == ["Under 400 chars", "400–999 chars", "1000+ chars"]


def test_by_subject_length_counts_whitespace_separated_words(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="subject_length")

    # Up to 5: a0 (2), a1 (5, with runs of spaces and a tab), a3 (5), a6 a7 a8 (5), b1 (1),
    # b3 (3). More than 5: a2 (6), a4 (7), a5 (6), b2 (6).
    assert rates(rows) == [("<=5 words", 8, 2, 5, 2 / 5), (">5 words", 4, 3, 4, 3 / 4)]


def test_by_open_profile(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.lead), group_by="open_profile")

    assert rates(rows) == [("open_profile", 2, 1, 1, 1.0), ("paid", 10, 4, 8, 1 / 2)]
    assert [row.label for row in rows] == ["Open Profile", "Paid"]


def test_fixed_breakdowns_list_empty_groups(org: Org, outreach: Outreach) -> None:
    rows = response_rates(analytics_inmails(org.nobody), group_by="body_length")

    assert rates(rows) == [
        ("<400", 0, 0, 0, None),
        ("400-999", 0, 0, 0, None),
        (">=1000", 0, 0, 0, None),
    ]
    assert response_rates(analytics_inmails(org.nobody), group_by="month") == []


def test_an_unknown_breakdown_is_refused(org: Org) -> None:
    with pytest.raises(ValueError, match="group_by"):
        response_rates(analytics_inmails(org.lead), group_by="colour")


@pytest.mark.parametrize("group_by", GROUP_BY)
def test_a_breakdown_takes_a_fixed_number_of_queries(
    org: Org, outreach: Outreach, group_by: str, django_assert_max_num_queries: Any
) -> None:
    # One grouped query, a second for medians on SQLite, a third for recruiters' or teams'
    # names: never one per InMail.
    with django_assert_max_num_queries(3):
        response_rates(analytics_inmails(org.lead), group_by=group_by)


# --- who sees which InMails ----------------------------------------------------------------------


NORTH = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "b1", "b2", "b3"}
ZED = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"}


def seen_by(outreach: Outreach, user: User, **narrowing: Any) -> set[str]:
    """The fixture's names of the InMails the user may analyse."""
    found = set(analytics_inmails(user, **narrowing).values_list("pk", flat=True))
    return {label for label, inmail in outreach.inmails.items() if inmail.pk in found}


def test_a_recruiter_of_a_team_that_shares_usage_analyses_the_team(
    org: Org, outreach: Outreach
) -> None:
    assert seen_by(outreach, org.recruiter) == NORTH
    assert seen_by(outreach, org.teammate) == NORTH
    assert seen_by(outreach, org.lead) == NORTH


def test_a_recruiter_of_a_team_that_hides_usage_analyses_only_their_own(
    org: Org, outreach: Outreach
) -> None:
    Team.objects.filter(pk=org.team.pk).update(share_usage=False)

    assert seen_by(outreach, org.recruiter) == ZED
    assert seen_by(outreach, org.teammate) == {"b1", "b2", "b3"}
    assert seen_by(outreach, org.lead) == NORTH


def test_outsiders_and_strangers_see_nothing_of_the_team(org: Org, outreach: Outreach) -> None:
    assert seen_by(outreach, org.outsider) == {"c1"}
    assert seen_by(outreach, org.nobody) == set()
    assert seen_by(outreach, org.admin) == {*NORTH, "c1"}


def test_inmails_narrow_by_team_seat_and_local_sent_date(org: Org, outreach: Outreach) -> None:
    assert seen_by(outreach, org.admin, team=org.team) == NORTH
    assert seen_by(outreach, org.admin, seat=outreach.amy) == {"b1", "b2", "b3"}
    # November in Los Angeles: a5 was sent at 23:59 on 30 November.
    november = {"start": date(2026, 11, 1), "end": date(2026, 11, 30)}
    assert seen_by(outreach, org.lead, **november) == {"a5", "a6", "a7", "a8", "b2"}
    assert seen_by(outreach, org.lead, start=date(2026, 12, 1)) == {"b3"}
    assert seen_by(outreach, org.lead, end=date(2026, 8, 31)) == {"a0"}
    # Narrowing never widens: the outsider asking for Talent North gets nothing.
    assert seen_by(outreach, org.outsider, team=org.team) == set()
