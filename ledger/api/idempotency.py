"""`Idempotency-Key` on the API's POSTs (R16, docs/api.md "Conventions").

A POST that carries the header runs through `ledger.services.idempotent_call`: the key's record
is written in the same transaction as the operation, so a retry replays the first status and
body, the same key with a different body answers 422, and two concurrent requests with one key
have one effect. Keys are scoped to the user, so one client can never replay another's answer.

A refusal (400, 403, 404, 409) is an answer like any other (docs/rules.md, R16): its
writes are rolled back, but the key remembers it, and a retry replays it. A client that fixed
the cause sends a new key. Only failures that are not an answer (the database away, a bug)
leave no record, so a retry with the same key runs again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ledger.api.errors import exception_handler
from ledger.exceptions import LedgerValidationError
from ledger.services import idempotent_call, request_fingerprint

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# 1–255 visible ASCII characters, spaces allowed inside (HTTP trims them at the ends). The
# served schema states the same pattern, so a client can check a key before sending it.
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"
_KEY = re.compile(KEY_PATTERN)

Handler = Callable[..., Response]


def idempotent(handler: Handler) -> Handler:
    """Wrap a view's `post` so that a request with an Idempotency-Key takes effect once."""

    @wraps(handler)
    def post(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise LedgerValidationError(
                HEADER, "Use a key of 1 to 255 visible ASCII characters (spaces only inside)."
            )

        def operation() -> tuple[int, Any]:
            return _answer(handler(view, request, *args, **kwargs))

        def refusal(error: Exception) -> tuple[int, Any] | None:
            response = _refusal(view, error)
            return None if response is None else _answer(response)

        answer = idempotent_call(
            scope=f"api:user:{request.user.pk}",
            key=key,
            fingerprint=request_fingerprint(request.method, request.path, request.data),
            operation=operation,
            refusal=refusal,
        )
        response = Response(answer.body, status=answer.status_code)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response

    return post


def _answer(response: Response) -> tuple[int, Any]:
    # Stored as JSON: the replay carries the same values as the first answer (on PostgreSQL,
    # jsonb may list an object's keys in another order).
    return response.status_code, json.loads(json.dumps(response.data, cls=JSONEncoder))


def _refusal(view: Any, error: Exception) -> Response | None:
    """The answer to a refused request (4xx), to be remembered under its key like any other.

    Anything else — the database away, a bug — is no answer (None): the error is raised
    again, nothing is remembered, and a retry with the same key runs the operation afresh.
    """
    response = exception_handler(error, view.get_exception_handler_context())
    if response is None or not 400 <= response.status_code < 500:
        return None
    return response
