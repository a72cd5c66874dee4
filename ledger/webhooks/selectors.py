"""Reading webhook endpoints and their delivery log (R23; admins only, checked by callers)."""

from __future__ import annotations

from django.db.models import QuerySet

from ledger.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def webhook_deliveries(
    endpoint: WebhookEndpoint, *, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest event first."""
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-event_id", "-id")


def webhook_delivery(pk: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.select_related("event", "endpoint").filter(pk=pk).first()
