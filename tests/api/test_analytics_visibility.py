"""Who sees whose analytics (docs/rules.md: who sees per-person analytics).

Every `group_by` of `/analytics/response-rates/` and `/analytics/credits/`, with and without
`?team=` and `?seat=`, for each role of the permission matrix, in a team that shares its usage
and in one that hides it. Breakdowns by recruiter are for the team's leads and admins: a recruiter
gets their own row only, never a teammate's. Team totals (by team, month, weekday, length, Open
Profile; credit flows) are for members of a team that shares usage; in a team that hides it a
recruiter counts their own InMails only, and naming the team is 403. A seat or team the user may
not see is unknown (400), like an id that names nothing.

The InMails, all sent on 15 January 2025 at 09:00 UTC (paid, bodies under 400 characters,
subjects of three words):

- Talent North: the recruiter 2, the lead 3, the teammate 4;
- Talent South: the outsider 5.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from teams.models import Role, Seat, User
from tests.api.conftest import (
    ROLES,
    WORLD_CLOCK,
    World,
    make_world,
    rows_for_the_module,
    send,
    token_client,
)
from tests.conftest import make_org
from tests.factories import MembershipFactory, UserFactory, make_seat

pytestmark = pytest.mark.django_db

A, L, R, X, N = ROLES  # admin, lead, recruiter, outsider, anonymous
RATES = "/api/v1/analytics/response-rates/"
CREDITS = "/api/v1/analytics/credits/"
NORTH, SOUTH = "Talent North", "Talent South"
SENT = {"recruiter": 2, "lead": 3, "teammate": 4, "outsider": 5}
NORTH_SENT = SENT["recruiter"] + SENT["lead"] + SENT["teammate"]
TOTAL_GROUPS = ("team", "week", "month", "weekday", "body_length", "subject_length")
GROUPS = ("recruiter", *TOTAL_GROUPS, "open_profile")


@dataclass
class Outreach:
    world: World
    teammate_seat: Seat

    def seat(self, name: str) -> Seat:
        return {
            "recruiter": self.world.seat,
            "lead": self.world.lead_seat,
            "teammate": self.teammate_seat,
            "outsider": self.world.outsider_seat,
        }[name]


def _send_all(seats: dict[str, Seat]) -> None:
    for name, seat in seats.items():
        for number in range(SENT[name]):
            send(seat, f"linkedin.com/in/{name}-candidate-{number}", subject="Staff engineer role")


@pytest.fixture(scope="module", params=[True, False], ids=["shares-usage", "hides-usage"])
def _outreach_rows(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[Outreach]:
    """The `world` of tests/api/conftest.py and the InMails above, built once per parameter
    (per xdist worker): every test here only reads them (see `rows_for_the_module`)."""
    with rows_for_the_module(django_db_blocker):
        with time_machine.travel(WORLD_CLOCK, tick=False):
            world = make_world(make_org())
            world.team.share_usage = request.param
            world.team.save()
            teammate_seat = make_seat(holder=world.org.teammate, team=world.team)
            found = Outreach(world, teammate_seat)
            _send_all({name: found.seat(name) for name in SENT})
        yield found


@pytest.fixture
def outreach(_outreach_rows: Outreach, db: None, time_machine: TimeMachineFixture) -> Outreach:
    """The InMails above; Talent North shares its usage or hides it (the parameter). The clock
    stays where `world` stops it."""
    time_machine.move_to(WORLD_CLOCK, tick=False)
    return copy.deepcopy(_outreach_rows)


def client_of(world: World, role: str) -> APIClient:
    user = world.user(role)
    return token_client(user) if user is not None else APIClient()


def get(client: APIClient, url: str, **query: Any) -> tuple[int, Any]:
    answer = client.get(url, query)
    return answer.status_code, answer.json()


def sent_by_key(body: dict[str, Any]) -> dict[Any, int]:
    return {row["key"]: row["sent"] for row in body["rows"]}


def visible_total(role: str, shares: bool) -> int:
    """How many InMails a role's totals count, over the whole organisation."""
    return {
        A: NORTH_SENT + SENT["outsider"],
        L: NORTH_SENT,
        R: NORTH_SENT if shares else SENT["recruiter"],
        X: SENT["outsider"],
    }[role]


