"""Bad input: every one answers 400 (or 404, 415) with a reason, in JSON, and changes nothing.

Garbage bodies, wrong JSON types, huge numbers, unknown fields, bad dates, ids that can't exist:
none of them may cause a 500 or leave a row behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import Entry, IdempotencyRecord, InMail, Lot, Purchase
from teams.models import Membership, Plan, Seat, Team, User
from tests.api.conftest import World, inmail_body

pytestmark = pytest.mark.django_db

HUGE = 10**30


def counts() -> dict[str, int]:
    models = (Entry, Lot, InMail, Purchase, Seat, Team, User, Membership, IdempotencyRecord)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def unchanged(world: World) -> Iterator[None]:
    before = counts()
    plans = list(Plan.objects.values())
    yield
    assert counts() == before
    assert list(Plan.objects.values()) == plans


def writes(world: World) -> list[tuple[str, str]]:
    seat, team = world.seat.pk, world.team.pk
    return [
        ("post", "/api/v1/users/"),
        ("post", "/api/v1/teams/"),
        ("post", f"/api/v1/teams/{team}/members/"),
        ("post", f"/api/v1/teams/{team}/pool/transfers/"),
        ("post", "/api/v1/seats/"),
        ("patch", f"/api/v1/seats/{seat}/"),
        ("post", f"/api/v1/seats/{seat}/change-plan/"),
        ("post", f"/api/v1/seats/{seat}/purchases/"),
        ("post", f"/api/v1/seats/{seat}/bonus/"),
        ("post", f"/api/v1/seats/{seat}/adjustments/"),
        ("patch", "/api/v1/plans/recruiter_lite/"),
        ("post", "/api/v1/inmails/"),
    ]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "raw", [b"{", b"[]", b'"text"', b"5", b"null", b'{"a": NaN}', b"\xff\xfe", b"1" * 5000]
)
def test_a_body_that_is_not_a_json_object_is_400(
    world: World, as_admin: APIClient, raw: bytes
) -> None:
    for method, url in writes(world):
        answer = getattr(as_admin, method)(url, raw, content_type="application/json")
        assert answer.status_code == 400, (url, raw, answer.content)
        assert answer["Content-Type"] == "application/json"


@pytest.mark.usefixtures("unchanged")
def test_a_body_that_is_not_json_is_415(world: World, as_admin: APIClient) -> None:
    for method, url in writes(world):
        answer = getattr(as_admin, method)(url, "credits=5", content_type="text/plain")
        assert answer.status_code == 415, url
        assert answer.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    # (endpoint, body, field named in the answer)
    ("purchases", {"credits": "5"}, "credits"),
    ("purchases", {"credits": True}, "credits"),
    ("purchases", {"credits": 5.5}, "credits"),
    ("purchases", {"credits": HUGE}, "credits"),
    ("purchases", {"credits": -HUGE}, "credits"),
    ("purchases", {"credits": [5]}, "credits"),
    ("purchases", {"credits": 5, "price": "1.00"}, "price"),
    ("bonus", {"credits": 2, "memo": 7}, "memo"),
    ("bonus", {"credits": 2, "memo": "x" * 501}, "memo"),
    ("adjustments", {"credits": HUGE, "reason": "x"}, "credits"),
    ("adjustments", {"credits": 1, "reason": {"text": "x"}}, "reason"),
    ("change-plan", {"plan": 3}, "plan"),
    ("change-plan", {"plan": None}, "plan"),
    ("change-plan", {"plan": "premium_business", "keep_credits": True}, "keep_credits"),
]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("endpoint", "body", "field"), BAD_BODIES)
def test_a_seat_write_with_a_bad_field_is_400_naming_it(
    world: World, as_admin: APIClient, endpoint: str, body: dict[str, Any], field: str
) -> None:
    answer = as_admin.post(f"/api/v1/seats/{world.seat.pk}/{endpoint}/", body, format="json")

    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert all(isinstance(message, str) for message in answer.json()[field])


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seat": "1"}, "seat"),
        ({"seat": HUGE}, "seat"),
        ({"seat": None}, "seat"),
        ({"open_profile": "yes"}, "open_profile"),
        ({"open_profile": 1}, "open_profile"),
        ({"subject": 12}, "subject"),
        ({"body": ["a"]}, "body"),
        ({"recipient": "bad\x00byte"}, "recipient"),
        ({"open_profil": True}, "open_profil"),
        ({"id": 5}, "id"),
    ],
)
def test_an_inmail_with_a_bad_field_is_400(
    world: World, as_recruiter: APIClient, change: dict[str, Any], field: str
) -> None:
    answer = as_recruiter.post(
        "/api/v1/inmails/", {**inmail_body(world.seat), **change}, format="json"
    )

    assert answer.status_code == 400, answer.content
    assert field in answer.json()


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/seats/",
            {"holder": 1, "team": 1, "plan": "recruiter_lite", "activated_on": "2025-13-01"},
            "activated_on",
        ),
        (
            "/api/v1/seats/",
            {"holder": 1, "team": 1, "plan": "recruiter_lite", "activated_on": "1999-12-31"},
            "activated_on",
        ),
        ("/api/v1/seats/", {"holder": "1", "team": 1, "plan": "recruiter_lite"}, "holder"),
        ("/api/v1/teams/", {"name": "Talent North"}, "name"),
        ("/api/v1/teams/", {"name": "T", "share_usage": "false"}, "share_usage"),
        ("/api/v1/users/", {"username": "u", "password": "123"}, "password"),
        ("/api/v1/users/", {"username": "admin", "password": "a long passphrase"}, "username"),
        (
            "/api/v1/users/",
            {"username": "u", "password": "a long passphrase", "is_admin": "true"},
            "is_admin",
        ),
    ],
)
def test_a_create_with_a_bad_field_is_400(
    world: World, as_admin: APIClient, url: str, body: dict[str, Any], field: str
) -> None:
    answer = as_admin.post(url, body, format="json")

    assert answer.status_code == 400, answer.content
    assert field in answer.json()


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "renamed"}, "code"),
        ({"max_balance": 10}, "max_balance"),
        ({"monthly_price": 170}, "monthly_price"),
        ({"monthly_price": "-1.00"}, "monthly_price"),
        ({"monthly_price": "123456789.00"}, "monthly_price"),
        ({"monthly_credits": HUGE}, "monthly_credits"),
        ({"refresh": "weekly"}, "refresh"),
        ({"credit_lifetime_days": 0}, "credit_lifetime_days"),
    ],
)
def test_a_plan_edit_with_a_bad_field_is_400(
    world: World, as_admin: APIClient, body: dict[str, Any], field: str
) -> None:
    answer = as_admin.patch("/api/v1/plans/recruiter_lite/", body, format="json")

    assert answer.status_code == 400, answer.content
    assert field in answer.json()


@pytest.mark.parametrize(
    "query",
    [
        "balance/?as_of=tomorrow",
        "balance/?as_of=2025-02-30T00:00:00Z",
        "balance/?as_of=",
        "entries/?since=0000-01-01T00:00:00Z",
        "entries/?until=99999-01-01T00:00:00Z",
        "entries/?page_size=-1",
        "entries/?page=0",
    ],
)
def test_a_bad_query_is_400(world: World, as_admin: APIClient, query: str) -> None:
    answer = as_admin.get(f"/api/v1/seats/{world.seat.pk}/{query}")

    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/seats/{HUGE}/",
        f"/api/v1/seats/{2**63}/balance/",
        f"/api/v1/inmails/{2**64}/",
        f"/api/v1/teams/{HUGE}/pool/",
        "/api/v1/seats/-1/",
        "/api/v1/seats/1.5/",
        "/api/v1/plans/no_such_plan/",
        "/api/v1/plans/%F0%9F%92%A5/",
        "/api/v1/no-such-endpoint/",
    ],
)
def test_an_id_that_can_not_exist_is_a_json_404(
    world: World, as_admin: APIClient, path: str
) -> None:
    answer = as_admin.get(path)

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"


@pytest.mark.usefixtures("unchanged")
def test_writes_to_ids_that_can_not_exist_are_404(world: World, as_admin: APIClient) -> None:
    for path in (
        f"/api/v1/seats/{HUGE}/bonus/",
        f"/api/v1/inmails/{2**63}/response/",
        f"/api/v1/teams/{2**63}/members/",
    ):
        answer = as_admin.post(path, {"credits": 1}, format="json")
        assert answer.status_code == 404, path


@pytest.mark.usefixtures("unchanged")
def test_a_purchase_whose_total_would_not_fit_is_400(world: World, as_admin: APIClient) -> None:
    Plan.objects.filter(code="recruiter_lite").update(purchase_price="99999999.99")

    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/purchases/", {"credits": 1000}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == ["credits"]
    Plan.objects.filter(code="recruiter_lite").update(purchase_price="10.00")


@pytest.mark.parametrize(
    "query",
    [
        "?from=2025-01-32",
        "?to=",
        "?from=2030-01-01",
        "?from=2025-01-10&to=2025-01-01",
        "?from=0001-01-01",
        "?to=9999-12-31",
        "?team=0",
        "?seat=x",
    ],
)
def test_bad_analytics_queries_are_400(world: World, as_admin: APIClient, query: str) -> None:
    for path in ("/api/v1/analytics/credits/", "/api/v1/analytics/response-rates/"):
        answer = as_admin.get(f"{path}{query}")
        assert answer.status_code == 400, (path, query, answer.content)


# --------------------------------------------------------------------------------------------
# Bodies no parser should take, and paths no pattern matches
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_json_nested_a_thousand_deep_is_400_even_anonymously(world: World) -> None:
    deep = b"[" * 1000 + b"]" * 1000

    answer = APIClient().post("/api/v1/auth/token/", deep, content_type="application/json")

    assert answer.status_code == 400, answer.content
    assert "nested deeper" in answer.json()["detail"]


@pytest.mark.usefixtures("unchanged")
def test_json_nested_past_the_limit_inside_an_object_is_400(
    world: World, as_admin: APIClient
) -> None:
    body = '{"credits": 1, "memo": ' + "[" * 40 + "]" * 40 + "}"
    answer = as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/bonus/", body, content_type="application/json"
    )

    assert answer.status_code == 400
    assert "nested deeper than 32" in answer.json()["detail"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/seats/", {"plan": "recruiter\x00lite"}, "plan"),
        ("post", "/api/v1/seats/{seat}/change-plan/", {"plan": "\x00"}, "plan"),
        ("post", "/api/v1/teams/", {"name": "North\x00"}, "name"),
        ("patch", "/api/v1/plans/recruiter_lite/", {"name": "Lite\x00"}, "name"),
        ("post", "/api/v1/inmails/", {"subject": "Hi\x00", "seat": 1}, "subject"),
    ],
)
def test_a_nul_character_anywhere_is_400_naming_the_field(
    world: World, as_admin: APIClient, method: str, path: str, body: Any, field: str
) -> None:
    answer = getattr(as_admin, method)(path.format(seat=world.seat.pk), body, format="json")

    assert answer.status_code == 400, answer.content
    assert answer.json() == {field: ["Null characters are not allowed."]}


@pytest.mark.usefixtures("unchanged")
def test_a_body_over_the_upload_limit_is_400(
    world: World, as_admin: APIClient, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"credits": 1, "memo": "m" * 2000}

    answer = as_admin.post(f"/api/v1/seats/{world.seat.pk}/bonus/", body, format="json")

    assert answer.status_code == 400
    assert answer.json() == {"detail": "The request body is larger than 1000 bytes."}


@pytest.mark.parametrize(
    "path", ["/api/v1/seats/%0A/", "/api/v1/seats/%0A", "/api/v1/%0A/x/", "/api/v1/seats/1/%0A/"]
)
def test_a_path_no_pattern_matches_is_a_json_404(
    world: World, as_admin: APIClient, path: str
) -> None:
    answer = as_admin.get(path)

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}


def test_a_page_size_over_the_cap_of_any_length_is_capped(
    world: World, as_admin: APIClient
) -> None:
    for size in ("501", "2967385613", "9" * 40, "9" * 5000):
        answer = as_admin.get("/api/v1/seats/", {"page_size": size})
        assert answer.status_code == 200, (size, answer.content)
        assert answer.json()["count"] == 5


def test_a_page_past_the_end_of_any_length_is_404(world: World, as_admin: APIClient) -> None:
    for page in ("2", "1958334759935558144", "9" * 40, "9" * 5000):
        answer = as_admin.get("/api/v1/seats/", {"page": page})
        assert answer.status_code == 404, (page, answer.content)


def test_a_seat_filter_on_a_team_the_user_can_not_see_is_400(
    world: World, as_recruiter: APIClient
) -> None:
    answer = as_recruiter.get("/api/v1/seats/", {"team": world.org.other_team.pk})

    assert answer.status_code == 400
    assert answer.json() == {"team": ["Unknown team."]}
