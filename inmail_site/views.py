"""Site-wide endpoints that belong to no app."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from inmail_site.cache import cache_status

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and orchestrators: the process answers and the database too.

    The cache (Redis) is reported but does not fail the check: without it throttles fail open
    and every request is still served (inmail_site/cache.py).
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("health check: the database did not answer: %s", error)
        return JsonResponse({"status": "unavailable", **cache_status()}, status=503)
    return JsonResponse({"status": "ok", **cache_status()})


def lockout(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: JSON for the API, a page for people."""
    detail = "Too many failed sign-ins for this user; try again later."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=429)
    return render(request, "registration/locked_out.html", status=429)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as django-axes should see it: the same rule as the API throttles.

    Behind `NUM_PROXIES` reverse proxies the client is the address that many hops back in
    X-Forwarded-For; with none, the address of the connection. A forged header can't move a
    lockout off the real client, because only the proxies' own additions are trusted.
    """
    proxies: int | None = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    forwarded: str | None = request.META.get("HTTP_X_FORWARDED_FOR")
    remote: str | None = request.META.get("REMOTE_ADDR")
    if forwarded and proxies:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return remote