# --- By recruiter ------------------------------------------------------------------------------

RECRUITER_ROWS = {
    A: {name: SENT[name] for name in ("lead", "outsider", "recruiter", "teammate")},
    L: {name: SENT[name] for name in ("lead", "recruiter", "teammate")},
    R: {"recruiter": SENT["recruiter"]},
    X: {"outsider": SENT["outsider"]},
}


@pytest.mark.parametrize("role", [A, L, R, X])
def test_by_recruiter_a_recruiter_gets_their_own_row_only(outreach: Outreach, role: str) -> None:
    status, body = get(client_of(outreach.world, role), RATES, group_by="recruiter")

    assert status == 200
    assert sent_by_key(body) == RECRUITER_ROWS[role]


@pytest.mark.parametrize("role", [A, L, R, X])
def test_by_recruiter_within_the_team(outreach: Outreach, role: str) -> None:
    world = outreach.world
    status, body = get(client_of(world, role), RATES, group_by="recruiter", team=world.team.pk)

    if role == X:
        assert (status, body) == (400, {"team": ["Unknown team."]})
    elif role == R and not world.team.share_usage:
        assert status == 403
    else:
        north = {"lead", "recruiter", "teammate"}
        assert status == 200
        assert sent_by_key(body) == {
            key: sent for key, sent in RECRUITER_ROWS[role].items() if key in north
        }


@pytest.mark.parametrize("role", [A, L, R, X])
@pytest.mark.parametrize("holder", ["recruiter", "teammate", "lead", "outsider"])
def test_by_recruiter_for_one_seat(outreach: Outreach, role: str, holder: str) -> None:
    """A teammate's seat is a person's figures: only its holder, its leads and admins see it."""
    seat = outreach.seat(holder)
    status, body = get(client_of(outreach.world, role), RATES, group_by="recruiter", seat=seat.pk)

    may_see = role == A or holder == role or (role == L and holder != "outsider")
    if may_see:
        assert (status, sent_by_key(body)) == (200, {holder: SENT[holder]})
    else:
        assert (status, body) == (400, {"seat": ["Unknown seat."]})


def test_by_recruiter_is_401_for_anonymous(outreach: Outreach) -> None:
    assert APIClient().get(RATES, {"group_by": "recruiter"}).status_code == 401
    assert APIClient().get(CREDITS).status_code == 401


# --- Totals: by team, period, weekday, length, Open Profile ----------------------------------


def expected_totals(group_by: str, total: int, teams: dict[str, int]) -> dict[Any, int]:
    if group_by == "team":
        return teams
    if group_by == "week":
        return {"2025-W03": total} if total else {}
    if group_by == "month":
        return {"2025-01": total} if total else {}
    if group_by == "weekday":
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        return {day: total if day == "Wednesday" else 0 for day in days}
    if group_by == "body_length":
        return {"<400": total, "400-999": 0, ">=1000": 0}
    if group_by == "subject_length":
        return {"<=5 words": total, ">5 words": 0}
    return {"open_profile": 0, "paid": total}


@pytest.mark.parametrize("role", [A, L, R, X])
@pytest.mark.parametrize("group_by", [*TOTAL_GROUPS, "open_profile"])
def test_totals_over_everything_the_role_may_see(
    outreach: Outreach, role: str, group_by: str
) -> None:
    shares = outreach.world.team.share_usage
    total = visible_total(role, shares)
    teams = {
        A: {NORTH: NORTH_SENT, SOUTH: SENT["outsider"]},
        L: {NORTH: NORTH_SENT},
        R: {NORTH: total},
        X: {SOUTH: SENT["outsider"]},
    }[role]

    status, body = get(client_of(outreach.world, role), RATES, group_by=group_by)

    assert status == 200
    assert sent_by_key(body) == expected_totals(group_by, total, teams)


