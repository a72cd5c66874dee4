"""R23 over the API: /webhooks/ (admins only), the secret once, the delivery log, redeliver."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import WebhookDelivery, WebhookEndpoint
from ledger.webhooks.delivery import deliver_due
from teams.models import AuditEvent
from tests.api.conftest import World, send
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db


def create(client: APIClient, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1/webhooks/", body, format="json", headers=headers)


def test_an_admin_registers_an_endpoint_and_sees_the_secret_only_in_the_201(
    as_admin: APIClient, receiver: Receiver
) -> None:
    answer = create(as_admin, {"url": receiver.url, "events": ["seat.changed", "inmail.sent"]})

    assert answer.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert answer.json() == {
        "id": endpoint.pk,
        "url": receiver.url,
        "events": ["inmail.sent", "seat.changed"],
        "kind": "json",
        "active": True,
        "secret": endpoint.secret,
    }
    listed = as_admin.get("/api/v1/webhooks/").json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    patched = as_admin.patch(
        f"/api/v1/webhooks/{endpoint.pk}/", {"active": False}, format="json"
    ).json()
    assert patched == {
        "id": endpoint.pk,
        "url": receiver.url,
        "events": ["inmail.sent", "seat.changed"],
        "kind": "json",
        "active": False,
    }
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("id")) == [
        "webhook.create",
        "webhook.update",
    ]


def test_a_create_replays_with_the_same_idempotency_key(
    as_admin: APIClient, receiver: Receiver
) -> None:
    body = {"url": receiver.url, "events": ["inmail.sent"]}
    first = create(as_admin, body, **{"Idempotency-Key": "hook-1"})
    again = create(as_admin, body, **{"Idempotency-Key": "hook-1"})
    other = create(as_admin, {**body, "active": False}, **{"Idempotency-Key": "hook-1"})

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "ftp://example.com/x", "events": ["inmail.sent"]}, "url", "Use an http"),
        ({"url": "http://[::1", "events": ["inmail.sent"]}, "url", "This is not a URL."),
        ({"url": "http://x.io/", "events": []}, "events", "Ensure this field has at least"),
        ({"url": "http://x.io/", "events": ["inmail.lost"]}, "events", "is not a valid choice"),
        (
            {"url": "http://x.io/", "kind": "slack", "events": ["entry.created"]},
            "events",
            "Choose one or more of: alert.raised.",
        ),
    ],
)
def test_bad_endpoints_are_a_clear_400(
    as_admin: APIClient, body: dict[str, Any], field: str, message: str
) -> None:
    answer = create(as_admin, body)

    assert answer.status_code == 400
    assert message in str(answer.json()[field])
    assert WebhookEndpoint.objects.count() == 0


def test_a_private_host_is_a_400_when_the_setting_is_off(
    as_admin: APIClient, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    answer = create(as_admin, {"url": "http://169.254.169.254/x", "events": ["inmail.sent"]})

    assert answer.status_code == 400
    assert answer.json() == {
        "url": [
            "The host 169.254.169.254 is a private, loopback or link-local address "
            "(169.254.169.254); webhooks go to public hosts only."
        ]
    }


def test_the_delivery_log_filters_by_status_and_an_admin_redelivers(
    world: World, as_admin: APIClient, as_lead: APIClient, receiver: Receiver
) -> None:
    hook = create(as_admin, {"url": receiver.url, "events": ["inmail.sent"]}).json()
    send(world.seat)
    deliver_due()
    delivery = WebhookDelivery.objects.get()

    log = as_admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries/?status=delivered").json()
    assert log["results"] == [
        {
            "id": delivery.pk,
            "event": "inmail.sent",
            "event_id": str(delivery.event.uid),
            "status": "delivered",
            "attempts": 1,
            "last_status_code": 200,
            "next_attempt_at": None,
            "delivered_at": "2025-01-15T09:00:00Z",
        }
    ]
    pending = as_admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries/?status=pending")
    assert pending.json()["count"] == 0
    assert as_admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries/?status=x").status_code == 400

    assert as_lead.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 403
    again = as_admin.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 202
    assert (again.json()["status"], again.json()["delivered_at"]) == ("pending", None)
    deliver_due()
    assert receiver.ids() == [str(delivery.event.uid)] * 2
    assert as_admin.post("/api/v1/webhooks/deliveries/999999/redeliver/").status_code == 404


def test_delete_removes_the_endpoint_and_its_log(
    world: World, as_admin: APIClient, receiver: Receiver
) -> None:
    hook = create(as_admin, {"url": receiver.url, "events": ["inmail.sent"]}).json()
    send(world.seat)

    assert as_admin.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 204
    assert WebhookDelivery.objects.count() == 0
    assert as_admin.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
