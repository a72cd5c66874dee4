"""Seats through the API: create, list, read, settings, cancel, change plan (R2, R3, R13, R14).

The clock stands at 15 January 2025, 09:00 UTC (the `world` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import Entry, EntryKind
from teams.models import Seat, SeatStatus
from tests.api.conftest import World

pytestmark = pytest.mark.django_db


def new_seat(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "holder": world.org.nobody.pk,
        "team": world.team.pk,
        "plan": "recruiter_lite",
        **fields,
    }


def test_a_recruiter_lite_seat_is_granted_30_credits_at_activation(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post("/api/v1/seats/", new_seat(world), format="json")

    assert answer.status_code == 201
    seat = Seat.objects.get(holder=world.org.nobody)
    assert answer.json() == {
        "id": seat.pk,
        "holder": world.org.nobody.pk,
        "team": world.team.pk,
        "plan": "recruiter_lite",
        "status": "active",
        "activated_on": "2025-01-15",
        "anchor_day": 15,
        "next_refresh_on": "2025-02-15",
        "pool_access": False,
        "monthly_allocation": None,
        "monthly_usage_limit": None,
        "balance": 30,
        "warnings": [],
    }


def test_a_seat_activated_on_a_past_date_is_brought_up_to_date(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post(
        "/api/v1/seats/", new_seat(world, activated_on="2024-12-31"), format="json"
    )

    assert answer.status_code == 201
    # 30 at activation on 31 December; the anchor is 31, so no refresh has come yet.
    assert answer.json()["balance"] == 30
    assert answer.json()["anchor_day"] == 31
    assert answer.json()["next_refresh_on"] == "2025-01-31"


def test_a_seat_activated_a_month_ago_got_its_refresh_too(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post(
        "/api/v1/seats/", new_seat(world, activated_on="2024-12-10"), format="json"
    )

    assert answer.json()["balance"] == 60
    assert answer.json()["next_refresh_on"] == "2025-02-10"


def test_a_seat_can_not_be_activated_in_the_future(world: World, as_admin: APIClient) -> None:
    seats = Seat.objects.count()

    answer = as_admin.post(
        "/api/v1/seats/", new_seat(world, activated_on="2025-01-16"), format="json"
    )

    assert answer.status_code == 400
    assert answer.json() == {"activated_on": ["A seat can't be activated in the future."]}
    assert Seat.objects.count() == seats


def test_a_pooled_seat_puts_its_credits_in_the_team_pool(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post(
        "/api/v1/seats/", new_seat(world, plan="recruiter_corporate"), format="json"
    )

    assert answer.status_code == 201
    assert answer.json()["balance"] == 0
    assert answer.json()["pool_access"] is True
    pool = as_admin.get(f"/api/v1/teams/{world.team.pk}/pool/").json()
    assert pool["available"] == 450
    assert pool["cap"] == 1800  # 3 × the Corporate cap of 600


@pytest.mark.parametrize(
    ("field", "value"),
    [("holder", 999_999), ("team", 999_999), ("plan", "no_such_plan")],
)
def test_a_seat_for_an_unknown_holder_team_or_plan_is_400(
    world: World, as_admin: APIClient, field: str, value: Any
) -> None:
    answer = as_admin.post("/api/v1/seats/", new_seat(world, **{field: value}), format="json")

    assert answer.status_code == 400
    assert list(answer.json()) == [field]


def test_pool_settings_on_a_plan_without_a_pool_are_400(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post("/api/v1/seats/", new_seat(world, pool_access=True), format="json")

    assert answer.status_code == 400
    assert list(answer.json()) == ["pool_access"]


# --- Lists and scope -------------------------------------------------------------------------


def ids(answer: Any) -> list[int]:
    return [row["id"] for row in answer.json()["results"]]


def test_each_role_lists_the_seats_it_may_see(
    world: World,
    as_admin: APIClient,
    as_lead: APIClient,
    as_recruiter: APIClient,
    as_outsider: APIClient,
) -> None:
    north = [world.seat.pk, world.lead_seat.pk, world.pooled_seat.pk, world.pooled_seat_2.pk]

    assert ids(as_admin.get("/api/v1/seats/")) == sorted([*north, world.outsider_seat.pk])
    assert ids(as_lead.get("/api/v1/seats/")) == sorted(north)
    assert ids(as_recruiter.get("/api/v1/seats/")) == [world.seat.pk, world.pooled_seat.pk]
    assert ids(as_outsider.get("/api/v1/seats/")) == [world.outsider_seat.pk]


def test_seats_filter_by_team_and_status(world: World, as_admin: APIClient) -> None:
    as_admin.post(f"/api/v1/seats/{world.lead_seat.pk}/cancel/")

    south = as_admin.get(f"/api/v1/seats/?team={world.org.other_team.pk}")
    cancelled = as_admin.get("/api/v1/seats/?status=cancelled")

    assert ids(south) == [world.outsider_seat.pk]
    assert ids(cancelled) == [world.lead_seat.pk]
    assert as_admin.get("/api/v1/seats/?status=paused").status_code == 400


def test_a_seat_list_is_paginated(world: World, as_admin: APIClient) -> None:
    first = as_admin.get("/api/v1/seats/?page_size=2").json()
    last = as_admin.get("/api/v1/seats/?page_size=2&page=3").json()

    assert first["count"] == 5
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/seats/?page=2&page_size=2"
    assert len(first["results"]) == 2
    assert last["next"] is None
    assert len(last["results"]) == 1


def test_a_seat_outside_the_scope_is_404(world: World, as_outsider: APIClient) -> None:
    answer = as_outsider.get(f"/api/v1/seats/{world.seat.pk}/")

    assert answer.status_code == 404
    assert answer.json() == {"detail": "No Seat matches the given query."}


# --- Settings, cancel, change plan -----------------------------------------------------------


def test_a_lead_sets_a_pooled_seats_monthly_allocation(world: World, as_lead: APIClient) -> None:
    answer = as_lead.patch(
        f"/api/v1/seats/{world.pooled_seat.pk}/", {"monthly_allocation": 20}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["monthly_allocation"] == 20
    assert answer.json()["pool_access"] is True


def test_an_allocation_up_to_the_pools_monthly_grant_is_allowed_and_one_more_is_400(
    world: World, as_lead: APIClient
) -> None:
    # Two Recruiter Corporate seats: the pool is granted 2 x 150 a month.
    url = f"/api/v1/seats/{world.pooled_seat.pk}/"

    allowed = as_lead.patch(url, {"monthly_allocation": 300}, format="json")
    refused = as_lead.patch(url, {"monthly_allocation": 301, "pool_access": False}, format="json")

    assert allowed.status_code == 200
    assert allowed.json()["monthly_allocation"] == 300
    assert refused.status_code == 400
    assert refused.json() == {
        "monthly_allocation": [
            "An allocation of 301 credits a month is more than the team pool receives: its "
            "monthly grant is 300 credits (the monthly credits of the team's active pooled "
            "seats)."
        ]
    }
    seat = Seat.objects.get(pk=world.pooled_seat.pk)
    assert (seat.monthly_allocation, seat.pool_access) == (300, True)


def test_an_allocation_on_a_seat_without_a_pool_is_400(world: World, as_lead: APIClient) -> None:
    answer = as_lead.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_allocation": 5}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == ["monthly_allocation"]


def test_the_holder_may_not_change_their_seats_settings(
    world: World, as_recruiter: APIClient
) -> None:
    answer = as_recruiter.patch(
        f"/api/v1/seats/{world.pooled_seat.pk}/", {"pool_access": False}, format="json"
    )

    assert answer.status_code == 403
    assert Seat.objects.get(pk=world.pooled_seat.pk).pool_access is True


def test_cancelling_a_seat_forfeits_its_balance(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post(f"/api/v1/seats/{world.seat.pk}/cancel/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["balance"] == 0
    assert answer.json()["next_refresh_on"] is None
    forfeit = Entry.objects.get(account__seat=world.seat, kind=EntryKind.FORFEIT)
    assert (forfeit.amount, forfeit.balance_after) == (-30, 0)


def test_cancelling_a_cancelled_seat_is_409_seat_inactive(
    world: World, as_admin: APIClient
) -> None:
    as_admin.post(f"/api/v1/seats/{world.seat.pk}/cancel/")

    answer = as_admin.post(f"/api/v1/seats/{world.seat.pk}/cancel/")

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "seat_inactive",
        "detail": f"Seat #{world.seat.pk} is cancelled.",
    }


def test_a_plan_change_cancels_the_seat_and_activates_a_new_one(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/change-plan/", {"plan": "premium_business"}, format="json"
    )

    assert answer.status_code == 201
    new = answer.json()
    assert new["id"] != world.seat.pk
    assert (new["plan"], new["balance"], new["status"]) == ("premium_business", 15, "active")
    old = Seat.objects.get(pk=world.seat.pk)
    assert old.status == SeatStatus.CANCELLED
    assert old.replaced_by_id == new["id"]


def test_changing_to_the_same_plan_is_400(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/change-plan/", {"plan": "recruiter_lite"}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == ["plan"]
    assert Seat.objects.get(pk=world.seat.pk).status == SeatStatus.ACTIVE
