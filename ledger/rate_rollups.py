"""Response-rate rollups: one row per (seat, sender, local day of sending) with wide counts.

The rows are kept exact by PostgreSQL itself: statement-level triggers on the InMail table
(insert, update, delete; with transition tables, so a COPY or a bulk update of a million rows is
one grouped upsert, not a million) add what the new rows count and take away what the old rows
counted, in the transaction of the write. Every path that writes InMails (the services, the
imports' COPY and bulk_create, the tick's bulk updates, reassignment, test factories, the shell)
keeps them exact without knowing they exist. SQLite has no rollups: there the analytics read the
InMails themselves (it is the development database).

The rules the rows count by (the local day, the 30-day answer window, the body and subject
buckets) live here, once, as constants that both the SQL below and the raw-row analytics
(`ledger.analytics`) read. The organisation's time zone is stored with the rollups
(`RateRollupZone`): the analytics use the rollups only while it is the current one, and
`manage.py rates_check --rebuild` rebuilds them after the time zone changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from ledger import schedule

# Body length limits and the long-subject pattern are rules of the InMail model (its stored
# columns sort by them); named here too, where the triggers' SQL is built from them.
from ledger.models import BODY_LIMITS as BODY_LIMITS
from ledger.models import (
    RATE_ROLLUP_GROUPS,
    RATE_ROLLUP_MEASURES,
    RESPONSE_HOURS_BUCKETS,
    RESPONSE_HOURS_COLUMNS,
    InMailStatus,
)
from ledger.models import SIX_WORDS_OR_MORE as SIX_WORDS_OR_MORE

# --- The rules (one place; ledger.analytics reads them too) ----------------------------------

RESPONSE_RATE_WINDOW_DAYS = 30


def cutoff_day(now: datetime) -> date:
    """The local day of the 30-day cutoff at `now`: the unanswered InMails sent on the days
    before it are in the rate's base whatever their hour; of that day, those sent by the cutoff.
    """
    return schedule.local_date(schedule.add_days(now, -RESPONSE_RATE_WINDOW_DAYS))


TABLE = "ledger_rate_rollup"
# The database function that rebuilds the breakdowns (ledger/rate_breakdowns.py installs it).
BREAKDOWN_REBUILD = "ledger_rate_breakdown_rebuild(text,date)"
ZONE_TABLE = "ledger_rate_rollup_zone"
KEY = ("seat_id", "sender_id", "day")
COLUMNS = tuple(
    f"{group}_{measure}" for group in RATE_ROLLUP_GROUPS for measure in RATE_ROLLUP_MEASURES
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _group_conditions() -> dict[str, str]:
    low, high = BODY_LIMITS
    six_words = f"subject ~ {_quote(SIX_WORDS_OR_MORE)}"
    return {
        "all": "TRUE",
        "body_short": f"length(body) < {low}",
        "body_medium": f"length(body) >= {low} AND length(body) < {high}",
        "body_long": f"length(body) >= {high}",
        "subject_short": f"NOT ({six_words})",
        "subject_long": six_words,
        "open_profile": "open_profile",
        "paid": "NOT open_profile",
    }


def _measure_conditions(tz: str) -> dict[str, str]:
    answered = ", ".join(
        _quote(s) for s in (InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED)
    )
    # Calendar days on the organisation's wall clock, as `AnsweredWithinDays`.
    window_end = (
        f"((sent_at AT TIME ZONE {tz}) + {RESPONSE_RATE_WINDOW_DAYS} * INTERVAL '1 day') "
        f"AT TIME ZONE {tz}"
    )
    return {
        "sent": "TRUE",
        "answered_30d": f"status IN ({answered}) AND responded_at <= {window_end}",
        "accepted": f"status = {_quote(InMailStatus.ACCEPTED)}",
        "declined": f"status = {_quote(InMailStatus.DECLINED)}",
        "replied": f"status = {_quote(InMailStatus.REPLIED)}",
        "pending": f"status = {_quote(InMailStatus.PENDING)}",
        "no_response": f"status = {_quote(InMailStatus.NO_RESPONSE)}",
        "withdrawn": f"status = {_quote(InMailStatus.WITHDRAWN)}",
    }


def counts_sql(source: str, tz: str, *, signed: bool) -> str:
    """SELECT seat_id, sender_id, day, <every count> FROM `source` grouped by the key.

    `tz` is an SQL expression naming the time zone; with `signed`, `source` has a `sign`
    column (+1 for a row that now counts, -1 for one that no longer does).
    """
    groups, measures = _group_conditions(), _measure_conditions(tz)
    weight = "sign" if signed else "1"
    sums = ",\n  ".join(
        f"SUM(CASE WHEN ({groups[group]}) AND ({measures[measure]}) THEN {weight} ELSE 0 END)"
        f" AS {group}_{measure}"
        for group in RATE_ROLLUP_GROUPS
        for measure in RATE_ROLLUP_MEASURES
    )
    return (
        f"SELECT seat_id, sender_id, (sent_at AT TIME ZONE {tz})::date AS day,\n  {sums}\n"
        f"FROM {source} GROUP BY 1, 2, 3"
    )


def _upsert(source: str) -> str:
    columns = ", ".join((*KEY, *COLUMNS))
    updates = ", ".join(f"{c} = {TABLE}.{c} + EXCLUDED.{c}" for c in COLUMNS)
    # Ordered by key so that two transactions touching the same rows lock them in one order.
    return (
        f"INSERT INTO {TABLE} ({columns})\n{counts_sql(source, 'zone', signed=True)} "
        f"ORDER BY 1, 2, 3\nON CONFLICT (seat_id, sender_id, day) DO UPDATE SET {updates};"
    )


# The fields whose change moves an InMail between rollup rows or counts.
_COUNTED_FIELDS = (
    "seat_id",
    "sender_id",
    "sent_at",
    "responded_at",
    "status",
    "open_profile",
    "subject",
    "body",
)


def _signed_transition_rows() -> tuple[str, str, str]:
    """The transition tables of an insert, a delete and an update as sources `d` with a `sign`
    column (+1 counts, -1 no longer counts); an update only the rows whose counted fields
    changed."""
    changed = " OR ".join(f"n.{f} IS DISTINCT FROM o.{f}" for f in _COUNTED_FIELDS)
    inserted = "(SELECT 1 AS sign, * FROM new_rows) AS d"
    deleted = "(SELECT -1 AS sign, * FROM old_rows) AS d"
    updated = (
        "(SELECT 1 AS sign, n.* FROM new_rows n JOIN old_rows o ON o.id = n.id "  # noqa: S608
        f"WHERE {changed} UNION ALL "
        "SELECT -1 AS sign, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
        f"WHERE {changed}) AS d"
    )
    return inserted, deleted, updated


def trigger_sql() -> str:
    """The function and the three statement triggers that keep the rollups exact."""
    inserted, deleted, updated = _signed_transition_rows()
    # Only our own table, column and constant text goes into it.
    return f"""
