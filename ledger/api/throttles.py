"""Throttles: password guessing on the token endpoint, and writes per user.

Rates are read on every request (not frozen at import as DRF's base class does), so settings
and tests can change them.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _CurrentRate:
    scope: str

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate is None else str(rate)


class TokenThrottle(_CurrentRate, AnonRateThrottle):
    """Per client address, signed in or not."""

    scope = "auth_token"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WriteThrottle(_CurrentRate, UserRateThrottle):
    """Per user (per address when anonymous), counting only writes."""

    scope = "writes"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
