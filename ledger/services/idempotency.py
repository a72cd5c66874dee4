"""Idempotency keys (R16): one effect per key, the first answer replayed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.exceptions import (
    IdempotencyKeyReused,
    LedgerValidationError,
)
from ledger.models import (
    IdempotencyRecord,
)

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
) -> IdempotentAnswer:
    """Run `operation` once per (scope, key); replay its answer to every retry.

    The record is inserted in the same transaction as the operation's writes. A concurrent
    request with the same key blocks on the record's unique index until the first commits, then
    replays its answer; if the first rolls back, the second runs the operation itself. The same
    key with a different fingerprint raises `IdempotencyKeyReused`.
    """
    if not 1 <= len(key) <= 255:
        raise LedgerValidationError("Idempotency-Key", "Use a key of 1 to 255 characters.")
    with transaction.atomic():
        try:
            record, created = IdempotencyRecord.objects.get_or_create(
                scope=scope,
                key=key,
                defaults={"fingerprint": fingerprint, "created_at": timezone.now()},
            )
        except IntegrityError:  # pragma: no cover - get_or_create already retries the read
            record, created = IdempotencyRecord.objects.get(scope=scope, key=key), False
        if not created:
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if record.status_code is not None:
                return IdempotentAnswer(record.status_code, record.response, replayed=True)
        status_code, body = operation()
        record.status_code = status_code
        record.response = body
        record.save(update_fields=["status_code", "response"])
    return IdempotentAnswer(status_code, body, replayed=False)


def idempotency_records_purge(*, older_than_hours: int = 48) -> int:
    """Forget keys older than the retention (docs/api.md promises at least 24 hours)."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
