"""The analytics endpoints (docs/rules.md, "Analytics definitions"): shapes, scope, and the
numbers of a small fixture worked out by hand below. The fine definitions are tested on
`ledger.analytics` itself (tests/ledger/analytics/); here the API must carry them through
exactly.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.services import Cause, inmail_record_response, purchase_record
from tests.api.conftest import World, send
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db

SYSTEM = Cause.system("test")


@pytest.fixture
def history(world: World, time_machine: TimeMachineFixture) -> World:
    """The recruiter's Recruiter Lite seat (30 credits on 15 January 2025), then:

    - 15 Jan 09:00: paid InMails A, B, C and an Open Profile InMail D;
    - 16 Jan: D replied;        20 Jan: A accepted (5 days: refund, within 30 days);
    - 1 Feb: 5 credits bought (50.00);   15 Feb: refresh, +30;
    - 20 Feb: B declined (36 days: refund, but not within 30 days);   C never answered.

    The clock then stands at 1 March 2025, 09:00.
    """
    a = send(world.seat, "linkedin.com/in/member-a")
    b = send(world.seat, "linkedin.com/in/member-b")
    send(world.seat, "linkedin.com/in/member-c")
    d = send(world.seat, "linkedin.com/in/member-d", open_profile=True)
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    inmail_record_response(inmail=d, outcome="replied", cause=SYSTEM)
    time_machine.move_to(utc(2025, 1, 20, 9), tick=False)
    inmail_record_response(inmail=a, outcome="accepted", cause=SYSTEM)
    time_machine.move_to(utc(2025, 2, 1, 9), tick=False)
    purchase_record(seat=world.seat, credits=5, cause=SYSTEM)
    time_machine.move_to(utc(2025, 2, 20, 9), tick=False)
    inmail_record_response(inmail=b, outcome="declined", cause=SYSTEM)
    time_machine.move_to(utc(2025, 3, 1, 9), tick=False)
    send(world.outsider_seat, "linkedin.com/in/member-z")
    return world


def rows(client: APIClient, query: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/analytics/response-rates/{query}")
    assert answer.status_code == 200, answer.content
    return list(answer.json()["rows"])


def test_response_rates_open_profile_against_paid(history: World, as_recruiter: APIClient) -> None:
    open_profile, paid = rows(as_recruiter, "?group_by=open_profile")

    # Paid: A answered within 30 days; B answered later; C pending but sent 45 days ago, so
    # all three count in the rate: 1 / 3. Acceptance: A of the responses A and B: 1 / 2.
    assert {k: paid[k] for k in paid if k not in ("label", "median_hours_to_response")} == {
        "key": "paid",
        "sent": 3,
        "answered_30d": 1,
        "accepted": 1,
        "declined": 1,
        "replied": 0,
        "pending": 1,
        "no_response": 0,
        "response_rate": pytest.approx(1 / 3),
        "acceptance_rate": 0.5,
        # R22: the base of the rate, and its 95% Wilson interval for 1 of 3 (z = 1.96):
        # centre (1/3 + z²/6) / (1 + z²/3) = 0.42693, half-width 0.36543.
        "eligible": 3,
        "rate_low": pytest.approx(0.061492, abs=1e-6),
        "rate_high": pytest.approx(0.792340, abs=1e-6),
        "small_sample": True,
    }
    assert (open_profile["key"], open_profile["sent"], open_profile["replied"]) == (
        "open_profile",
        1,
        1,
    )
    assert (open_profile["response_rate"], open_profile["acceptance_rate"]) == (1.0, 0.0)


def test_a_recruiter_only_counts_their_own_inmails(
    history: World, as_recruiter: APIClient, as_outsider: APIClient, as_admin: APIClient
) -> None:
    assert [row["sent"] for row in rows(as_recruiter, "?group_by=month")] == [4]
    assert [row["sent"] for row in rows(as_outsider, "?group_by=month")] == [1]
    assert [(r["key"], r["sent"]) for r in rows(as_admin, "?group_by=month")] == [
        ("2025-01", 4),
        ("2025-03", 1),
    ]


def test_response_rates_by_team_seat_and_period(history: World, as_admin: APIClient) -> None:
    team = history.team.pk
    by_team = rows(as_admin, f"?group_by=team&team={team}")
    by_seat = rows(as_admin, f"?group_by=recruiter&seat={history.outsider_seat.pk}")
    in_march = rows(as_admin, "?group_by=team&from=2025-03-01&to=2025-03-31")

    assert [row["sent"] for row in by_team] == [4]
    assert [row["sent"] for row in by_seat] == [1]
    assert [row["sent"] for row in in_march] == [1]


def test_credit_flows_over_a_period(history: World, as_recruiter: APIClient) -> None:
    answer = as_recruiter.get(
        f"/api/v1/analytics/credits/?seat={history.seat.pk}&from=2025-01-01&to=2025-02-28"
    )

    assert answer.status_code == 200
    # Granted 30 on 15 Jan and 30 on 15 Feb; 3 paid InMails spent; A and B refunded; 5 bought.
    # Cost: two monthly charges of 170.00 (15 Jan, 15 Feb) + 50.00 = 390.00, over 3 responses
    # (A, B, D) = 130.00 each. Utilisation 3 / 60.
    assert answer.json() == {
        "start": "2025-01-01",
        "end": "2025-02-28",
        "granted": 60,
        "spent": 3,
        "refunded": 2,
        "expired": 0,
        "lost_to_cap": 0,
        "forfeited": 0,
        "purchased": 5,
        "adjusted": 0,
        "bonus": 0,
        "utilisation": 0.05,
        "responses": 3,
        "cost": "390.00",
        "cost_per_response": "130.00",
    }


def test_credit_flows_default_to_the_last_30_days(history: World, as_recruiter: APIClient) -> None:
    flows = as_recruiter.get(f"/api/v1/analytics/credits/?seat={history.seat.pk}").json()

    # 31 Jan to 1 Mar: the refresh of 15 Feb, B's refund, the purchase, one charge.
    assert (flows["start"], flows["end"]) == ("2025-01-31", "2025-03-01")
    assert (flows["granted"], flows["refunded"], flows["purchased"]) == (30, 1, 5)
    assert (flows["cost"], flows["responses"], flows["cost_per_response"]) == (
        "220.00",
        1,
        "220.00",
    )


def test_no_responses_means_no_cost_per_response(world: World, as_recruiter: APIClient) -> None:
    flows = as_recruiter.get(f"/api/v1/analytics/credits/?seat={world.seat.pk}").json()

    assert flows["responses"] == 0
    assert flows["cost_per_response"] is None
    assert flows["utilisation"] == 0.0


# --- Scope -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["credits/", "response-rates/"])
def test_a_team_that_hides_usage_is_403_for_its_recruiters(
    world: World, as_recruiter: APIClient, as_lead: APIClient, path: str
) -> None:
    world.team.share_usage = False
    world.team.save()
    url = f"/api/v1/analytics/{path}?team={world.team.pk}"

    assert as_recruiter.get(url).status_code == 403
    assert as_lead.get(url).status_code == 200


@pytest.mark.parametrize("path", ["credits/", "response-rates/"])
def test_a_team_or_seat_outside_the_scope_is_400(
    world: World, as_recruiter: APIClient, path: str
) -> None:
    by_team = as_recruiter.get(f"/api/v1/analytics/{path}?team={world.org.other_team.pk}")
    by_seat = as_recruiter.get(f"/api/v1/analytics/{path}?seat={world.outsider_seat.pk}")

    assert (by_team.status_code, by_team.json()) == (400, {"team": ["Unknown team."]})
    assert (by_seat.status_code, by_seat.json()) == (400, {"seat": ["Unknown seat."]})


def test_every_breakdown_answers(world: World, as_admin: APIClient) -> None:
    send(world.seat)
    for group_by in (
        "recruiter",
        "team",
        "week",
        "month",
        "weekday",
        "body_length",
        "subject_length",
        "open_profile",
    ):
        assert rows(as_admin, f"?group_by={group_by}"), group_by
    assert as_admin.get("/api/v1/analytics/response-rates/?group_by=colour").status_code == 400
