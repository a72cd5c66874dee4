"""POST /seats/ with the holder, team and plan of an active seat still makes the seat, as it
always has, and warns: `duplicate_seat` (issue 12, item 6).

The clock stands at 15 January 2025, 09:00 UTC (the `world` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.services import seat_cancel
from teams.models import Seat, SeatStatus
from tests.api.conftest import SYSTEM, World
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def again(world: World, **fields: Any) -> dict[str, Any]:
    """The recruiter's Recruiter Lite seat in Talent North (`world.seat`) once more."""
    return {
        "holder": world.org.recruiter.pk,
        "team": world.team.pk,
        "plan": "recruiter_lite",
        **fields,
    }


def active_lite_seats(world: World) -> list[int]:
    return list(
        Seat.objects.filter(
            holder=world.org.recruiter, plan__code="recruiter_lite", status=SeatStatus.ACTIVE
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def test_a_duplicate_is_created_with_a_duplicate_seat_warning(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post("/api/v1/seats/", again(world), format="json")

    assert answer.status_code == 201
    body = answer.json()
    assert active_lite_seats(world) == [world.seat.pk, body["id"]]
    assert body["balance"] == 30
    assert body["warnings"] == [
        {
            "code": "duplicate_seat",
            "detail": (
                f"{world.org.recruiter} already holds an active Recruiter Lite seat in Talent "
                f"North: #{world.seat.pk} (activated 2025-01-15). The new seat is another one, "
                "with credits and a price of its own."
            ),
        }
    ]


def test_a_third_seat_names_both_earlier_ones(world: World, as_admin: APIClient) -> None:
    second = as_admin.post("/api/v1/seats/", again(world), format="json").json()["id"]

    answer = as_admin.post("/api/v1/seats/", again(world), format="json")

    [warning] = answer.json()["warnings"]
    assert (
        f": #{world.seat.pk} (activated 2025-01-15), #{second} (activated 2025-01-15)."
        in warning["detail"]
    )
    assert len(active_lite_seats(world)) == 3


@pytest.mark.parametrize("change", ["another_plan", "another_team", "another_holder", "cancelled"])
def test_no_active_seat_on_the_same_three_means_no_warning(
    world: World, as_admin: APIClient, change: str
) -> None:
    fields: dict[str, Any] = {}
    if change == "another_plan":
        fields["plan"] = "premium_business"
    elif change == "another_team":
        fields["team"] = TeamFactory.create(name="Talent West").pk
    elif change == "another_holder":
        fields["holder"] = world.org.nobody.pk
    else:
        seat_cancel(seat=world.seat, cause=SYSTEM)

    answer = as_admin.post("/api/v1/seats/", again(world, **fields), format="json")

    assert answer.status_code == 201
    assert answer.json()["warnings"] == []


def test_a_retried_duplicate_replays_its_warning_and_makes_one_seat(
    world: World, as_admin: APIClient
) -> None:
    key = "seat-again-1"
    first = as_admin.post("/api/v1/seats/", again(world), format="json", HTTP_IDEMPOTENCY_KEY=key)

    replay = as_admin.post("/api/v1/seats/", again(world), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.json()["warnings"][0]["code"] == "duplicate_seat"
    assert len(active_lite_seats(world)) == 2


def test_a_refused_duplicate_warns_of_nothing_and_makes_nothing(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post("/api/v1/seats/", again(world, activated_on="2025-01-16"), format="json")

    assert answer.status_code == 400
    assert "warnings" not in answer.json()
    assert active_lite_seats(world) == [world.seat.pk]