CREATE OR REPLACE FUNCTION ledger_rate_rollup_apply() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE zone text;
BEGIN
  SELECT time_zone INTO zone FROM {ZONE_TABLE} WHERE id = 1;
  IF zone IS NULL THEN
    -- No zone (the table was emptied, as a test database's flush does): the analytics count
    -- the InMails and rates_check asks for a rebuild; a write never fails for the rollups.
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    {_upsert(inserted)}
  ELSIF TG_OP = 'DELETE' THEN
    {_upsert(deleted)}
  ELSE
    {_upsert(updated)}
  END IF;
  RETURN NULL;
END
$body$;
DROP TRIGGER IF EXISTS ledger_rate_rollup_insert ON ledger_inmail;
DROP TRIGGER IF EXISTS ledger_rate_rollup_update ON ledger_inmail;
DROP TRIGGER IF EXISTS ledger_rate_rollup_delete ON ledger_inmail;
CREATE TRIGGER ledger_rate_rollup_insert AFTER INSERT ON ledger_inmail
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_rate_rollup_apply();
CREATE TRIGGER ledger_rate_rollup_update AFTER UPDATE ON ledger_inmail
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_rate_rollup_apply();
CREATE TRIGGER ledger_rate_rollup_delete AFTER DELETE ON ledger_inmail
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_rate_rollup_apply();
"""  # noqa: S608


DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS ledger_rate_rollup_insert ON ledger_inmail;
DROP TRIGGER IF EXISTS ledger_rate_rollup_update ON ledger_inmail;
DROP TRIGGER IF EXISTS ledger_rate_rollup_delete ON ledger_inmail;
DROP FUNCTION IF EXISTS ledger_rate_rollup_apply();
"""


# --- Use, check, rebuild ---------------------------------------------------------------------

# The InMails with the time zone as a column (one parameter), for the recounts.
_RAW_SOURCE = "(SELECT *, CAST(%s AS text) AS zone FROM ledger_inmail) AS src"


def analyze_if_filled(cursor: Any, *tables: str) -> None:
    """ANALYZE each of `tables` that holds a row, for a migration that adds an index or fills a
    table on a database in use. An empty table is left unanalysed: PostgreSQL then sizes it as
    at least ten pages when it plans, whereas an analysed empty table is planned as empty for
    good where no autovacuum runs (this machine's PostgreSQL) — every foreign-key check and
    trigger statement that a connection planned on it in its first writes kept a sequential
    scan as the table grew (a new database's sends: 0.26 ms a check of an entry's InMail,
    bench/RESULTS.md)."""
    for table in tables:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 (our table names)
        if cursor.fetchone()[0]:
            cursor.execute(f"ANALYZE {table}")


def rollups_in_use(using: str = "default") -> bool:
    """Whether the analytics may read the rollups: on PostgreSQL, kept in the current zone.

    The zone row is read on every use (one primary-key read; once per snapshot of
    `ledger.analytics.snapshot.one_snapshot`, in which it cannot change): a copy kept in the process
    would go on trusting rollups after a rebuild elsewhere, a changed zone or an emptied table
    (a flush), and the analytics would count from rows that no longer say the truth.
    """
    if connections[using].vendor != "postgresql":
        return False
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT time_zone FROM {ZONE_TABLE} WHERE id = 1")  # noqa: S608
        found = cursor.fetchone()
    return found is not None and found[0] == schedule.org_tz().key


@dataclass(frozen=True)
class RollupDifference:
    seat_id: int
    sender_id: int
    day: str
    column: str
    stored: int
    recomputed: int
    table: str = "rate rollup"

    def __str__(self) -> str:
        return (
            f"{self.table} seat {self.seat_id} sender {self.sender_id} {self.day}: {self.column} "
            f"is {self.stored}, the InMails say {self.recomputed}"
        )


@dataclass(frozen=True)
class RollupCheck:
    zone: str | None
    expected_zone: str
    differences: list[RollupDifference]
    rows: int

    @property
    def clean(self) -> bool:
        return self.zone == self.expected_zone and not self.differences

    def problems(self) -> list[str]:
        found = [str(d) for d in self.differences]
        if self.zone != self.expected_zone:
            found.insert(
                0,
                f"rate rollups are kept in time zone {self.zone!r}, the organisation's is "
                f"{self.expected_zone!r} (the analytics read raw rows until a rebuild)",
            )
        return found


def rollup_check(*, limit: int = 1000) -> RollupCheck:
    """Recompute every rollup row from the InMails and list each difference (PostgreSQL)."""
    expected = schedule.org_tz().key
    if connection.vendor != "postgresql":
        return RollupCheck(zone=expected, expected_zone=expected, differences=[], rows=0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT time_zone FROM {ZONE_TABLE} WHERE id = 1")  # noqa: S608
        found = cursor.fetchone()
        zone = found[0] if found else None
        if zone is None:
            return RollupCheck(zone=None, expected_zone=expected, differences=[], rows=0)
        nonzero = " OR ".join(f"s.{c} <> 0" for c in COLUMNS)
        stored_cols = ", ".join(f"COALESCE(s.{c}, 0)" for c in COLUMNS)
        fresh_cols = ", ".join(f"COALESCE(f.{c}, 0)" for c in COLUMNS)
        differs = " OR ".join(f"COALESCE(s.{c}, 0) <> COALESCE(f.{c}, 0)" for c in COLUMNS)
        fresh = counts_sql(_RAW_SOURCE, "zone", signed=False)
        sql = (
            f"WITH f AS ({fresh}), s AS (SELECT * FROM {TABLE} s WHERE {nonzero}) "  # noqa: S608
            f"SELECT COALESCE(s.seat_id, f.seat_id), COALESCE(s.sender_id, f.sender_id), "
            f"COALESCE(s.day, f.day), {stored_cols}, {fresh_cols} "
            f"FROM s FULL OUTER JOIN f USING (seat_id, sender_id, day) WHERE {differs} "
            f"ORDER BY 1, 2, 3 LIMIT %s"
        )
        cursor.execute(sql, [zone, limit])
        differences = []
        for seat_id, sender_id, day, *values in cursor.fetchall():
            stored, recomputed = values[: len(COLUMNS)], values[len(COLUMNS) :]
            for column, a, b in zip(COLUMNS, stored, recomputed, strict=True):
                if a != b:
                    differences.append(RollupDifference(seat_id, sender_id, str(day), column, a, b))
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608
        (rows,) = cursor.fetchone()
        hours_differences, hours_rows = _hours_check(cursor, zone, limit)
        differences.extend(hours_differences)
        rows += hours_rows
    return RollupCheck(zone=zone, expected_zone=expected, differences=differences, rows=rows)


def rollup_rebuild() -> int:
    """Recompute every rollup row from the InMails in the organisation's current time zone
    (after it changed, or to repair); returns the rows written. Locks out InMail writes while
    it runs, so no write slips between the recount and the new rows.

    The breakdowns by hour, template and tag (ledger/rate_breakdowns.py) are rebuilt with them,
    in the same zone, by the database function their migration installs (none before it).
    """
    if connection.vendor != "postgresql":
        return 0
    zone = schedule.org_tz().key
    columns = ", ".join((*KEY, *COLUMNS))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE ledger_inmail IN SHARE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {ZONE_TABLE} (id, time_zone) VALUES (1, %s) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET time_zone = EXCLUDED.time_zone",
            [zone],
        )
        cursor.execute(
            f"INSERT INTO {TABLE} ({columns}) " + counts_sql(_RAW_SOURCE, "zone", signed=False),
            [zone],
        )
        written: int = cursor.rowcount
        cursor.execute("SELECT to_regprocedure(%s)", [BREAKDOWN_REBUILD])
        if cursor.fetchone()[0] is not None:
            cursor.execute(
                "SELECT ledger_rate_breakdown_rebuild(%s, %s)",
                [zone, cutoff_day(timezone.now())],
            )
        written += _hours_rebuild(cursor, zone)
    return written


# --- Hours to a response, by bucket (issue 15): the exact median without sorting them all ----
#
# `ledger_response_hours` counts the answered InMails per (seat, sender, local month of sending,
# breakdown value) in RESPONSE_HOURS_BUCKETS buckets of hours to the response. The analytics
# find in it the bucket of a group's middle rank, then read only that group's answered InMails
# inside the bucket (`inmail_answered_hours_idx`) to pick the exact middle values: the buckets
# only decide how few InMails are read, never the median. A month key, not a day key, so that
# the rows stay bounded (seats x months x values) however many InMails a day holds; a range's
# partial months at its edges are counted from the InMails themselves.

HOURS_TABLE = "ledger_response_hours"
HOURS_KEY = ("dimension", "seat_id", "sender_id", "month", "value")
# The buckets' lower limits in hours, sixth-octave steps (12 % apart) from 15 minutes to 2048
# hours: bucket 0 is under the first, bucket i from limit i - 1 up to limit i, the last bucket
# from 2048 hours on. Exact decimals, compared as PostgreSQL numerics with the hours below.
HOURS_LIMITS: tuple[Decimal, ...] = tuple(
    Decimal(str(round(2 ** (-2 + i / 6), 4))) for i in range(RESPONSE_HOURS_BUCKETS - 1)
)


# Elapsed hours from sending to the response: PostgreSQL's text of `HoursToResponse` (a numeric),
# so that the indexes below serve its comparisons.
def hours_sql(alias: str = "") -> str:
    """The hours from sending to the response of the row `alias` (none: unqualified)."""
    row = f"{alias}." if alias else ""
    return f"EXTRACT(EPOCH FROM ({row}responded_at - {row}sent_at)) / 3600.0"


HOURS_SQL = hours_sql()
# The UTC date of sending: an immutable expression (an index may hold it), unlike a local day.
UTC_DAY_SQL = "(sent_at AT TIME ZONE 'UTC')::date"
_ANSWERED_SQL = (
    f"status IN ('{InMailStatus.ACCEPTED}', '{InMailStatus.DECLINED}', '{InMailStatus.REPLIED}')"
)
# The answered InMails by (UTC day of sending, hours) and by (sender, hours): the median's last
# step reads one group's InMails inside one bucket of hours, for the days of its period (weeks,
# months, weekdays, every day) or for its senders (recruiters, teams).
_DAY_HOURS_INCLUDE = "seat_id, sender_id, sent_at, responded_at, open_profile"
# Migration 0024 created the indexes with these columns, before the InMail had its stored
# lengths; 0029 made the day index carry those too (`DAY_HOURS_INDEX_SQL`).
HOURS_INDEX_SQL_0024 = f"""
CREATE INDEX IF NOT EXISTS inmail_answered_day_hours_idx
  ON ledger_inmail (({UTC_DAY_SQL}), ({HOURS_SQL}))
  INCLUDE ({_DAY_HOURS_INCLUDE}) WHERE {_ANSWERED_SQL};
CREATE INDEX IF NOT EXISTS inmail_answered_sender_hours_idx
  ON ledger_inmail (sender_id, ({HOURS_SQL}))
  INCLUDE (seat_id, sent_at, responded_at, open_profile) WHERE {_ANSWERED_SQL};
"""
# The day index with the body's length and the subject's "long" (the InMail's stored columns):
# the medians by body and subject length filter a group's rows from the index alone.
DAY_HOURS_INDEX_SQL = f"""
CREATE INDEX IF NOT EXISTS inmail_answered_day_hours_idx
  ON ledger_inmail (({UTC_DAY_SQL}), ({HOURS_SQL}))
  INCLUDE ({_DAY_HOURS_INCLUDE}, body_chars, subject_long) WHERE {_ANSWERED_SQL};
"""
DROP_HOURS_INDEX_SQL = """
DROP INDEX IF EXISTS inmail_answered_day_hours_idx;
DROP INDEX IF EXISTS inmail_answered_sender_hours_idx;
"""


def hours_bucket_sql(hours: str) -> str:
    """The bucket (0 to RESPONSE_HOURS_BUCKETS - 1) of an SQL expression of hours."""
    limits = ",".join(str(limit) for limit in HOURS_LIMITS)
    return f"width_bucket({hours}, '{{{limits}}}'::numeric[])"


def _hours_values(tz: str) -> str:
    """(dimension, value) pairs an answered InMail counts under: a LATERAL VALUES list."""
    conditions = _group_conditions()

    def case(groups: tuple[str, ...]) -> str:
        whens = " ".join(f"WHEN {conditions[g]} THEN {_quote(g)}" for g in groups[:-1])
        return f"CASE {whens} ELSE {_quote(groups[-1])} END"

    local = f"(sent_at AT TIME ZONE {tz})"
    return (
        "(VALUES ('all', ''), "
        f"('body_length', {case(('body_short', 'body_medium', 'body_long'))}), "
        f"('subject_length', {case(('subject_long', 'subject_short'))}), "
        f"('open_profile', {case(('open_profile', 'paid'))}), "
        f"('weekday', to_char({local}, 'ID')), "
        f"('week', to_char(date_trunc('week', {local}), 'YYYY-MM-DD'))"
        ") AS k(dimension, value)"
    )


def _answered_statuses_sql() -> str:
    """The statuses of an answered InMail, the only ones the response hours count, as SQL."""
    return ", ".join(
        _quote(s) for s in (InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED)
    )


def hours_counts_sql(source: str, tz: str, *, signed: bool) -> str:
    """SELECT <HOURS_KEY>, <one count per bucket> FROM the answered InMails of `source`."""
    answered = _answered_statuses_sql()
    weight = "sign" if signed else "1"
    pivot = ",\n  ".join(
        f"SUM(CASE WHEN h_bucket = {bucket} THEN h_n ELSE 0 END) AS {column}"
        for bucket, column in enumerate(RESPONSE_HOURS_COLUMNS)
    )
    # Counted by bucket first, then one column per bucket.
    return (
        f"SELECT dimension, seat_id, sender_id, month, value,\n  {pivot}\n"  # noqa: S608
        f"FROM (SELECT k.dimension, seat_id, sender_id, "
        f"date_trunc('month', sent_at AT TIME ZONE {tz})::date AS month, k.value, "
        f"{hours_bucket_sql(HOURS_SQL)} AS h_bucket, SUM({weight}) AS h_n "
        f"FROM {source} CROSS JOIN LATERAL {_hours_values(tz)} "
        f"WHERE status IN ({answered}) GROUP BY 1, 2, 3, 4, 5, 6) AS by_bucket "
        f"GROUP BY 1, 2, 3, 4, 5"
    )


def _hours_upsert(source: str) -> str:
    columns = ", ".join((*HOURS_KEY, *RESPONSE_HOURS_COLUMNS))
    updates = ", ".join(f"{c} = {HOURS_TABLE}.{c} + EXCLUDED.{c}" for c in RESPONSE_HOURS_COLUMNS)
    key = ", ".join(HOURS_KEY)
    return (
        f"INSERT INTO {HOURS_TABLE} ({columns})\n"
        f"{hours_counts_sql(source, 'zone', signed=True)} ORDER BY 1, 2, 3, 4, 5\n"
        f"ON CONFLICT ({key}) DO UPDATE SET {updates};"
    )


def hours_trigger_sql() -> str:
    """The function and the three statement triggers that keep `ledger_response_hours` exact."""
    return hours_function_sql() + _HOURS_TRIGGERS_SQL


def hours_function_sql() -> str:
    """The trigger function alone: replacing it takes no lock on the InMails, as recreating the
    triggers would (migration 0028)."""
    inserted, deleted, updated = _signed_transition_rows()
    answered = _answered_statuses_sql()
    return f"""
CREATE OR REPLACE FUNCTION ledger_response_hours_apply() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE zone text;
BEGIN
  SELECT time_zone INTO zone FROM {ZONE_TABLE} WHERE id = 1;
  IF zone IS NULL THEN
    RETURN NULL;
  END IF;
  -- Only answered InMails are counted: a statement whose rows were not answered before it
  -- nor after it (every send, a closed window, a withdrawal) changes nothing here, and this
  -- skips the upsert, which costs a good part of a millisecond even when it has no row.
  IF TG_OP = 'INSERT' THEN
    IF EXISTS (SELECT 1 FROM new_rows WHERE status IN ({answered})) THEN
      {_hours_upsert(inserted)}
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM old_rows WHERE status IN ({answered})) THEN
      {_hours_upsert(deleted)}
    END IF;
  ELSIF EXISTS (SELECT 1 FROM new_rows WHERE status IN ({answered}))
      OR EXISTS (SELECT 1 FROM old_rows WHERE status IN ({answered})) THEN
    {_hours_upsert(updated)}
  END IF;
  RETURN NULL;
END
$body$;
"""  # noqa: S608


_DROP_HOURS_TRIGGERS_SQL = """
DROP TRIGGER IF EXISTS ledger_response_hours_insert ON ledger_inmail;
DROP TRIGGER IF EXISTS ledger_response_hours_update ON ledger_inmail;
DROP TRIGGER IF EXISTS ledger_response_hours_delete ON ledger_inmail;
"""

_HOURS_TRIGGERS_SQL = (
    _DROP_HOURS_TRIGGERS_SQL
    + """CREATE TRIGGER ledger_response_hours_insert AFTER INSERT ON ledger_inmail
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_response_hours_apply();
CREATE TRIGGER ledger_response_hours_update AFTER UPDATE ON ledger_inmail
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_response_hours_apply();
CREATE TRIGGER ledger_response_hours_delete AFTER DELETE ON ledger_inmail
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_response_hours_apply();
"""
)


DROP_HOURS_TRIGGER_SQL = (
    _DROP_HOURS_TRIGGERS_SQL + "DROP FUNCTION IF EXISTS ledger_response_hours_apply();\n"
)


def _hours_table_exists(cursor: Any) -> bool:
    # Absent while the migrations before 0021 run (0019 rebuilds the rate rollups).
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [HOURS_TABLE])
    return bool(cursor.fetchone()[0])


