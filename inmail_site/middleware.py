"""Middleware of the site as a whole."""

from __future__ import annotations

from collections.abc import Callable

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
