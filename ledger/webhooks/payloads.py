"""The objects as the API shows them, as plain dicts for an event's `data` (R23).

The API's serializers live above the services, which record the events, so the fields are
listed here; they are the same names and formats as docs/api.md (ids as integers, datetimes ISO
8601 with offset, dates YYYY-MM-DD).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ledger.models import Entry, InMail, InMailTag, Reconciliation
from teams.models import Seat


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def inmail_data(inmail: InMail) -> dict[str, Any]:
    return {
        "id": inmail.pk,
        "seat": inmail.seat_id,
        "recipient": inmail.recipient,
        "subject": inmail.subject,
        "body": inmail.body,
        "open_profile": inmail.open_profile,
        "status": inmail.status,
        "sent_at": _iso(inmail.sent_at),
        "responded_at": _iso(inmail.responded_at),
        "credit_cost": inmail.credit_cost,
        "paid_from": inmail.paid_from,
        "refunded": inmail.refunded,
        "reminder_at": _iso(inmail.reminder_at),
        "sender": inmail.sender_id,
        # R22, as the API answers them: tags lower-case, alphabetically.
        "template": inmail.template,
        "tags": sorted(InMailTag.objects.filter(inmail=inmail).values_list("tag", flat=True)),
    }


def entry_data(entry: Entry, seat_id: int | None) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "seat": seat_id,
        "at": _iso(entry.at),
        "kind": entry.kind,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "lot": entry.lot_id,
        "inmail": entry.inmail_id,
        "actor": entry.actor_id,
        "cause": entry.cause,
        "memo": entry.memo,
    }


def seat_data(seat: Seat) -> dict[str, Any]:
    return {
        "id": seat.pk,
        "holder": seat.holder_id,
        "team": seat.team_id,
        "plan": seat.plan.code,
        "status": seat.status,
        "activated_on": _iso(seat.activated_on),
        "anchor_day": seat.anchor_day,
        "pool_access": seat.pool_access,
        "monthly_allocation": seat.monthly_allocation,
        "monthly_usage_limit": seat.monthly_usage_limit,
    }


def reconciliation_data(reconciliation: Reconciliation) -> dict[str, Any]:
    return {
        "id": reconciliation.pk,
        "seat": reconciliation.seat_id,
        "observed_at": _iso(reconciliation.observed_at),
        "linkedin_balance": reconciliation.linkedin_balance,
        "ledger_balance": reconciliation.ledger_balance,
        "difference": reconciliation.difference,
        "status": reconciliation.status,
        "created_by": reconciliation.created_by_id,
        "created_at": _iso(reconciliation.created_at),
    }


def alert_data(
    *, kind: str, key: str, title: str, body: str, seat_id: int | None, team_id: int | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "key": key,
        "title": title,
        "body": body,
        "seat": seat_id,
        "team": team_id,
    }
