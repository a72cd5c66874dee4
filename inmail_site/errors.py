"""Answers when something is missing or broken: JSON under `/api/`, pages elsewhere.

- A path nobody serves: under `/api/` a JSON 404 like the API's own (any path, even one with a
  newline that no URL pattern can match), a page elsewhere.
- The database away (PostgreSQL down, restarting, or a connection killed): 503 with
  `Retry-After`, as `{"code": "unavailable", "detail": ...}` under `/api/` and as a page of its
  own elsewhere. That page reads nothing from the database, so it renders during the outage.
- Any other unexpected error: a JSON 500 under `/api/` (pages keep Django's 500).

The database case is caught in three places, each for what the others can't see: the API's
exception handler (DRF views), `DatabaseUnavailableMiddleware` (page views) and `server_error`
(an error raised by a middleware, e.g. while saving the session).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

#: The errors that mean "the database could not do it now", as opposed to a query it refused:
#: unreachable, restarting, a killed connection, but also a deadlock, a serialization failure or
#: a statement timeout (psycopg raises those as OperationalError too). Retrying is right for all.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE_DETAIL = (
    "The service is briefly unavailable (its database is unreachable or busy); nothing was "
    "changed; retry."
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def is_database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE_ERRORS)


UNAVAILABLE_BODY = {"code": "unavailable", "detail": UNAVAILABLE_DETAIL}


def retry_after() -> str:
    return str(settings.UNAVAILABLE_RETRY_AFTER_SECONDS)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a plain page (no database needed) for people."""
    response: HttpResponse
    if is_api(request):
        response = JsonResponse(UNAVAILABLE_BODY, status=503)
    else:
        response = HttpResponse(_unavailable_page(), status=503)
    response["Retry-After"] = retry_after()
    response["Cache-Control"] = "no-store"
    return response


# What the 503 page says if even it can't render (say, static files not collected): an error
# page must never fail in turn.
_PLAIN_UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Briefly unavailable'
    "</title></head><body><main><h1>Briefly unavailable</h1><p>The ledger can't use its "
    "database right now, so nothing was read or changed. Try again shortly.</p></main>"
    "</body></html>"
)


def _unavailable_page() -> str:
    try:
        return loader.get_template("503.html").render({"retry_after": retry_after()})
    except Exception:  # any failure to render: the plain page still answers
        logger.exception("The 503 page could not be rendered; answering the plain one")
        return _PLAIN_UNAVAILABLE_PAGE


class DatabaseUnavailableMiddleware:
    """Turns a page view's database outage into the 503 page instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.error(
            "Database unreachable or busy during %s %s: %s", request.method, request.path, exception
        )
        return database_unavailable(request)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        return database_unavailable(request)
    if is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": "Something went wrong on our side; it was logged."},
            status=500,
        )
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return defaults.permission_denied(request, exception)
