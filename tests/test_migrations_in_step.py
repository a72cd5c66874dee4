"""The migrations describe the models exactly: `makemigrations --check` finds nothing to write.

Besides a model change without its migration, this catches a hand-written operation (0025's
`AddIntegerColumns`) leaving a state other than the fields it stands for.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection


@pytest.mark.django_db
def test_the_models_need_no_new_migration() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(
            f"makemigrations would write a migration (exit {exit_.code}):\n{out.getvalue()}"
        )
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_every_model_column_is_in_the_migrated_database() -> None:
    """The tables the migrations made have every column of their models, on either database
    (on SQLite, 0025's columns once came out as the last one alone)."""
    missing: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed or model._meta.proxy:
                continue
            table = model._meta.db_table
            columns = {
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            }
            missing.extend(
                f"{table}.{field.column}"
                for field in model._meta.local_concrete_fields
                if field.column not in columns
            )
    assert missing == []
