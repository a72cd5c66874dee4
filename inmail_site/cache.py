"""A Redis cache that fails open: Redis away never fails a request.

The cache holds only what can be lost — the API's throttle counters — so when Redis does not
answer, a read is a miss and a write is dropped: throttles let requests through (fail open)
rather than turning every write into a 500. Each failure is logged (once per outage, not per
request) and counted in `outage_count`, which `/healthz` reports.

A failed call also opens a short breaker: for `BREAKER_SECONDS` the cache does not try Redis
at all, so a Redis that hangs (a dropped network rather than a refused connection) costs the
requests of an outage one connect timeout, not one each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError, ResponseError

logger = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0

T = TypeVar("T")


class _Breaker:
    """Shared by every cache object of the process (Django makes one per thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_until = 0.0
        self.down = False
        self.failures = 0
        self.outages = 0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self, error: Exception) -> None:
        with self.lock:
            self.failures += 1
            self.open_until = time.monotonic() + BREAKER_SECONDS
            if not self.down:
                self.down = True
                self.outages += 1
                logger.warning(
                    "Cache (Redis) unavailable, throttles fail open until it is back: %s", error
                )

    def succeeded(self) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    self.down = False
                    # Another thread's call got through: Redis answers, so calls go to it again
                    # (else `down` would say up while `allows()` still said no).
                    self.open_until = 0.0
                    logger.warning("Cache (Redis) is back after %d failed calls", self.failures)


breaker = _Breaker()


def cache_status() -> dict[str, Any]:
    """What `/healthz` says of the cache: up or down, and how often it failed."""
    return {"cache": "down" if breaker.down else "ok", "cache_failures": breaker.failures}


class _ReusedClients(RedisCacheClient):
    """Django's client makes a `redis.Redis` object on every call (a third of a millisecond
    each, two to three per API request); one per connection pool does the same work."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, with every call answering its "nothing there" value on failure."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClients

    def _guard(self, call: Callable[[], T], fallback: T) -> T:
        if not breaker.allows():
            return fallback
        try:
            answer = call()
        except RedisError as error:
            breaker.failed(error)
            return fallback
        breaker.succeeded()
        return answer

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guard(
            lambda: super(FailOpenRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._guard(lambda: super(FailOpenRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(FailOpenRedisCache, self).has_key(key, version), False)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._guard(
            lambda: super(FailOpenRedisCache, self).add(key, value, timeout, version), False
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._guard(lambda: super(FailOpenRedisCache, self).set(key, value, timeout, version), None)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._guard(
            lambda: super(FailOpenRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard(
            lambda: super(FailOpenRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(FailOpenRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._guard(lambda: super(FailOpenRedisCache, self).delete_many(keys, version), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A missing key raises ValueError in Django's API; Redis away is not that case, and a
        # counter that can't count reads as its first step.
        return self._guard(lambda: super(FailOpenRedisCache, self).incr(key, delta, version), delta)

    def clear(self) -> None:
        self._guard(lambda: super(FailOpenRedisCache, self).clear(), None)

    def run_script(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script on the cache's Redis, its keys named as the cache names keys
        (prefix, version); None when Redis does not answer, like every call here. A script
        that Redis ran and that failed (a key of another type) is logged and answers None too,
        without taking Redis for down."""
        names = [self.make_and_validate_key(key) for key in keys]

        def call() -> Any:
            client = self._cache.get_client(names[0], write=True)  # type: ignore[attr-defined]
            try:
                return client.eval(script, len(names), *names, *args)
            except ResponseError:
                logger.warning("A cache script failed on %s", names[0], exc_info=True)
                return None

        return self._guard(call, None)

    def add_or_unknown(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool | None:
        """`add`, telling "Redis did not answer" (None) from "the key was there" (False)."""
        return self._guard(lambda: super(FailOpenRedisCache, self).add(key, value, timeout), None)

    def delete_or_unknown(self, key: Any) -> bool | None:
        """`delete`, telling "Redis did not answer" (None) from "there was no key" (False)."""
        return self._guard(lambda: super(FailOpenRedisCache, self).delete(key), None)
