"""Idempotency keys (R16): one effect per key, the first answer replayed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg import Pipeline

from ledger.exceptions import (
    IdempotencyKeyReused,
    LedgerValidationError,
)
from ledger.models import (
    IdempotencyRecord,
)
from ledger.services.locking import all_or_nothing
from ledger.services.prepared import run_bound

# --------------------------------------------------------------------------------------------
# Idempotency (R16)
# --------------------------------------------------------------------------------------------


def request_fingerprint(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotentAnswer:
    status_code: int
    body: Any
    replayed: bool


def idempotent_call(
    *,
    scope: str,
    key: str,
    fingerprint: str,
    operation: Callable[[], tuple[int, Any]],
    refusal: Callable[[Exception], tuple[int, Any] | None] | None = None,
) -> IdempotentAnswer:
    """Run `operation` once per (scope, key); replay its answer to every retry.

    The record is inserted in the same transaction as the operation's writes. A concurrent
    request with the same key blocks on the record's unique index until the first commits, then
    replays its answer; if the first rolls back, the second runs the operation itself. The same
    key with a different fingerprint raises `IdempotencyKeyReused`.

    `refusal` turns an exception of the operation into the answer to remember (a 4xx), or
    says None (it is raised again, and nothing is remembered). A refusal undoes the whole
    transaction, the record with it, and the record is written again holding the refusal: no
    savepoint is needed, so the operation runs `all_or_nothing` (its services take none) and
    the usual answer costs two statements, the record's insert and its answer.
    """
    if not 1 <= len(key) <= 255:
        raise LedgerValidationError("Idempotency-Key", "Use a key of 1 to 255 characters.")
    try:
        with ExitStack() as tail, transaction.atomic():
            record_id = _insert_record(scope, key, fingerprint)
            if record_id is None:
                record = _existing_record(scope, key, fingerprint)
                if record.status_code is not None:
                    return IdempotentAnswer(record.status_code, record.response, replayed=True)
                record_id = record.pk
            try:
                with all_or_nothing():
                    status_code, body = operation()
            except Exception as error:
                answer = refusal(error) if refusal is not None else None
                if answer is None:
                    raise
                raise _Refused(answer) from error
            # The answer and the COMMIT go to the server together (`_with_the_commit`): one
            # round trip fewer while the operation's locks are held.
            tail.enter_context(_with_the_commit())
            _record_answer(record_id, status_code, body)
        return IdempotentAnswer(status_code, body, replayed=False)
    except _Refused as refused:
        status_code, body = refused.answer
    # The refused operation's writes are gone; the key remembers the refusal.
    with transaction.atomic():
        if _insert_record(scope, key, fingerprint, status_code, body) is None:
            # A request with the same key got in between: its answer is the key's.
            record = _existing_record(scope, key, fingerprint)
            if record.status_code is not None:
                return IdempotentAnswer(record.status_code, record.response, replayed=True)
            _record_answer(record.pk, status_code, body)
    return IdempotentAnswer(status_code, body, replayed=False)


@contextmanager
def _with_the_commit() -> Iterator[None]:
    """On PostgreSQL, psycopg's pipeline mode from here to the end of the transaction: the
    statements run in it are sent without waiting for their results, and the COMMIT sends them
    with it and waits for them all (an error in any is raised there, and nothing is committed).

    Entered inside the transaction and left after it (`ExitStack` in `idempotent_call`). The
    pipeline is left as the first of the commit's hooks, so the others (`transaction.on_commit`)
    run outside it, as everywhere else: in pipeline mode a statement's row count is not known
    until the next sync."""
    # Inside a caller's transaction this one ends in a savepoint's release, not a commit.
    outermost = len(connection.atomic_blocks) == 1
    if connection.vendor != "postgresql" or not outermost or not Pipeline.is_supported():
        yield  # (the pipeline needs libpq 14 or later)
        return
    connection.ensure_connection()
    pipeline = ExitStack()
    pipeline.enter_context(connection.connection.pipeline())
    # Closed by the first commit hook, or on the way out (an ExitStack closes once).
    transaction.on_commit(pipeline.close)
    connection.run_on_commit.insert(0, connection.run_on_commit.pop())
    with pipeline:
        yield


class _Refused(Exception):
    def __init__(self, answer: tuple[int, Any]) -> None:
        super().__init__(answer)
        self.answer = answer


_RECORD_FIELDS = ("scope", "key", "fingerprint", "status_code", "response", "created_at")


def _insert_record(
    scope: str, key: str, fingerprint: str, status_code: int | None = None, body: Any = None
) -> int | None:
    """Insert the key's record; None if the key has one already (after waiting for the
    transaction that is writing it, through the unique index). One statement."""
    meta = IdempotencyRecord._meta
    fields = [f for f in meta.concrete_fields if f.name in _RECORD_FIELDS]
    fields.sort(key=lambda f: _RECORD_FIELDS.index(f.name))
    values = (scope, key, fingerprint, status_code, body, timezone.now())
    qn = connection.ops.quote_name
    # Names from the model, values as parameters.
    columns = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({qn('scope')}, {qn('key')}) DO NOTHING RETURNING {qn('id')}"
    )
    params = [
        None if value is None else field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]
    _, rows = run_bound(sql, params, fetch=True)
    return None if not rows else int(rows[0][0])


def _record_answer(record_id: int, status_code: int, body: Any) -> None:
    """Write the answer into the key's record: one UPDATE, its text made from the model once
    (the ORM's `update()` compiled it on every send: 4 % of a send's CPU)."""
    status_field = IdempotencyRecord._meta.get_field("status_code")
    response_field = IdempotencyRecord._meta.get_field("response")
    pk_field = IdempotencyRecord._meta.pk
    assert pk_field is not None
    params = [
        status_field.get_db_prep_save(status_code, connection),
        None if body is None else response_field.get_db_prep_save(body, connection),
        pk_field.get_db_prep_save(record_id, connection),
    ]
    run_bound(_answer_sql(connection.vendor), params)


@cache
def _answer_sql(vendor: str) -> str:
    qn, meta = connection.ops.quote_name, IdempotencyRecord._meta
    status_column = qn(meta.get_field("status_code").column)
    response_column = qn(meta.get_field("response").column)
    pk_column = qn(meta.pk.column)
    # Names from the model, values as parameters.
    return (
        f"UPDATE {qn(meta.db_table)} SET {status_column} = %s, "  # noqa: S608
        f"{response_column} = %s WHERE {pk_column} = %s"
    )


def _existing_record(scope: str, key: str, fingerprint: str) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return record


def idempotency_records_purge(*, older_than_hours: int = 48) -> int:
    """Forget keys older than the retention (docs/api.md promises at least 24 hours)."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
