"""Responses per seat and local day: `ResponseDay`, kept by triggers on the InMail table
(issue 15, goal 2), counted in the zone of the entries' days (`EntryDayZone`)."""

from typing import Any
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncDate

# The statuses below are ledger.models.RESPONSE_STATUSES, as of this migration.

# An INSERT may bring many InMails at once (an import's COPY): one statement trigger folds
# them into one upsert. An UPDATE or DELETE touches a response only now and then (an answer
# recorded, backdated or undone): row triggers, fired only when the row counts or counted
# (their WHEN costs no function call), move its day by one.
POSTGRES = [
    """
CREATE OR REPLACE FUNCTION ledger_inmail_response_days_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    SELECT time_zone INTO zone FROM ledger_entrydayzone ORDER BY id LIMIT 1;
    IF zone IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_responseday AS d (seat_id, day, responses)
    SELECT seat_id, (responded_at AT TIME ZONE zone)::date, count(*)
    FROM new_inmails
    WHERE status IN ('accepted', 'declined', 'replied') AND responded_at IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (seat_id, day) DO UPDATE SET responses = d.responses + EXCLUDED.responses;
    RETURN NULL;
END
$$;
""",
    """
CREATE OR REPLACE FUNCTION ledger_inmail_response_days_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    SELECT time_zone INTO zone FROM ledger_entrydayzone ORDER BY id LIMIT 1;
    IF zone IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE')
        AND OLD.status IN ('accepted', 'declined', 'replied') AND OLD.responded_at IS NOT NULL
    THEN
        UPDATE ledger_responseday SET responses = responses - 1
        WHERE seat_id = OLD.seat_id AND day = (OLD.responded_at AT TIME ZONE zone)::date;
        IF NOT FOUND THEN
            INSERT INTO ledger_responseday (seat_id, day, responses)
            VALUES (OLD.seat_id, (OLD.responded_at AT TIME ZONE zone)::date, -1);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE'
        AND NEW.status IN ('accepted', 'declined', 'replied') AND NEW.responded_at IS NOT NULL
    THEN
        INSERT INTO ledger_responseday AS d (seat_id, day, responses)
        VALUES (NEW.seat_id, (NEW.responded_at AT TIME ZONE zone)::date, 1)
        ON CONFLICT (seat_id, day) DO UPDATE SET responses = d.responses + 1;
    END IF;
    DELETE FROM ledger_responseday WHERE seat_id = OLD.seat_id AND responses = 0;
    RETURN NULL;
END
$$;
""",
    "CREATE TRIGGER ledger_inmail_response_days_insert AFTER INSERT ON ledger_inmail"
    " REFERENCING NEW TABLE AS new_inmails"
    " FOR EACH STATEMENT EXECUTE FUNCTION ledger_inmail_response_days_insert()",
    "CREATE TRIGGER ledger_inmail_response_days_update AFTER UPDATE ON ledger_inmail"
    " FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.responded_at IS DISTINCT FROM NEW.responded_at"
    " OR OLD.seat_id IS DISTINCT FROM NEW.seat_id)"
    " EXECUTE FUNCTION ledger_inmail_response_days_change()",
    "CREATE TRIGGER ledger_inmail_response_days_delete AFTER DELETE ON ledger_inmail"
    " FOR EACH ROW EXECUTE FUNCTION ledger_inmail_response_days_change()",
]

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS ledger_inmail_response_days_insert ON ledger_inmail",
    "DROP TRIGGER IF EXISTS ledger_inmail_response_days_update ON ledger_inmail",
    "DROP TRIGGER IF EXISTS ledger_inmail_response_days_delete ON ledger_inmail",
    "DROP FUNCTION IF EXISTS ledger_inmail_response_days_insert()",
    "DROP FUNCTION IF EXISTS ledger_inmail_response_days_change()",
]


def _sqlite_change(row: str, sign: str) -> str:
    """One InMail's response moved into or out of its day (`row` NEW or OLD, `sign` +1/-1)."""
    return (
        "INSERT INTO ledger_responseday (seat_id, day, responses)"  # noqa: S608 (fixed names)
        f" SELECT {row}.seat_id,"
        f" django_datetime_cast_date({row}.responded_at, zone.time_zone, 'UTC'), {sign}"
        " FROM (SELECT time_zone FROM ledger_entrydayzone ORDER BY id LIMIT 1) AS zone"
        f" WHERE {row}.status IN ('accepted', 'declined', 'replied')"
        f" AND {row}.responded_at IS NOT NULL"
        " ON CONFLICT (seat_id, day) DO UPDATE SET responses = responses + excluded.responses; "
    )


SQLITE_EMPTIED = " DELETE FROM ledger_responseday WHERE seat_id = OLD.seat_id AND responses = 0; "

SQLITE = [
    "CREATE TRIGGER ledger_inmail_response_days_insert AFTER INSERT ON ledger_inmail BEGIN "
    + _sqlite_change("NEW", "1")
    + "END",
    "CREATE TRIGGER ledger_inmail_response_days_update AFTER UPDATE ON ledger_inmail BEGIN "
    + _sqlite_change("OLD", "-1")
    + _sqlite_change("NEW", "1")
    + SQLITE_EMPTIED
    + "END",
    "CREATE TRIGGER ledger_inmail_response_days_delete AFTER DELETE ON ledger_inmail BEGIN "
    + _sqlite_change("OLD", "-1")
    + SQLITE_EMPTIED
    + "END",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS ledger_inmail_response_days_insert",
    "DROP TRIGGER IF EXISTS ledger_inmail_response_days_update",
    "DROP TRIGGER IF EXISTS ledger_inmail_response_days_delete",
]


def lock_inmails(apps: Any, schema_editor: Any) -> None:
    """No InMail changes between counting the days and the triggers taking over."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE ledger_inmail IN SHARE MODE", params=None)


def count_days(apps: Any, schema_editor: Any) -> None:
    """Count the existing responses' days in the zone of the entries' days."""
    zone = apps.get_model("ledger", "EntryDayZone").objects.values_list("time_zone", flat=True)
    if not zone:
        return
    InMail = apps.get_model("ledger", "InMail")
    ResponseDay = apps.get_model("ledger", "ResponseDay")
    days = (
        InMail.objects.filter(
            status__in=("accepted", "declined", "replied"), responded_at__isnull=False
        )
        .annotate(day=TruncDate("responded_at", tzinfo=ZoneInfo(zone[0])))
        .values("seat_id", "day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    ResponseDay.objects.bulk_create(
        [
            ResponseDay(seat_id=row["seat_id"], day=row["day"], responses=row["count"])
            for row in days.iterator()
        ],
        batch_size=5000,
    )


def forget_days(apps: Any, schema_editor: Any) -> None:
    apps.get_model("ledger", "ResponseDay").objects.all().delete()


def install_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES if vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0017_entry_days"),
        ("teams", "0005_personal_settings"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResponseDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("responses", models.IntegerField()),
                (
                    "seat",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="response_days",
                        to="teams.seat",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("seat", "day"), name="response_day_seat_day")
                ],
            },
        ),
        migrations.RunPython(lock_inmails, migrations.RunPython.noop),
        migrations.RunPython(count_days, forget_days),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
