"""`inmail_site.db.UtcTimestamptzLoader`: every `timestamptz` read on PostgreSQL comes back as
Django's own loader would give it (the same instant, `datetime.timezone.utc`), or fails as it
would, only faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader  # type: ignore[import-untyped]
from django.test import override_settings

from inmail_site.db import UtcTimestamptzLoader

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TEXTS = [
    "2025-03-01 09:00:00+00",
    "2025-03-01 09:00:00.123456+00",
    "2025-03-01 09:00:00.5+00",
    "2024-02-29 23:59:59.999999+00",
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _read(sql: str) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchone())


def _django_loader() -> type:
    class DjangoUtc(BaseTzLoader):  # type: ignore[misc]
        timezone = UTC

    return DjangoUtc


def _cursor_loader() -> type:
    with connection.cursor() as cursor:
        loader: type = cursor.cursor.adapters.get_loader(
            psycopg.postgres.types["timestamptz"].oid, psycopg.pq.Format.TEXT
        )
        return loader


def test_a_postgresql_cursor_reads_timestamps_with_it() -> None:
    # Django registers its own loader on a cursor whose loader's `timezone` differs from the
    # connection's (`create_cursor`): the cursor's loader is the one that reads.
    assert _cursor_loader() is UtcTimestamptzLoader


def test_without_time_zones_djangos_loader_reads_naive_datetimes() -> None:
    # The connection's loader stays; Django puts its own on each cursor of this set-up.
    with override_settings(USE_TZ=False):
        assert _cursor_loader() is not UtcTimestamptzLoader
        (value,) = _read("SELECT '2025-03-01 09:00:00+00'::timestamptz")
    assert value == datetime(2025, 3, 1, 9, 0)
    assert value.tzinfo is None


@pytest.mark.parametrize("text", TEXTS)
def test_each_value_is_what_djangos_loader_reads(text: str) -> None:
    ours = UtcTimestamptzLoader(0).load(text.encode())
    theirs = _django_loader()(0).load(text.encode())
    assert ours == theirs
    assert ours.tzinfo is UTC
    assert theirs.tzinfo is UTC
    assert (ours.year, ours.microsecond) == (theirs.year, theirs.microsecond)


def test_values_from_the_server_arrays_and_nulls() -> None:
    literals = ", ".join(f"'{text}'::timestamptz" for text in TEXTS)
    values = _read(f"SELECT {literals}, ARRAY[{literals}], NULL::timestamptz")
    expected = [_django_loader()(0).load(text.encode()) for text in TEXTS]
    assert values[: len(TEXTS)] == expected
    assert values[len(TEXTS)] == expected
    assert values[-1] is None
    assert all(value.tzinfo is UTC for value in values[: len(TEXTS)])


def test_another_offset_is_the_same_instant_in_utc() -> None:
    value = UtcTimestamptzLoader(0).load(b"2025-03-01 09:00:00.25+05:30")
    assert value == datetime(2025, 3, 1, 9, 0, 0, 250000, tzinfo=timezone(timedelta(hours=5.5)))
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["infinity", "-infinity", "2025-03-01 09:00:00+00 BC", "12025-03-01 09:00:00+00", "junk"],
)
def test_what_it_does_not_parse_fails_as_djangos_loader_fails(text: str) -> None:
    with pytest.raises(psycopg.DataError) as theirs:
        _django_loader()(0).load(text.encode())
    with pytest.raises(psycopg.DataError) as ours:
        UtcTimestamptzLoader(0).load(text.encode())
    assert str(ours.value) == str(theirs.value)
