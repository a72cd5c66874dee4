"""R23: the outbox survives a broker outage; eager Celery delivers at commit; URL checks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.db import transaction

from inmail_site.celery import app as celery_app
from ledger.exceptions import LedgerValidationError
from ledger.models import WebhookDelivery, WebhookEvent
from ledger.tasks import deliver_webhooks
from ledger.webhooks.endpoints import webhook_endpoint_create
from ledger.webhooks.hosts import UnsafeURL, check_url
from tests.conftest import forget_broker_connections
from tests.ledger.helpers import seat_on, send
from tests.webhooks.receiver import Receiver

START = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def eager(settings: Any) -> Iterator[None]:
    settings.LEDGER_PUBLISH_TASKS = True
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    forget_broker_connections()
    yield
    celery_app.conf.task_always_eager = saved


@pytest.mark.django_db
def test_redis_down_at_commit_loses_nothing_the_beat_run_delivers_it(
    broker_down: None,
    receiver: Receiver,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    seat = seat_on("recruiter_lite")
    webhook_endpoint_create(url=receiver.url, events=["inmail.sent"], actor=None)

    with (
        caplog.at_level(logging.WARNING, logger="ledger.webhooks.outbox"),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        sent = send(seat, "linkedin.com/in/ada")

    assert [r.getMessage() for r in caplog.records if r.name == "ledger.webhooks.outbox"] == [
        "Could not publish ledger.tasks.deliver_webhooks; the next scheduled run covers it"
    ]
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == "pending"

    # Redis is back; the beat-scheduled task runs.
    assert deliver_webhooks() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert [r.json["data"]["id"] for r in receiver.received] == [sent.inmail.pk]


@pytest.mark.django_db
def test_with_eager_celery_the_commit_delivers_at_once_published_once_per_transaction(
    eager: None,
    receiver: Receiver,
    clock: time_machine.Traveller,
    django_capture_on_commit_callbacks: Any,
) -> None:
    seat = seat_on("recruiter_lite")
    webhook_endpoint_create(url=receiver.url, events=["inmail.sent", "entry.created"], actor=None)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        send(seat, "linkedin.com/in/ada")
        assert receiver.received == []

    # One delivery run for the transaction's two events (and one alert pass).
    assert sum(1 for c in callbacks if c.__name__ == "_publish") == 1
    assert [r.json["type"] for r in receiver.received] == ["entry.created", "inmail.sent"]
    assert [r.json["data"]["amount"] for r in receiver.received[:1]] == [-1]


@pytest.mark.django_db
def test_no_endpoint_no_outbox_rows(clock: time_machine.Traveller) -> None:
    send(seat_on("recruiter_lite"), "linkedin.com/in/ada")
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "https://10.1.2.3/hook",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/",
    ],
)
def test_private_loopback_and_link_local_hosts_are_refused_unless_allowed(
    url: str, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(UnsafeURL, match="private, loopback or link-local"):
        check_url(url)
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "Use an http:// or https:// URL."),
        ("file:///etc/passwd", "Use an http:// or https:// URL."),
        ("http:///nohost", "The URL has no host."),
        ("https://example.com:99999/", "The URL's port is not a number from 0 to 65535."),
    ],
)
def test_only_http_urls_with_a_host(url: str, message: str) -> None:
    with pytest.raises(UnsafeURL) as refused:
        check_url(url)
    assert str(refused.value) == message


@pytest.mark.django_db
def test_an_endpoint_refuses_a_private_url_unknown_events_and_non_alert_slack(
    settings: Any,
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(LedgerValidationError) as refused:
        webhook_endpoint_create(url="http://127.0.0.1/x", events=["inmail.sent"], actor=None)
    assert refused.value.field == "url"
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    with pytest.raises(LedgerValidationError) as refused:
        webhook_endpoint_create(url="http://127.0.0.1/x", events=["inmail.lost"], actor=None)
    assert refused.value.field == "events"
    with pytest.raises(LedgerValidationError) as refused:
        webhook_endpoint_create(
            url="http://127.0.0.1/x", kind="slack", events=["inmail.sent"], actor=None
        )
    assert refused.value.message == "Choose one or more of: alert.raised."
    endpoint = webhook_endpoint_create(
        url="http://127.0.0.1/x", events=["seat.changed", "inmail.sent", "seat.changed"], actor=None
    )
    assert endpoint.events == ["inmail.sent", "seat.changed"]
    assert endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) == 54
