"""Who may call what: every API route × method × role, generated from the URL configuration.

The routes come from `ledger.api.urls` (each pattern, each HTTP method its view implements);
the expected answers are declared below. A route or method without a rule fails
`test_every_route_has_a_rule`, and a rule for a route that no longer exists fails
`test_every_rule_names_a_route`: a new endpoint can't ship without deciding who may call it.

Roles (the issue's matrix): an admin, the lead of the seat's team, the recruiter holding the
seat, a recruiter of another team, and anonymous. Every body is valid, so the status is the
permission's, not validation's. Outside a role's scope an object is 404, never 403; a relation
named in a body that the user can't see is unknown (400).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.api import urls as api_urls
from ledger.services import reconciliation_record
from tests.api.conftest import (
    PASSWORD,
    ROLES,
    SYSTEM,
    WORLD_CLOCK,
    World,
    make_world,
    rows_for_the_module,
    send,
    token_client,
)
from tests.conftest import make_org

pytestmark = pytest.mark.django_db

Route = tuple[str, str]  # (route name, HTTP method)
GENERIC_METHODS = {"options", "head"}
ANY_METHOD = "ANY"


def api_routes() -> dict[Route, URLPattern]:
    """Every (route name, method) the API serves, from its URL patterns and view classes."""
    routes: dict[Route, URLPattern] = {}
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), pattern
        assert pattern.name, f"{pattern.pattern} has no name"
        view_class = getattr(pattern.callback, "view_class", None)
        if view_class is None:  # a plain function answers every method
            routes[(pattern.name, ANY_METHOD)] = pattern
            continue
        for method in view_class.http_method_names:
            if method not in GENERIC_METHODS and hasattr(view_class, method):
                routes[(pattern.name, method.upper())] = pattern
    return routes


# --- The rules -------------------------------------------------------------------------------

A, L, R, X, N = ROLES  # admin, lead, recruiter (the seat's holder), outsider, anonymous


def everyone(ok: int) -> dict[str, int]:
    """Any signed-in user; anonymous is 401."""
    return {A: ok, L: ok, R: ok, X: ok, N: 401}


def admin_only(ok: int) -> dict[str, int]:
    """An admin-only action on something everyone may see (the catalog, teams, users)."""
    return {A: ok, L: 403, R: 403, X: 403, N: 401}


def admin_on_seat(ok: int) -> dict[str, int]:
    """An admin-only action on the seat: its lead and holder see it (403), the outsider not."""
    return {A: ok, L: 403, R: 403, X: 404, N: 401}


def visible(ok: int) -> dict[str, int]:
    """Reading (or acting on) the seat or its InMail: admin, lead, holder; outsider 404."""
    return {A: ok, L: ok, R: ok, X: 404, N: 401}


def managers(ok: int) -> dict[str, int]:
    """Admin and the team's lead; the holder sees but may not (403); the outsider 404."""
    return {A: ok, L: ok, R: 403, X: 404, N: 401}


EXPECTED: dict[Route, dict[str, int]] = {
    ("api-token", "POST"): {A: 200, L: 200, R: 200, X: 200, N: 200},
    ("api-plans", "GET"): everyone(200),
    ("api-plan", "GET"): everyone(200),
    ("api-plan", "PATCH"): admin_only(200),
    ("api-users", "POST"): admin_only(201),
    ("api-teams", "GET"): everyone(200),
    ("api-teams", "POST"): admin_only(201),
    ("api-team-members", "POST"): {A: 201, L: 403, R: 403, X: 404, N: 401},
    ("api-team-pool", "GET"): visible(200),
    ("api-pool-transfers", "POST"): managers(201),
    ("api-seats", "GET"): everyone(200),
    ("api-seats", "POST"): admin_only(201),
    ("api-seat", "GET"): visible(200),
    ("api-seat", "PATCH"): managers(200),
    ("api-seat-cancel", "POST"): admin_on_seat(200),
    ("api-seat-change-plan", "POST"): admin_on_seat(201),
    ("api-seat-balance", "GET"): visible(200),
    ("api-seat-entries", "GET"): visible(200),
    ("api-seat-purchases", "POST"): admin_on_seat(201),
    ("api-seat-bonus", "POST"): admin_on_seat(201),
    ("api-seat-adjustments", "POST"): admin_on_seat(201),
    # A seat the outsider can't see, named in the body, is an unknown seat.
    ("api-inmails", "GET"): everyone(200),
    ("api-inmails", "POST"): {A: 201, L: 201, R: 201, X: 400, N: 401},
    ("api-inmail", "GET"): visible(200),
    ("api-inmail", "PATCH"): visible(200),  # R22: retag (holder, lead, admin)
    ("api-inmail-response", "POST"): visible(200),
    ("api-inmail-withdraw", "POST"): visible(200),
    ("api-response-rates", "GET"): everyone(200),
    ("api-credit-flows", "GET"): everyone(200),
    ("api-audit", "GET"): admin_only(200),
    # Issue 13: reassignment (R19) and reconciliations (R21).
    ("api-seat-reassign", "POST"): admin_on_seat(200),
    ("api-seat-reconciliations", "POST"): visible(201),
    ("api-reconciliations", "GET"): everyone(200),
    ("api-reconciliation-resolve", "POST"): admin_on_seat(200),
    # --- Issue 14 item 2: webhooks (R23), admins only ---
    ("api-webhooks", "GET"): admin_only(200),
    ("api-webhooks", "POST"): admin_only(201),
    ("api-webhook", "PATCH"): admin_only(200),
    ("api-webhook", "DELETE"): admin_only(204),
    ("api-webhook-deliveries", "GET"): admin_only(200),
    ("api-webhook-redeliver", "POST"): admin_only(202),
    # --- end webhooks ---
    # Any other path under the API: JSON 404 for everyone, before any authentication.
    ("api-not-found", ANY_METHOD): {A: 404, L: 404, R: 404, X: 404, N: 404},
}


