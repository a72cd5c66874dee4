"""Throttles: password guessing on the token endpoint, and writes per user.

Rates are read on every request (not frozen at import as DRF's base class does), so settings
and tests can change them.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from inmail_site.views import client_ip


class _CurrentRate:
    scope: str

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate is None else str(rate)

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
