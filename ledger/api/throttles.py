"""Throttles: password guessing on the token endpoint, and writes per user.

Rates are read on every request (not frozen at import as DRF's base class does), so settings
and tests can change them.

The rule is DRF's: at most N requests in any `duration` (a sliding window). DRF keeps a
client's request times as one list in the cache, read and written back whole on every request:
with a high rate (an integration allowed thousands a minute) that is thousands of floats
pickled twice a request, a fifth of a send's time in the benchmark, and two requests at once
can both take the last free place. On Redis the window is a sorted set of request times that
one script trims, counts and adds to: the same rule, one round trip, and atomic. With any other
cache (the embedded default) DRF's own list does it; with Redis away both let requests through
(inmail_site/cache.py).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from inmail_site.views import client_ip

# KEYS[1] the client's window; ARGV: now, duration (s), limit, a member unique to this request.
# Answers {1 if taken else 0, requests in the window, the oldest one's time (text)}.
SLIDING_WINDOW = """
local key, now, duration, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('TYPE', key).ok ~= 'zset' then redis.call('DEL', key) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, count, oldest[2] or ARGV[1]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('EXPIRE', key, math.ceil(duration))
return {1, count + 1, '0'}
"""


class _CurrentRate:
    scope: str
    # Not DRF's key: a process still running DRF's list (a rolling deploy) keeps to its own.
    cache_format = "throttle_window_%(scope)s_%(ident)s"
    # What the window held when this request was refused: (requests, the oldest's time).
    _refused: tuple[int, float] | None = None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate is None else str(rate)

    def allow_request(self, request: Request, view: Any) -> bool:
        run_script = getattr(cache, "run_script", None)
        if run_script is None:  # not Redis: DRF's list in the cache
            return bool(super().allow_request(request, view))  # type: ignore[misc]
        throttle: Any = self
        if throttle.rate is None:
            return True
        throttle.key = throttle.get_cache_key(request, view)
        if throttle.key is None:
            return True
        throttle.now = throttle.timer()
        member = f"{throttle.now!r}:{os.urandom(6).hex()}"
        limits = [repr(throttle.now), throttle.duration, throttle.num_requests, member]
        answer = run_script(SLIDING_WINDOW, [throttle.key], limits)
        if answer is None:
            return True  # Redis away: fail open
        taken, count, oldest = answer
        if taken:
            return True
        self._refused = (int(count), float(oldest))
        return False

    def wait(self) -> float | None:
        """Seconds until a place frees up in the window, as DRF works it out."""
        if self._refused is None:
            return super().wait()  # type: ignore[misc,no-any-return]
        throttle: Any = self
        count, oldest = self._refused
        remaining = throttle.duration - (throttle.now - oldest)
        available = throttle.num_requests - count + 1
        if available <= 0:
            return None
        return float(remaining / available)

    def get_ident(self, request: Request) -> str:
        # The address django-axes counts lockouts against: a forged X-Forwarded-For can't
        # give a client a fresh allowance.
        return client_ip(request) or ""


class TokenThrottle(_CurrentRate, AnonRateThrottle):
    """Per client address, signed in or not."""

    scope = "auth_token"


class WriteThrottle(_CurrentRate, UserRateThrottle):
    """Per user (per address when anonymous), counting only writes."""

    scope = "writes"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
