"""Recording an event in the outbox, in the transaction of the change it announces (R23)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists
from django.utils import timezone

from ledger.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from ledger.webhooks.events import EVENT_TYPES, SLACK_EVENT_TYPES

logger = logging.getLogger(__name__)

DELIVER_WEBHOOKS = "ledger.tasks.deliver_webhooks"


def _endpoints_wanting(type: str) -> list[WebhookEndpoint]:
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type!r}")
    return [
        endpoint
        for endpoint in _active_endpoints()
        if type in endpoint.events and (endpoint.kind != "slack" or type in SLACK_EVENT_TYPES)
    ]


def wanted(type: str) -> bool:
    """Whether any active endpoint wants this event: a caller skips reading its data if not."""
    return bool(_endpoints_wanting(type))


def record_event(
    type: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
    *,
    seat_id: int | None = None,
) -> None:
    """Write the event and a pending delivery for each active endpoint that wants it now.

    Call it inside the transaction of the change: a rollback takes the event with it, and a
    commit makes it deliverable. Nothing is written, and a callable `data` is not even called,
    when no endpoint wants the event.
    """
    endpoints = _endpoints_wanting(type)
    if not endpoints:
        return
    if callable(data):
        data = data()
    now = timezone.now()
    with transaction.atomic():
        event = WebhookEvent.objects.create(type=type, seat_id=seat_id, created_at=now, data=data)
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                seat_id=seat_id,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
        )
    publish_after_commit()


_CACHE = "_inmail_webhook_endpoints"


def _active_endpoints() -> list[WebhookEndpoint]:
    """The active endpoints, read once per transaction (a tick records many entries).

    Kept on the connection with the outermost atomic block they were read in, so the next
    transaction reads them again; the endpoint services forget them when they change one.
    """
    if connection.in_atomic_block and connection.atomic_blocks:
        cached = getattr(connection, _CACHE, None)
        if cached is not None and cached[0] is connection.atomic_blocks[0]:
            return list(cached[1])
    endpoints = list(WebhookEndpoint.objects.filter(active=True).only("id", "events", "kind"))
    if not connection.in_atomic_block or not connection.atomic_blocks:
        return endpoints
    _remember(endpoints)
    return endpoints


def _remember(endpoints: list[WebhookEndpoint]) -> None:
    setattr(connection, _CACHE, (connection.atomic_blocks[0], endpoints))
    transaction.on_commit(forget_endpoints)


def any_active_endpoint() -> Exists:
    """Whether any endpoint is active, for a read a service makes in its transaction anyway
    (the send): when none is, `no_active_endpoint` spares the outbox its own read."""
    return Exists(WebhookEndpoint.objects.filter(active=True))


def no_active_endpoint() -> None:
    """The transaction read `any_active_endpoint` false: it announces to nobody."""
    if not connection.in_atomic_block or not connection.atomic_blocks:
        return
    cached = getattr(connection, _CACHE, None)
    if cached is None or cached[0] is not connection.atomic_blocks[0]:
        _remember([])


def forget_endpoints() -> None:
    setattr(connection, _CACHE, None)


def publish_after_commit() -> None:
    """Ask for a delivery run once the transaction commits: once per transaction."""
    if not settings.LEDGER_PUBLISH_TASKS:
        return
    if any(pending[1] is _publish for pending in connection.run_on_commit):
        return
    transaction.on_commit(_publish)


def _publish() -> None:
    # Never fails the caller: with the broker down the beat-scheduled run delivers it.
    try:
        current_app.tasks[DELIVER_WEBHOOKS].apply_async(retry=False)
    except Exception:  # any broker failure
        logger.warning(
            "Could not publish %s; the next scheduled run covers it",
            DELIVER_WEBHOOKS,
            exc_info=True,
        )
