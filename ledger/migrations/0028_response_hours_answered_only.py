"""The response-hours trigger runs its upsert only when the statement's rows hold an answered
InMail, before or after (issue 15): a send inserts a pending InMail, which the response hours
never count, and the upsert it ran anyway, with no row, cost about 0.2 ms inside the send's
transaction. The counts are the same; `rates_check` compares them with the InMails as before.

The function is generated from ledger/rate_rollups.py, as 0024 installed it, and only the
function is replaced: the triggers call it by name, and recreating them would take the InMail
table's exclusive lock. Going back leaves this one in place, which counts exactly what the
earlier one counted.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_rollups

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_rollups.hours_function_sql())


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0027_usage_index_only"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
