"""The API's throttles on Redis: DRF's rule (at most N requests in any rolling window) kept as
a sorted set by one script, so that it costs one round trip whatever the rate, and two requests
at once can't both take the last place (ledger/api/throttles.py).

Everything runs on a Redis of the test's own (`own_redis`), the app's cache.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import time_machine

from ledger.api.throttles import WriteThrottle
from tests.redis_server import RedisServer

pytestmark = pytest.mark.redis

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def writes_per_minute(settings: Any, writes: int) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "1000/min", "writes": f"{writes}/min"},
    }


@pytest.fixture
def rate(own_redis: RedisServer, settings: Any) -> RedisServer:
    writes_per_minute(settings, 3)
    return own_redis


def a_write(user_id: int = 7) -> Any:
    """What the write throttle reads of a request: its method and its signed-in user."""
    return SimpleNamespace(method="POST", user=SimpleNamespace(pk=user_id, is_authenticated=True))


def attempt(user_id: int = 7) -> tuple[bool, WriteThrottle]:
    throttle = WriteThrottle()
    return throttle.allow_request(a_write(user_id), None), throttle


def test_writes_beyond_the_rate_are_refused_with_the_wait_drf_gives(rate: RedisServer) -> None:
    with time_machine.travel(START, tick=False) as clock:
        assert attempt()[0]
        clock.shift(timedelta(seconds=4))
        assert attempt()[0]
        assert attempt()[0]
        clock.shift(timedelta(seconds=6))

        allowed, refused = attempt()

    assert not allowed
    # DRF: (duration - age of the oldest request) / (limit - requests in the window + 1).
    assert refused.wait() == pytest.approx(60 - 10)
    assert attempt(user_id=8)[0], "another user has a window of their own"


def test_a_place_frees_up_when_the_oldest_request_leaves_the_window(rate: RedisServer) -> None:
    with time_machine.travel(START, tick=False) as clock:
        assert attempt()[0]
        clock.shift(timedelta(seconds=30))
        assert attempt()[0]
        assert attempt()[0]

        clock.move_to(START + timedelta(seconds=59.9))
        assert not attempt()[0]
        clock.move_to(START + timedelta(seconds=60))  # the first is a full minute old
        assert attempt()[0]
        assert not attempt()[0]  # one place, taken
        clock.move_to(START + timedelta(seconds=90))  # the two at 30 s leave
        assert attempt()[0]
        assert attempt()[0]
        assert not attempt()[0]


def test_the_window_is_a_sorted_set_in_redis_that_expires(rate: RedisServer) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt()

    client = redis.Redis.from_url(rate.url)
    (key,) = client.keys("*throttle_window_writes_7")
    assert client.type(key) == b"zset"
    assert client.zcard(key) == 3, "a refused request takes no place"
    assert 0 < client.ttl(key) <= 60


def test_requests_at_once_never_take_more_places_than_the_rate(rate: RedisServer) -> None:
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: attempt(user_id=9)[0], range(24)))

    assert answers.count(True) == 3


def test_with_redis_away_writes_go_through(rate: RedisServer) -> None:
    for _ in range(3):
        assert attempt()[0]
    assert not attempt()[0]

    rate.stop()

    assert attempt()[0], "throttles fail open"


def test_a_key_left_by_drfs_list_is_replaced_not_an_error(rate: RedisServer) -> None:
    client = redis.Redis.from_url(rate.url)
    attempt()
    (key,) = client.keys("*throttle_window_writes_7")
    client.delete(key)
    client.set(key, b"a pickled list")  # what another kind of throttle left under the name

    assert attempt()[0]
    assert client.type(key) == b"zset"
    assert client.zcard(key) == 1


def test_a_rate_of_none_refuses_with_a_whole_window_to_wait(
    own_redis: RedisServer, settings: Any
) -> None:
    writes_per_minute(settings, 0)
    with time_machine.travel(START, tick=False):
        allowed, refused = attempt()

    assert not allowed
    assert refused.wait() == pytest.approx(60)