@pytest.mark.parametrize("role", [A, L, R, X])
@pytest.mark.parametrize("group_by", [*TOTAL_GROUPS, "open_profile"])
def test_team_totals_are_for_members_of_a_team_that_shares_usage(
    outreach: Outreach, role: str, group_by: str
) -> None:
    world = outreach.world
    status, body = get(client_of(world, role), RATES, group_by=group_by, team=world.team.pk)

    if role == X:
        assert (status, body) == (400, {"team": ["Unknown team."]})
    elif role == R and not world.team.share_usage:
        assert status == 403
    else:
        assert status == 200
        assert sent_by_key(body) == expected_totals(group_by, NORTH_SENT, {NORTH: NORTH_SENT})


@pytest.mark.parametrize("group_by", GROUPS)
def test_a_recruiter_narrowed_to_their_own_seat_sees_their_own_inmails(
    outreach: Outreach, group_by: str
) -> None:
    world = outreach.world
    status, body = get(client_of(world, R), RATES, group_by=group_by, seat=world.seat.pk)

    own = SENT["recruiter"]
    expected = (
        {"recruiter": own}
        if group_by == "recruiter"
        else expected_totals(group_by, own, {NORTH: own})
    )
    assert (status, sent_by_key(body)) == (200, expected)


@pytest.mark.parametrize("group_by", GROUPS)
def test_a_teammates_seat_is_unknown_to_a_recruiter_for_every_breakdown(
    outreach: Outreach, group_by: str
) -> None:
    seat = outreach.teammate_seat
    status, body = get(client_of(outreach.world, R), RATES, group_by=group_by, seat=seat.pk)

    assert (status, body) == (400, {"seat": ["Unknown seat."]})


# --- Credit flows ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [A, L, R, X])
def test_credit_flows_count_what_the_role_may_see(outreach: Outreach, role: str) -> None:
    world = outreach.world
    client = client_of(world, role)
    shares = world.team.share_usage

    status, flows = get(client, CREDITS)
    assert (status, flows["spent"]) == (200, visible_total(role, shares))

    status, flows = get(client, CREDITS, team=world.team.pk)
    if role == X:
        assert (status, flows) == (400, {"team": ["Unknown team."]})
    elif role == R and not shares:
        assert status == 403
    else:
        assert (status, flows["spent"]) == (200, NORTH_SENT)

    for holder in ("recruiter", "lead", "teammate", "outsider"):
        status, flows = get(client, CREDITS, seat=outreach.seat(holder).pk)
        may_see = role == A or holder == role or (role == L and holder != "outsider")
        if may_see:
            assert (status, flows["spent"]) == (200, SENT[holder]), holder
        else:
            assert (status, flows) == (400, {"seat": ["Unknown seat."]}), holder


# --- Someone who leads one team and recruits in another --------------------------------------


@pytest.fixture
def lead_and_recruiter(outreach: Outreach) -> User:
    """`dual`: a recruiter of Talent North (one seat, one InMail) and the lead of Talent South."""
    world = outreach.world
    dual = UserFactory.create(username="dual")
    MembershipFactory.create(user=dual, team=world.team, role=Role.RECRUITER)
    MembershipFactory.create(user=dual, team=world.org.other_team, role=Role.LEAD)
    send(make_seat(holder=dual, team=world.team), "linkedin.com/in/dual-candidate")
    return dual


def test_someone_leading_one_team_and_recruiting_in_another_sees_rows_team_by_team(
    outreach: Outreach, lead_and_recruiter: User
) -> None:
    world = outreach.world
    client = token_client(lead_and_recruiter)

    everywhere = get(client, RATES, group_by="recruiter")
    in_south = get(client, RATES, group_by="recruiter", team=world.org.other_team.pk)
    in_north = get(client, RATES, group_by="recruiter", team=world.team.pk)

    assert (everywhere[0], sent_by_key(everywhere[1])) == (
        200,
        {"dual": 1, "outsider": SENT["outsider"]},
    )
    assert (in_south[0], sent_by_key(in_south[1])) == (200, {"outsider": SENT["outsider"]})
    if world.team.share_usage:
        assert (in_north[0], sent_by_key(in_north[1])) == (200, {"dual": 1})
    else:
        assert in_north[0] == 403
    by_team = get(client, RATES, group_by="team")
    north_total = NORTH_SENT + 1 if world.team.share_usage else 1
    assert sent_by_key(by_team[1]) == {NORTH: north_total, SOUTH: SENT["outsider"]}
