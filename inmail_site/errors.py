"""Answers when something is missing or broken: JSON under `/api/`, pages elsewhere.

- A path nobody serves, or an object the user may not see: under `/api/` a JSON 404 like the
  API's own (any path, even one with a newline that no URL pattern can match), elsewhere the
  404 page with the navigation (so do 400 and 403).
- The database away (PostgreSQL down, restarting, or a connection killed): 503 with
  `Retry-After`, as `{"code": "unavailable", "detail": ...}` under `/api/` and as a page of its
  own elsewhere. That page reads nothing from the database, so it renders during the outage.
- Any other unexpected error: a JSON 500 under `/api/`, elsewhere the 500 page, which like the
  503 page reads neither the database nor the request.

An error page never fails in turn: if its template can't render, a plain page answers.

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
from django.shortcuts import render
from django.template import loader

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


def _plain_page(title: str, sentence: str) -> str:
    """What an error page says if even its template can't render (say, static files not
    collected): an error page must never fail in turn."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><main><h1>{title}</h1><p>{sentence}</p></main></body></html>"
    )


_PLAIN_UNAVAILABLE_PAGE = _plain_page(
    "Briefly unavailable",
    "The ledger can't use its database right now, so nothing was read or changed. "
    "Try again shortly.",
)
_PLAIN_SERVER_ERROR_PAGE = _plain_page(
    "Something went wrong",
    "The ledger hit an unexpected error on our side; it was logged.",
)


def _standalone_page(template_name: str, context: dict[str, object], plain: str) -> str:
    """A page rendered without the request (no user, no context processors, no database)."""
    try:
        return loader.get_template(template_name).render(context)
    except Exception:  # any failure to render: the plain page still answers
        logger.exception(
            "The page %s could not be rendered; answering the plain one", template_name
        )
        return plain


def _unavailable_page() -> str:
    return _standalone_page("503.html", {"retry_after": retry_after()}, _PLAIN_UNAVAILABLE_PAGE)


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


#: The pages of 400, 403 and 404 (each extends base.html, so a signed-in user keeps the
#: navigation), with what each says if its template can't render.
_ERROR_PAGES = {
    400: ("400.html", "Bad request", "The request couldn't be read, so nothing was changed."),
    403: ("403.html", "Not allowed", "Your account may not do this, so nothing was changed."),
    404: ("404.html", "Page not found", "There is nothing here that you can see."),
    405: (
        "405.html",
        "Not available this way",
        "This address only takes a form sent from its page; nothing was changed.",
    ),
}


def _error_page(request: HttpRequest, status: int) -> HttpResponse:
    template_name, title, sentence = _ERROR_PAGES[status]
    try:
        # With the request: the navigation reads the user (and so the session and database).
        return render(request, template_name, status=status)
    except UNAVAILABLE_ERRORS:
        return database_unavailable(request)
    except Exception:  # any failure to render: the plain page still answers
        logger.exception("The %s page could not be rendered; answering the plain one", status)
        return HttpResponse(_plain_page(title, sentence), status=status)


class MethodNotAllowedPageMiddleware:
    """Gives a page's bare 405 the 405 page.

    `require_POST` and its kin answer a wrong method with an empty body, which a browser shows
    as a blank page; a person who opened a form's address directly gets the page with the
    navigation instead. The `Allow` header is kept. The API's 405s are DRF's JSON and pass.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or is_api(request) or response.content:
            return response
        page = _error_page(request, 405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return _error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        return database_unavailable(request)
    if is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": "Something went wrong on our side; it was logged."},
            status=500,
        )
    return HttpResponse(_standalone_page("500.html", {}, _PLAIN_SERVER_ERROR_PAGE), status=500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return _error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return _error_page(request, 403)
