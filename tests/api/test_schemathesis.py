"""Property-based tests of the served API against its own OpenAPI document (schemathesis).

The schema is loaded from the application in-process (`/api/schema/` through WSGI), and every
operation is called with generated requests, valid and invalid, signed in as an admin. Ids in
paths and bodies are pointed at seeded objects most of the time, so requests reach the ledger
rather than stopping at "not found". Each answer must be no server error and must match the
document: a documented status code, its content type, its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inmail_site.wsgi import application
from ledger.models import InMail
from teams.models import Plan, Seat, Team, User
from tests.api.conftest import send
from tests.conftest import Org
from tests.factories import make_seat

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
schema.config.generation.update(max_examples=30, deterministic=True, database="none")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


class Seeded:
    """Ids that exist, by the kind of object a path or body names."""

    def __init__(self, org: Org) -> None:
        today = timezone.localdate()
        seats = [
            make_seat(holder=org.recruiter, team=org.team, activated_on=today),
            make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team),
            make_seat(plan_code="recruiter_corporate", holder=org.teammate, team=org.team),
            make_seat(plan_code="premium_career", holder=org.outsider, team=org.other_team),
            make_seat(plan_code="sales_navigator_core", holder=org.lead, team=org.team),
        ]
        inmails = [
            send(seats[0], "https://www.linkedin.com/in/first/"),
            send(seats[1], "member-42", open_profile=True),
            send(seats[3], "https://www.linkedin.com/in/second/"),
        ]
        self.ids: dict[str, list[Any]] = {
            "seat": [seat.pk for seat in seats],
            "team": [org.team.pk, org.other_team.pk],
            "inmail": [inmail.pk for inmail in inmails],
            "user": list(User.objects.order_by("pk").values_list("pk", flat=True)),
            "plan": list(Plan.objects.order_by("code").values_list("code", flat=True)),
        }
        self.token = Token.objects.create(user=org.admin).key

    def known(self, kind: str, generated: Any) -> Any:
        """A seeded id for three generated values in four; the generated value otherwise.

        Only a value of the right type is replaced, so an invalid request stays invalid.
        """
        options = self.ids[kind]
        if isinstance(generated, bool) or type(generated) is not type(options[0]):
            return generated
        choice = sum(str(generated).encode())
        if choice % 4 == 0:
            return generated
        return options[choice % len(options)]


PATH_KINDS = {"/api/v1/seats/": "seat", "/api/v1/teams/": "team", "/api/v1/inmails/": "inmail"}
BODY_KINDS = {"seat": "seat", "team": "team", "holder": "user", "user": "user", "plan": "plan"}


def point_at_seeded_objects(case: Any, seeded: Seeded) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        if name == "code":
            case.path_parameters[name] = seeded.known("plan", value)
        for prefix, kind in PATH_KINDS.items():
            if name == "id" and case.path.startswith(prefix) and isinstance(value, int):
                case.path_parameters[name] = seeded.known(kind, value)
    for name, value in list((case.query or {}).items()):
        if name in ("seat", "team") and isinstance(value, int):
            case.query[name] = seeded.known(name, value)
    if isinstance(case.body, dict):
        for name, kind in BODY_KINDS.items():
            if name in case.body and isinstance(case.body[name], int | str):
                case.body[name] = seeded.known(kind, case.body[name])


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Keep the test's database connection open across requests, as Django's test client does.

    Schemathesis calls the WSGI application directly, so Django's request signals close "old"
    connections after each request; on PostgreSQL that would close the one connection holding
    the test's transaction (and its seeded rows).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(org: Org, settings: Any, in_test_transaction: None) -> Seeded:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "100000/min", "writes": "100000/min"},
    }
    cache.clear()
    return Seeded(org)


# The seeded rows are shared by an operation's examples on purpose: the API must answer every
# sequence of requests, not only each one on a fresh database.
@hypothesis_settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    deadline=None,
)
@schema.parametrize()
@pytest.mark.django_db
def test_the_api_matches_its_schema(case: Any, seeded: Seeded) -> None:
    point_at_seeded_objects(case, seeded)
    case.call_and_validate(headers={"Authorization": f"Token {seeded.token}"}, checks=CHECKS)


def test_seeded_objects_exist(seeded: Seeded) -> None:
    assert Seat.objects.count() == 5
    assert InMail.objects.count() == 3
    assert Team.objects.filter(pk__in=seeded.ids["team"]).count() == 2