def _hours_rebuild(cursor: Any, zone: str) -> int:
    """Recount `ledger_response_hours` from the InMails in `zone` (inside `rollup_rebuild`)."""
    if not _hours_table_exists(cursor):
        return 0
    columns = ", ".join((*HOURS_KEY, *RESPONSE_HOURS_COLUMNS))
    cursor.execute(f"DELETE FROM {HOURS_TABLE}")  # noqa: S608
    cursor.execute(
        f"INSERT INTO {HOURS_TABLE} ({columns}) "
        + hours_counts_sql(_RAW_SOURCE, "zone", signed=False),
        [zone],
    )
    written: int = cursor.rowcount
    return written


def _hours_check(cursor: Any, zone: str, limit: int) -> tuple[list[RollupDifference], int]:
    """Every difference between `ledger_response_hours` and a recount from the InMails."""
    if not _hours_table_exists(cursor):
        return [], 0
    columns = RESPONSE_HOURS_COLUMNS
    nonzero = " OR ".join(f"s.{c} <> 0" for c in columns)
    stored_cols = ", ".join(f"COALESCE(s.{c}, 0)" for c in columns)
    fresh_cols = ", ".join(f"COALESCE(f.{c}, 0)" for c in columns)
    differs = " OR ".join(f"COALESCE(s.{c}, 0) <> COALESCE(f.{c}, 0)" for c in columns)
    keys = ", ".join(f"COALESCE(s.{k}, f.{k})" for k in HOURS_KEY)
    fresh = hours_counts_sql(_RAW_SOURCE, "zone", signed=False)
    cursor.execute(
        f"WITH f AS ({fresh}), s AS (SELECT * FROM {HOURS_TABLE} s WHERE {nonzero}) "  # noqa: S608
        f"SELECT {keys}, {stored_cols}, {fresh_cols} "
        f"FROM s FULL OUTER JOIN f USING ({', '.join(HOURS_KEY)}) WHERE {differs} "
        f"ORDER BY 1, 2, 3, 4, 5 LIMIT %s",
        [zone, limit],
    )
    differences = []
    for dimension, seat_id, sender_id, month, value, *counts in cursor.fetchall():
        stored, recomputed = counts[: len(columns)], counts[len(columns) :]
        for column, a, b in zip(columns, stored, recomputed, strict=True):
            if a != b:
                where = f"{month:%Y-%m} {dimension} {value}".rstrip()
                differences.append(
                    RollupDifference(
                        seat_id, sender_id, where, column, a, b, table="hours-to-response rollup"
                    )
                )
    cursor.execute(f"SELECT COUNT(*) FROM {HOURS_TABLE}")  # noqa: S608
    (rows,) = cursor.fetchone()
    return differences, rows
