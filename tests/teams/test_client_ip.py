"""The client address that lockouts and throttles count against."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from pytest_django import Settings

from inmail_site.views import client_ip


def _with_proxies(settings: Settings, proxies: int | None) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (None, {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}, "10.0.0.5"),
        (
            1,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"},
            "203.0.113.9",
        ),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.4"},
            "203.0.113.9",
        ),
        (1, {"REMOTE_ADDR": "10.0.0.5"}, "10.0.0.5"),
    ],
)
def test_only_the_trusted_proxies_hops_are_believed(
    settings: Settings, proxies: int | None, meta: dict[str, Any], expected: str
) -> None:
    _with_proxies(settings, proxies)
    request = RequestFactory().get("/", **meta)

    assert client_ip(request) == expected
