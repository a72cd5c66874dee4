"""The alert pass a send queues: one job per seat waiting in the queue, never a write unseen.

A send publishes its seat's alert pass after commit (ledger/queue.py). A burst of sends from
one seat used to publish one job per send, each scanning the same lots; now a claim in the
cache marks the job that is waiting, later sends leave it at that, and the job drops the claim
first thing when it starts, so a send that commits after it has started publishes its own.

Everything runs on a real Redis of the test's own (`own_redis`): the cache that holds the
claim and the Celery broker whose queue is counted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import redis
import time_machine

from inmail_site import cache as fail_open
from ledger.models import AlertKind, Notification
from ledger.queue import SEND_ALERTS, _claim_key
from ledger.tasks import send_alerts
from teams.models import Seat, Team, User
from tests.ledger.helpers import new_team, person, seat_on, send, utc
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

START = utc(2025, 3, 10, 9)
QUEUE = "celery"  # the default queue every task here goes to

Committed = Callable[..., Any]


@pytest.fixture
def coalescing(own_redis: RedisServer, settings: Any, clock: time_machine.Traveller) -> RedisServer:
    settings.LEDGER_COALESCE_TASKS = True
    return own_redis


@pytest.fixture
def team(db: None) -> Team:
    return new_team("Talent North")


@pytest.fixture
def holder(db: None) -> User:
    return person("holder")


def messages(server: RedisServer) -> list[dict[str, Any]]:
    """The headers of the messages waiting in the broker's queue, oldest first."""
    raw = redis.Redis.from_url(server.url).lrange(QUEUE, 0, -1)
    return [json.loads(message)["headers"] for message in reversed(raw)]


def queued(server: RedisServer) -> list[str]:
    """The task names of the messages waiting in the broker's queue, oldest first."""
    return [headers["task"] for headers in messages(server)]


def send_committed(
    capture: Committed, seat: Seat, recipient: str, *, open_profile: bool = False
) -> None:
    """One send in its own transaction, its after-commit work run (the publish)."""
    with capture(execute=True):
        send(seat, recipient, open_profile=open_profile)


def test_a_burst_of_sends_from_one_seat_queues_one_alert_pass(
    coalescing: RedisServer, django_capture_on_commit_callbacks: Committed, team: Team, holder: User
) -> None:
    seat = seat_on("premium_business", holder=holder, team=team)

    for n in range(3):
        send_committed(django_capture_on_commit_callbacks, seat, f"linkedin.com/in/burst-{n}")

    assert queued(coalescing) == [SEND_ALERTS]


def test_a_send_after_the_pass_started_queues_a_pass_of_its_own(
    coalescing: RedisServer, django_capture_on_commit_callbacks: Committed, team: Team, holder: User
) -> None:
    seat = seat_on("premium_business", holder=holder, team=team)
    send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/first")
    assert queued(coalescing) == [SEND_ALERTS]

    send_alerts(seat_id=seat.pk)  # the worker runs the waiting pass
    send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/second")

    assert queued(coalescing) == [SEND_ALERTS, SEND_ALERTS]


def test_each_seat_has_a_pass_of_its_own(
    coalescing: RedisServer, django_capture_on_commit_callbacks: Committed, team: Team, holder: User
) -> None:
    first = seat_on("premium_business", holder=holder, team=team)
    second = seat_on("premium_business", holder=person("other-holder"), team=team)

    for n, seat in enumerate((first, second, first, second)):
        send_committed(django_capture_on_commit_callbacks, seat, f"linkedin.com/in/each-{n}")

    assert [(h["task"], h["kwargsrepr"]) for h in messages(coalescing)] == [
        (SEND_ALERTS, f"{{'seat_id': {first.pk}}}"),
        (SEND_ALERTS, f"{{'seat_id': {second.pk}}}"),
    ]


