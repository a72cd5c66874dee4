"""The alert pass queued after a send works on that seat and its pool only (issue 10).

Its cost must not grow with the organisation: the same statements for a seat in an
organisation of 2 seats as of 200, each naming the seats, accounts, teams or people it reads.
The periodic pass (no seats given) still raises every alert in the organisation.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import AlertKind, EmailStatus, Notification, NotificationPreference
from ledger.notifications.alerts import Alert, alerts_raise, pending_alerts
from teams.models import Role, Seat, Team, User
from tests.factories import MembershipFactory
from tests.ledger.helpers import new_team, person, seat_on, set_plan, utc

START = utc(2025, 3, 10, 9)
# Tables whose every read in a scoped pass must be narrowed to what the pass is about.
SCOPED_TABLES = {
    "ledger_account",
    "ledger_inmail",
    "ledger_lot",
    "ledger_notification",
    "ledger_notificationpreference",
    "ledger_refresh",
    "teams_membership",
    "teams_seat",
}
NARROWED = re.compile(r'"(id|account_id|seat_id|team_id|user_id)" (IN \(|= )')


def pooled_seat_in_a_team_of_its_own(name: str) -> Seat:
    """A Recruiter Corporate seat drawing on its team's pool, in a team with a lead."""
    team = new_team(name)
    MembershipFactory.create(user=person(f"{name}-lead"), team=team, role=Role.LEAD)
    return seat_on("recruiter_corporate", holder=person(f"{name}-holder"), team=team)


def more_seats(team: Team, count: int) -> None:
    """Premium Career seats, each low on credits, so each raises (and emails) an alert."""
    for _ in range(count):
        seat_on("premium_career", team=team)


def wants_low_balance_alerts_below(user: User, threshold: int) -> None:
    NotificationPreference.objects.update_or_create(
        user=user, defaults={"low_balance_threshold": threshold}
    )


def scoped_pass(seat: Seat) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        report = alerts_raise(seat_ids={seat.pk})
    return report, [query["sql"] for query in queries.captured_queries]


def unscoped_reads(statements: list[str]) -> list[str]:
    reads = []
    for statement in statements:
        table = re.search(r'\bFROM "(\w+)"', statement)
        if table and table.group(1) in SCOPED_TABLES and not NARROWED.search(statement):
            reads.append(statement)
    return reads


@pytest.mark.django_db
def test_the_pass_after_a_send_costs_the_same_in_an_organisation_of_2_seats_as_of_200(
    mailoutbox: list[Any],
) -> None:
    with time_machine.travel(START, tick=False):
        first = pooled_seat_in_a_team_of_its_own("north")
        second = pooled_seat_in_a_team_of_its_own("east")
        elsewhere = new_team("south")
        MembershipFactory.create(user=person("south-lead"), team=elsewhere, role=Role.LEAD)
        more_seats(elsewhere, 1)
        alerts_raise()
        # Other people's mails waiting for a retry are the periodic pass's work, not this one's.
        Notification.objects.update(email_status=EmailStatus.PENDING, email_next_attempt_at=START)
        wants_low_balance_alerts_below(first.holder, 1000)

        small_report, small = scoped_pass(first)

        more_seats(elsewhere, 199)
        alerts_raise()
        Notification.objects.exclude(user=first.holder).update(
            email_status=EmailStatus.PENDING, email_next_attempt_at=START
        )
        wants_low_balance_alerts_below(second.holder, 1000)
        mailoutbox.clear()

        large_report, large = scoped_pass(second)

    assert Seat.objects.count() == 202
    assert (small_report.raised, small_report.emailed) == (1, 1)
    assert (large_report.raised, large_report.emailed) == (1, 1)
    assert [message.to for message in mailoutbox] == [["east-holder@example.com"]]
    assert len(large) == len(small)
    assert unscoped_reads(small) == []
    assert unscoped_reads(large) == []


def alert_rows(alerts: list[Alert]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (alert.kind, alert.key, tuple(sorted(user.username for user in alert.recipients)))
        for alert in alerts
    }


@pytest.mark.django_db
def test_the_periodic_pass_raises_every_alert_the_seat_passes_raise_between_them() -> None:
    # Recruiter Corporate pays 20 credits a month into the pool: 60 for three seats, under 10%
    # of their cap of 3 × 600 (the pooled seats see all 60: not low). Each Premium Career seat
    # holds 5, under the threshold of 10.
    set_plan("recruiter_corporate", monthly_credits=20)
    with time_machine.travel(START, tick=False):
        north = new_team("north")
        MembershipFactory.create(user=person("north-lead"), team=north, role=Role.LEAD)
        pooled = [
            seat_on("recruiter_corporate", holder=person(f"pooled-{n}"), team=north)
            for n in range(3)
        ]
        south = new_team("south")
        MembershipFactory.create(user=person("south-lead"), team=south, role=Role.LEAD)
        careers = [
            seat_on("premium_career", holder=person(f"career-{n}"), team=south) for n in range(2)
        ]

        everything = alert_rows(pending_alerts())
        seat_by_seat = set().union(
            *(alert_rows(pending_alerts(seat_ids={seat.pk})) for seat in [*pooled, *careers])
        )
        report = alerts_raise()

    pool_key = f"pool:{pooled[0].team.accounts.get(kind='pool').pk}:period:{date(2025, 3, 10)}"
    assert everything == {
        (AlertKind.POOL_LOW, pool_key, ("north-lead",)),
        *(
            (AlertKind.LOW_BALANCE, f"seat:{seat.pk}:period:2025-03-10", (f"career-{n}",))
            for n, seat in enumerate(careers)
        ),
    }
    assert seat_by_seat == everything
    assert report.raised == Notification.objects.count() == 3
