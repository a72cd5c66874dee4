"""Token and session sign-in, CSRF, throttling and login lockout (docs/api.md "Conventions")."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import PASSWORD, World, session_client, token_client
from tests.conftest import Org

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def ask_token(client: APIClient, username: str, password: str) -> Any:
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


# --- Token auth ------------------------------------------------------------------------------


def test_the_right_password_returns_the_users_token(org: Org) -> None:
    answer = ask_token(APIClient(), "recruiter", PASSWORD)

    assert answer.status_code == 200
    assert answer.json() == {"token": Token.objects.get(user=org.recruiter).key}
    assert ask_token(APIClient(), "recruiter", PASSWORD).json() == answer.json()


def test_the_token_signs_requests_in(org: Org) -> None:
    key = ask_token(APIClient(), "recruiter", PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.get("/api/v1/plans/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("recruiter", "wrong password"), ("no-such-user", PASSWORD)]
)
def test_a_wrong_username_or_password_is_400_with_a_reason(
    org: Org, username: str, password: str
) -> None:
    answer = ask_token(APIClient(), username, password)

    assert answer.status_code == 400
    assert answer.json() == {
        "non_field_errors": ["Unable to sign in with this username and password."]
    }
    assert not Token.objects.exists()


def test_an_inactive_user_gets_no_token(org: Org) -> None:
    org.recruiter.is_active = False
    org.recruiter.save()

    assert ask_token(APIClient(), "recruiter", PASSWORD).status_code == 400


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "recruiter"}, {"username": 5, "password": ["x"]}, {"password": PASSWORD}],
)
def test_a_token_request_missing_fields_is_400(org: Org, body: dict[str, Any]) -> None:
    answer = APIClient().post(TOKEN_URL, body, format="json")

    assert answer.status_code == 400
    assert set(answer.json()) <= {"username", "password"}


def test_anonymous_requests_are_401_with_a_token_challenge(world: World) -> None:
    for path in ("/api/v1/seats/", f"/api/v1/seats/{world.seat.pk}/", "/api/v1/inmails/"):
        answer = APIClient().get(path)
        assert answer.status_code == 401, path
        assert answer["WWW-Authenticate"] == "Token"
        assert answer.json() == {"detail": "Authentication credentials were not provided."}


def test_an_unknown_token_is_401(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    answer = client.get("/api/v1/plans/")

    assert answer.status_code == 401
    assert answer.json() == {"detail": "Invalid token."}


def test_a_token_of_a_deactivated_user_is_401(org: Org) -> None:
    client = token_client(org.recruiter)
    org.recruiter.is_active = False
    org.recruiter.save()

    assert client.get("/api/v1/plans/").status_code == 401


# --- Session auth and CSRF -------------------------------------------------------------------


def test_a_signed_in_browser_reads_without_a_csrf_token(world: World) -> None:
    client = session_client(world.org.recruiter, with_csrf_token=False)

    answer = client.get("/api/v1/seats/")

    assert answer.status_code == 200
    assert [seat["id"] for seat in answer.json()["results"]] == [
        world.seat.pk,
        world.pooled_seat.pk,
    ]


def test_a_session_post_without_the_csrf_token_is_refused(world: World) -> None:
    client = session_client(world.org.admin, with_csrf_token=False)

    answer = client.post("/api/v1/teams/", {"name": "Talent West"}, format="json")

    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]
    assert not world.org.team.__class__.objects.filter(name="Talent West").exists()


def test_a_session_post_with_the_csrf_token_goes_through(world: World) -> None:
    client = session_client(world.org.admin)

    answer = client.post("/api/v1/teams/", {"name": "Talent West"}, format="json")

    assert answer.status_code == 201
    assert answer.json()["name"] == "Talent West"


def test_a_session_patch_without_the_csrf_token_is_refused(world: World) -> None:
    client = session_client(world.org.lead, with_csrf_token=False)

    answer = client.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_allocation": None}, format="json"
    )

    assert answer.status_code == 403


@pytest.mark.usefixtures("plain_static_storage")
def test_signing_in_on_the_page_gives_a_session_the_api_accepts(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    csrf = page.cookies[django_settings.CSRF_COOKIE_NAME].value

    signed_in = client.post(
        "/accounts/login/",
        {"username": "recruiter", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    assert signed_in.status_code == 302

    assert client.get("/api/v1/seats/").status_code == 200
    refused = client.post("/api/v1/inmails/", {"seat": world.seat.pk}, format="json")
    assert refused.status_code == 403


# --- Throttling ------------------------------------------------------------------------------


def test_token_requests_are_throttled_per_address(org: Org, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "3/min", "writes": "1000/min"},
    }
    answers = [ask_token(APIClient(), "lead", PASSWORD).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    refused = ask_token(APIClient(), "recruiter", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert "Retry-After" in refused


def test_writes_are_throttled_per_user_and_reads_are_not(world: World, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "1000/min", "writes": "2/min"},
    }
    admin = token_client(world.org.admin)
    statuses = [
        admin.post("/api/v1/teams/", {"name": f"Team {n}"}, format="json").status_code
        for n in range(3)
    ]

    assert statuses == [201, 201, 429]
    assert admin.get("/api/v1/teams/").status_code == 200
    lead = token_client(world.org.lead)
    allowed = lead.patch(
        f"/api/v1/seats/{world.seat.pk}/", {"monthly_allocation": None}, format="json"
    )
    assert allowed.status_code == 200


# --- Lockout (django-axes) -------------------------------------------------------------------


def test_repeated_failures_lock_the_token_endpoint_even_for_the_right_password(
    org: Org, settings: Any
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    failures = [ask_token(APIClient(), "recruiter", "wrong").status_code for _ in range(limit)]

    locked = ask_token(APIClient(), "recruiter", PASSWORD)

    assert failures[: limit - 1] == [400] * (limit - 1)
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert locked.json() == {"detail": "Too many failed sign-ins for this user; try again later."}
    assert not Token.objects.filter(user=org.recruiter).exists()
    # Another user from the same address is not locked out.
    assert ask_token(APIClient(), "lead", PASSWORD).status_code == 200


@pytest.mark.usefixtures("plain_static_storage")
def test_repeated_failures_lock_the_sign_in_page(org: Org, settings: Any) -> None:
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "recruiter", "password": "wrong"})

    locked = client.post("/accounts/login/", {"username": "recruiter", "password": PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("plain_static_storage")
def test_failures_on_the_page_count_for_the_token_endpoint(org: Org, settings: Any) -> None:
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "recruiter", "password": "wrong"})

    assert ask_token(APIClient(), "recruiter", PASSWORD).status_code == 429
