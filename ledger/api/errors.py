"""How the ledger's refusals become API answers (docs/api.md "Errors").

- a ledger rule said no (`LedgerRuleError`): 409 `{"code", "detail"}`;
- one field can't be accepted (`LedgerValidationError`, Django's `ValidationError`):
  400 `{"field": ["message"]}`;
- an idempotency key came back with a different request: 422 `{"code", "detail"}`.

- the database can't be reached: 503 `{"code": "unavailable", "detail"}` with Retry-After.

Everything else is DRF's own answer (400, 401, 403, 404, 405, 429).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inmail_site.errors import UNAVAILABLE_BODY, is_database_unavailable, retry_after
from ledger.exceptions import IdempotencyKeyReused, LedgerRuleError, LedgerValidationError

IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_unavailable(exc):
        return Response(
            UNAVAILABLE_BODY,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": retry_after(), "Cache-Control": "no-store"},
        )
    if isinstance(exc, LedgerRuleError):
        return Response({"code": exc.code, "detail": exc.detail}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, LedgerValidationError):
        return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IdempotencyKeyReused):
        return Response(
            {"code": IDEMPOTENCY_KEY_REUSED, "detail": exc.detail},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
