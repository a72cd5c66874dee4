"""Failure paths with the real servers stopped: Redis away, PostgreSQL away.

Redis: a `redis-server` of the test's own on a free port carries the throttle cache and the
Celery broker; the test stops it and sends through the API with token auth. The send must
succeed, promptly, with the balance right: throttles fail open and the alert pass that a send
queues is simply not published (the scheduled `send_alerts` run catches up).

PostgreSQL: a process whose DATABASE_URL points at a closed port answers every API request
with a JSON 503 and Retry-After, and pages with the 503 page.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from inmail_site import cache as fail_open
from inmail_site.errors import database_unavailable
from ledger.models import InMail
from ledger.selectors import seat_balance
from tests.api.conftest import PASSWORD, World, inmail_body
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started


pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def test_a_send_succeeds_promptly_with_redis_stopped(
    world: World, as_recruiter: APIClient, own_redis: RedisServer
) -> None:
    first = as_recruiter.post(
        "/api/v1/inmails/", inmail_body(world.seat, "linkedin.com/in/member-1"), format="json"
    )
    assert first.status_code == 201
    assert any("throttle" in key for key in own_redis.stored_keys()), "the throttle uses this Redis"

    own_redis.stop()
    answer, seconds = timed(
        lambda: as_recruiter.post(
            "/api/v1/inmails/",
            inmail_body(world.seat, "linkedin.com/in/member-2"),
            format="json",
            HTTP_IDEMPOTENCY_KEY="send-while-redis-is-down",
        )
    )

    assert answer.status_code == 201, answer.content
    assert seconds < 1.0
    assert InMail.objects.filter(seat=world.seat).count() == 2
    assert seat_balance(world.seat).own == 28
    assert fail_open.cache_status()["cache"] == "down"


def test_throttles_count_again_when_redis_is_back(
    world: World, as_recruiter: APIClient, own_redis: RedisServer
) -> None:
    own_redis.stop()
    down = as_recruiter.post(
        "/api/v1/inmails/", inmail_body(world.seat, "linkedin.com/in/member-1"), format="json"
    )
    own_redis.start()
    fail_open.breaker.open_until = 0.0  # the breaker's few seconds have passed
    up = as_recruiter.post(
        "/api/v1/inmails/", inmail_body(world.seat, "linkedin.com/in/member-2"), format="json"
    )

    assert (down.status_code, up.status_code) == (201, 201)
    assert any("throttle" in key for key in own_redis.stored_keys())
    assert fail_open.cache_status()["cache"] == "ok"


def test_the_token_endpoint_answers_with_redis_stopped(
    world: World, own_redis: RedisServer
) -> None:
    world.org.recruiter.set_password(PASSWORD)
    world.org.recruiter.save()
    own_redis.stop()

    answer, seconds = timed(
        lambda: APIClient().post(
            "/api/v1/auth/token/",
            {"username": "recruiter", "password": PASSWORD},
            format="json",
        )
    )

    assert answer.status_code == 200
    assert answer.json()["token"]
    assert seconds < 1.0


def test_a_page_send_succeeds_with_redis_stopped(
    world: World, own_redis: RedisServer, plain_static_storage: None
) -> None:
    browser = Client()
    browser.force_login(world.org.recruiter)
    own_redis.stop()

    answer = browser.post(
        reverse("inmail_send"),
        {**inmail_body(world.seat, "linkedin.com/in/member-3"), "seat": world.seat.pk},
    )

    assert answer.status_code in (200, 302)
    assert InMail.objects.filter(seat=world.seat, recipient="linkedin.com/in/member-3").exists()
    assert seat_balance(world.seat).own == 29


def test_healthz_reports_the_cache_down_but_stays_up(world: World, own_redis: RedisServer) -> None:
    own_redis.stop()
    fail_open.breaker.failed(redis.ConnectionError("refused"))

    answer = Client().get("/healthz", HTTP_HOST="127.0.0.1")

    assert answer.status_code == 200
    assert answer.json()["cache"] == "down"


# --------------------------------------------------------------------------------------------
# PostgreSQL away: a process whose database is at a closed port
# --------------------------------------------------------------------------------------------

UNREACHABLE_DATABASE_SCRIPT = """
import json, os, django
django.setup()
from django.db import connection
from django.test import Client, RequestFactory
answers = {}
api = Client(
    raise_request_exception=False,
    HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567",
)
browser = Client(raise_request_exception=False)
browser.cookies["sessionid"] = "x" * 32
for name, call in {
    "api_list": lambda: api.get("/api/v1/seats/"),
    "api_send": lambda: api.post(
        "/api/v1/inmails/", '{"seat": 1}', content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    ),
    "page": lambda: browser.get("/"),
}.items():
    response = call()
    answers[name] = {
        "status": response.status_code,
        "type": response["Content-Type"],
        "retry_after": response.get("Retry-After"),
        "body": response.content.decode(),
    }
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def answers_without_a_database() -> dict[str, dict[str, Any]]:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/inmail",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "inmail_site.settings",
        "LOG_LEVEL": "CRITICAL",
    }
    done = subprocess.run(  # noqa: S603 - our own arguments
        [sys.executable, "-c", UNREACHABLE_DATABASE_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("call", ["api_list", "api_send"])
def test_the_api_answers_json_503_when_postgresql_is_unreachable(
    answers_without_a_database: dict[str, dict[str, Any]], call: str
) -> None:
    answer = answers_without_a_database[call]

    assert answer["status"] == 503
    assert answer["type"] == "application/json"
    assert json.loads(answer["body"])["code"] == "unavailable"
    assert answer["retry_after"] == "30"


def test_a_page_answers_the_503_page_when_postgresql_is_unreachable(
    answers_without_a_database: dict[str, dict[str, Any]],
) -> None:
    answer = answers_without_a_database["page"]

    assert answer["status"] == 503
    assert answer["type"].startswith("text/html")
    assert "Briefly unavailable" in answer["body"]
    assert answer["retry_after"] == "30"


def test_the_503_page_is_styled_and_reads_nothing_from_the_database(
    plain_static_storage: None,
) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("the 503 page queried the database")

    with connection.execute_wrapper(refuse):
        answer = database_unavailable(RequestFactory().get("/teams/"))

    page = answer.content.decode()
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    assert "pico.min.css" in page
    assert "try again in 30 seconds" in page
