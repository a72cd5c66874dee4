"""Counting the entries' days (`EntryDay`) and the responses' days (`ResponseDay`) again, in
the organisation's time zone.

The triggers of migration 0017 keep the rollup exact as entries are written; this rebuilds it
whole: after the organisation's time zone changed (until then credit flows read the entries),
or if `ledger_flows_check` ever found a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from ledger import schedule
from ledger.models import (
    RESPONSE_STATUSES,
    Entry,
    EntryDay,
    EntryDayZone,
    InMail,
    ResponseDay,
)
from teams.services import audit_record


@dataclass(frozen=True)
class FlowDaysRebuilt:
    time_zone: str
    previous_time_zone: str | None
    days: int


def entry_days_from_entries(
    zone: ZoneInfo,
) -> dict[tuple[int, date, str], tuple[int, int]]:
    """(account, local day in `zone`, kind) -> (credits, entries), straight from the entries."""
    rows = (
        Entry.objects.annotate(day=TruncDate("at", tzinfo=zone))
        .values("account_id", "day", "kind")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .order_by()
        .values_list("account_id", "day", "kind", "total", "count")
    )
    return {
        (account_id, day, kind): (int(total), int(count))
        for account_id, day, kind, total, count in rows.iterator()
    }


def response_days_from_inmails(zone: ZoneInfo) -> dict[tuple[int, date], int]:
    """(seat, local day of the response in `zone`) -> responses, straight from the InMails."""
    rows = (
        InMail.objects.filter(status__in=RESPONSE_STATUSES, responded_at__isnull=False)
        .annotate(day=TruncDate("responded_at", tzinfo=zone))
        .values("seat_id", "day")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("seat_id", "day", "count")
    )
    return {(seat_id, day): int(count) for seat_id, day, count in rows.iterator()}


def flow_days_rebuild() -> FlowDaysRebuilt:
    """Count every entry's and every response's day again in the organisation's time zone, in
    one transaction.

    On PostgreSQL the entry and InMail tables are locked against writes meanwhile (SHARE), so
    nothing is written between counting and the triggers taking over again in the new zone.
    """
    zone = schedule.org_tz().key
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE ledger_entry, ledger_inmail IN SHARE MODE")
        previous = EntryDayZone.objects.values_list("time_zone", flat=True).first()
        EntryDayZone.objects.all().delete()
        EntryDay.objects.all().delete()
        ResponseDay.objects.all().delete()
        kept = EntryDayZone.objects.create(time_zone=zone)
        audit_record(
            actor=None,
            action="flow_days.rebuild",
            obj=kept,
            changes={"time_zone": (previous, zone)},
        )
        rows = [
            EntryDay(account_id=account_id, day=day, kind=kind, amount=amount, entries=entries)
            for (account_id, day, kind), (amount, entries) in entry_days_from_entries(
                schedule.org_tz()
            ).items()
        ]
        EntryDay.objects.bulk_create(rows, batch_size=5000)
        ResponseDay.objects.bulk_create(
            [
                ResponseDay(seat_id=seat_id, day=day, responses=responses)
                for (seat_id, day), responses in response_days_from_inmails(
                    schedule.org_tz()
                ).items()
            ],
            batch_size=5000,
        )
    return FlowDaysRebuilt(time_zone=zone, previous_time_zone=previous, days=len(rows))
