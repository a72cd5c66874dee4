"""The API of issue 13: reassigning a seat (R19), usage limits (R20) and reconciliations (R21),
per role, with their refusals and idempotent POSTs."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import Reconciliation
from ledger.services import reconciliation_record, seat_set_usage_limit
from teams.models import Membership, Role
from tests.api.conftest import SYSTEM, World, inmail_body, send, token_client
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db


def reassign(client: APIClient, seat_id: int, body: dict[str, Any], key: str = "") -> Any:
    headers = {"Idempotency-Key": key} if key else None
    return client.post(f"/api/v1/seats/{seat_id}/reassign/", body, format="json", headers=headers)


# --- reassignment --------------------------------------------------------------------------


def test_an_admin_reassigns_a_seat_and_its_detail_shows_the_holding_history(
    world: World, as_admin: APIClient, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 3, 10, 30), tick=False)
    org = world.org

    answer = reassign(as_admin, world.seat.pk, {"holder": org.teammate.pk, "memo": "Cover"})

    assert answer.status_code == 200, answer.json()
    seat = answer.json()
    assert (seat["id"], seat["holder"], seat["balance"], seat["status"]) == (
        world.seat.pk,
        org.teammate.pk,
        30,
        "active",
    )
    assert seat["holdings"] == [
        {
            "holder": org.recruiter.pk,
            "since": "2025-01-15T00:00:00Z",
            "until": "2025-02-03T10:30:00Z",
            "by": None,
            "memo": "",
        },
        {
            "holder": org.teammate.pk,
            "since": "2025-02-03T10:30:00Z",
            "until": None,
            "by": org.admin.pk,
            "memo": "Cover",
        },
    ]
    assert as_admin.get(f"/api/v1/seats/{world.seat.pk}/").json() == seat


def test_after_a_reassignment_the_previous_holder_gets_404_and_the_new_one_acts(
    world: World, as_admin: APIClient, as_recruiter: APIClient, as_teammate: APIClient
) -> None:
    pending = send(world.seat)
    reassign(as_admin, world.seat.pk, {"holder": world.org.teammate.pk})

    assert as_recruiter.get(f"/api/v1/seats/{world.seat.pk}/").status_code == 404
    assert as_recruiter.get(f"/api/v1/inmails/{pending.pk}/").status_code == 404
    mine = as_recruiter.get(f"/api/v1/inmails/?seat={world.seat.pk}")
    assert mine.status_code == 400
    answered = as_teammate.post(
        f"/api/v1/inmails/{pending.pk}/response/", {"outcome": "accepted"}, format="json"
    )
    assert answered.status_code == 200
    assert answered.json()["refunded"] is True
    sent = as_teammate.post("/api/v1/inmails/", inmail_body(world.seat), format="json")
    assert sent.status_code == 201


@pytest.mark.parametrize("role", ["lead", "recruiter"])
def test_only_an_admin_reassigns(world: World, role: str) -> None:
    client = token_client(world.user(role))

    answer = reassign(client, world.seat.pk, {"holder": world.org.teammate.pk})

    assert answer.status_code == 403
    world.seat.refresh_from_db()
    assert world.seat.holder == world.org.recruiter


def test_an_outsider_cant_see_the_seat_to_reassign(world: World, as_outsider: APIClient) -> None:
    assert reassign(as_outsider, world.seat.pk, {"holder": world.org.outsider.pk}).status_code == (
        404
    )


def test_reassigning_to_the_holder_is_400_and_a_cancelled_seat_409(
    world: World, as_admin: APIClient
) -> None:
    same = reassign(as_admin, world.seat.pk, {"holder": world.org.recruiter.pk})
    as_admin.post(f"/api/v1/seats/{world.lead_seat.pk}/cancel/")
    cancelled = reassign(as_admin, world.lead_seat.pk, {"holder": world.org.teammate.pk})
    unknown = reassign(as_admin, world.seat.pk, {"holder": 999_999})

    assert same.status_code == 400
    assert list(same.json()) == ["holder"]
    assert cancelled.status_code == 409
    assert cancelled.json()["code"] == "seat_inactive"
    assert unknown.status_code == 400


def test_a_new_holder_from_outside_the_team_becomes_a_recruiter_of_it(
    world: World, as_admin: APIClient
) -> None:
    answer = reassign(as_admin, world.seat.pk, {"holder": world.org.nobody.pk})

    assert answer.status_code == 200
    membership = Membership.objects.get(user=world.org.nobody, team=world.team)
    assert membership.role == Role.RECRUITER


def test_a_retried_reassignment_replays_and_a_changed_body_is_422(
    world: World, as_admin: APIClient
) -> None:
    key = "reassign-1"
    first = reassign(as_admin, world.seat.pk, {"holder": world.org.teammate.pk}, key)
    again = reassign(as_admin, world.seat.pk, {"holder": world.org.teammate.pk}, key)
    other = reassign(as_admin, world.seat.pk, {"holder": world.org.lead.pk}, key)

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 422)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert world.seat.holdings.count() == 2


# --- usage limits --------------------------------------------------------------------------


def test_a_lead_sets_a_usage_limit_and_the_balance_shows_the_usage(
    world: World, as_lead: APIClient, as_recruiter: APIClient
) -> None:
    send(world.seat)

    patched = as_lead.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_usage_limit": 2}, format="json"
    )
    balance = as_recruiter.get(f"/api/v1/seats/{world.seat.pk}/balance/").json()

    assert patched.status_code == 200
    assert patched.json()["monthly_usage_limit"] == 2
    assert (
        balance["usage_this_period"],
        balance["usage_limit"],
        balance["usage_period_start"],
    ) == (1, 2, "2025-01-15T00:00:00Z")


def test_a_send_beyond_the_limit_is_409_usage_limit_reached_with_when_it_resets(
    world: World, as_recruiter: APIClient
) -> None:
    seat_set_usage_limit(seat=world.seat, limit=1, cause=SYSTEM)
    send(world.seat)

    answer = as_recruiter.post(
        "/api/v1/inmails/",
        inmail_body(world.seat, "https://www.linkedin.com/in/john-doe/"),
        format="json",
    )
    free = as_recruiter.post(
        "/api/v1/inmails/",
        {**inmail_body(world.seat, "https://www.linkedin.com/in/ann-open/"), "open_profile": True},
        format="json",
    )

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "usage_limit_reached",
        "detail": "This seat has used its limit of 1 paid InMails for this period; it resets on "
        "Feb 15 (2025-02-15). Open Profile InMails are still allowed.",
    }
    assert free.status_code == 201


def test_a_recruiter_cant_change_their_own_limit_and_bad_limits_are_400(
    world: World, as_recruiter: APIClient, as_admin: APIClient
) -> None:
    forbidden = as_recruiter.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_usage_limit": 100}, format="json"
    )
    negative = as_admin.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_usage_limit": -1}, format="json"
    )
    text = as_admin.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_usage_limit": "5"}, format="json"
    )
    cleared = as_admin.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_usage_limit": None}, format="json"
    )

    assert (forbidden.status_code, negative.status_code, text.status_code) == (403, 400, 400)
    assert cleared.status_code == 200
    assert cleared.json()["monthly_usage_limit"] is None


def test_the_seat_list_carries_each_seats_limit(world: World, as_lead: APIClient) -> None:
    seat_set_usage_limit(seat=world.lead_seat, limit=12, cause=SYSTEM)

    seats = as_lead.get("/api/v1/seats/?status=active").json()["results"]

    limits = {seat["id"]: seat["monthly_usage_limit"] for seat in seats}
    assert limits[world.lead_seat.pk] == 12
    assert limits[world.seat.pk] is None
    assert "holdings" not in seats[0]


# --- reconciliations -----------------------------------------------------------------------


def test_the_holder_records_what_linkedin_shows_and_a_difference_stays_open(
    world: World, as_recruiter: APIClient
) -> None:
    send(world.seat)

    answer = as_recruiter.post(
        f"/api/v1/seats/{world.seat.pk}/reconciliations/",
        {"linkedin_balance": 27},
        format="json",
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body == {
        "id": body["id"],
        "seat": world.seat.pk,
        "observed_at": "2025-01-15T09:00:00Z",
        "linkedin_balance": 27,
        "ledger_balance": 29,
        "difference": -2,
        "status": "open",
        "resolved_by": None,
        "resolved_at": None,
        "reason": "",
        "adjustment": None,
        "created_by": world.org.recruiter.pk,
        "created_at": "2025-01-15T09:00:00Z",
    }


def test_a_past_instant_is_allowed_and_a_future_one_is_400(
    world: World, as_lead: APIClient, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 9), tick=False)
    url = f"/api/v1/seats/{world.seat.pk}/reconciliations/"

    past = as_lead.post(
        url, {"linkedin_balance": 30, "observed_at": "2025-01-16T12:00:00+01:00"}, format="json"
    )
    future = as_lead.post(
        url, {"linkedin_balance": 30, "observed_at": "2025-01-21T00:00:00Z"}, format="json"
    )
    negative = as_lead.post(url, {"linkedin_balance": -1}, format="json")

    assert past.status_code == 201
    assert (past.json()["status"], past.json()["observed_at"]) == (
        "matched",
        "2025-01-16T11:00:00Z",
    )
    assert (future.status_code, list(future.json())) == (400, ["observed_at"])
    assert (negative.status_code, list(negative.json())) == (400, ["linkedin_balance"])


def test_a_teammate_cant_see_the_seat_and_an_outsider_neither(
    world: World, as_teammate: APIClient, as_outsider: APIClient
) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/reconciliations/"

    for client in (as_teammate, as_outsider):
        assert client.post(url, {"linkedin_balance": 1}, format="json").status_code == 404


def test_the_list_shows_each_user_the_reconciliations_of_seats_they_see(
    world: World, as_admin: APIClient, as_recruiter: APIClient, as_outsider: APIClient
) -> None:
    mine = reconciliation_record(seat=world.seat, linkedin_balance=29, cause=SYSTEM)
    leads = reconciliation_record(seat=world.lead_seat, linkedin_balance=30, cause=SYSTEM)
    theirs = reconciliation_record(seat=world.outsider_seat, linkedin_balance=31, cause=SYSTEM)

    def ids(client: APIClient, query: str = "") -> list[int]:
        answer = client.get(f"/api/v1/reconciliations/{query}")
        assert answer.status_code == 200, answer.json()
        return [row["id"] for row in answer.json()["results"]]

    assert sorted(ids(as_admin)) == sorted([mine.pk, leads.pk, theirs.pk])
    assert ids(as_admin, "?status=open") == [theirs.pk, mine.pk]  # newest first, then by id
    assert ids(as_admin, f"?team={world.org.other_team.pk}") == [theirs.pk]
    assert ids(as_recruiter) == [mine.pk]
    assert ids(as_outsider) == [theirs.pk]
    assert as_outsider.get(f"/api/v1/reconciliations/?seat={world.seat.pk}").status_code == 400
    assert as_outsider.get("/api/v1/reconciliations/?status=closed").status_code == 400


def test_an_admin_adjusts_an_open_difference_once(world: World, as_admin: APIClient) -> None:
    opened = reconciliation_record(seat=world.seat, linkedin_balance=28, cause=SYSTEM)
    url = f"/api/v1/reconciliations/{opened.pk}/resolve/"

    answer = as_admin.post(url, {"action": "adjust", "reason": "Two sent on mobile"}, format="json")
    again = as_admin.post(url, {"action": "dismiss", "reason": "Oops"}, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["resolved_by"], body["reason"]) == (
        "adjusted",
        world.org.admin.pk,
        "Two sent on mobile",
    )
    entry = as_admin.get(f"/api/v1/seats/{world.seat.pk}/entries/?kind=adjustment").json()
    assert [(row["id"], row["amount"]) for row in entry["results"]] == [(body["adjustment"], -2)]
    assert again.status_code == 409
    assert again.json()["code"] == "already_resolved"


def test_resolving_needs_an_admin_an_action_and_a_reason(
    world: World, as_admin: APIClient, as_lead: APIClient, as_outsider: APIClient
) -> None:
    opened = reconciliation_record(seat=world.seat, linkedin_balance=31, cause=SYSTEM)
    url = f"/api/v1/reconciliations/{opened.pk}/resolve/"

    lead = as_lead.post(url, {"action": "dismiss", "reason": "Fine"}, format="json")
    outsider = as_outsider.post(url, {"action": "dismiss", "reason": "Fine"}, format="json")
    blank = as_admin.post(url, {"action": "dismiss", "reason": "  "}, format="json")
    unknown = as_admin.post(url, {"action": "delete", "reason": "Fine"}, format="json")

    assert (lead.status_code, outsider.status_code) == (403, 404)
    assert (blank.status_code, list(blank.json())) == (400, ["reason"])
    assert (unknown.status_code, list(unknown.json())) == (400, ["action"])
    assert Reconciliation.objects.get(pk=opened.pk).status == "open"


def test_an_adjustment_past_the_own_balance_is_409_insufficient_credits(
    world: World, as_admin: APIClient
) -> None:
    opened = reconciliation_record(seat=world.pooled_seat, linkedin_balance=250, cause=SYSTEM)

    answer = as_admin.post(
        f"/api/v1/reconciliations/{opened.pk}/resolve/",
        {"action": "adjust", "reason": "Pool is lower"},
        format="json",
    )

    assert (opened.ledger_balance, opened.difference) == (300, -50)
    assert answer.status_code == 409
    assert answer.json()["code"] == "insufficient_credits"


def test_recording_is_idempotent(world: World, as_recruiter: APIClient) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/reconciliations/"
    key = {"Idempotency-Key": "reconcile-1"}

    first = as_recruiter.post(url, {"linkedin_balance": 29}, format="json", headers=key)
    again = as_recruiter.post(url, {"linkedin_balance": 29}, format="json", headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Reconciliation.objects.count() == 1
