"""Who sees a team pool through the API (issue 12, item 6; docs/rules.md "Who sees a team
pool"), for an admin, the lead and a recruiter, in a team that shares usage and in one that
keeps it private.

The `world` fixture: Talent North's pool holds 300 credits, a lot of 150 from each of two
Recruiter Corporate seats, the recruiter's (`pooled_seat`, drawing on the pool) and the
teammate's. A lead's transfer of 20 (from the first lot) to the teammate's seat makes its own
credits a figure worth hiding.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ledger.services import pool_transfer
from teams.models import Role
from tests.api.conftest import SYSTEM, World, token_client
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ROLES = ("admin", "lead", "recruiter")


@pytest.fixture
def shared(world: World) -> World:
    pool_transfer(team=world.team, seat=world.pooled_seat_2, credits=20, cause=SYSTEM)
    return world


def _private(world: World) -> None:
    world.team.share_usage = False
    world.team.save(update_fields=["share_usage"])


def _client(world: World, role: str) -> APIClient:
    return token_client(world.user(role))


@pytest.mark.parametrize("share_usage", [True, False])
@pytest.mark.parametrize("role", ["admin", "lead"])
def test_admins_and_leads_see_every_pooled_seat(
    shared: World, role: str, share_usage: bool
) -> None:
    if not share_usage:
        _private(shared)

    answer = _client(shared, role).get(f"/api/v1/teams/{shared.team.pk}/pool/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["available"] == 280
    assert body["cap"] == 1200
    assert [lot["remaining"] for lot in body["lots"]] == [130, 150]
    assert sorted(body["seats"], key=lambda row: row["seat"]) == [
        {"seat": shared.pooled_seat.pk, "monthly_allocation": None, "own": 0},
        {"seat": shared.pooled_seat_2.pk, "monthly_allocation": None, "own": 20},
    ]


def test_a_recruiter_of_a_sharing_team_sees_the_totals_and_lots_and_only_their_own_seat(
    shared: World,
) -> None:
    answer = _client(shared, "recruiter").get(f"/api/v1/teams/{shared.team.pk}/pool/")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["available"], body["cap"]) == (280, 1200)
    assert [lot["remaining"] for lot in body["lots"]] == [130, 150]
    # Never a teammate's figures: the teammate's 20 credits are not in the answer.
    assert body["seats"] == [{"seat": shared.pooled_seat.pk, "monthly_allocation": None, "own": 0}]


def test_a_recruiter_without_a_pooled_seat_sees_no_seat_of_the_pool(shared: World) -> None:
    MembershipFactory.create(user=shared.org.nobody, team=shared.team, role=Role.RECRUITER)

    body = token_client(shared.org.nobody).get(f"/api/v1/teams/{shared.team.pk}/pool/").json()

    assert body["seats"] == []
    assert body["available"] == 280


def test_a_recruiter_of_a_private_team_gets_403_and_where_to_look(shared: World) -> None:
    _private(shared)

    answer = _client(shared, "recruiter").get(f"/api/v1/teams/{shared.team.pk}/pool/")

    assert answer.status_code == 403
    assert answer.json() == {
        "detail": (
            "This team doesn't share its usage with its recruiters. What your seat may draw "
            "from the pool is in its balance: pool_available in GET /api/v1/seats/{id}/balance/."
        )
    }


@pytest.mark.parametrize("share_usage", [True, False])
@pytest.mark.parametrize("role", ROLES)
def test_everyone_who_sees_the_seat_sees_what_it_may_draw_from_the_pool(
    shared: World, role: str, share_usage: bool
) -> None:
    if not share_usage:
        _private(shared)

    answer = _client(shared, role).get(f"/api/v1/seats/{shared.pooled_seat.pk}/balance/")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["own"], body["pool_available"], body["available"]) == (0, 280, 280)
    # The seat's own lots only, never the pool's.
    assert body["lots"] == []


def test_a_recruiter_never_reads_a_teammates_balance_whatever_the_team_shares(
    shared: World,
) -> None:
    recruiter = _client(shared, "recruiter")

    answer = recruiter.get(f"/api/v1/seats/{shared.pooled_seat_2.pk}/balance/")

    assert answer.status_code == 404
