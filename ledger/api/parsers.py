"""The API's JSON parser: DRF's, bounded like Django bounds forms.

Refused with 400 and a reason, before any view sees them:
- a body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (Django's own limit for form posts);
- JSON nested deeper than `MAX_DEPTH` (no request of this API nests more than 3 levels; a
  thousand levels would exhaust the interpreter's recursion limit);
- a NUL character in any string: no field can hold one (PostgreSQL's text can't), so it is
  refused here once instead of reaching a lookup or the database.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

MAX_DEPTH = 32
NUL_MESSAGE = "Null characters are not allowed."


def _depth_and_nul(value: Any, depth: int = 1) -> tuple[int, bool]:
    """How deep `value` nests, and whether a string in it (a key or a value) holds a NUL."""
    if isinstance(value, str):
        return depth, "\x00" in value
    children: list[Any]
    if isinstance(value, Mapping):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    else:
        return depth, False
    deepest, nul = depth, False
    for child in children:
        child_depth, child_nul = _depth_and_nul(child, depth + 1)
        deepest, nul = max(deepest, child_depth), nul or child_nul
        if deepest > MAX_DEPTH:
            break
    return deepest, nul


class BoundedJSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise ParseError(f"The request body is larger than {limit} bytes.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as error:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from error
        depth, nul = _depth_and_nul(data)
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if nul:
            raise ValidationError(_nul_errors(data))
        return data


def _nul_errors(data: Any) -> dict[str, list[str]]:
    """Name the top-level fields that hold a NUL, as a field error does."""
    if isinstance(data, Mapping):
        named = [
            str(key).replace("\x00", "\\u0000")
            for key, value in data.items()
            if _depth_and_nul(key)[1] or _depth_and_nul(value)[1]
        ]
        if named:
            return {name: [NUL_MESSAGE] for name in named}
    return {"non_field_errors": [NUL_MESSAGE]}
