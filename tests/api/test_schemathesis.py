"""Property-based tests of the served API against its own OpenAPI document (schemathesis).

The schema is loaded from the application in-process (`/api/schema/` through WSGI), and every
operation is called with generated requests, valid and invalid, signed in as an admin (the
schema's examples, the coverage phase's boundary and malformed cases, and generated ones) and
as a recruiter (the examples and the generated ones). Ids in paths and bodies are pointed at
seeded objects most of the time, so requests reach the ledger rather than stopping at "not
found". Every check schemathesis has runs: no server error, a documented status code, its
content type, headers and schema, invalid data refused, valid data accepted, undeclared methods
refused.

One check is narrowed, on purpose: "valid data accepted" tolerates a 400 that names only
fields whose validity JSON Schema can't state — an id the user can't see (docs/api.md: 400
"unknown"), a date in the future, `until` before `since`, pool access on a plan without a
pool, a wrong password. A 400 naming any other field fails it: that refusal must be in the
schema. Each request gets an Idempotency-Key of its own, as a real client's new request does
(generated keys repeat, and a repeated key with a new body is rightly 422).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from inmail_site.wsgi import application
from ledger.api.idempotency import HEADER
from ledger.api.parsers import NUL_MESSAGE
from ledger.models import InMail
from ledger.services import reconciliation_record
from teams.models import Plan, Seat, Team, User
from tests.api.conftest import SYSTEM, send
from tests.conftest import Org, clear_cache
from tests.factories import make_seat


def _schema(phases: list[str]) -> OpenApiSchema:
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application)
    # This many generated requests, the same ones on every run (deterministic, no example
    # database), after the phases before fuzzing.
    loaded.config.generation.update(max_examples=12, deterministic=True, database="none")
    loaded.config.phases.update(phases=phases)
    return loaded


# As an admin, who may call every operation, each gets its schema's examples, every case of
# the coverage phase (each boundary, each missing or wrongly typed field: ~60 requests an
# operation, four in five of all requests) and the generated ones.
schema = _schema(["examples", "coverage", "fuzzing"])
# As a recruiter, the examples and the generated requests: the coverage phase's cases are
# the admin's again, refused for the same reasons by the same serializers, or with 403/404
# before the body is read (issue 15 goal 4: half the file's time for no new check).
schema_without_coverage = _schema(["examples", "fuzzing"])

# Fields whose validity depends on the database or the clock, which no JSON Schema can say.
RULE_FIELDS = frozenset(
    {
        "seat",
        "team",
        "holder",
        "user",
        "plan",  # ids: unknown or not visible → 400
        "as_of",
        "activated_on",
        "responded_at",  # not in the future / not before sending
        "since",
        "until",
        "from",
        "to",  # the range's end before its start
        "pool_access",
        "monthly_allocation",  # only seats on a pooled plan
        "observed_at",  # a reconciliation: not in the future, not before the activation
        "non_field_errors",  # the token endpoint: a wrong username or password
    }
)


# Per operation: rules over several fields, over other rows, or over the text itself.
OPERATION_RULE_FIELDS = {
    # The cap can't be below the monthly credits; pooling can't change under active seats.
    "PATCH /api/v1/plans/{code}/": {"max_balance", "pooled"},
    "POST /api/v1/seats/{id}/adjustments/": {"credits"},  # never zero
    # A recipient must read as a profile URL or a member id: text that Python's URL parser
    # refuses (characters that NFKC-normalise to a URL delimiter) is refused, and no pattern
    # can say which those are.
    "POST /api/v1/inmails/": {"recipient", "tags"},
    # R22: at most 10 tags once trimmed, lower-cased and deduplicated, none blank after
    # trimming: no JSON Schema can say that.
    "PATCH /api/v1/inmails/{id}/": {"tags"},
    "POST /api/v1/teams/": {"name"},  # unique
    # R23: a webhook URL must parse, be http(s) and resolve to a public host (a DNS answer);
    # a Slack endpoint takes alert.raised only.
    "POST /api/v1/webhooks/": {"url", "events"},
    "PATCH /api/v1/webhooks/{id}/": {"url", "events"},
    # unique; Django's password validators; Django's email check is stricter than `email`
    "POST /api/v1/users/": {"username", "password", "email"},
}


@schemathesis.check
def valid_data_accepted_unless_a_rule_refused_it(ctx: Any, response: Any, case: Any) -> None:
    """`positive_data_acceptance`, except for a 400 that names only fields a rule governs, or
    only the parser's NUL rule: a NUL in any string is refused (`ledger/api/parsers.py`), in a
    property the schema doesn't name too, which no schema can say of additional properties
    (the named ones carry a pattern without NUL)."""
    if response.status_code == 400:
        errors = response.json()
        named = set(errors)
        allowed = RULE_FIELDS | OPERATION_RULE_FIELDS.get(case.operation.label, set())
        if named and named <= allowed:
            return
        if named and all(messages == [NUL_MESSAGE] for messages in errors.values()):
            return
    positive_data_acceptance(ctx, response, case)


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
            send(seats[1], "linkedin.com/in/member-42", open_profile=True),
            send(seats[3], "https://www.linkedin.com/in/second/"),
        ]
        reconciliations = [
            reconciliation_record(seat=seats[0], linkedin_balance=31, cause=SYSTEM),
            reconciliation_record(seat=seats[3], linkedin_balance=2, cause=SYSTEM),
        ]
        self.ids: dict[str, list[Any]] = {
            "reconciliation": [reconciliation.pk for reconciliation in reconciliations],
            "seat": [seat.pk for seat in seats],
            "team": [org.team.pk, org.other_team.pk],
            "inmail": [inmail.pk for inmail in inmails],
            "user": list(User.objects.order_by("pk").values_list("pk", flat=True)),
            "plan": list(Plan.objects.order_by("code").values_list("code", flat=True)),
        }
        self.tokens = {
            "admin": Token.objects.create(user=org.admin).key,
            "recruiter": Token.objects.create(user=org.recruiter).key,
        }

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


PATH_KINDS = {
    "/api/v1/seats/": "seat",
    "/api/v1/teams/": "team",
    "/api/v1/inmails/": "inmail",
    "/api/v1/reconciliations/": "reconciliation",
}
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
    clear_cache()
    return Seeded(org)


# The seeded rows are shared by an operation's examples on purpose: the API must answer every
# sequence of requests, not only each one on a fresh database.
SETTINGS = hypothesis_settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    deadline=None,
)


# Each test is also parametrized by its role, with one value: schemathesis names an operation's
# test `<function>[<operation>]` only when pytest parametrizes it too (otherwise every
# operation's test has the function's bare name, and pytest-xdist runs one of them).
@SETTINGS
@schema.parametrize()
@pytest.mark.parametrize("role", ["admin"])
@pytest.mark.django_db
def test_the_api_matches_its_schema_as_an_admin(case: Any, seeded: Seeded, role: str) -> None:
    call_and_validate(case, seeded, role)


@SETTINGS
@schema_without_coverage.parametrize()
@pytest.mark.parametrize("role", ["recruiter"])
@pytest.mark.django_db
def test_the_api_matches_its_schema_as_a_recruiter(case: Any, seeded: Seeded, role: str) -> None:
    call_and_validate(case, seeded, role)


def call_and_validate(case: Any, seeded: Seeded, role: str) -> None:
    point_at_seeded_objects(case, seeded)
    headers = {"Authorization": f"Token {seeded.tokens[role]}"}
    if case.meta.generation.mode.is_positive and case.headers and HEADER in case.headers:
        headers[HEADER] = f"{case.headers[HEADER][:200]}-{uuid.uuid4().hex}"
    case.call_and_validate(
        headers=headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_data_accepted_unless_a_rule_refused_it],
    )


def test_seeded_objects_exist(seeded: Seeded) -> None:
    assert Seat.objects.count() == 5
    assert InMail.objects.count() == 3
    assert Team.objects.filter(pk__in=seeded.ids["team"]).count() == 2
