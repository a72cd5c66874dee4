"""The response-rate breakdowns by hour, weekday and hour, template and tag count their answered
InMails by bucket of hours to the response too (issue 15), so that their exact medians read one
bucket of InMails rather than every answered one: the columns, the triggers that count them and
a rebuild of the rows (which also writes the breakdowns' state on a new database).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from ledger.models import RESPONSE_HOURS_COLUMNS


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.trigger_sql())
    rate_breakdowns.breakdown_rebuild()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {rate_breakdowns.TABLE}")


def uninstall(apps: Any, schema_editor: Any) -> None:
    # Back to the triggers and rebuild function without the hours buckets (what 0022 installed),
    # before the columns go: the rows stay kept, and the code before 0025 can check and rebuild
    # them. Rebuilt only where there were breakdowns.
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.trigger_sql(hours=False))
        cursor.execute(
            f"SELECT time_zone, settled_before FROM {rate_breakdowns.STATE_TABLE} WHERE id = 1"
        )
        found = cursor.fetchone()
        if found is not None:
            cursor.execute("SELECT ledger_rate_breakdown_rebuild(%s, %s)", list(found))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0024_response_hours")]

    operations = [
        *(
            migrations.AddField(
                model_name="ratebreakdown",
                name=column,
                field=models.IntegerField(default=0, db_default=0),
            )
            for column in RESPONSE_HOURS_COLUMNS
        ),
        migrations.RunPython(install, uninstall),
    ]
