"""Delivering the outbox: at least once, in order per seat and endpoint, signed (R23).

Each delivery is claimed in a transaction of its own with SELECT … FOR UPDATE SKIP LOCKED and
kept locked while it is POSTed, so two workers never send the same delivery at once; a worker
skips the row another holds. A seat's delivery waits while an earlier one of the same seat for
the same endpoint is still pending (the one locked by another worker included: its status is
still pending), so a receiver sees a seat's events in order. A non-2xx answer, a timeout (5 s)
or a refused connection is tried again after 30 s, 1 min, 2 min, … (at most an hour apart) until
24 hours after the first attempt, then the delivery is `failed`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ledger.models import WebhookDelivery, WebhookDeliveryStatus, WebhookKind
from ledger.webhooks.hosts import UnsafeURL, check_url
from ledger.webhooks.signing import HEADER, signature

TIMEOUT_SECONDS = 5
RETRY_FOR = timedelta(hours=24)
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    retrying: int
    failed: int


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … at most 1 h."""
    wait: timedelta = FIRST_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(wait, MAX_BACKOFF)


def event_body(delivery: WebhookDelivery) -> bytes:
    event = delivery.event
    if delivery.endpoint.kind == WebhookKind.SLACK:
        data: dict[str, Any] = event.data
        payload: dict[str, Any] = {"text": f"{data.get('title', '')}\n{data.get('body', '')}"}
    else:
        payload = {
            "id": str(event.uid),
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead to a host the URL check refused; a 3xx counts as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str]:
    """POST the delivery; answer (HTTP status or None, error text)."""
    endpoint = delivery.endpoint
    try:
        check_url(endpoint.url)
    except UnsafeURL as error:
        return None, str(error)
    body = event_body(delivery)
    headers = {"Content-Type": "application/json", "User-Agent": "InMail-Ledger-Webhooks/1"}
    if endpoint.kind == WebhookKind.JSON:
        headers[HEADER] = signature(endpoint.secret, int(now.timestamp()), body)
        headers["InMail-Event-Id"] = str(delivery.event.uid)
    # check_url above allowed http(s) only.
    request = urllib.request.Request(  # noqa: S310
        endpoint.url, data=body, headers=headers, method="POST"
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as error:
        return int(error.code), ""
    except (OSError, ValueError) as error:  # refused, timed out, DNS, bad URL
        return None, str(error)[:300] or type(error).__name__


def _claim_next(now: datetime, skip: set[int]) -> WebhookDelivery | None:
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        seat_id=OuterRef("seat_id"),
        event_id__lt=OuterRef("event_id"),
        status=WebhookDeliveryStatus.PENDING,
    )
    due = (
        WebhookDelivery.objects.filter(
            status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__active=True
        )
        .exclude(pk__in=skip)
        .exclude(Q(seat_id__isnull=False) & Exists(earlier_pending))
        .order_by("event_id", "id")
    )
    return due.select_for_update(skip_locked=True, of=("self",)).first()


def deliver_due(*, limit: int = 200) -> DeliveryReport:
    """Send every delivery due now (at most `limit`), one transaction and row lock each."""
    delivered = retrying = failed = 0
    tried: set[int] = set()
    while len(tried) < limit:
        with transaction.atomic():
            now = timezone.now()
            delivery = _claim_next(now, tried)
            if delivery is None:
                break
            tried.add(delivery.pk)
            delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(
                pk=delivery.pk
            )
            status_code, error = _post(delivery, now)
            done = timezone.now()
            delivery.attempts += 1
            delivery.first_attempt_at = delivery.first_attempt_at or now
            delivery.last_status_code = status_code
            delivery.last_error = error
            if status_code is not None and 200 <= status_code < 300:
                delivery.status = WebhookDeliveryStatus.DELIVERED
                delivery.delivered_at = done
                delivery.next_attempt_at = None
                delivered += 1
            elif done >= delivery.first_attempt_at + RETRY_FOR:
                delivery.status = WebhookDeliveryStatus.FAILED
                delivery.next_attempt_at = None
                failed += 1
            else:
                delivery.next_attempt_at = min(
                    done + backoff(delivery.attempts), delivery.first_attempt_at + RETRY_FOR
                )
                retrying += 1
            delivery.save(
                update_fields=[
                    "attempts",
                    "first_attempt_at",
                    "last_status_code",
                    "last_error",
                    "status",
                    "delivered_at",
                    "next_attempt_at",
                ]
            )
    return DeliveryReport(delivered=delivered, retrying=retrying, failed=failed)
