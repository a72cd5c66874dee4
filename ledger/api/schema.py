"""How the API describes itself in OpenAPI (drf-spectacular), where the defaults fall short.

Request bodies refuse fields they don't know (`serializers.StrictInput`), so their schemas say
`additionalProperties: false`: the document describes what the server accepts, exactly.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from ledger.api.serializers import StrictInput


class LedgerAutoSchema(AutoSchema):
    def _map_serializer(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        strict = (
            issubclass(serializer, StrictInput)
            if isinstance(serializer, type)
            else isinstance(serializer, StrictInput)
        )
        if direction == "request" and strict:
            schema["additionalProperties"] = False
        return schema
