"""Every answer carries a strict Content-Security-Policy and a Permissions-Policy; the API docs
page widens the policy for itself only."""

from __future__ import annotations

import pytest
from django.test import Client

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
