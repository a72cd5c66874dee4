"""Response-rate rollups (issue 15): the table, its time zone and the triggers that keep it.

The trigger SQL is generated from ledger/rate_rollups.py (where the counting rules live); a
change of those rules needs a new migration that runs `trigger_sql()` again and rebuilds.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations, models

from ledger.models import RATE_ROLLUP_GROUPS, RATE_ROLLUP_MEASURES


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_rollups

    zone = settings.TIME_ZONE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_rate_rollup_zone (id, time_zone) VALUES (1, %s)", [zone]
        )
        cursor.execute(rate_rollups.trigger_sql())
    rate_rollups.rollup_rebuild()


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_rollups

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_rollups.DROP_TRIGGER_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0018_response_days"),
        ("teams", "0005_personal_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RateRollupZone",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("time_zone", models.CharField(max_length=64)),
            ],
            options={"db_table": "ledger_rate_rollup_zone"},
        ),
        migrations.CreateModel(
            name="RateRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                ("day", models.DateField()),
                *(
                    (f"{group}_{measure}", models.IntegerField(default=0))
                    for group in RATE_ROLLUP_GROUPS
                    for measure in RATE_ROLLUP_MEASURES
                ),
            ],
            options={
                "db_table": "ledger_rate_rollup",
                "indexes": [models.Index(fields=["day"], name="rate_rollup_day_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("seat", "sender", "day"), name="rate_rollup_key")
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
