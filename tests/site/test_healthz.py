"""/healthz answers a load balancer however it names the host and whatever the scheme."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hosts(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.usefixtures("production_hosts")
@pytest.mark.parametrize("host", ["10.1.2.3", "10.1.2.3:8000", "localhost", "[::1]:8000"])
def test_a_probe_by_address_or_localhost_over_http_is_ok_and_logs_nothing(
    client: Client, caplog: pytest.LogCaptureFixture, host: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        answer = client.get("/healthz", headers={"host": host})

    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.usefixtures("production_hosts")
def test_any_other_page_still_refuses_a_host_outside_allowed_hosts(client: Client) -> None:
    assert client.get("/accounts/login/", headers={"host": "10.1.2.3"}).status_code == 400


@pytest.mark.usefixtures("production_hosts")
def test_any_other_page_over_http_is_redirected_to_https(client: Client) -> None:
    answer = client.get("/accounts/login/", headers={"host": "example.com"})

    assert answer.status_code == 301
    assert answer["Location"] == "https://example.com/accounts/login/"


@pytest.mark.usefixtures("production_hosts")
def test_the_probe_still_only_reads(client: Client) -> None:
    assert client.post("/healthz", headers={"host": "10.1.2.3"}).status_code == 405


@pytest.mark.usefixtures("production_hosts", "plain_static_storage")
@pytest.mark.parametrize("host", ["127.0.0.1:8931", "localhost", "[::1]:8000", "testserver"])
def test_plain_http_on_loopback_is_served_not_redirected(
    client: Client, settings: Any, host: str
) -> None:
    settings.ALLOWED_HOSTS = ["example.com", "127.0.0.1", "localhost", "[::1]", "testserver"]

    answer = client.get("/accounts/login/", headers={"host": host})

    assert answer.status_code == 200
    assert answer["X-Content-Type-Options"] == "nosniff"


@pytest.mark.usefixtures("production_hosts")
def test_a_host_that_only_starts_like_loopback_is_still_redirected(
    client: Client, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["localhost.example.com"]

    answer = client.get("/accounts/login/", headers={"host": "localhost.example.com"})

    assert answer.status_code == 301
