"""Middleware of the site as a whole."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase, HttpResponsePermanentRedirect
from django.http.request import split_domain_port
from django.middleware.security import SecurityMiddleware as DjangoSecurityMiddleware

from inmail_site.views import healthz

HEALTH_CHECK_PATH = "/healthz"


class HealthCheckMiddleware:
    """Answers `/healthz` before any other middleware sees the request.

    A load balancer probes each backend by its address (`http://10.1.2.3/healthz`) or as
    `localhost`, over plain http. Further in, CommonMiddleware would refuse that Host with a
    400 and a `DisallowedHost` error in the log, and SecurityMiddleware could redirect it to
    https; both checks are right for people and wrong for the probe. The answer itself is the
    `healthz` view's (the database answers or not), and never depends on the Host.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info == HEALTH_CHECK_PATH:
            return healthz(request)
        return self.get_response(request)


#: Host names that never leave the machine: plain http to them crosses no network. `testserver`
#: is Django's in-process test client.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})


def is_loopback(request: HttpRequest) -> bool:
    """Whether the request named a loopback host (127.0.0.0/8, ::1, localhost)."""
    host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    name = split_domain_port(host)[0].strip("[]")
    return name in LOOPBACK_HOSTS or name.startswith("127.")


class SecurityMiddleware(DjangoSecurityMiddleware):
    """Django's SecurityMiddleware, except that plain http to a loopback address is served, not
    redirected to https.

    With only DEBUG=0 the site redirects http to https (SECURE_SSL_REDIRECT), as it should for
    anything that crosses a network. A request to 127.0.0.1 or localhost doesn't: it is a local
    tool, a benchmark or a sidecar on the same machine, for which the redirect only breaks the
    call (there is no certificate on loopback). Every other header (nosniff, referrer
    policy, COOP; HSTS goes with https only) is still set, and any other host is redirected as
    before. Django's deploy check looks for its own class by name (security.W001), so settings
    silence that one check.
    """

    def process_request(self, request: HttpRequest) -> HttpResponsePermanentRedirect | None:
        if is_loopback(request):
            return None
        return super().process_request(request)


#: What a view sets on its response to change the policy for that response (django-csp's
#: decorators `csp`, `csp_update`, `csp_replace`, `csp_exempt`, each with its report-only twin).
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, with the site's policy built once instead of per response.

    django-csp builds the header from settings on every response (a dataclass turned into a
    dict, the directives copied and sorted): 3 % of an API send's CPU (bench/RESULTS.md, "Send
    throughput"). A response that carries a policy of its own (a decorated view) or a
    request that used a nonce goes through django-csp as before; every other response gets the
    same header, built the same way, once per setting.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _OWN_POLICY
        ):
            return super().process_response(request, response)
        return self._default_headers(request, response)

    def _default_headers(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        # django-csp's own steps (CSPMiddleware.process_response, django-csp 4.0), with the
        # header from the cache; django-csp's tests of them are ours in tests/site.
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        for header, report_only in ((HEADER, False), (HEADER_REPORT_ONLY, True)):
            value, excluded = _site_policy(report_only)
            if value and header not in response and not request.path_info.startswith(excluded):
                response[header] = value
        request.csp_nonce = csp_middleware.CheckableLazyObject(  # type: ignore[attr-defined]
            self._csp_nonce_post_response
        )
        return response


@cache
def _site_policy(report_only: bool) -> tuple[str, tuple[str, ...]]:
    """The header django-csp builds from settings for a response without a policy of its own
    and without a nonce, and the path prefixes its setting excludes."""
    setting: dict[str, Any] = (
        getattr(
            settings,
            "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY",
            None,
        )
        or {}
    )
    excluded = tuple(setting.get("EXCLUDE_URL_PREFIXES") or ())
    return build_policy(report_only=report_only), excluded


@receiver(setting_changed)
def _forget_site_policy(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policy.cache_clear()
