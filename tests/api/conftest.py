"""API clients per role, and the seats, pools and InMails the API tests act on.

Roles follow the permission matrix of the issue: an admin, the lead of "Talent North", the
recruiter holding the seat, a recruiter of another team, and anonymous. Each role has a token
client (`Authorization: Token ...`) and a session client that enforces CSRF as a browser does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test.utils import override_settings
from pytest_django import DjangoDbBlocker
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import InMail
from ledger.services import Cause, inmail_send
from teams.models import Seat, Team, User
from tests.conftest import Org, clear_cache
from tests.factories import make_seat
from tests.ledger.helpers import utc

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "lead", "recruiter", "outsider", "anonymous")
SYSTEM = Cause.system("api-test")
# Where `world` stops the clock: 09:00 UTC on 15 January 2025, the day every seat is activated.
WORLD_CLOCK = utc(2025, 1, 15, 9)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters live in the cache: every test starts with none."""
    clear_cache()
    yield
    clear_cache()


def token_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def session_client(user: User, *, with_csrf_token: bool = True) -> APIClient:
    """A signed-in browser: CSRF is enforced; the token is sent back as the page's JS does."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    secret = _get_new_csrf_string()
    client.cookies[django_settings.CSRF_COOKIE_NAME] = secret
    if with_csrf_token:
        client.defaults["HTTP_X_CSRFTOKEN"] = secret
    return client


@dataclass
class World:
    """The `org` people with seats, all in Talent North but the outsider's (Talent South):

    - `seat`: the recruiter's Recruiter Lite seat (30 credits, cap 120);
    - `lead_seat`: the lead's Recruiter Lite seat;
    - `pooled_seat`, `pooled_seat_2`: Recruiter Corporate seats of the recruiter and the
      teammate, whose 2 × 150 credits went into Talent North's pool;
    - `outsider_seat`: the outsider's Recruiter Lite seat in Talent South (no pool there).
    """

    org: Org
    seat: Seat
    lead_seat: Seat
    pooled_seat: Seat
    pooled_seat_2: Seat
    outsider_seat: Seat

    @property
    def team(self) -> Team:
        return self.org.team

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self.org, role)


@pytest.fixture
def world(org: Org, time_machine: TimeMachineFixture) -> World:
    """Everything activated on 15 January 2025; the clock stays at 09:00 UTC that day."""
    time_machine.move_to(WORLD_CLOCK, tick=False)
    return make_world(org)


@contextmanager
def rows_for_the_module(django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """For a module-scoped fixture that builds rows its module's tests only read: the build
    runs in a transaction rolled back when the fixture ends, and each test in a savepoint
    within it (pytest-django's `db`), so what a test writes is undone before the next. The
    build gets the settings the function-scoped autouse fixtures of tests/conftest.py give
    every test: the fast password hasher and no task publishing. Tests should take a deep copy
    of the built objects, so that no test sees another's changes to them in memory."""
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LEDGER_PUBLISH_TASKS=False,
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        yield
        transaction.set_rollback(True)


def make_world(org: Org) -> World:
    """The seats of `world`, made now (at `WORLD_CLOCK` for what `world` promises)."""
    return World(
        org=org,
        seat=make_seat(holder=org.recruiter, team=org.team),
        lead_seat=make_seat(holder=org.lead, team=org.team),
        pooled_seat=make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team),
        pooled_seat_2=make_seat(
            plan_code="recruiter_corporate", holder=org.teammate, team=org.team
        ),
        outsider_seat=make_seat(holder=org.outsider, team=org.other_team),
    )


@pytest.fixture
def as_admin(org: Org) -> APIClient:
    return token_client(org.admin)


@pytest.fixture
def as_lead(org: Org) -> APIClient:
    return token_client(org.lead)


@pytest.fixture
def as_recruiter(org: Org) -> APIClient:
    return token_client(org.recruiter)


@pytest.fixture
def as_teammate(org: Org) -> APIClient:
    return token_client(org.teammate)


@pytest.fixture
def as_outsider(org: Org) -> APIClient:
    return token_client(org.outsider)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def send(seat: Seat, recipient: str = "https://www.linkedin.com/in/jane-doe/", **kw: Any) -> InMail:
    """Log an InMail through the service (set-up, not the thing under test)."""
    return inmail_send(
        seat=seat,
        recipient=recipient,
        subject=kw.pop("subject", "Staff engineer, payments"),
        body=kw.pop("body", "Would you be open to a short call this week?"),
        cause=SYSTEM,
        **kw,
    ).inmail


def inmail_body(
    seat: Seat, recipient: str = "https://www.linkedin.com/in/jane-doe/"
) -> dict[str, Any]:
    return {
        "seat": seat.pk,
        "recipient": recipient,
        "subject": "Staff engineer, payments",
        "body": "Would you be open to a short call this week?",
    }