def test_the_waiting_pass_sees_the_sends_that_joined_it(
    coalescing: RedisServer, django_capture_on_commit_callbacks: Committed, team: Team, holder: User
) -> None:
    """Premium Business grants 15: the fifth send leaves 10 (not below 10), the sixth 9.

    The fifth send's pass is waiting when the sixth commits, so the sixth queues nothing; the
    waiting pass, when it runs, warns of the 9 the sixth send left."""
    seat = seat_on("premium_business", holder=holder, team=team)
    for n in range(5):
        send_committed(django_capture_on_commit_callbacks, seat, f"linkedin.com/in/member-{n}")
    send_alerts(seat_id=seat.pk)
    assert not Notification.objects.filter(kind=AlertKind.LOW_BALANCE).exists()
    assert queued(coalescing) == [SEND_ALERTS]  # the pass of the first send, run just now

    send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/sixth-a")
    assert queued(coalescing) == [SEND_ALERTS, SEND_ALERTS]
    send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/sixth-b")
    assert queued(coalescing) == [SEND_ALERTS, SEND_ALERTS]  # joined the waiting pass

    send_alerts(seat_id=seat.pk)

    warning = Notification.objects.get(kind=AlertKind.LOW_BALANCE)
    assert warning.title == "8 credits left on your Premium Business seat"
    assert warning.seat == seat


def test_a_failed_publish_leaves_no_claim_so_the_next_send_tries_again(
    coalescing: RedisServer,
    django_capture_on_commit_callbacks: Committed,
    team: Team,
    holder: User,
    broker_down: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seat = seat_on("premium_business", holder=holder, team=team)

    with caplog.at_level(logging.WARNING, logger="ledger.queue"):
        send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/first")
        send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/second")

    failures = [r for r in caplog.records if r.getMessage().startswith("Could not publish")]
    assert len(failures) == 2  # each send tried, none was left waiting on a lost job
    assert not redis.Redis.from_url(coalescing.url).keys(f"*{_claim_key(SEND_ALERTS, '*')}")


def test_a_claim_of_a_job_that_never_started_runs_out(
    coalescing: RedisServer, django_capture_on_commit_callbacks: Committed, team: Team, holder: User
) -> None:
    seat = seat_on("premium_business", holder=holder, team=team)
    send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/first")
    client = redis.Redis.from_url(coalescing.url)
    (claim,) = client.keys(f"*{_claim_key(SEND_ALERTS, f'seat:{seat.pk}')}")

    assert 0 < client.ttl(claim) <= 300


def test_without_coalescing_every_send_queues_its_pass(
    own_redis: RedisServer,
    settings: Any,
    django_capture_on_commit_callbacks: Committed,
    team: Team,
    holder: User,
    clock: time_machine.Traveller,
) -> None:
    settings.LEDGER_COALESCE_TASKS = False
    seat = seat_on("premium_business", holder=holder, team=team)

    for n in range(3):
        send_committed(django_capture_on_commit_callbacks, seat, f"linkedin.com/in/each-{n}")

    assert queued(own_redis) == [SEND_ALERTS] * 3


def test_a_free_send_queues_no_pass(
    coalescing: RedisServer, django_capture_on_commit_callbacks: Committed, team: Team, holder: User
) -> None:
    seat = seat_on("premium_business", holder=holder, team=team)

    send_committed(
        django_capture_on_commit_callbacks, seat, "linkedin.com/in/open", open_profile=True
    )

    assert queued(coalescing) == []


def test_with_redis_away_every_send_tries_to_publish(
    coalescing: RedisServer,
    django_capture_on_commit_callbacks: Committed,
    team: Team,
    holder: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No answer from Redis is not a claim: the send publishes (here into the same stopped
    Redis, so the publish fails and is logged), as it would without coalescing."""
    seat = seat_on("premium_business", holder=holder, team=team)
    coalescing.stop()

    with caplog.at_level(logging.WARNING, logger="ledger.queue"):
        send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/first")
        send_committed(django_capture_on_commit_callbacks, seat, "linkedin.com/in/second")

    failures = [r for r in caplog.records if r.getMessage().startswith("Could not publish")]
    assert len(failures) == 2


def test_a_call_that_got_through_closes_the_breaker_for_every_thread() -> None:
    """One thread's failure opens the breaker for a few seconds; another thread's call that
    got through says Redis answers: from then on calls go to it (a claim is read again)."""
    fail_open.breaker.failed(redis.ConnectionError("refused"))
    assert not fail_open.breaker.allows()

    fail_open.breaker.succeeded()

    assert fail_open.breaker.allows()
    assert not fail_open.breaker.down
