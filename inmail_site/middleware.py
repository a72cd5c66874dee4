"""Middleware of the site as a whole."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

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