# --- The requests ----------------------------------------------------------------------------

Request = Callable[[World, str], tuple[dict[str, Any], dict[str, Any] | None]]


def seat_kwargs(world: World, role: str) -> dict[str, Any]:
    return {"pk": world.seat.pk}


def team_kwargs(world: World, role: str) -> dict[str, Any]:
    return {"pk": world.team.pk}


def inmail_kwargs(world: World, role: str) -> dict[str, Any]:
    return {"pk": send(world.seat).pk}


def open_reconciliation_kwargs(world: World, role: str) -> dict[str, Any]:
    opened = reconciliation_record(seat=world.seat, linkedin_balance=31, cause=SYSTEM)
    return {"pk": opened.pk}


def no_kwargs(world: World, role: str) -> dict[str, Any]:
    return {}


# --- webhooks (R23): a public address by IP, so no name needs resolving ---
HOOK_URL = "https://93.184.215.14/hook"


def webhook_kwargs(world: World, role: str) -> dict[str, Any]:
    from ledger.webhooks.endpoints import webhook_endpoint_create

    return {"pk": webhook_endpoint_create(url=HOOK_URL, events=["inmail.sent"], actor=None).pk}


def webhook_delivery_kwargs(world: World, role: str) -> dict[str, Any]:
    from ledger.models import WebhookDelivery

    webhook_kwargs(world, role)
    send(world.seat)
    return {"pk": WebhookDelivery.objects.latest("id").pk}


# --- end webhooks ---


def token_body(world: World, role: str) -> dict[str, Any]:
    return {"username": "recruiter" if role == N else role, "password": PASSWORD}


