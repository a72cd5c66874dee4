"""Analytics: response rates, credit flows, cost per response, run-out (SPEC "Analytics").

Every expected number below was worked out by hand from the fixture's story (the comments tell
it), in the organisation's time zone America/Los_Angeles: PDT (UTC−7) until 1 Nov 2026 09:00
UTC, PST (UTC−8) after; in 2026, PDT starts on 8 March.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from ledger.analytics import (
    GROUP_BY,
    CreditFlows,
    ResponseRateRow,
    analytics_accounts,
    analytics_inmails,
    billing_dates,
    credit_flows,
    monthly_credit_flows,
    response_rates,
    response_totals,
    seat_run_out_on,
)
from ledger.models import Entry, EntryKind, InMail, InMailStatus, Refresh, RefreshKind
from ledger.rules import normalise_recipient
from ledger.services import (
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_withdraw,
    ledger_bring_all_up_to_date,
    pool_transfer,
    purchase_record,
    seat_cancel,
)
from teams.models import Seat, Team, User
from tests.conftest import Org
from tests.factories import plan
from tests.ledger.helpers import SYSTEM, new_team, seat_on, send, set_plan, utc

pytestmark = pytest.mark.django_db

ORG_TZ = "America/Los_Angeles"
_recipients = itertools.count(1)


@pytest.fixture(autouse=True)
def _org_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = ORG_TZ


def name(user: User, first: str, last: str) -> None:
    User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)


def logged(
    seat: Seat,
    sent_at: datetime,
    *,
    status: str = InMailStatus.PENDING,
    responded_at: datetime | None = None,
    subject: str = "Hello there",
    body: str = "x" * 50,
    open_profile: bool = False,
) -> InMail:
    """An InMail from imported history (analytics only, never charged), as a CSV import does."""
    recipient = f"member-{next(_recipients)}"
    closed_at = responded_at
    if status == InMailStatus.NO_RESPONSE:
        closed_at = sent_at + timedelta(days=90)
    return InMail.objects.create(
        seat=seat,
        recipient=recipient,
        recipient_key=normalise_recipient(recipient),
        subject=subject,
        body=body,
        open_profile=open_profile,
        status=status,
        sent_at=sent_at,
        responded_at=responded_at,
        closed_at=closed_at,
        imported=True,
    )


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
    inmails["a6"] = send(zed, "member-withdrawn", subject=five_words).inmail
    time_machine.move_to(utc(2026, 11, 12, 18), tick=False)
    inmail_withdraw(inmail=inmails["a6"], cause=SYSTEM)
    time_machine.move_to(utc(2026, 11, 14, 18), tick=False)
    inmails["a8"] = send(zed, "member-31-days", subject=five_words).inmail
    time_machine.move_to(utc(2026, 11, 16, 18), tick=False)
    inmails["a7"] = send(zed, "member-29-days", subject=five_words).inmail
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


def rates(rows: list[ResponseRateRow]) -> list[tuple[str, int, int, int, float | None]]:
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


# ==============================================================================================
# Credit flows, cost and cost per response
# ==============================================================================================

# 10 Jun 2026, 11:00 PDT.
BOOK_NOW = utc(2026, 6, 10, 18)


def april(user: User, **scope: Any) -> CreditFlows:
    return credit_flows(user, start=date(2026, 4, 1), end=date(2026, 4, 30), now=BOOK_NOW, **scope)


@dataclass
class Book:
    zed: Seat  # Premium Career, anchor day 31
    amy: Seat  # Premium Career, cancelled on 20 April
    lead_seat: Seat  # Recruiter Corporate (pooled), allocation 20
    outsider: Seat  # Premium Career in Talent South
    p1: InMail
    p2: InMail
    r1: InMail


@pytest.fixture
def book(org: Org, time_machine: TimeMachineFixture) -> Book:
    """Half a year of Talent North's ledger (Premium Career: 5 a month, cap 15, 29.99; credits
    never expire by age here; Recruiter Corporate: 150 a month into the pool, 1080.00).

    Zed, activated 31 Jan (billed 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May):
      31 Jan +5; 28 Feb +5 (10); 5 Mar bonus 4, expiring 4 Apr 10:00 (14);
      31 Mar refresh grants 1 of 5 (4 not granted, 15);
      2 Apr sends p1, p2 from the bonus (13); 4 Apr the bonus's last 2 expire (11);
      5 Apr buys 3 for 30.00 (14); 10 Apr p1 accepted, refund (15); 12 Apr bonus 5 (20);
      15 Apr adjustment −1 from that bonus (19);
      30 Apr refresh: capped 16 > 15, grants 0 (5 not granted) and trims 1 (18);
      5 May p2 replied, refund (19); 12 May the bonus's last 3 expire (16);
      31 May refresh: capped 13, grants 2 (3 not granted) (18).
    Amy, activated 1 Apr (billed 1 Apr): +5; 8 Apr sends q1 (4); 20 Apr cancelled, forfeits 4.
    Lead's pooled seat, activated 15 Apr (billed 15 Apr, 15 May): the pool gets 150;
      16 Apr 30 moved to the seat; 17 Apr sends r1 (29); 18 Apr r1 declined, refund (30);
      15 May pool refresh +150, allocation of 20 to the seat.
    Outsider (Talent South), activated 1 Apr (billed 1 Apr, 1 May, 1 Jun): +5 a month.
    """
    set_plan("premium_career", credit_lifetime_days=None)
    team = org.team
    time_machine.move_to(utc(2026, 1, 31, 17), tick=False)
    zed = seat_on("premium_career", holder=org.recruiter, team=team)
    time_machine.move_to(utc(2026, 3, 5, 18), tick=False)
    bonus_grant(seat=zed, credits=4, memo="Sprint", cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 1, 17), tick=False)
    amy = seat_on("premium_career", holder=org.teammate, team=team)
    outsider = seat_on("premium_career", holder=org.outsider, team=org.other_team)
    time_machine.move_to(utc(2026, 4, 2, 17), tick=False)
    p1 = send(zed, "member-p1").inmail
    p2 = send(zed, "member-p2").inmail
    time_machine.move_to(utc(2026, 4, 5, 17), tick=False)
    purchase_record(seat=zed, credits=3, cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 8, 17), tick=False)
    send(amy, "member-q1")
    time_machine.move_to(utc(2026, 4, 10, 17), tick=False)
    inmail_record_response(inmail=p1, outcome="accepted", cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 12, 17), tick=False)
    bonus_grant(seat=zed, credits=5, memo="Another sprint", cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 15, 17), tick=False)
    adjustment_post(seat=zed, credits=-1, reason="LinkedIn shows one fewer", cause=SYSTEM)
    lead_seat = seat_on("recruiter_corporate", holder=org.lead, team=team, monthly_allocation=20)
    time_machine.move_to(utc(2026, 4, 16, 17), tick=False)
    pool_transfer(team=team, seat=lead_seat, credits=30, cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 17, 17), tick=False)
    r1 = send(lead_seat, "member-r1").inmail
    time_machine.move_to(utc(2026, 4, 18, 17), tick=False)
    inmail_record_response(inmail=r1, outcome="declined", cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 20, 17), tick=False)
    seat_cancel(seat=amy, cause=SYSTEM)
    time_machine.move_to(utc(2026, 5, 5, 17), tick=False)
    inmail_record_response(inmail=p2, outcome="replied", cause=SYSTEM)
    time_machine.move_to(BOOK_NOW, tick=False)
    ledger_bring_all_up_to_date()
    amy.refresh_from_db()
    return Book(zed, amy, lead_seat, outsider, p1, p2, r1)


def flows(result: CreditFlows) -> dict[str, object]:
    return {
        "granted": result.granted,
        "spent": result.spent,
        "refunded": result.refunded,
        "expired": result.expired,
        "lost_to_cap": result.lost_to_cap,
        "forfeited": result.forfeited,
        "purchased": result.purchased,
        "adjusted": result.adjusted,
        "bonus": result.bonus,
        "utilisation": result.utilisation,
        "responses": result.responses,
        "cost": result.cost,
        "cost_per_response": result.cost_per_response,
    }


NOTHING = {
    "granted": 0,
    "spent": 0,
    "refunded": 0,
    "expired": 0,
    "lost_to_cap": 0,
    "forfeited": 0,
    "purchased": 0,
    "adjusted": 0,
    "bonus": 0,
    "utilisation": None,
    "responses": 0,
    "cost": Decimal("0.00"),
    "cost_per_response": None,
}

TEAM_APRIL = {
    "granted": 155,  # Amy's activation 5, the pool's 150 at the lead's activation
    "spent": 4,  # p1 p2 q1 r1
    "refunded": 2,  # p1 r1
    "expired": 2,  # Zed's first bonus
    "lost_to_cap": 6,  # Zed's 30 Apr refresh: 5 not granted + 1 trimmed
    "forfeited": 4,  # Amy's cancellation
    "purchased": 3,
    "adjusted": -1,
    "bonus": 5,
    "utilisation": 4 / 155,
    "responses": 2,  # p1 (10 Apr), r1 (18 Apr)
    # Zed 30 Apr, Amy 1 Apr, lead 15 Apr: 29.99 + 29.99 + 1080.00; purchase 30.00.
    "cost": Decimal("1169.98"),
    "cost_per_response": Decimal("584.99"),
}

ZED_APRIL = {
    **TEAM_APRIL,
    "granted": 0,
    "spent": 2,
    "refunded": 1,
    "forfeited": 0,
    "utilisation": None,
    "responses": 1,
    "cost": Decimal("59.99"),  # 29.99 on 30 Apr + 30.00 of purchase
    "cost_per_response": Decimal("59.99"),
}


def test_team_flows_of_a_month(org: Org, book: Book) -> None:
    result = april(org.lead, team=org.team)

    assert (result.start, result.end) == (date(2026, 4, 1), date(2026, 4, 30))
    assert flows(result) == TEAM_APRIL
    assert (result.subscription_cost, result.purchase_cost) == (
        Decimal("1139.98"),
        Decimal("30.00"),
    )


def test_moves_between_pool_and_seats_are_not_flows(org: Org, book: Book) -> None:
    # April held a 30-credit transfer, May a 20-credit allocation; neither shows anywhere.
    kinds = set(Entry.objects.values_list("kind", flat=True))
    assert {EntryKind.TRANSFER, EntryKind.ALLOCATION} <= kinds

    may = credit_flows(
        org.lead, team=org.team, start=date(2026, 5, 1), end=date(2026, 5, 31), now=BOOK_NOW
    )

    assert flows(may) == {
        **NOTHING,
        "granted": 152,  # pool refresh 150, Zed's 31 May refresh 2
        "refunded": 1,  # p2
        "expired": 3,  # Zed's second bonus
        "lost_to_cap": 3,  # Zed's 31 May refresh: 3 not granted
        "utilisation": 0.0,
        "responses": 1,  # p2 (5 May)
        "cost": Decimal("1109.99"),  # lead 15 May, Zed 31 May; Amy was cancelled
        "cost_per_response": Decimal("1109.99"),
    }


def test_lost_to_cap_counts_credits_not_granted_and_trimmed_once(org: Org, book: Book) -> None:
    refresh = Refresh.objects.get(
        account__seat=book.zed, kind=RefreshKind.REFRESH, period_on=date(2026, 4, 30)
    )
    trimmed = Entry.objects.filter(refresh=refresh, kind=EntryKind.LOST_TO_CAP)
    assert (refresh.granted, refresh.lost_to_cap) == (0, 6)
    assert [entry.amount for entry in trimmed] == [-1]

    result = credit_flows(
        org.lead, seat=book.zed, start=date(2026, 4, 30), end=date(2026, 4, 30), now=BOOK_NOW
    )

    assert result.lost_to_cap == 6


def test_seat_flows_are_its_own_account(org: Org, book: Book) -> None:
    zed = april(org.lead, seat=book.zed)
    pooled = april(org.lead, seat=book.lead_seat)

    assert flows(zed) == ZED_APRIL
    # The pool's grant belongs to the team, not the pooled seat; the transfer is no flow.
    assert flows(pooled) == {
        **NOTHING,
        "spent": 1,
        "refunded": 1,
        "responses": 1,
        "cost": Decimal("1080.00"),
        "cost_per_response": Decimal("1080.00"),
    }


def test_monthly_flows_run_oldest_first_to_the_current_month_to_date(org: Org, book: Book) -> None:
    months = monthly_credit_flows(org.lead, team=org.team, months=3, now=BOOK_NOW)

    assert [(m.start, m.end) for m in months] == [
        (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 31)),
        (date(2026, 6, 1), date(2026, 6, 10)),
    ]
    assert flows(months[0]) == TEAM_APRIL
    assert (months[1].granted, months[1].cost) == (152, Decimal("1109.99"))
    assert flows(months[2]) == NOTHING


def test_monthly_flows_cost_the_same_queries_for_a_year_as_for_a_quarter(
    org: Org, book: Book
) -> None:
    with CaptureQueriesContext(connection) as quarter:
        monthly_credit_flows(org.lead, team=org.team, months=3, now=BOOK_NOW)
    with CaptureQueriesContext(connection) as year:
        monthly_credit_flows(org.lead, team=org.team, months=12, now=BOOK_NOW)

    assert len(year.captured_queries) == len(quarter.captured_queries) <= 5


def test_the_default_period_is_the_last_30_days(org: Org, book: Book) -> None:
    result = credit_flows(org.lead, now=BOOK_NOW)

    assert (result.start, result.end) == (date(2026, 5, 12), date(2026, 6, 10))
    assert flows(result) == {
        **NOTHING,
        "granted": 152,
        "expired": 3,  # 12 May, 10:00
        "lost_to_cap": 3,
        "utilisation": 0.0,
        "cost": Decimal("1109.99"),
    }


def test_charges_not_yet_made_cost_nothing(org: Org, book: Book) -> None:
    # The lead's seat renews on 15 June and Zed's on 30 June: after now.
    june = credit_flows(
        org.lead, team=org.team, start=date(2026, 6, 1), end=date(2026, 6, 30), now=BOOK_NOW
    )

    assert june.cost == Decimal("0.00")


def test_a_recruiter_sees_team_flows_only_where_the_team_shares_usage(org: Org, book: Book) -> None:
    assert flows(april(org.recruiter)) == TEAM_APRIL

    Team.objects.filter(pk=org.team.pk).update(share_usage=False)

    assert flows(april(org.recruiter)) == ZED_APRIL
    assert flows(april(org.lead)) == TEAM_APRIL


def test_outsiders_see_only_their_team_and_strangers_nothing(org: Org, book: Book) -> None:
    assert flows(april(org.outsider)) == {
        **NOTHING,
        "granted": 5,
        "utilisation": 0.0,
        "cost": Decimal("29.99"),
    }
    assert flows(april(org.outsider, team=org.team)) == NOTHING
    assert flows(april(org.nobody)) == NOTHING
    assert set(analytics_accounts(org.nobody)) == set()


def test_cost_per_response_rounds_half_cents_up(org: Org, book: Book) -> None:
    # Everything: Talent North's 1169.98 and the outsider's 29.99, over 2 responses = 599.985.
    result = april(org.admin)

    assert (result.granted, result.cost, result.responses) == (160, Decimal("1199.97"), 2)
    assert result.cost_per_response == Decimal("599.99")


def test_analytics_accounts_narrow_to_a_team_with_its_pool_or_to_one_seat(
    org: Org, book: Book
) -> None:
    team_accounts = analytics_accounts(org.recruiter, team=org.team)
    seats = {account.seat_id for account in team_accounts}

    assert seats == {book.zed.pk, book.amy.pk, book.lead_seat.pk, None}  # None: the pool
    assert [a.seat_id for a in analytics_accounts(org.lead, seat=book.zed)] == [book.zed.pk]


def test_a_period_that_ends_before_it_starts_is_refused(org: Org, book: Book) -> None:
    with pytest.raises(ValueError, match="after it ends"):
        credit_flows(org.lead, start=date(2026, 5, 2), end=date(2026, 5, 1), now=BOOK_NOW)


# --- billing dates -----------------------------------------------------------------------------


def test_anchor_day_31_is_billed_on_the_last_day_of_shorter_months(book: Book) -> None:
    billed = list(billing_dates(book.zed, date(2026, 1, 1), date(2026, 12, 31), now=BOOK_NOW))

    assert billed == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_billing_counts_each_date_from_the_anchor_in_a_leap_year() -> None:
    seat = Seat(activated_on=date(2027, 12, 31), anchor_day=31)
    far_future = utc(2030, 1, 1)

    assert list(billing_dates(seat, date(2028, 1, 1), date(2028, 4, 30), now=far_future)) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]
    assert list(billing_dates(seat, date(2028, 2, 1), date(2028, 3, 30), now=far_future)) == [
        date(2028, 2, 29)
    ]


def test_a_plan_refreshed_on_the_1st_is_still_billed_on_its_activation_anniversary() -> None:
    seat = Seat(plan=plan("sales_navigator_core"), activated_on=date(2026, 1, 20), anchor_day=20)

    assert list(billing_dates(seat, date(2026, 1, 1), date(2026, 3, 31), now=utc(2027, 1, 1))) == [
        date(2026, 1, 20),
        date(2026, 2, 20),
        date(2026, 3, 20),
    ]


def test_a_cancelled_seat_is_not_billed_after_its_cancellation(book: Book) -> None:
    billed = list(billing_dates(book.amy, date(2026, 1, 1), date(2026, 12, 31), now=BOOK_NOW))

    assert billed == [date(2026, 4, 1)]


# ==============================================================================================
# Run-out forecast
# ==============================================================================================


def test_run_out_is_the_balance_over_the_trailing_30_day_net_spend(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2026, 3, 1, 18), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())  # 30 credits
    time_machine.move_to(utc(2026, 3, 2, 18), tick=False)
    send(seat, "member-early")  # before the trailing 30 days
    sent = []
    for day in range(10, 18):
        time_machine.move_to(utc(2026, 3, day, 17), tick=False)
        sent.append(send(seat, f"member-{day}").inmail)
    time_machine.move_to(utc(2026, 3, 20, 17), tick=False)
    inmail_record_response(inmail=sent[0], outcome="accepted", cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 5, 17), tick=False)

    # 30 − 9 + 1 refund + 30 at the 1 April refresh = 52 available; net spend 8 − 1 = 7 in 30
    # days: 52 ÷ (7/30) = 222.9 days from 5 April.
    assert seat_run_out_on(seat) == date(2026, 11, 13)
    assert seat_run_out_on(seat, now=utc(2026, 4, 5, 17)) == date(2026, 11, 13)


def test_no_run_out_without_net_spend_or_for_a_cancelled_seat(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2026, 3, 1, 18), tick=False)
    idle = seat_on("recruiter_lite", team=new_team())
    busy = seat_on("recruiter_lite", team=new_team())
    send(busy, "member-1")
    time_machine.move_to(utc(2026, 3, 2, 18), tick=False)
    seat_cancel(seat=busy, cause=SYSTEM)
    busy.refresh_from_db()

    assert seat_run_out_on(idle) is None
    assert seat_run_out_on(busy) is None
