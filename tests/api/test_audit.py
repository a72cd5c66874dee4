"""`GET /api/v1/audit/`: every change outside the ledger, for admins, newest first, filtered."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.services import Cause, seat_update_settings
from teams.models import AuditEvent, Role
from teams.services import membership_set, plan_update, team_update
from tests.api.conftest import World
from tests.factories import plan
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(world: World, time_machine: TimeMachineFixture) -> World:
    """Four changes, a day apart from 16 January 2025 09:00 UTC:

    1. the admin raises Recruiter Lite's send limit;
    2. the lead gives the pooled seat an allocation of 20;
    3. the admin renames Talent South;
    4. the admin adds `nobody` to Talent North as a recruiter.
    """
    org = world.org
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    plan_update(actor=org.admin, plan=plan("recruiter_lite"), monthly_send_limit=250)
    time_machine.move_to(utc(2025, 1, 17, 9), tick=False)
    seat_update_settings(
        seat=world.pooled_seat, cause=Cause(actor=org.lead, via="api"), monthly_allocation=20
    )
    time_machine.move_to(utc(2025, 1, 18, 9), tick=False)
    team_update(actor=org.admin, team=org.other_team, name="Talent South-East")
    time_machine.move_to(utc(2025, 1, 19, 9), tick=False)
    membership_set(actor=org.admin, team=org.team, user=org.nobody, role=Role.RECRUITER)
    return world


def actions(answer: object) -> list[str]:
    return [row["action"] for row in answer.json()["results"]]  # type: ignore[attr-defined]


def test_the_trail_lists_every_change_newest_first(trail: World, as_admin: APIClient) -> None:
    answer = as_admin.get("/api/v1/audit/")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["count"], body["next"], body["previous"]) == (4, None, None)
    assert actions(answer) == ["membership.set", "team.update", "seat.update", "plan.update"]
    seat_row = body["results"][2]
    assert seat_row == {
        "id": AuditEvent.objects.get(action="seat.update").pk,
        "at": "2025-01-17T09:00:00Z",
        "actor": trail.org.lead.pk,
        "action": "seat.update",
        "object_type": "seat",
        "object_id": trail.pooled_seat.pk,
        "changes": {"monthly_allocation": [None, 20]},
    }
    assert body["results"][3]["changes"] == {"monthly_send_limit": [300, 250]}


def test_the_trail_is_filtered_by_seat_team_actor_and_time(
    trail: World, as_admin: APIClient
) -> None:
    org = trail.org

    def listed(query: str) -> list[str]:
        answer = as_admin.get(f"/api/v1/audit/?{query}")
        assert answer.status_code == 200, answer.json()
        return actions(answer)

    assert listed(f"seat={trail.pooled_seat.pk}") == ["seat.update"]
    assert listed(f"team={org.team.pk}") == ["membership.set", "seat.update"]
    assert listed(f"team={org.other_team.pk}") == ["team.update"]
    assert listed(f"actor={org.lead.pk}") == ["seat.update"]
    assert listed(f"actor={org.recruiter.pk}") == []
    assert listed("since=2025-01-17T09:00:00Z") == [
        "membership.set",
        "team.update",
        "seat.update",
    ]
    assert listed("until=2025-01-17T09:00:00Z") == ["seat.update", "plan.update"]
    assert listed(f"actor={org.admin.pk}&since=2025-01-17T00:00:00Z&until=2025-01-18T23:59Z") == [
        "team.update"
    ]


def test_the_trail_pages_like_every_list(trail: World, as_admin: APIClient) -> None:
    first = as_admin.get("/api/v1/audit/?page_size=3").json()
    second = as_admin.get("/api/v1/audit/?page_size=3&page=2").json()

    assert len(first["results"]) == 3
    assert first["next"] is not None
    assert [row["action"] for row in second["results"]] == ["plan.update"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("seat=999999", "seat"),
        ("team=999999", "team"),
        ("actor=abc", "actor"),
        ("since=yesterday", "since"),
        ("since=2025-01-18T00:00:00Z&until=2025-01-17T00:00:00Z", "until"),
    ],
)
def test_a_bad_filter_is_400_naming_it(
    trail: World, as_admin: APIClient, query: str, field: str
) -> None:
    answer = as_admin.get(f"/api/v1/audit/?{query}")

    assert answer.status_code == 400
    assert list(answer.json()) == [field]


def test_only_admins_read_the_trail(
    trail: World,
    as_lead: APIClient,
    as_recruiter: APIClient,
    as_outsider: APIClient,
    anonymous: APIClient,
) -> None:
    for client in (as_lead, as_recruiter, as_outsider):
        answer = client.get("/api/v1/audit/")
        assert answer.status_code == 403
        assert "results" not in answer.json()
    assert anonymous.get("/api/v1/audit/").status_code == 401


def test_api_writes_leave_audit_rows(world: World, as_admin: APIClient, as_lead: APIClient) -> None:
    org = world.org

    as_admin.post("/api/v1/teams/", {"name": "Talent West"}, format="json")
    as_admin.post(
        f"/api/v1/teams/{org.team.pk}/members/",
        {"user": org.nobody.pk, "role": "recruiter"},
        format="json",
    )
    as_admin.post(
        "/api/v1/users/",
        {"username": "dana", "password": "a long enough passphrase", "is_admin": False},
        format="json",
    )
    as_lead.patch(f"/api/v1/seats/{world.pooled_seat.pk}/", {"pool_access": False}, format="json")

    rows = as_admin.get("/api/v1/audit/").json()["results"]
    assert [(row["action"], row["actor"]) for row in rows] == [
        ("seat.update", org.lead.pk),
        ("user.create", org.admin.pk),
        ("membership.set", org.admin.pk),
        ("team.create", org.admin.pk),
    ]
    assert rows[0]["changes"] == {"pool_access": [True, False]}
    assert rows[2]["changes"] == {
        "user": [None, org.nobody.pk],
        "team": [None, org.team.pk],
        "role": [None, "recruiter"],
    }


def test_a_refused_api_write_leaves_no_audit_row(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post("/api/v1/teams/", {"name": "talent north"}, format="json")

    assert (answer.status_code, answer.json()) == (
        400,
        {"name": ["A team with this name already exists."]},
    )
    assert not AuditEvent.objects.exists()
