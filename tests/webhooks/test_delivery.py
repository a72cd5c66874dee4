"""R23: events recorded with the change, delivered to a real HTTP receiver, signed, in order."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction

from ledger.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from ledger.services import inmail_record_response
from ledger.webhooks.delivery import backoff, deliver_due
from ledger.webhooks.endpoints import webhook_endpoint_create
from ledger.webhooks.signing import HEADER, signature, verify
from tests.ledger.helpers import SYSTEM, seat_on, send, utc
from tests.webhooks.receiver import Receiver, closed_port_url

START = datetime(2026, 3, 2, 9, 0)


def endpoint_for(url: str, *events: str) -> WebhookEndpoint:
    return webhook_endpoint_create(url=url, events=list(events) or ["inmail.sent"], actor=None)


@pytest.mark.django_db
def test_a_send_is_delivered_signed_with_the_api_shape(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite")
    endpoint = endpoint_for(receiver.url, "inmail.sent")

    sent = send(seat, "linkedin.com/in/ada")
    report = deliver_due()

    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [got] = receiver.received
    event = WebhookEvent.objects.get()
    assert got.json == {
        "id": str(event.uid),
        "type": "inmail.sent",
        "created_at": "2026-03-02T09:00:00+00:00",
        "data": {
            "id": sent.inmail.pk,
            "seat": seat.pk,
            "recipient": "linkedin.com/in/ada",
            "subject": "A role you may like",
            "body": "We are hiring a staff engineer in Lisbon.",
            "open_profile": False,
            "status": "pending",
            "sent_at": "2026-03-02T09:00:00+00:00",
            "responded_at": None,
            "credit_cost": 1,
            "paid_from": "seat",
            "refunded": False,
            "reminder_at": None,
            "sender": seat.holder_id,
            "template": "",
            "tags": [],
        },
    }
    now = int(utc(2026, 3, 2, 9).timestamp())
    assert got.headers[HEADER] == signature(endpoint.secret, now, got.body)
    assert got.headers[HEADER].startswith(f"t={now},v1=")
    assert verify(endpoint.secret, got.headers[HEADER], got.body)
    assert not verify("whsec_wrong", got.headers[HEADER], got.body)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    # Delivered once: a second run sends nothing.
    assert deliver_due().delivered == 0
    assert len(receiver.received) == 1


@pytest.mark.django_db
def test_only_subscribed_events_after_registration_and_only_active_endpoints(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite")
    before = send(seat, "linkedin.com/in/before")
    endpoint_for(receiver.url, "inmail.responded")
    webhook_endpoint_create(url=receiver.url, events=["inmail.sent"], active=False, actor=None)

    send(seat, "linkedin.com/in/after")
    inmail_record_response(inmail=before.inmail, outcome="replied", cause=SYSTEM)
    deliver_due()

    assert [(r.json["type"], r.json["data"]["id"]) for r in receiver.received] == [
        ("inmail.responded", before.inmail.pk)
    ]
    assert receiver.received[0].json["data"]["refunded"] is True


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_backoff_and_delivered_once_when_it_recovers(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite")
    endpoint_for(receiver.url, "inmail.sent")
    receiver.statuses = [500, 503, 404]
    send(seat, "linkedin.com/in/ada")

    assert deliver_due().retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert delivery.next_attempt_at == utc(2026, 3, 2, 9, 0, 30)
    clock.shift(timedelta(seconds=29))
    assert deliver_due() == deliver_due()  # not due yet: nothing sent
    assert len(receiver.received) == 1
    clock.shift(timedelta(seconds=1))
    assert deliver_due().retrying == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (2, utc(2026, 3, 2, 9, 1, 30))
    clock.shift(timedelta(minutes=1))
    deliver_due()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (3, 404)
    assert delivery.next_attempt_at == utc(2026, 3, 2, 9, 3, 30)
    clock.shift(timedelta(minutes=2))
    assert deliver_due().delivered == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 4, 200)
    assert delivery.delivered_at == utc(2026, 3, 2, 9, 3, 30)
    assert len(set(receiver.ids())) == 1
    assert len(receiver.received) == 4
    clock.shift(timedelta(hours=1))
    deliver_due()
    assert len(receiver.received) == 4


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 7, 8, 20)] == [
        30,
        60,
        120,
        240,
        1920,
        3600,
        3600,
    ]


@pytest.mark.django_db
def test_a_receiver_down_for_a_day_ends_failed_after_24_hours(
    clock: time_machine.Traveller,
) -> None:
    seat = seat_on("recruiter_lite")
    endpoint_for(closed_port_url(), "inmail.sent")
    send(seat, "linkedin.com/in/ada")

    attempts = 0
    while WebhookDelivery.objects.filter(status="pending").exists():
        deliver_due()
        attempts += 1
        delivery = WebhookDelivery.objects.get()
        if delivery.next_attempt_at:
            clock.move_to(delivery.next_attempt_at)

    delivery = WebhookDelivery.objects.get()
    # 30 s, 1, 2, … 32 min (7 waits, 63.5 min), then hourly up to exactly 24 h after the first.
    assert (delivery.status, delivery.attempts) == ("failed", attempts)
    assert attempts == 1 + 7 + 23
    assert delivery.last_status_code is None
    assert delivery.last_error
    assert delivery.first_attempt_at == utc(2026, 3, 2, 9)


@pytest.mark.django_db
def test_a_rolled_back_send_announces_nothing(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite")
    endpoint_for(receiver.url, "inmail.sent", "entry.created")

    def send_then_fail() -> None:
        with transaction.atomic():
            send(seat, "linkedin.com/in/ada")
            assert WebhookEvent.objects.count() == 2  # the send and its spend entry
            raise RuntimeError("something later in the request failed")

    with pytest.raises(RuntimeError):
        send_then_fail()

    deliver_due()
    assert WebhookEvent.objects.count() == 0
    assert receiver.received == []


@pytest.mark.django_db
def test_a_seats_events_arrive_in_order_and_a_later_one_waits_for_an_earlier_retry(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite")
    other = seat_on("recruiter_lite")
    endpoint_for(receiver.url, "inmail.sent")
    receiver.statuses = [500]
    first = send(seat, "linkedin.com/in/one")
    second = send(seat, "linkedin.com/in/two")
    elsewhere = send(other, "linkedin.com/in/three")

    deliver_due()
    # The first failed; the second of the same seat waits; the other seat's goes.
    assert [r.json["data"]["id"] for r in receiver.received] == [
        first.inmail.pk,
        elsewhere.inmail.pk,
    ]
    clock.shift(timedelta(seconds=30))
    deliver_due()
    assert [r.json["data"]["id"] for r in receiver.received[2:]] == [
        first.inmail.pk,
        second.inmail.pk,
    ]


@pytest.mark.django_db
def test_slack_endpoints_get_alerts_as_text(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    from ledger.webhooks.announce import announce_alert

    webhook_endpoint_create(url=receiver.url, kind="slack", actor=None)
    with transaction.atomic():
        announce_alert(
            kind="low_balance",
            key="k1",
            title="Seat low on credits",
            body="2 credits left.",
            seat_id=None,
            team_id=None,
        )
    deliver_due()

    [got] = receiver.received
    assert got.json == {"text": "Seat low on credits\n2 credits left."}
    assert HEADER not in got.headers


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_deliver_the_same_delivery_at_once(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL")
    seats = [seat_on("recruiter_lite") for _ in range(3)]
    endpoint_for(receiver.url, "inmail.sent")
    for n in range(6):
        send(seats[n % 3], f"linkedin.com/in/person-{n}")
    receiver.delay = 0.2
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            deliver_due()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert receiver.overlaps == []
    assert len(receiver.received) == 6
    assert len(set(receiver.ids())) == 6
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}
    # Each seat's two events in order.
    by_seat: dict[Any, list[int]] = {}
    for got in receiver.received:
        by_seat.setdefault(got.json["data"]["seat"], []).append(got.json["data"]["id"])
    assert all(ids == sorted(ids) for ids in by_seat.values())
