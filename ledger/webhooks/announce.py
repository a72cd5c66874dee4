"""One call per kind of change, for the services: the event type and its `data` (R23)."""

from __future__ import annotations

from django.db.models import Exists

from ledger.models import Entry, InMail, Notification, Reconciliation
from ledger.webhooks import events, outbox, payloads
from ledger.webhooks.outbox import record_event, wanted
from teams.models import Seat


def any_active_endpoint() -> Exists:
    """For a service's own read: whether any endpoint may want an event (see below)."""
    return outbox.any_active_endpoint()


def no_active_endpoint() -> None:
    """The transaction read `any_active_endpoint` false: nothing it does is announced, and
    the outbox needs no read of its own to know it."""
    outbox.no_active_endpoint()


def announce_inmail(type: str, inmail: InMail) -> None:
    # Lazy: the InMail's tags are read only when some endpoint wants the event.
    record_event(type, lambda: payloads.inmail_data(inmail), seat_id=inmail.seat_id)


def announce_inmail_closed(inmail_id: int) -> None:
    # A window closure runs for many InMails at once: read each only if it is announced.
    if not wanted(events.INMAIL_CLOSED):
        return
    inmail = InMail.objects.get(pk=inmail_id)
    announce_inmail(events.INMAIL_CLOSED, inmail)


def announce_entry(entry: Entry, seat_id: int | None) -> None:
    # Lazy: an entry is posted on every send, and most organisations have no endpoint.
    record_event(events.ENTRY_CREATED, lambda: payloads.entry_data(entry, seat_id), seat_id=seat_id)


def announce_seat(seat: Seat) -> None:
    record_event(events.SEAT_CHANGED, payloads.seat_data(seat), seat_id=seat.pk)


def announce_reconciliation_opened(reconciliation: Reconciliation) -> None:
    record_event(
        events.RECONCILIATION_OPENED,
        payloads.reconciliation_data(reconciliation),
        seat_id=reconciliation.seat_id,
    )


def announce_alert(
    *, kind: str, key: str, title: str, body: str, seat_id: int | None, team_id: int | None
) -> None:
    record_event(
        events.ALERT_RAISED,
        payloads.alert_data(
            kind=kind, key=key, title=title, body=body, seat_id=seat_id, team_id=team_id
        ),
        seat_id=seat_id,
    )


def announce_new_alerts(notifications: list[Notification], known: set[tuple[str, str]]) -> None:
    """One `alert.raised` per alert (kind and key) stored now that wasn't stored before."""
    seen = set(known)
    for notification in notifications:
        condition = (notification.kind, notification.key)
        if condition in seen:
            continue
        seen.add(condition)
        announce_alert(
            kind=notification.kind,
            key=notification.key,
            title=notification.title,
            body=notification.body,
            seat_id=notification.seat_id,
            team_id=notification.team_id,
        )
