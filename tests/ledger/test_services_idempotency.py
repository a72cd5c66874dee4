"""A retried write with the same idempotency key has one effect (R16)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from psycopg import pq
from time_machine import TimeMachineFixture

from ledger.exceptions import IdempotencyKeyReused, LedgerValidationError
from ledger.models import IdempotencyRecord, InMail
from ledger.services import (
    idempotency_records_purge,
    idempotent_call,
    request_fingerprint,
)
from tests.ledger.helpers import own_balance, seat_on, send, utc

pytestmark = pytest.mark.django_db


class Operation:
    """An operation that counts its runs and answers (201, {"run": n})."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> tuple[int, Any]:
        self.runs += 1
        return 201, {"run": self.runs}


def test_the_first_call_runs_the_operation(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    operation = Operation()

    answer = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    assert (answer.status_code, answer.body, answer.replayed) == (201, {"run": 1}, False)
    assert operation.runs == 1
    record = IdempotencyRecord.objects.get(scope="inmails", key="k-1")
    assert (record.status_code, record.response) == (201, {"run": 1})


def test_the_same_key_and_request_replays_the_first_answer(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    operation = Operation()
    idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    time_machine.move_to(utc(2025, 1, 15, 21))
    answer = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    assert (answer.status_code, answer.body, answer.replayed) == (201, {"run": 1}, True)
    assert operation.runs == 1


def test_the_same_key_with_a_different_request_is_rejected(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    operation = Operation()
    idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    with pytest.raises(IdempotencyKeyReused):
        idempotent_call(scope="inmails", key="k-1", fingerprint="g", operation=operation)

    assert operation.runs == 1
    assert IdempotencyRecord.objects.get(key="k-1").fingerprint == "f"


def test_the_same_key_in_another_scope_is_another_request(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    operation = Operation()
    idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    answer = idempotent_call(scope="purchases", key="k-1", fingerprint="g", operation=operation)

    assert (answer.body, answer.replayed) == ({"run": 2}, False)


def test_a_failed_operation_stores_nothing_and_a_retry_runs_it(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    def send_then_fail() -> tuple[int, Any]:
        send(seat)
        raise RuntimeError("the network went away")

    with pytest.raises(RuntimeError):
        idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=send_then_fail)

    assert not IdempotencyRecord.objects.exists()
    assert not InMail.objects.exists()
    assert own_balance(seat) == 30

    def send_once() -> tuple[int, Any]:
        return 201, {"inmail": send(seat).inmail.pk}

    answer = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=send_once)
    assert answer.replayed is False
    assert own_balance(seat) == 29


def test_a_retried_send_charges_one_credit(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    fingerprint = request_fingerprint(seat.pk, "linkedin.com/in/jane-doe", "Hello", "Body")

    def send_once() -> tuple[int, Any]:
        return 201, {"inmail": send(seat).inmail.pk}

    first = idempotent_call(
        scope="inmails", key="k-1", fingerprint=fingerprint, operation=send_once
    )
    again = idempotent_call(
        scope="inmails", key="k-1", fingerprint=fingerprint, operation=send_once
    )

    assert again.body == first.body
    assert again.replayed is True
    assert InMail.objects.count() == 1
    assert own_balance(seat) == 29


def test_a_replayed_refusal_is_the_same_refusal(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)

    def refuse() -> tuple[int, Any]:
        return 409, {"code": "insufficient_credits", "detail": "No credit."}

    first = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=refuse)
    again = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=refuse)

    assert (again.status_code, again.body, again.replayed) == (409, first.body, True)


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_must_have_1_to_255_characters(key: str) -> None:
    operation = Operation()

    with pytest.raises(LedgerValidationError) as refused:
        idempotent_call(scope="inmails", key=key, fingerprint="f", operation=operation)

    assert refused.value.field == "Idempotency-Key"
    assert operation.runs == 0


def test_a_key_of_255_characters_is_accepted(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)

    answer = idempotent_call(scope="inmails", key="k" * 255, fingerprint="f", operation=Operation())

    assert answer.status_code == 201


def test_a_request_fingerprint_does_not_depend_on_key_order() -> None:
    assert request_fingerprint({"seat": 1, "credits": 5}) == request_fingerprint(
        {"credits": 5, "seat": 1}
    )
    assert request_fingerprint({"seat": 1, "credits": 5}) != request_fingerprint(
        {"seat": 1, "credits": 6}
    )


def test_keys_are_kept_for_at_least_24_hours(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    operation = Operation()
    idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    time_machine.move_to(utc(2025, 1, 16, 9))
    assert idempotency_records_purge() == 0
    assert idempotent_call(
        scope="inmails", key="k-1", fingerprint="f", operation=operation
    ).replayed


def test_old_keys_are_forgotten_after_the_retention(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=Operation())

    time_machine.move_to(utc(2025, 1, 17, 9, 0, 1))
    assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_answer_the_database_refuses_at_the_commit_leaves_nothing_and_the_next_call_works(
    time_machine: TimeMachineFixture,
) -> None:
    # The answer's UPDATE goes to the server with the COMMIT (psycopg's pipeline mode): an
    # error in it is raised by the commit, the operation's writes are rolled back with the
    # record, and the connection leaves pipeline mode and serves the next call as usual.
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    balance = own_balance(seat)

    def send_then_answer_badly() -> tuple[int, Any]:
        send(seat, "linkedin.com/in/jane-doe")
        return -1, {"status": "a status code the column refuses"}

    with pytest.raises(IntegrityError):
        idempotent_call(
            scope="inmails", key="k-1", fingerprint="f", operation=send_then_answer_badly
        )

    assert connection.connection is not None
    assert connection.connection.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert not IdempotencyRecord.objects.filter(key="k-1").exists()
    assert not InMail.objects.filter(seat=seat).exists()
    assert own_balance(seat) == balance
    operation = Operation()
    answer = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)
    assert (answer.status_code, answer.body, answer.replayed) == (201, {"run": 1}, False)
    assert IdempotencyRecord.objects.get(key="k-1").response == {"run": 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_answer_is_sent_with_the_commit(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seen: list[tuple[str, pq.PipelineStatus]] = []

    def note(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        assert connection.connection is not None
        seen.append((sql.split()[0], connection.connection.pgconn.pipeline_status))
        return execute(sql, params, many, context)

    def hook() -> None:
        # A commit hook runs outside pipeline mode, and its statements answer at once.
        assert connection.connection is not None
        hooked.append(connection.connection.pgconn.pipeline_status)
        hooked.append(IdempotencyRecord.objects.filter(key="k-1").update(fingerprint="f"))

    def operation() -> tuple[int, Any]:
        transaction.on_commit(hook)
        return 201, {"run": 1}

    hooked: list[Any] = []
    with connection.execute_wrapper(note):
        answer = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=operation)

    assert answer.status_code == 201
    assert seen[:2] == [("INSERT", pq.PipelineStatus.OFF), ("UPDATE", pq.PipelineStatus.ON)]
    assert hooked == [pq.PipelineStatus.OFF, 1]
    assert connection.connection is not None
    assert connection.connection.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert IdempotencyRecord.objects.get(key="k-1").status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_answer_waits_for_its_own_result() -> None:
    # There the call ends in a savepoint's release, not a commit: nothing to send it with, and
    # an error must be raised where the caller's transaction can still learn of it.
    seen: list[pq.PipelineStatus] = []

    def note(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        assert connection.connection is not None
        seen.append(connection.connection.pgconn.pipeline_status)
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(note):
        answer = idempotent_call(scope="inmails", key="k-1", fingerprint="f", operation=Operation())

    assert answer.status_code == 201
    assert seen
    assert set(seen) == {pq.PipelineStatus.OFF}
    assert IdempotencyRecord.objects.get(key="k-1").response == {"run": 1}
