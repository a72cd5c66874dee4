"""How the API describes itself in OpenAPI (drf-spectacular), where the defaults fall short.

Request bodies refuse fields they don't know (`serializers.StrictInput`), so their schemas say
`additionalProperties: false`: the document describes what the server accepts, exactly.
Decimal strings get a pattern that only matches what DRF reads as a number in range
(drf-spectacular's own pattern also matches `""`, `"-"` and negatives the field refuses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from ledger.api.serializers import EARLIEST_DATE, LATEST_DATE, StrictInput


class LedgerAutoSchema(AutoSchema):
    def _map_serializer(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        # drf-spectacular is untyped; its schema is a dict of JSON values.
        schema: dict[str, Any] = super()._map_serializer(  # type: ignore[no-untyped-call]
            serializer, direction, bypass_extensions
        )
        strict = (
            issubclass(serializer, StrictInput)
            if isinstance(serializer, type)
            else isinstance(serializer, StrictInput)
        )
        if direction == "request" and strict:
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and "pattern" not in schema
            and "enum" not in schema
        ):
            schema["pattern"] = text_pattern(field)
        if isinstance(field, serializers.DateField) and _bounded_year(field):
            # JSON Schema has no date minimum; the year says it (DATE_RANGE: 2000–2999).
            schema["pattern"] = r"^2\d{3}-"
        return schema


# What Python's str.strip() removes (DRF trims text fields with it): ECMA's \s differs, so
# the class is spelled out.
_BLANK = r"\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def text_pattern(field: serializers.CharField) -> str:
    """Text without NUL (the parser refuses it), and not only blanks where the field trims
    them and refuses a blank."""
    if field.trim_whitespace and not field.allow_blank:
        return rf"^[^\x00]*[^\x00{_BLANK}][^\x00]*$"
    return r"^[^\x00]*$"


def decimal_pattern(field: serializers.DecimalField) -> str:
    """A decimal string the field accepts: digits, an optional fraction, a sign if negatives are
    allowed (e.g. `10`, `10.5`, `.50`, never `""`, `"."` or `"-"`)."""
    whole, places = field.max_whole_digits, field.decimal_places
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    number = rf"\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}}"
    return rf"^{sign}(?:{number})$"


def _bounded_year(field: serializers.DateField) -> bool:
    minimum = [v.limit_value for v in field.validators if isinstance(v, MinValueValidator)]
    maximum = [v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)]
    return minimum == [EARLIEST_DATE] and maximum == [LATEST_DATE]


# The pattern above is the year range of DATE_RANGE; it must change if that range does.
assert (date(2000, 1, 1), date(2999, 12, 31)) == (EARLIEST_DATE, LATEST_DATE)
