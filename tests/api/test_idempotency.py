"""`Idempotency-Key` on POSTs (R16, docs/api.md "Conventions"): replay, 422 on a different request,
per-user keys, refusals replayed like any answer, and concurrent requests with one key
(PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import Entry, EntryKind, IdempotencyRecord, InMail
from tests.api.conftest import World, inmail_body, token_client
from tests.factories import TeamFactory, UserFactory, make_seat
from tests.ledger.helpers import utc


def post(client: APIClient, url: str, body: Any, key: str) -> Any:
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_answer(
    world: World, as_recruiter: APIClient
) -> None:
    first = post(as_recruiter, "/api/v1/inmails/", inmail_body(world.seat), "send-1")
    retry = post(as_recruiter, "/api/v1/inmails/", inmail_body(world.seat), "send-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert InMail.objects.count() == 1
    assert Entry.objects.filter(kind=EntryKind.SPEND).count() == 1


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_422(world: World, as_recruiter: APIClient) -> None:
    post(as_recruiter, "/api/v1/inmails/", inmail_body(world.seat), "send-1")

    answer = post(
        as_recruiter,
        "/api/v1/inmails/",
        inmail_body(world.seat, "linkedin.com/in/member-2"),
        "send-1",
    )

    assert answer.status_code == 422
    assert answer.json() == {
        "code": "idempotency_key_reused",
        "detail": "This Idempotency-Key was already used with a different request; use a new "
        "key for a new request.",
    }
    assert InMail.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_422(world: World, as_admin: APIClient) -> None:
    post(as_admin, f"/api/v1/seats/{world.seat.pk}/bonus/", {"credits": 1}, "k")

    answer = post(as_admin, f"/api/v1/seats/{world.seat.pk}/purchases/", {"credits": 1}, "k")

    assert answer.status_code == 422


@pytest.mark.django_db
def test_keys_belong_to_their_user(
    world: World, as_recruiter: APIClient, as_lead: APIClient
) -> None:
    post(as_recruiter, "/api/v1/inmails/", inmail_body(world.seat), "send-1")

    other = post(
        as_lead, "/api/v1/inmails/", inmail_body(world.seat, "linkedin.com/in/member-2"), "send-1"
    )

    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert InMail.objects.count() == 2


@pytest.mark.django_db
def test_a_refusal_is_replayed_even_after_its_cause_is_fixed(
    world: World, as_admin: APIClient
) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/adjustments/"
    body = {"credits": -31, "reason": "Match LinkedIn"}

    refused = post(as_admin, url, body, "adjust-1")
    as_admin.post(f"/api/v1/seats/{world.seat.pk}/bonus/", {"credits": 1}, format="json")
    replayed = post(as_admin, url, body, "adjust-1")

    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_credits"
    assert replayed.status_code == 409
    assert replayed.json() == refused.json()
    assert replayed["Idempotent-Replayed"] == "true"
    assert not Entry.objects.filter(kind=EntryKind.ADJUSTMENT).exists()
    assert IdempotencyRecord.objects.get(key="adjust-1").status_code == 409


@pytest.mark.django_db
def test_after_a_refusal_a_new_key_runs_the_fixed_request(
    world: World, as_admin: APIClient
) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/adjustments/"
    body = {"credits": -31, "reason": "Match LinkedIn"}

    post(as_admin, url, body, "adjust-1")
    as_admin.post(f"/api/v1/seats/{world.seat.pk}/bonus/", {"credits": 1}, format="json")
    retried = post(as_admin, url, body, "adjust-2")

    assert retried.status_code == 201
    assert retried.json()["balance_after"] == 0


@pytest.mark.django_db
def test_a_refused_send_retried_under_its_key_does_not_run_again(
    world: World, as_recruiter: APIClient
) -> None:
    body = inmail_body(world.seat, recipient="https://www.linkedin.com/in/twice/")
    first = post(as_recruiter, "/api/v1/inmails/", body, "send-1")
    duplicate = post(as_recruiter, "/api/v1/inmails/", body, "send-2")
    world_inmail = InMail.objects.get()
    as_recruiter.post(f"/api/v1/inmails/{world_inmail.pk}/withdraw/", format="json")
    retried = post(as_recruiter, "/api/v1/inmails/", body, "send-2")

    assert first.status_code == 201
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_pending"
    assert retried.status_code == 409
    assert retried.json() == duplicate.json()
    assert InMail.objects.count() == 1


@pytest.mark.django_db
def test_a_400_under_a_key_is_replayed_and_leaves_nothing(
    world: World, as_admin: APIClient
) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/bonus/"

    bad = post(as_admin, url, {"credits": 0}, "bonus-bad")
    again = post(as_admin, url, {"credits": 0}, "bonus-bad")

    assert bad.status_code == again.status_code == 400
    assert again.json() == bad.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not Entry.objects.filter(kind=EntryKind.BONUS).exists()


@pytest.mark.django_db
def test_a_key_is_kept_for_at_least_24_hours(
    world: World, as_admin: APIClient, time_machine: TimeMachineFixture
) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/bonus/"
    first = post(as_admin, url, {"credits": 2}, "bonus-1")
    time_machine.move_to(utc(2025, 1, 15, 9) + timedelta(hours=24), tick=False)
    from ledger.services import idempotency_records_purge

    idempotency_records_purge()
    retry = post(as_admin, url, {"credits": 2}, "bonus-1")

    assert retry.json() == first.json()
    assert Entry.objects.filter(kind=EntryKind.BONUS).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there"])
def test_a_key_of_the_wrong_shape_is_400(world: World, as_admin: APIClient, key: str) -> None:
    answer = post(as_admin, f"/api/v1/seats/{world.seat.pk}/bonus/", {"credits": 2}, key)

    assert answer.status_code == 400
    assert list(answer.json()) == ["Idempotency-Key"]
    assert not Entry.objects.filter(kind=EntryKind.BONUS).exists()


@pytest.mark.django_db
def test_a_key_of_255_characters_is_accepted(world: World, as_admin: APIClient) -> None:
    url = f"/api/v1/seats/{world.seat.pk}/bonus/"

    assert post(as_admin, url, {"credits": 2}, "k" * 255).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/teams/", {"name": "Talent West"}),
        ("/api/v1/seats/{seat}/cancel/", {}),
        ("/api/v1/seats/{seat}/purchases/", {"credits": 3}),
        ("/api/v1/seats/{seat}/adjustments/", {"credits": 3, "reason": "Match"}),
        ("/api/v1/teams/{team}/pool/transfers/", {"seat": "{pooled}", "credits": 3}),
    ],
)
def test_every_write_replays(world: World, as_admin: APIClient, url: str, body: Any) -> None:
    url = url.format(seat=world.seat.pk, team=world.team.pk)
    body = {k: world.pooled_seat.pk if v == "{pooled}" else v for k, v in body.items()}
    entries = Entry.objects.count()

    first = post(as_admin, url, body, "once")
    made = Entry.objects.count() - entries
    retry = post(as_admin, url, body, "once")

    assert first.status_code in (200, 201)
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert Entry.objects.count() - entries == made


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call in its own thread (its own database connection), all released at once."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            return call()
        except Exception as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as executor:
        return list(executor.map(run, calls))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_one_key_send_one_inmail_and_charge_once() -> None:
    holder = UserFactory.create(username="holder")
    seat = make_seat(holder=holder, team=TeamFactory.create(name="Talent North"))
    token_client(holder)  # the token exists before the threads start
    body = inmail_body(seat)

    def send_once() -> Any:
        # One client per thread: a test client is not meant to be shared between threads.
        return post(token_client(holder), "/api/v1/inmails/", body, "same-key")

    answers = run_together([send_once for _ in range(8)])

    assert [getattr(a, "status_code", a) for a in answers] == [201] * 8
    # The same JSON (PostgreSQL's jsonb keeps the object, not the order of its keys).
    assert all(a.json() == answers[0].json() for a in answers)
    assert sum(a.has_header("Idempotent-Replayed") for a in answers) == 7
    assert InMail.objects.count() == 1
    assert Entry.objects.filter(kind=EntryKind.SPEND).count() == 1
    assert IdempotencyRecord.objects.count() == 1
