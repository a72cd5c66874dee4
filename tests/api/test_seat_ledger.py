"""A seat's ledger through the API: balance, entries, purchases, bonus, adjustments
(R1, R4, R5, R11, R12, R15). The clock stands at 15 January 2025, 09:00 UTC."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import Entry, Lot, Purchase
from tests.api.conftest import World, send
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db


def balance(client: APIClient, world: World, query: str = "") -> Any:
    return client.get(f"/api/v1/seats/{world.seat.pk}/balance/{query}").json()


# --- Balance -----------------------------------------------------------------------------------


def test_the_balance_of_a_new_recruiter_lite_seat(world: World, as_recruiter: APIClient) -> None:
    lot = Lot.objects.get(account__seat=world.seat)

    assert balance(as_recruiter, world) == {
        "seat": world.seat.pk,
        "as_of": "2025-01-15T09:00:00Z",
        "own": 30,
        "pool_available": 0,
        "available": 30,
        "lots": [
            {
                "id": lot.pk,
                "source": "grant",
                "granted_at": "2025-01-15T00:00:00Z",
                "expires_at": "2025-04-15T00:00:00Z",
                "remaining": 30,
            }
        ],
        "next_refresh_on": "2025-02-15",
        "next_refresh_credits": 30,
        "expiring_7d": 0,
        "expiring_30d": 0,
        "lost_to_cap_next_refresh": 0,
        # No paid send in 30 days, no pool: no run-out dates (tests/api/test_balance_forecast.py).
        "run_out_on": None,
        "pool_run_out_on": None,
        # R20: no paid send yet in the usage period, which starts at the activation.
        "usage_this_period": 0,
        "usage_limit": None,
        "usage_period_start": "2025-01-15T00:00:00Z",
    }


def test_the_cap_of_120_keeps_back_what_the_next_refresh_would_exceed(
    world: World, as_admin: APIClient
) -> None:
    as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/adjustments/",
        {"credits": 80, "reason": "Match LinkedIn"},
        format="json",
    )

    now = balance(as_admin, world)

    # 30 + 80 = 110 held: the refresh of 15 February grants 10 of its 30; 20 are lost.
    assert (now["own"], now["next_refresh_credits"]) == (110, 10)
    assert now["lost_to_cap_next_refresh"] == 20


def test_a_refresh_grants_no_more_than_the_cap(
    world: World, as_admin: APIClient, time_machine: TimeMachineFixture
) -> None:
    as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/adjustments/",
        {"credits": 80, "reason": "Match LinkedIn"},
        format="json",
    )
    time_machine.move_to(utc(2025, 2, 15, 9), tick=False)

    assert balance(as_admin, world)["own"] == 120


def test_a_balance_as_of_an_earlier_instant(world: World, as_recruiter: APIClient) -> None:
    send(world.seat)

    before = balance(as_recruiter, world, "?as_of=2025-01-15T08:00:00%2B00:00")
    after = balance(as_recruiter, world)

    assert (before["own"], before["as_of"]) == (30, "2025-01-15T08:00:00Z")
    assert after["own"] == 29
    assert balance(as_recruiter, world, "?as_of=2025-01-14T23:59:59Z")["own"] == 0


def test_a_balance_in_the_future_is_400(world: World, as_recruiter: APIClient) -> None:
    answer = as_recruiter.get(f"/api/v1/seats/{world.seat.pk}/balance/?as_of=2025-01-16T00:00Z")

    assert answer.status_code == 400
    assert answer.json() == {"as_of": ["A balance can't be read in the future."]}


def test_a_pooled_seat_may_draw_on_its_pool(world: World, as_recruiter: APIClient) -> None:
    answer = as_recruiter.get(f"/api/v1/seats/{world.pooled_seat.pk}/balance/").json()

    assert (answer["own"], answer["pool_available"], answer["available"]) == (0, 300, 300)


def test_credits_expiring_within_7_and_30_days(
    world: World, as_admin: APIClient, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 1, 9), tick=False)

    now = balance(as_admin, world)

    # Lots of 15 January (30), 15 February (30) and 15 March (30), each living 90 days: the
    # first expires on 15 April (within 30 days, not 7), the others later.
    assert now["own"] == 90
    assert (now["expiring_7d"], now["expiring_30d"]) == (0, 30)


# --- Entries -----------------------------------------------------------------------------------


def test_entries_list_every_movement_with_signed_amounts(
    world: World, as_recruiter: APIClient
) -> None:
    inmail = send(world.seat)

    answer = as_recruiter.get(f"/api/v1/seats/{world.seat.pk}/entries/").json()

    grant, spend = Entry.objects.filter(account__seat=world.seat).order_by("at", "id")
    assert answer["count"] == 2
    assert answer["results"] == [
        {
            "id": grant.pk,
            "at": "2025-01-15T00:00:00Z",
            "kind": "grant",
            "amount": 30,
            "balance_after": 30,
            "lot": grant.lot_id,
            "inmail": None,
            "actor": None,
            "cause": grant.cause,
            "memo": grant.memo,
            "operation": {"id": grant.operation_id, "kind": "seat.activate"},
        },
        {
            "id": spend.pk,
            "at": "2025-01-15T09:00:00Z",
            "kind": "spend",
            "amount": -1,
            "balance_after": 29,
            "lot": grant.lot_id,
            "inmail": inmail.pk,
            "actor": None,
            "cause": spend.cause,
            "memo": spend.memo,
            "operation": {"id": spend.operation_id, "kind": "inmail.send"},
        },
    ]


def test_entries_filter_by_kind_and_period(world: World, as_recruiter: APIClient) -> None:
    send(world.seat)
    url = f"/api/v1/seats/{world.seat.pk}/entries/"

    spends = as_recruiter.get(f"{url}?kind=spend").json()["results"]
    since = as_recruiter.get(f"{url}?since=2025-01-15T08:00:00Z").json()["results"]
    until = as_recruiter.get(f"{url}?until=2025-01-15T08:00:00Z").json()["results"]

    assert [e["kind"] for e in spends] == ["spend"]
    assert [e["kind"] for e in since] == ["spend"]
    assert [e["kind"] for e in until] == ["grant"]


@pytest.mark.parametrize(
    "query",
    ["?kind=gift", "?since=yesterday", "?since=2025-01-15T10:00Z&until=2025-01-15T09:00Z"],
)
def test_bad_entry_filters_are_400(world: World, as_recruiter: APIClient, query: str) -> None:
    answer = as_recruiter.get(f"/api/v1/seats/{world.seat.pk}/entries/{query}")

    assert answer.status_code == 400


# --- Purchases ---------------------------------------------------------------------------------


def test_a_purchase_is_recorded_at_the_plans_price(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/purchases/", {"credits": 5}, format="json"
    )

    assert answer.status_code == 201
    purchase = Purchase.objects.get()
    assert answer.json() == {
        "id": purchase.pk,
        "seat": world.seat.pk,
        "credits": 5,
        "unit_price": "10.00",
        "total": "50.00",
        "at": "2025-01-15T09:00:00Z",
    }
    after = balance(as_admin, world)
    assert after["own"] == 35
    bought = [lot for lot in after["lots"] if lot["source"] == "purchase"]
    assert bought[0]["expires_at"] is None


def test_a_plan_that_sells_no_credits_is_409_not_purchasable(
    world: World, as_admin: APIClient
) -> None:
    seat = as_admin.post(
        "/api/v1/seats/",
        {"holder": world.org.nobody.pk, "team": world.team.pk, "plan": "sales_navigator_core"},
        format="json",
    ).json()

    answer = as_admin.post(f"/api/v1/seats/{seat['id']}/purchases/", {"credits": 5}, format="json")

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "not_purchasable",
        "detail": "Sales Navigator Core doesn't sell extra InMail credits.",
    }
    assert not Purchase.objects.exists()


def test_purchases_beyond_the_monthly_limit_are_409(world: World, as_admin: APIClient) -> None:
    as_admin.patch("/api/v1/plans/recruiter_lite/", {"monthly_purchase_limit": 10}, format="json")
    url = f"/api/v1/seats/{world.seat.pk}/purchases/"

    assert as_admin.post(url, {"credits": 6}, format="json").status_code == 201
    answer = as_admin.post(url, {"credits": 5}, format="json")

    assert answer.status_code == 409
    assert answer.json()["code"] == "purchase_limit_reached"
    assert balance(as_admin, world)["own"] == 36


@pytest.mark.parametrize("credits", [0, -1, 1_000_001, "5", 2.5, None])
def test_a_purchase_of_a_bad_number_of_credits_is_400(
    world: World, as_admin: APIClient, credits: Any
) -> None:
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/purchases/", {"credits": credits}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == ["credits"]
    assert not Purchase.objects.exists()


# --- Bonus and adjustments ---------------------------------------------------------------------


def test_bonus_credits_expire_30_days_after_the_grant(world: World, as_admin: APIClient) -> None:
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/bonus/",
        {"credits": 5, "memo": "Hiring push"},
        format="json",
    )

    assert answer.status_code == 201
    entry = answer.json()
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("bonus", 5, 35)
    assert (entry["memo"], entry["actor"]) == ("Hiring push", world.org.admin.pk)
    bonus = Lot.objects.get(pk=entry["lot"])
    assert bonus.expires_at == utc(2025, 2, 14, 9)


def test_an_adjustment_adds_or_removes_credits_with_a_reason(
    world: World, as_admin: APIClient
) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/adjustments/"

    added = as_admin.post(url, {"credits": 2, "reason": "Match LinkedIn"}, format="json")
    removed = as_admin.post(url, {"credits": -5, "reason": "Match LinkedIn"}, format="json")

    assert added.status_code == removed.status_code == 201
    assert (added.json()["amount"], added.json()["balance_after"]) == (2, 32)
    assert (removed.json()["amount"], removed.json()["balance_after"]) == (-5, 27)
    assert removed.json()["memo"] == "Match LinkedIn"


def test_removing_more_than_the_seat_holds_is_409_insufficient_credits(
    world: World, as_admin: APIClient
) -> None:
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/adjustments/",
        {"credits": -31, "reason": "Match LinkedIn"},
        format="json",
    )

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "insufficient_credits",
        "detail": "The seat holds 30 credits; it can't lose 31.",
    }


@pytest.mark.parametrize(
    "body", [{"credits": 0, "reason": "x"}, {"credits": 3}, {"credits": 3, "reason": " "}]
)
def test_an_adjustment_without_credits_or_reason_is_400(
    world: World, as_admin: APIClient, body: dict[str, Any]
) -> None:
    entries = Entry.objects.count()

    answer = as_admin.post(f"/api/v1/seats/{world.seat.pk}/adjustments/", body, format="json")

    assert answer.status_code == 400
    assert Entry.objects.count() == entries
