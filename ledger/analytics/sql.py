"""Database functions the counts need, for PostgreSQL and SQLite alike.

Local days and periods, the 30-day answer window, hours to a response and their median.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Aggregate,
    BooleanField,
    CharField,
    Expression,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
)
from django.db.models.sql.compiler import SQLCompiler

from ledger import schedule
from ledger.models import (
    RESPONSE_STATUSES,
    InMail,
)
from ledger.rate_breakdowns import LOCAL_PERIOD_FORMATS

# The rule lives with the rollups, which count by it too.
from ledger.rate_rollups import SIX_WORDS_OR_MORE as SIX_WORDS_OR_MORE

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --------------------------------------------------------------------------------------------
# Database expressions
# --------------------------------------------------------------------------------------------


def _sqlite_add_local_days(stored: str, days: int) -> str:
    """`schedule.add_days` on SQLite's stored form of a datetime (naive UTC text)."""
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    moved = schedule.add_days(instant, days).astimezone(UTC).replace(tzinfo=None)
    # The same text form Django writes, so SQLite's text comparison orders them correctly.
    return str(moved)


def _sqlite_local_period(stored: str, period: str) -> str:
    """`LocalPeriod`'s key of SQLite's stored form of a datetime."""
    local = datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(schedule.org_tz())
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "hour":
        return f"{local.hour:02d}"
    if period == "weekday_hour":
        return f"{local.isoweekday()}-{local.hour:02d}"
    return WEEKDAYS[local.weekday()]


def _lend_python_to_sqlite(connection: BaseDatabaseWrapper) -> None:
    """SQLite knows no time zones: lend it the Python arithmetic (again is harmless).

    Django's own time-zone functions for SQLite would do, but they parse every value in
    Python several times per row; these parse once, and only where SQL can't decide.
    """
    connection.ensure_connection()
    raw = connection.connection
    raw.create_function("analytics_add_local_days", 2, _sqlite_add_local_days)
    raw.create_function("analytics_local_period", 2, _sqlite_local_period)


class AnsweredWithinDays(Func):
    """Whether the response came no later than `days` calendar days after sending.

    Calendar days on the organisation's wall clock, like every day count of the ledger (the
    90-day refund window is `schedule.add_days` too): 30 days after 09:00 is 09:00 again across a
    daylight-saving change, so plain interval arithmetic would be an hour off.
    """

    output_field = BooleanField()

    def __init__(self, days: int) -> None:
        super().__init__(F("responded_at"), F("sent_at"))
        self.days = days

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        (responded, responded_params), (sent, sent_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        tz_name = schedule.org_tz().key
        return (
            f"{responded} <= ((({sent}) AT TIME ZONE %s) + %s * INTERVAL '1 day') AT TIME ZONE %s",
            [*responded_params, *sent_params, tz_name, self.days, tz_name],
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        _lend_python_to_sqlite(connection)
        (responded, responded_params), (sent, sent_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        # A day either side of the limit, elapsed time decides (no offset change is a day),
        # so the Python arithmetic runs only for answers that came around day 30.
        return (
            f"CASE WHEN {responded} <= datetime({sent}, %s) THEN 1 "
            f"WHEN {responded} > datetime({sent}, %s) THEN 0 "
            f"ELSE {responded} <= analytics_add_local_days({sent}, %s) END",
            [
                *responded_params,
                *sent_params,
                f"+{self.days - 1} days",
                *responded_params,
                *sent_params,
                f"+{self.days + 1} days",
                *responded_params,
                *sent_params,
                self.days,
            ],
        )


class LocalPeriod(Func):
    """The local ISO week ("2026-W45"), month ("2026-11"), weekday ("Monday"), hour ("09") or
    ISO weekday and hour ("2-09": Tuesday, 09:00 to 09:59) of an instant."""

    output_field = CharField()
    # ID is the ISO weekday, Monday 1; HH24 the hour on the 24-hour clock, zero-padded.
    _POSTGRES_FORMATS = {
        "week": 'IYYY-"W"IW',
        "month": "YYYY-MM",
        "weekday": "FMDay",
        # Where the breakdowns by hour count them too (one rule, one place).
        **LOCAL_PERIOD_FORMATS,
    }

    def __init__(self, expression: Expression | str, period: str) -> None:
        super().__init__(expression)
        self.period = period

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        # Day names without the TM prefix are English whatever the server's locale.
        return (
            f"to_char(({sql}) AT TIME ZONE %s, %s)",
            [*params, schedule.org_tz().key, self._POSTGRES_FORMATS[self.period]],
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        _lend_python_to_sqlite(connection)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"analytics_local_period({sql}, %s)", [*params, self.period]


class HoursToResponse(Func):
    """Elapsed hours from sending to the response."""

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F("responded_at"), F("sent_at"))

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        responded, sent = (compiler.compile(e) for e in self.source_expressions)
        return (
            f"EXTRACT(EPOCH FROM ({responded[0]} - {sent[0]})) / 3600.0",
            [*responded[1], *sent[1]],
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        # julianday() is native: no Python call per row.
        responded, sent = (compiler.compile(e) for e in self.source_expressions)
        return (
            f"(julianday({responded[0]}) - julianday({sent[0]})) * 24.0",
            [*responded[1], *sent[1]],
        )


class MedianHoursToResponse(Aggregate):
    """PostgreSQL's exact median of the hours from sending to the response."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, **extra: Any) -> None:
        super().__init__(HoursToResponse(), filter=Q(status__in=RESPONSE_STATUSES), **extra)


def _median_in_database(inmails: QuerySet[InMail]) -> bool:
    return connections[inmails.db].vendor == "postgresql"
