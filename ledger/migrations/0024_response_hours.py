"""Hours to a response by bucket (issue 15): the table, the triggers that keep it, and the index
of the answered InMails by hours to the response, so that the median reads a bucket, not all.

The trigger SQL is generated from ledger/rate_rollups.py (where the rules live); the table is
filled in the rate rollups' time zone (`rollup_rebuild` rebuilds both).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations, models

from ledger.models import RESPONSE_HOURS_COLUMNS


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_rollups

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_rollups.hours_trigger_sql())
        cursor.execute(rate_rollups.HOURS_INDEX_SQL_0024)
        # Statistics of the new index expressions, so the planner knows how few rows a bucket
        # holds (until autovacuum's next analyse it would guess); none for empty tables.
        rate_rollups.analyze_if_filled(cursor, "ledger_inmail")
        cursor.execute(f"SELECT time_zone FROM {rate_rollups.ZONE_TABLE} WHERE id = 1")
        found = cursor.fetchone()
        if found is not None:
            rate_rollups._hours_rebuild(cursor, found[0])
        rate_rollups.analyze_if_filled(cursor, rate_rollups.HOURS_TABLE)


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_rollups

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_rollups.DROP_HOURS_TRIGGER_SQL)
        cursor.execute(rate_rollups.DROP_HOURS_INDEX_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0023_template_index"),
        ("teams", "0005_personal_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ResponseHoursRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "seat",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="teams.seat",
                    ),
                ),
                (
                    "sender",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("month", models.DateField()),
                ("dimension", models.CharField(max_length=16)),
                ("value", models.CharField(blank=True, max_length=16)),
                *((column, models.IntegerField(default=0)) for column in RESPONSE_HOURS_COLUMNS),
            ],
            options={
                "db_table": "ledger_response_hours",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("dimension", "seat", "sender", "month", "value"),
                        name="response_hours_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
