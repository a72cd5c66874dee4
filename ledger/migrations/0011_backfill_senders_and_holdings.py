"""Every InMail gets its sender, and every seat its first holding (R19).

Before reassignments existed a seat never changed hands, so the holder of an InMail's seat is
the one who held it when the InMail was sent: one UPDATE sets `sender` from the seat's holder,
whatever the number of InMails. Each seat's first holding starts at 00:00 of its activation date
in the organisation's time zone, by whoever activated it (the actor of the operation that
wrote its activation grant; nobody when the cap left that grant empty, or the system did it).
The next migration makes `sender` required.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import OuterRef, Subquery


def backfill(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    InMail = apps.get_model("ledger", "InMail")
    Entry = apps.get_model("ledger", "Entry")
    Seat = apps.get_model("teams", "Seat")
    SeatHolding = apps.get_model("teams", "SeatHolding")
    holder = Seat.objects.filter(pk=OuterRef("seat_id")).values("holder_id")[:1]
    InMail.objects.filter(sender__isnull=True).update(sender_id=Subquery(holder))
    org_tz = ZoneInfo(settings.TIME_ZONE)
    activated_by = dict(
        Entry.objects.filter(refresh__kind="activation", refresh__seat__isnull=False)
        .order_by("refresh__seat_id", "pk")
        .values_list("refresh__seat_id", "operation__actor_id")
        .distinct()
    )
    held = set(SeatHolding.objects.values_list("seat_id", flat=True))
    SeatHolding.objects.bulk_create(
        [
            SeatHolding(
                seat_id=seat_id,
                holder_id=holder_id,
                since=datetime.combine(activated_on, time.min, tzinfo=org_tz),
                by_id=activated_by.get(seat_id),
            )
            for seat_id, holder_id, activated_on in Seat.objects.order_by("pk").values_list(
                "pk", "holder_id", "activated_on"
            )
            if seat_id not in held
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_inmail_sender_reconciliations")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
