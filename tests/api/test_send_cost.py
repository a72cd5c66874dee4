"""What one send through the API costs in SQL statements (issue 15, goal 1).

`POST /api/v1/inmails/` with a token and an Idempotency-Key: the rules stay those of
`test_inmails.py` and `test_idempotency.py`; this counts the statements, on a database with
no outer test transaction (`transaction=True`), so that every statement a request sends in
production is counted and no savepoint of the test's own is. The budget is nine, BEGIN and
COMMIT included: the record's insert, the seat's check, the group's lock, the read, the lot's take
with the InMail, the operation and the entry, the account and the record's answer. The issue's
bound is twelve.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ledger.models import Entry, EntryKind, IdempotencyRecord, InMail
from tests.api.conftest import World, inmail_body

SEND_STATEMENTS_MAX = 9

# On PostgreSQL, as in production: SQLite logs its BEGIN and COMMIT as statements too.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _send(client: APIClient, body: dict[str, Any], key: str) -> Any:
    return client.post("/api/v1/inmails/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize(("seat_name", "paid_from"), [("seat", "seat"), ("pooled_seat", "pool")])
def test_a_send_through_the_api_is_nine_statements_at_most(
    world: World,
    as_recruiter: APIClient,
    seat_name: str,
    paid_from: str,
    django_assert_max_num_queries: Any,
) -> None:
    seat = getattr(world, seat_name)
    # The client's first request reads its token; later ones find it in the cache.
    warm = _send(as_recruiter, inmail_body(seat, "https://www.linkedin.com/in/first/"), "k-1")
    assert warm.status_code == 201

    with django_assert_max_num_queries(SEND_STATEMENTS_MAX):
        answer = _send(as_recruiter, inmail_body(seat), "k-2")

    assert answer.status_code == 201
    assert answer.json()["paid_from"] == paid_from
    inmail = InMail.objects.get(pk=answer.json()["id"])
    spend = Entry.objects.get(inmail=inmail, kind=EntryKind.SPEND)
    assert (spend.amount, spend.actor, spend.cause) == (-1, world.org.recruiter, "api")
    assert IdempotencyRecord.objects.get(key="k-2").status_code == 201


def test_a_retry_replays_in_four_statements(world: World, as_recruiter: APIClient) -> None:
    body = inmail_body(world.seat)
    first = _send(as_recruiter, body, "k-1")

    with CaptureQueriesContext(connection) as statements:
        again = _send(as_recruiter, body, "k-1")

    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # BEGIN, the record's insert that finds the key taken, the record's read, COMMIT.
    assert len(statements) == 4, [q["sql"] for q in statements.captured_queries]


def test_a_refused_send_leaves_only_its_answer(world: World, as_recruiter: APIClient) -> None:
    body = inmail_body(world.seat)
    _send(as_recruiter, body, "k-1")

    refused = _send(as_recruiter, body, "k-2")

    assert refused.status_code == 409
    assert refused.json()["code"] == "duplicate_pending"
    assert InMail.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="k-2").status_code == 409
    assert _send(as_recruiter, body, "k-2").json() == refused.json()
