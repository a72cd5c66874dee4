"""An admin's writes to webhook endpoints and deliveries, each audited (R23)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from ledger.exceptions import LedgerValidationError
from ledger.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookKind
from ledger.webhooks.events import EVENT_TYPES, SLACK_EVENT_TYPES
from ledger.webhooks.hosts import UnsafeURL, check_url
from ledger.webhooks.outbox import forget_endpoints, publish_after_commit
from ledger.webhooks.signing import new_secret
from teams.models import User
from teams.services import audit_record

URL_MAX_LENGTH = 500


def _valid_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LedgerValidationError("url", "Give the URL that receives the events.")
    url: str = value.strip()
    if len(url) > URL_MAX_LENGTH:
        raise LedgerValidationError("url", f"Use at most {URL_MAX_LENGTH} characters.")
    try:
        check_url(url)
    except UnsafeURL as error:
        raise LedgerValidationError("url", str(error)) from error
    return url


def _valid_kind(kind: Any) -> str:
    if kind not in WebhookKind.values:
        raise LedgerValidationError("kind", 'Use "json" or "slack".')
    return str(kind)


def _valid_events(events: Any, kind: str) -> list[str]:
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise LedgerValidationError("events", "Give a list of event types.")
    chosen = list(events)
    allowed = SLACK_EVENT_TYPES if kind == WebhookKind.SLACK else EVENT_TYPES
    unknown = [event for event in chosen if event not in allowed]
    if unknown or not chosen:
        raise LedgerValidationError(
            "events",
            "Choose one or more of: " + ", ".join(allowed) + ".",
        )
    # Once each, in the documented order.
    return [event for event in allowed if event in chosen]


def webhook_endpoint_create(
    *,
    url: Any,
    events: Any = None,
    kind: Any = WebhookKind.JSON,
    active: bool = True,
    actor: User | None,
) -> WebhookEndpoint:
    """Register an endpoint; it receives the events recorded from now on."""
    kind = _valid_kind(kind)
    url = _valid_url(url)
    if events is None and kind == WebhookKind.SLACK:
        events = list(SLACK_EVENT_TYPES)
    chosen = _valid_events(events, kind)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            events=chosen,
            kind=kind,
            active=bool(active),
            secret=new_secret(),
            created_by=actor,
            created_at=timezone.now(),
        )
        forget_endpoints()
        audit_record(
            actor=actor,
            action="webhook.create",
            obj=endpoint,
            changes={
                "url": (None, url),
                "events": (None, chosen),
                "kind": (None, kind),
                "active": (None, endpoint.active),
            },
        )
    return endpoint


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, actor: User | None, **values: Any
) -> WebhookEndpoint:
    """Change an endpoint's url, events, kind or active flag (the secret never changes)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        kind = _valid_kind(values["kind"]) if "kind" in values else endpoint.kind
        new: dict[str, Any] = {"kind": kind}
        if "url" in values:
            new["url"] = _valid_url(values["url"])
        if "events" in values or kind != endpoint.kind:
            new["events"] = _valid_events(values.get("events", endpoint.events), kind)
        if "active" in values:
            new["active"] = bool(values["active"])
        changes = {
            field: (getattr(endpoint, field), value)
            for field, value in new.items()
            if getattr(endpoint, field) != value
        }
        for field, (_old, value) in changes.items():
            setattr(endpoint, field, value)
        if changes:
            forget_endpoints()
            endpoint.save(update_fields=list(changes))
            audit_record(actor=actor, action="webhook.update", obj=endpoint, changes=changes)
        if changes.get("active") == (False, True):
            publish_after_commit()
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    """Remove an endpoint and its delivery log."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="webhook.delete",
            obj=endpoint,
            changes={"url": (endpoint.url, None)},
        )
        endpoint.delete()
        forget_endpoints()


def webhook_delivery_redeliver(*, delivery: WebhookDelivery, actor: User | None) -> WebhookDelivery:
    """Send a delivery again, now: pending, due at once, with a fresh 24 hours of retries."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        old_status = delivery.status
        delivery.status = WebhookDeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.first_attempt_at = None
        delivery.delivered_at = None
        delivery.save(
            update_fields=["status", "next_attempt_at", "first_attempt_at", "delivered_at"]
        )
        audit_record(
            actor=actor,
            action="webhook.redeliver",
            obj=delivery,
            changes={"status": (old_status, delivery.status)},
        )
        publish_after_commit()
    return delivery
