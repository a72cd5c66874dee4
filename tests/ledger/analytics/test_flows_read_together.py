"""Credit flows read together (issue 15, goal 2): every team's flows in one grouped read for the
overview (`credit_flows_by_team`), and a page's months with its whole period in one read
(`credit_flows_months_and_period`), equal to the one-by-one calls they replace, from the
entries' days and from the entries alike.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_machine import TimeMachineFixture

from ledger import schedule
from ledger.analytics import credit_flows, credit_flows_by_team
from ledger.analytics.periods import credit_flows_by_month, credit_flows_months_and_period
from ledger.services import (
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    ledger_tick,
    purchase_record,
)
from ledger.services.flow_days import flow_days_rebuild
from teams.models import Team
from tests.conftest import Org
from tests.ledger.analytics.test_credit_flows import BOOK_NOW, TEAM_APRIL, Book
from tests.ledger.analytics.test_credit_flows import book as book
from tests.ledger.analytics.test_flow_days import from_entries
from tests.ledger.helpers import SYSTEM, seat_on, send, utc

pytestmark = pytest.mark.django_db

# Whole months, a month to date, odd ranges, a single day.
PERIODS = [
    (date(2026, 1, 1), date(2026, 1, 31)),
    (date(2026, 4, 1), date(2026, 4, 30)),
    (date(2026, 5, 1), date(2026, 5, 31)),
    (date(2026, 6, 1), date(2026, 6, 10)),
    (date(2026, 3, 7), date(2026, 5, 2)),
    (date(2026, 4, 20), date(2026, 4, 20)),
]


def one_by_one(user: Any, teams: list[Team], start: date, end: date, now: Any) -> dict[int, Any]:
    return {
        team.pk: asdict(credit_flows(user, team=team, start=start, end=end, now=now))
        for team in teams
    }


def together(user: Any, teams: list[Team], start: date, end: date, now: Any) -> dict[int, Any]:
    found = credit_flows_by_team(user, teams=teams, start=start, end=end, now=now)
    return {pk: asdict(flows) for pk, flows in found.items()}


def assert_by_team_is_one_by_one(user: Any, now: Any, periods: list[tuple[date, date]]) -> None:
    teams = list(Team.objects.order_by("pk"))
    for start, end in periods:
        expected = one_by_one(user, teams, start, end, now)
        assert together(user, teams, start, end, now) == expected
        with from_entries():
            assert together(user, teams, start, end, now) == expected


def test_the_book_by_team_is_each_team_on_its_own(org: Org, book: Book) -> None:
    teams = list(Team.objects.order_by("pk"))
    april = together(org.admin, teams, date(2026, 4, 1), date(2026, 4, 30), BOOK_NOW)
    # The figures are the book's (test_credit_flows): not an empty result compared with another.
    assert {name: april[org.team.pk][name] for name in TEAM_APRIL} == TEAM_APRIL
    assert april[org.other_team.pk]["granted"] == 5
    assert april[org.other_team.pk]["spent"] == 0
    assert april[org.other_team.pk]["cost"] == Decimal("29.99")
    for user in (org.admin, org.lead, org.recruiter, org.outsider, org.nobody):
        assert_by_team_is_one_by_one(user, BOOK_NOW, PERIODS)


def test_a_team_without_accounts_has_nothing_flowing(org: Org, book: Book) -> None:
    empty = Team.objects.create(name="Talent East")

    found = credit_flows_by_team(
        org.admin, teams=[empty], start=date(2026, 4, 1), end=date(2026, 4, 30), now=BOOK_NOW
    )

    assert asdict(found[empty.pk]) == asdict(
        credit_flows(
            org.admin, team=empty, start=date(2026, 4, 1), end=date(2026, 4, 30), now=BOOK_NOW
        )
    )
    assert found[empty.pk].spent == 0
    assert found[empty.pk].cost_per_response is None


def test_months_and_period_are_the_two_calls(org: Org, book: Book) -> None:
    scopes: list[tuple[Any, dict[str, Any]]] = [(org.admin, {}), (org.lead, {"team": org.team})]
    for user, scope in scopes:
        for start, end in PERIODS:
            months, whole = credit_flows_months_and_period(
                user, start=start, end=end, now=BOOK_NOW, **scope
            )
            assert [asdict(flows) for flows in months] == [
                asdict(flows)
                for flows in credit_flows_by_month(
                    user, start=start, end=end, now=BOOK_NOW, **scope
                )
            ]
            assert asdict(whole) == asdict(
                credit_flows(user, start=start, end=end, now=BOOK_NOW, **scope)
            )


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40 * 24),  # hours later
            st.sampled_from(["send", "bonus", "purchase", "adjust", "answer", "tick"]),
            st.integers(min_value=0, max_value=2),  # which seat
            st.integers(min_value=1, max_value=4),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_by_team_is_one_by_one_over_random_histories(
    org: Org, time_machine: TimeMachineFixture, steps: list[tuple[int, str, int, int]]
) -> None:
    flow_days_rebuild()
    now = utc(2026, 1, 5, 17)
    time_machine.move_to(now, tick=False)
    seats = [
        seat_on("recruiter_lite", holder=org.recruiter, team=org.team),
        seat_on("premium_career", holder=org.teammate, team=org.team),
        seat_on("recruiter_lite", holder=org.outsider, team=org.other_team),
    ]
    sent = []
    for number, (hours, action, which, credits) in enumerate(steps):
        seat = seats[which]
        now += timedelta(hours=hours)
        time_machine.move_to(now, tick=False)
        seat.account.refresh_from_db()
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
    ledger_tick()
    today = schedule.local_date(now)
    periods = [
        (date(2026, 1, 1), today),
        (today.replace(day=1), today),
        (min(date(2026, 1, 20), today), today),
    ]
    for user in (org.admin, org.lead, org.outsider):
        assert_by_team_is_one_by_one(user, now, periods)
