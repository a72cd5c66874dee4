"""Analytics: credit flows, cost per response and billing dates (docs/rules.md, "Analytics
definitions"); the run-out forecast is in test_forecast.py.

Every expected number below was worked out by hand from the fixture's story (the comments tell
it), in the organisation's time zone America/Los_Angeles: PDT (UTC−7) until 1 Nov 2026 09:00
UTC, PST (UTC−8) after; in 2026, PDT starts on 8 March.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from ledger.analytics import (
    CreditFlows,
    analytics_accounts,
    billing_dates,
    credit_flows,
    monthly_credit_flows,
)
from ledger.models import Entry, EntryKind, InMail, Refresh, RefreshKind
from ledger.services import (
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    ledger_bring_all_up_to_date,
    pool_transfer,
    purchase_record,
    seat_cancel,
)
from teams.models import Seat, Team, User
from tests.conftest import Org
from tests.factories import plan
from tests.ledger.helpers import SYSTEM, seat_on, send, set_plan, utc

pytestmark = pytest.mark.django_db


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
    p1 = send(zed, "linkedin.com/in/member-p1").inmail
    p2 = send(zed, "linkedin.com/in/member-p2").inmail
    time_machine.move_to(utc(2026, 4, 5, 17), tick=False)
    purchase_record(seat=zed, credits=3, cause=SYSTEM)
    time_machine.move_to(utc(2026, 4, 8, 17), tick=False)
    send(amy, "linkedin.com/in/member-q1")
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
    r1 = send(lead_seat, "linkedin.com/in/member-r1").inmail
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

    # The rollups' zone, credits moved, credits not granted, responses, seats, purchases.
    assert len(year.captured_queries) == len(quarter.captured_queries) <= 6


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
