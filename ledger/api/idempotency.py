"""`Idempotency-Key` on the API's POSTs (SPEC R16, API.md "Conventions").

A POST that carries the header runs through `ledger.services.idempotent_call`: the key's record
is written in the same transaction as the operation, so a retry replays the first status and
body, the same key with a different body answers 422, and two concurrent requests with one key
have one effect. Keys are scoped to the user, so one client can never replay another's answer.
A refusal (400, 409) rolls the record back with everything else: retrying after fixing the
cause runs the operation again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ledger.exceptions import LedgerValidationError
from ledger.services import idempotent_call, request_fingerprint

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

Handler = Callable[..., Response]


def idempotent(handler: Handler) -> Handler:
    """Wrap a view's `post` so that a request with an Idempotency-Key takes effect once."""

    @wraps(handler)
    def post(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise LedgerValidationError(HEADER, "Use a key of 1 to 255 visible characters.")

        def operation() -> tuple[int, Any]:
            response = handler(view, request, *args, **kwargs)
            # Stored as JSON: the replay carries the same values as the first answer (on
            # PostgreSQL, jsonb may list an object's keys in another order).
            body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            return response.status_code, body

        answer = idempotent_call(
            scope=f"api:user:{request.user.pk}",
            key=key,
            fingerprint=request_fingerprint(request.method, request.path, request.data),
            operation=operation,
        )
        response = Response(answer.body, status=answer.status_code)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response

    return post
