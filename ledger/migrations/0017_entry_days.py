"""The entries' days: `EntryDay`, kept by triggers on the entry table (issue 15, goal 2)."""

from typing import Any
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

# The rollup is kept by triggers on the entry table, so every way entries are written keeps it
# in the same statement: the ORM's INSERT, the spend's data-modifying CTE, the batched
# catch-up's COPY (COPY fires statement triggers with their transition tables too). On
# PostgreSQL one statement-level trigger folds all the rows of the statement into one upsert;
# entries are append-only there (0002 refuses UPDATE and DELETE), so INSERT is the only event.
# On SQLite (development), where nothing refuses a change, row triggers follow INSERT, UPDATE
# and DELETE, dating the entry with the function Django registers on every SQLite connection.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_entry_days() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    SELECT time_zone INTO zone FROM ledger_entrydayzone ORDER BY id LIMIT 1;
    IF zone IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_entryday AS d (account_id, day, kind, amount, entries)
    SELECT account_id, (at AT TIME ZONE zone)::date, kind, sum(amount), count(*)
    FROM new_entries GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (account_id, day, kind) DO UPDATE
    SET amount = d.amount + EXCLUDED.amount, entries = d.entries + EXCLUDED.entries;
    RETURN NULL;
END
$$;
"""

POSTGRES_TRIGGERS = [
    POSTGRES_FUNCTION,
    "CREATE TRIGGER ledger_entry_days_insert AFTER INSERT ON ledger_entry"
    " REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_days()",
]

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS ledger_entry_days_insert ON ledger_entry",
    "DROP FUNCTION IF EXISTS ledger_entry_days()",
]


def _sqlite_change(row: str, sign: str) -> str:
    """One row's upsert into the rollup (`row` is NEW or OLD, `sign` '' or '-')."""
    return (
        "INSERT INTO ledger_entryday (account_id, day, kind, amount, entries)"  # noqa: S608 (fixed names)
        f" SELECT {row}.account_id, django_datetime_cast_date({row}.at, zone.time_zone, 'UTC'),"
        f" {row}.kind, {sign}{row}.amount, {sign}1"
        " FROM (SELECT time_zone FROM ledger_entrydayzone ORDER BY id LIMIT 1) AS zone WHERE true"
        " ON CONFLICT (account_id, day, kind) DO UPDATE"
        " SET amount = amount + excluded.amount, entries = entries + excluded.entries; "
    )


SQLITE_EMPTIED = " DELETE FROM ledger_entryday WHERE entries = 0 AND account_id = OLD.account_id; "

SQLITE_TRIGGERS = [
    "CREATE TRIGGER ledger_entry_days_insert AFTER INSERT ON ledger_entry BEGIN "
    + _sqlite_change("NEW", "")
    + "END",
    "CREATE TRIGGER ledger_entry_days_update AFTER UPDATE ON ledger_entry BEGIN "
    + _sqlite_change("OLD", "-")
    + _sqlite_change("NEW", "")
    + SQLITE_EMPTIED
    + "END",
    "CREATE TRIGGER ledger_entry_days_delete AFTER DELETE ON ledger_entry BEGIN "
    + _sqlite_change("OLD", "-")
    + SQLITE_EMPTIED
    + "END",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS ledger_entry_days_insert",
    "DROP TRIGGER IF EXISTS ledger_entry_days_update",
    "DROP TRIGGER IF EXISTS ledger_entry_days_delete",
]


def install_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_TRIGGERS if vendor == "postgresql" else SQLITE_TRIGGERS:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement, params=None)


def count_days(apps: Any, schema_editor: Any) -> None:
    """Count the existing entries' days in the organisation's time zone (as of migrating)."""
    Entry = apps.get_model("ledger", "Entry")
    EntryDay = apps.get_model("ledger", "EntryDay")
    EntryDayZone = apps.get_model("ledger", "EntryDayZone")
    zone = settings.TIME_ZONE
    EntryDayZone.objects.create(time_zone=zone)
    days = (
        Entry.objects.annotate(day=TruncDate("at", tzinfo=ZoneInfo(zone)))
        .values("account_id", "day", "kind")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .order_by()
    )
    EntryDay.objects.bulk_create(
        (
            EntryDay(
                account_id=row["account_id"],
                day=row["day"],
                kind=row["kind"],
                amount=row["total"],
                entries=row["count"],
            )
            for row in days.iterator()
        ),
        batch_size=5000,
    )


def forget_days(apps: Any, schema_editor: Any) -> None:
    apps.get_model("ledger", "EntryDay").objects.all().delete()
    apps.get_model("ledger", "EntryDayZone").objects.all().delete()


def lock_entries(apps: Any, schema_editor: Any) -> None:
    """No entry is written between counting the days and the triggers taking over."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE ledger_entry IN SHARE MODE", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0016_import_jobs"),
    ]

    operations = [
        migrations.CreateModel(
            name="EntryDayZone",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("time_zone", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="EntryDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("grant", "Grant"),
                            ("lost_to_cap", "Lost to cap"),
                            ("expiry", "Expiry"),
                            ("spend", "Spend"),
                            ("refund", "Refund"),
                            ("purchase", "Purchase"),
                            ("bonus", "Bonus"),
                            ("adjustment", "Adjustment"),
                            ("forfeit", "Forfeit"),
                            ("allocation", "Allocation"),
                            ("transfer", "Transfer"),
                        ],
                        max_length=16,
                    ),
                ),
                ("amount", models.BigIntegerField()),
                ("entries", models.IntegerField()),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entry_days",
                        to="ledger.account",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "day", "kind"), name="entry_day_account_day_kind"
                    )
                ],
            },
        ),
        migrations.RunPython(lock_entries, migrations.RunPython.noop),
        migrations.RunPython(count_days, forget_days),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
