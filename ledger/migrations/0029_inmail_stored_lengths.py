"""The InMail's body length and long subject as stored columns, and the day index of the answered
InMails carrying them (issue 15, goal 2).

The exact medians by body and subject length read the answered InMails of each group's middle
bucket of hours along `inmail_answered_day_hours_idx`, which held neither: each row read was a
fetch from the table to compute `length(body)` or match the subject, and at 1,000,000 InMails
those two reads were the team page's slowest (15 ms each; 280 ms a group at 5,000,000). With
both in the index the reads are index-only. The columns are computed by the database on every
write (GENERATED ... STORED), from the same rules as the rate rollups' triggers
(`ledger.models.BODY_LIMITS`, `SIX_WORDS_OR_MORE`).

On PostgreSQL adding them rewrites the InMail table once, under its exclusive lock. On SQLite
Django adds them by building the table anew, which drops the table's triggers (the responses'
days of 0018): they are read before and created again after, as they were.
"""

from __future__ import annotations

from typing import Any

import django.db.models.functions.text
from django.db import migrations, models


# The SQLite triggers of the InMail table, read before the table is built anew.
_SQLITE_TRIGGERS = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_inmail'"
)
_kept_triggers: list[tuple[str, str]] = []


def keep_sqlite_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_SQLITE_TRIGGERS)
        _kept_triggers[:] = cursor.fetchall()


def restore_sqlite_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_SQLITE_TRIGGERS)
        present = {name for name, _sql in cursor.fetchall()}
        for name, sql in _kept_triggers:
            if name not in present:
                cursor.execute(sql)
    _kept_triggers.clear()


def _day_index(schema_editor: Any, *, with_lengths: bool) -> None:
    """The day index rebuilt with the stored lengths, or as 0024 made it (going back; the
    sender index is created IF NOT EXISTS and stays)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_rollups

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS inmail_answered_day_hours_idx")
        if with_lengths:
            cursor.execute(rate_rollups.DAY_HOURS_INDEX_SQL)
            rate_rollups.analyze_if_filled(cursor, "ledger_inmail")
        else:
            cursor.execute(rate_rollups.HOURS_INDEX_SQL_0024)


def day_index_with_lengths(apps: Any, schema_editor: Any) -> None:
    _day_index(schema_editor, with_lengths=True)


def day_index_without_lengths(apps: Any, schema_editor: Any) -> None:
    _day_index(schema_editor, with_lengths=False)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0028_response_hours_answered_only"),
    ]

    operations = [
        # Both ways: going back removes the columns, which may build the table anew again.
        migrations.RunPython(keep_sqlite_triggers, restore_sqlite_triggers),
        migrations.AddField(
            model_name="inmail",
            name="body_chars",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Length("body"),
                output_field=models.IntegerField(),
            ),
        ),
        migrations.AddField(
            model_name="inmail",
            name="subject_long",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.ExpressionWrapper(
                    models.Q(("subject__regex", "^\\s*\\S+(\\s+\\S+){5}")),
                    output_field=models.BooleanField(),
                ),
                output_field=models.BooleanField(),
            ),
        ),
        migrations.RunPython(restore_sqlite_triggers, keep_sqlite_triggers),
        migrations.RunPython(day_index_with_lengths, day_index_without_lengths),
    ]