# (route, method) → (URL kwargs, body). Bodies are valid for the roles allowed to act.
REQUESTS: dict[Route, tuple[Callable[[World, str], dict[str, Any]], Any]] = {
    ("api-token", "POST"): (no_kwargs, token_body),
    ("api-plans", "GET"): (no_kwargs, None),
    ("api-plan", "GET"): (lambda w, r: {"code": "recruiter_lite"}, None),
    ("api-plan", "PATCH"): (lambda w, r: {"code": "recruiter_lite"}, {"monthly_send_limit": 250}),
    ("api-users", "POST"): (
        no_kwargs,
        {"username": "new_hire", "password": "a long enough passphrase", "email": "n@x.io"},
    ),
    ("api-teams", "GET"): (no_kwargs, None),
    ("api-teams", "POST"): (no_kwargs, {"name": "Talent West"}),
    ("api-team-members", "POST"): (
        team_kwargs,
        lambda w, r: {"user": w.org.nobody.pk, "role": "recruiter"},
    ),
    ("api-team-pool", "GET"): (team_kwargs, None),
    ("api-pool-transfers", "POST"): (
        team_kwargs,
        lambda w, r: {"seat": w.pooled_seat.pk, "credits": 5},
    ),
    ("api-seats", "GET"): (no_kwargs, None),
    ("api-seats", "POST"): (
        no_kwargs,
        lambda w, r: {"holder": w.org.nobody.pk, "team": w.team.pk, "plan": "recruiter_lite"},
    ),
    ("api-seat", "GET"): (seat_kwargs, None),
    ("api-seat", "PATCH"): (seat_kwargs, {"pool_access": False}),
    ("api-seat-cancel", "POST"): (seat_kwargs, {}),
    ("api-seat-change-plan", "POST"): (seat_kwargs, {"plan": "premium_business"}),
    ("api-seat-balance", "GET"): (seat_kwargs, None),
    ("api-seat-entries", "GET"): (seat_kwargs, None),
    ("api-seat-purchases", "POST"): (seat_kwargs, {"credits": 5}),
    ("api-seat-bonus", "POST"): (seat_kwargs, {"credits": 5, "memo": "Hiring push"}),
    ("api-seat-adjustments", "POST"): (seat_kwargs, {"credits": 2, "reason": "Match LinkedIn"}),
    ("api-inmails", "GET"): (no_kwargs, None),
    ("api-inmails", "POST"): (
        no_kwargs,
        lambda w, r: {
            "seat": w.seat.pk,
            "recipient": "https://www.linkedin.com/in/new-candidate/",
            "subject": "Staff engineer",
            "body": "Open to a chat?",
        },
    ),
    ("api-inmail", "GET"): (inmail_kwargs, None),
    ("api-inmail", "PATCH"): (inmail_kwargs, {"tags": ["java"]}),  # R22
    ("api-inmail-response", "POST"): (inmail_kwargs, {"outcome": "accepted"}),
    ("api-inmail-withdraw", "POST"): (inmail_kwargs, {}),
    ("api-response-rates", "GET"): (no_kwargs, None),
    ("api-credit-flows", "GET"): (no_kwargs, None),
    ("api-audit", "GET"): (no_kwargs, None),
    ("api-seat-reassign", "POST"): (seat_kwargs, lambda w, r: {"holder": w.org.teammate.pk}),
    ("api-seat-reconciliations", "POST"): (seat_kwargs, {"linkedin_balance": 30}),
    ("api-reconciliations", "GET"): (no_kwargs, None),
    ("api-reconciliation-resolve", "POST"): (
        open_reconciliation_kwargs,
        {"action": "dismiss", "reason": "Checked on LinkedIn"},
    ),
    # --- webhooks (R23) ---
    ("api-webhooks", "GET"): (no_kwargs, None),
    ("api-webhooks", "POST"): (no_kwargs, {"url": HOOK_URL, "events": ["inmail.sent"]}),
    ("api-webhook", "PATCH"): (webhook_kwargs, {"active": False}),
    ("api-webhook", "DELETE"): (webhook_kwargs, None),
    ("api-webhook-deliveries", "GET"): (webhook_kwargs, None),
    ("api-webhook-redeliver", "POST"): (webhook_delivery_kwargs, {}),
    # --- end webhooks ---
    ("api-not-found", ANY_METHOD): (no_kwargs, {"anything": 1}),
}
URLS = {"api-not-found": "/api/v1/seats/not-a-number/"}

ROUTES = api_routes()


def test_every_route_has_a_rule() -> None:
    missing = sorted(set(ROUTES) - set(EXPECTED))
    assert not missing, f"API routes without a permission rule: {missing}"
    assert not sorted(set(ROUTES) - set(REQUESTS)), "routes without a request to send"


def test_every_rule_names_a_route() -> None:
    stale = sorted(set(EXPECTED) - set(ROUTES))
    assert not stale, f"permission rules for routes that no longer exist: {stale}"
    assert not sorted(set(REQUESTS) - set(ROUTES))


def test_every_rule_covers_every_role() -> None:
    for route, rule in EXPECTED.items():
        assert set(rule) == set(ROLES), route


@pytest.fixture(scope="module")
def _world_rows(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[World]:
    """The `world` of tests/api/conftest.py, built once per xdist worker (see
    `rows_for_the_module`): what a request here writes is rolled back after its test."""
    with rows_for_the_module(django_db_blocker):
        with time_machine.travel(WORLD_CLOCK, tick=False):
            rows = make_world(make_org())
        yield rows


@pytest.fixture
def world(_world_rows: World, db: None, time_machine: TimeMachineFixture) -> World:
    """`world`, as tests/api/conftest.py's: the clock stopped at `WORLD_CLOCK`."""
    time_machine.move_to(WORLD_CLOCK, tick=False)
    return copy.deepcopy(_world_rows)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method"), sorted(ROUTES), ids=[f"{m} {n}" for n, m in sorted(ROUTES)]
)
def test_permission(world: World, name: str, method: str, role: str) -> None:
    if (name, method) not in EXPECTED or (name, method) not in REQUESTS:
        pytest.fail(f"{method} {name} has no permission rule: add it to EXPECTED and REQUESTS")
    kwargs_of, body_of = REQUESTS[(name, method)]
    url = URLS.get(name, f"/api/v1/{ROUTES[(name, method)].pattern}")
    for key, value in kwargs_of(world, role).items():
        url = url.replace(f"<int:{key}>", str(value)).replace(f"<slug:{key}>", str(value))
    body = body_of(world, role) if callable(body_of) else body_of
    client: APIClient = token_client(world.user(role)) if role != N else APIClient()

    call = getattr(client, "post" if method == ANY_METHOD else method.lower())
    answer = call(url, body, format="json") if body is not None else call(url)

    assert answer.status_code == EXPECTED[(name, method)][role], answer.content
    if answer.status_code != 204:  # a DELETE's empty answer (webhooks, R23) has no body
        assert answer["Content-Type"] == "application/json"
