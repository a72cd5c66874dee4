"""Team pools through the API (R14): the pool, its cap, transfers, and who may see them.

Talent North holds two Recruiter Corporate seats (150 credits a month each, cap 600 each),
so its pool starts with 300 credits. The clock stands at 15 January 2025, 09:00 UTC."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import Entry
from tests.api.conftest import World

pytestmark = pytest.mark.django_db


def transfer(client: APIClient, world: World, credits: int, seat: int | None = None) -> Any:
    return client.post(
        f"/api/v1/teams/{world.team.pk}/pool/transfers/",
        {"seat": seat or world.pooled_seat.pk, "credits": credits},
        format="json",
    )


def test_the_pool_of_two_corporate_seats(world: World, as_lead: APIClient) -> None:
    answer = as_lead.get(f"/api/v1/teams/{world.team.pk}/pool/")

    assert answer.status_code == 200
    pool = answer.json()
    assert (pool["team"], pool["available"], pool["cap"]) == (world.team.pk, 300, 1200)
    assert sum(lot["remaining"] for lot in pool["lots"]) == 300
    assert pool["seats"] == [
        {"seat": world.pooled_seat.pk, "monthly_allocation": None, "own": 0},
        {"seat": world.pooled_seat_2.pk, "monthly_allocation": None, "own": 0},
    ]
    assert pool["next_refresh_on"] == "2025-02-15"


def test_a_lead_moves_credits_from_the_pool_to_a_seat_and_back(
    world: World, as_lead: APIClient
) -> None:
    given = transfer(as_lead, world, 10)
    returned = transfer(as_lead, world, -4)

    assert given.status_code == returned.status_code == 201
    assert given.json() == {"pool_available": 290, "seat_own": 10}
    assert returned.json() == {"pool_available": 294, "seat_own": 6}


def test_moving_more_than_the_pool_holds_is_409_pool_insufficient(
    world: World, as_lead: APIClient
) -> None:
    entries = Entry.objects.count()

    answer = transfer(as_lead, world, 301)

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "pool_insufficient",
        "detail": "The pool holds 300 credits; 301 can't be moved.",
    }
    assert Entry.objects.count() == entries


def test_moving_more_than_the_seat_holds_back_is_409_insufficient_credits(
    world: World, as_lead: APIClient
) -> None:
    answer = transfer(as_lead, world, -1)

    assert answer.status_code == 409
    assert answer.json()["code"] == "insufficient_credits"


def test_a_team_without_a_pool_is_409_no_pool(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post(
        f"/api/v1/teams/{world.org.other_team.pk}/pool/transfers/",
        {"seat": world.outsider_seat.pk, "credits": 1},
        format="json",
    )

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "no_pool",
        "detail": "Talent South has no credit pool (it holds no pooled seat).",
    }


def test_reading_the_pool_of_a_team_without_one_is_404(world: World, as_admin: APIClient) -> None:
    answer = as_admin.get(f"/api/v1/teams/{world.org.other_team.pk}/pool/")

    assert answer.status_code == 404
    assert answer.json() == {"detail": "Talent South has no credit pool (it holds no pooled seat)."}


@pytest.mark.parametrize("seat", ["seat", "outsider_seat"])
def test_a_seat_outside_the_pool_is_400(world: World, as_admin: APIClient, seat: str) -> None:
    answer = transfer(as_admin, world, 1, seat=getattr(world, seat).pk)

    assert answer.status_code == 400
    assert list(answer.json()) == ["seat"]


def test_a_recruiter_sees_the_pool_of_a_team_that_shares_usage(
    world: World, as_recruiter: APIClient
) -> None:
    assert as_recruiter.get(f"/api/v1/teams/{world.team.pk}/pool/").status_code == 200


def test_a_recruiter_may_not_see_the_pool_of_a_team_that_hides_usage(
    world: World, as_recruiter: APIClient, as_lead: APIClient
) -> None:
    world.team.share_usage = False
    world.team.save()

    assert as_recruiter.get(f"/api/v1/teams/{world.team.pk}/pool/").status_code == 403
    assert as_lead.get(f"/api/v1/teams/{world.team.pk}/pool/").status_code == 200


def test_a_pool_as_of_an_earlier_instant(world: World, as_lead: APIClient) -> None:
    transfer(as_lead, world, 10)

    earlier = as_lead.get(f"/api/v1/teams/{world.team.pk}/pool/?as_of=2025-01-15T08:00:00Z").json()

    assert earlier["available"] == 300
    assert earlier["as_of"] == "2025-01-15T08:00:00Z"


def test_a_pooled_seat_spends_from_the_pool_when_it_holds_nothing(
    world: World, as_recruiter: APIClient
) -> None:
    answer = as_recruiter.post(
        "/api/v1/inmails/",
        {
            "seat": world.pooled_seat.pk,
            "recipient": "linkedin.com/in/member-1",
            "subject": "Hello",
            "body": "A role for you",
        },
        format="json",
    )

    assert answer.status_code == 201
    assert (answer.json()["paid_from"], answer.json()["credit_cost"]) == ("pool", 1)
    pool = as_recruiter.get(f"/api/v1/teams/{world.team.pk}/pool/").json()
    assert pool["available"] == 299
