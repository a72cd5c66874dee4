"""The OpenAPI document at /api/schema/ and the interactive docs at /api/docs/."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from ledger.api import urls as api_urls

pytestmark = pytest.mark.django_db


def served_schema() -> dict[str, Any]:
    answer = APIClient().get("/api/schema/?format=json")
    assert answer.status_code == 200
    schema: dict[str, Any] = answer.json()
    return schema


def test_the_schema_is_served_and_valid_openapi_3(tmp_path: object) -> None:
    schema = served_schema()

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "InMail Ledger API"
    # drf-spectacular's own validation against the OpenAPI 3 meta-schema, warnings as errors.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", f"{tmp_path}/s.yaml")


def test_every_served_route_is_in_the_schema_and_nothing_else() -> None:
    documented = {
        (path, method.upper())
        for path, operations in served_schema()["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    }
    served = set()
    for pattern in api_urls.urlpatterns:
        view_class = getattr(pattern.callback, "view_class", None)
        if view_class is None:
            continue  # the catch-all JSON 404
        path = "/api/v1/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(pattern.pattern))
        path = path.replace("{pk}", "{id}")
        for method in view_class.http_method_names:
            if method not in {"options", "head"} and hasattr(view_class, method):
                served.add((path, method.upper()))

    assert documented == served


def test_every_409_documents_the_code_and_detail_shape() -> None:
    schema = served_schema()
    refusal = schema["components"]["schemas"]["LedgerRefusal"]

    assert refusal["required"] == ["code", "detail"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "409" in operation.get("responses", {}):
                ref = operation["responses"]["409"]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/LedgerRefusal"}, (method, path)


def test_every_post_takes_an_idempotency_key() -> None:
    for path, operations in served_schema()["paths"].items():
        if "post" in operations and path != "/api/v1/auth/token/":
            names = [p["name"] for p in operations["post"].get("parameters", [])]
            assert "Idempotency-Key" in names, path


def test_request_bodies_refuse_unknown_fields() -> None:
    schemas = served_schema()["components"]["schemas"]
    for name in ("InMailCreateRequest", "PatchedPlanRequest", "SeatCreateRequest"):
        assert schemas[name]["additionalProperties"] is False, name


def test_money_is_a_decimal_string_and_datetimes_carry_an_offset() -> None:
    schemas = served_schema()["components"]["schemas"]

    assert schemas["Plan"]["properties"]["monthly_price"]["type"] == "string"
    assert schemas["Plan"]["properties"]["monthly_price"]["format"] == "decimal"
    assert schemas["InMail"]["properties"]["sent_at"]["format"] == "date-time"


def test_the_yaml_schema_is_served_too() -> None:
    answer = APIClient().get("/api/schema/")

    assert answer.status_code == 200
    document = yaml.safe_load(answer.content)
    assert document["paths"].keys() == served_schema()["paths"].keys()


@pytest.mark.usefixtures("plain_static_storage")
def test_the_docs_render_from_local_assets_without_a_cdn() -> None:
    answer = APIClient().get("/api/docs/")
    html = answer.content.decode()

    assert answer.status_code == 200
    assert "swagger-ui" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    # Swagger UI's files, and its start-up script served by the docs view itself (no inline
    # script, so the page keeps a script-src of 'self').
    assert all(asset.startswith("/static/") or asset == "/api/docs/?script=" for asset in assets)
    assert not re.search(r"cdn|unpkg|jsdelivr|cdnjs", html, re.IGNORECASE)
    script = APIClient().get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
