"""Every answer carries a strict Content-Security-Policy and a Permissions-Policy; the API docs
page widens the policy for itself only."""

from __future__ import annotations

import pytest
from csp.constants import NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import Client, RequestFactory
from pytest_django import Settings

from inmail_site.middleware import CSPMiddleware

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def directives(header: str) -> dict[str, str]:
    """`default-src 'self'; img-src 'self' data:` as {"default-src": "'self'", ...}."""
    parts = (part.strip().partition(" ") for part in header.split(";"))
    return {name: value for name, _, value in parts if name}


def test_a_page_gets_a_strict_policy(client: Client) -> None:
    answer = client.get("/accounts/login/")
    policy = directives(answer["Content-Security-Policy"])

    assert answer.status_code == 200
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert "unsafe" not in answer["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/plans/", "/api/docs/"])
def test_every_answer_denies_devices_and_payments(client: Client, path: str) -> None:
    features = dict(
        item.strip().split("=", 1) for item in client.get(path)["Permissions-Policy"].split(",")
    )

    assert {feature: features[feature] for feature in DENIED_FEATURES} == dict.fromkeys(
        DENIED_FEATURES, "()"
    )


def test_an_api_answer_gets_the_same_policy(client: Client) -> None:
    answer = client.get("/api/v1/plans/")

    assert answer.status_code == 401
    assert directives(answer["Content-Security-Policy"])["script-src"] == "'self'"
    assert answer["Referrer-Policy"] == "same-origin"
    assert answer["X-Content-Type-Options"] == "nosniff"


def test_the_api_docs_allow_inline_styles_but_still_no_inline_script(client: Client) -> None:
    answer = client.get("/api/docs/")
    policy = directives(answer["Content-Security-Policy"])

    assert answer.status_code == 200
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'none'"


def test_hsts_is_sent_over_https(client: Client) -> None:
    answer = client.get("/accounts/login/", secure=True)

    assert answer["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def django_csp_header(report_only: bool = False) -> str:
    """The header django-csp itself builds from the settings of the moment."""
    return build_policy(report_only=report_only)


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/plans/", "/no-such-page/"])
def test_the_header_built_once_is_django_csps(client: Client, path: str) -> None:
    answers = [client.get(path) for _ in range(2)]

    assert [a["Content-Security-Policy"] for a in answers] == [django_csp_header()] * 2
    assert all("Content-Security-Policy-Report-Only" not in a for a in answers)


def test_a_changed_setting_changes_the_header(client: Client, settings: Settings) -> None:
    client.get("/accounts/login/")  # the header of the first setting, remembered
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "img-src": ["https://img.example"]}
    }
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"script-src": ["'none'"]},
        "EXCLUDE_URL_PREFIXES": ["/api/"],
    }

    page, api = client.get("/accounts/login/"), client.get("/api/v1/plans/")

    assert directives(page["Content-Security-Policy"]) == {
        "default-src": "'self'",
        "img-src": "https://img.example",
    }
    assert page["Content-Security-Policy-Report-Only"] == django_csp_header(report_only=True)
    assert "script-src 'none'" in page["Content-Security-Policy-Report-Only"]
    assert api["Content-Security-Policy"] == page["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in api  # its prefix is excluded


def test_a_nonce_used_by_a_page_still_reaches_the_header(
    rf: RequestFactory, settings: Settings
) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}
    request = rf.get("/accounts/login/")
    middleware = CSPMiddleware(lambda r: HttpResponse(str(r.csp_nonce)))

    answer = middleware(request)

    assert isinstance(answer, HttpResponse)
    nonce = answer.content.decode()
    assert f"'nonce-{nonce}'" in directives(answer["Content-Security-Policy"])["script-src"]


def test_a_nonce_asked_for_after_the_header_is_an_error(rf: RequestFactory) -> None:
    request = rf.get("/api/v1/plans/")
    CSPMiddleware(lambda r: HttpResponse("{}"))(request)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]
