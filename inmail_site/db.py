"""Reading `timestamptz` values without a regular expression per value.

Django loads every `timestamptz` through its own loader (`psycopg_any.BaseTzLoader`): a
subclass of psycopg's pure-Python `TimestamptzLoader`, which matches the text against a regular
expression and builds the datetime from the groups, then sets the tzinfo to the connection's
time zone. That is ~4 µs a value: a tick over 100,000 seats reads ~900,000 of them, the admin
overview thousands (bench/RESULTS.md, "Tick").

Django sets each PostgreSQL session's time zone to UTC, so the text is ISO 8601 with a `+00`
offset, which `datetime.fromisoformat` (C, Python 3.11) parses in ~0.15 µs into the same value
with the same `datetime.timezone.utc` (a session moved to another zone by hand gets the right
instant, in UTC, where Django's loader would label the local wall time UTC). Anything it does
not parse (another DateStyle, BC dates, years past 9999, infinity) goes to Django's loader as
before. Any other set-up (USE_TZ off, a database TIME_ZONE) keeps Django's loader.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import BaseTzLoader  # type: ignore[import-untyped]


class UtcTimestamptzLoader(BaseTzLoader):  # type: ignore[misc]
    # Django compares this with the connection's before each cursor (`create_cursor`).
    timezone = UTC

    def load(self, data: Any) -> datetime:
        try:
            value = datetime.fromisoformat(bytes(data).decode())
        except ValueError:
            return super().load(data)  # type: ignore[no-any-return]
        if value.tzinfo is None:  # not a timestamptz's text: Django's loader decides
            return super().load(data)  # type: ignore[no-any-return]
        return value if value.tzinfo is UTC else value.astimezone(UTC)


def use_fast_timestamp_loader(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "postgresql" and connection.timezone is UTC:
        connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
