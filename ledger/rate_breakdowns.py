"""Response-rate breakdowns by local hour, weekday and hour, template and tag (issue 15).

One row per (breakdown kind, seat, sender, bucket) counting that seat's InMails from that sender
in that bucket *over all time*: the rows are bounded by seats × senders × buckets (24 hours, 168
weekday-hours, the templates, the tags) however long the history or dense the sending, so a
breakdown over the organisation reads a few thousand rows, not the InMails (nor one row per day,
which grows with history: at 1,000,000 InMails on 200 seats a row per seat, day and hour is
nearly one per InMail).

The rate's base depends on now: answered InMails, and unanswered, not withdrawn ones sent by the
30-day cutoff. So each row also counts `settled_unanswered`, its unanswered InMails sent before
the local day `settled_before` (the state row). `breakdown_settle()`, run daily by
`ledger.tasks.check_ledger`, moves that day to the cutoff's day of the moment; the analytics add
(or take away) the unanswered InMails sent between `settled_before` and the cutoff's day when
they differ, and the cutoff's own day's from the InMails, as the day rollups do.

The same counts are kept by local month of sending too (`ledger_rate_breakdown_month`, one
row per kind, seat, sender, month and bucket), for ranges of whole months: a page's last three
months reads those rows; over all time, the rows above (one per bucket, however long the
history) are read. The triggers write both tables from the same counts.

Each row also counts its answered InMails by bucket of hours to the response (`h00`..., the
buckets of `ledger_response_hours`, ledger/rate_rollups.py): a breakdown's exact median then
reads only the answered InMails of its groups' middle buckets (`ledger.analytics.rates`).

Kept exact by PostgreSQL statement triggers with transition tables (one grouped upsert per
statement: COPY, bulk updates and deletes included) on both tables whose rows they count: the
InMails (their seat, sender, time, status, template...) and their tags (a tag added or removed
after sending). Each statement writes one of the two tables, so the change of the join of
InMails and tags is the change of that table joined with the other as it stands. SQLite keeps no
breakdowns: there the analytics count the InMails.

The API's InMail list takes its `count` from the hour rows too (`inmails_of_seats_count`): rows
changed behind the triggers' back (SQL under `session_replication_role = replica`, a restore
with triggers disabled, a TRUNCATE) would then page the list wrongly, not only skew the
analytics. `manage.py rates_check` reports any difference; `--rebuild` mends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from ledger import schedule
from ledger.models import (
    RATE_BREAKDOWN_KINDS,
    RATE_ROLLUP_MEASURES,
    RESPONSE_HOURS_COLUMNS,
    RESPONSE_STATUSES,
    InMailStatus,
)
from ledger.rate_rollups import (
    BREAKDOWN_REBUILD,
    _measure_conditions,
    _quote,
    cutoff_day,
    hours_bucket_sql,
    hours_sql,
)

TABLE = "ledger_rate_breakdown"
STATE_TABLE = "ledger_rate_breakdown_state"
KEY = ("kind", "seat_id", "sender_id", "bucket")
# The same counts by local month of sending (`RateBreakdownMonth`), for ranges of whole months.
MONTH_TABLE = "ledger_rate_breakdown_month"
MONTH_KEY = ("kind", "seat_id", "sender_id", "month", "bucket")
# The counts, then the answered InMails by bucket of hours to the response (the medians').
COUNT_COLUMNS = (*RATE_ROLLUP_MEASURES, "settled_unanswered")
COLUMNS = (*COUNT_COLUMNS, *RESPONSE_HOURS_COLUMNS)
# The local hour of sending ("09") and the ISO weekday and hour ("2-09", Tuesday 09:00–09:59),
# as PostgreSQL's to_char writes them (`ledger.analytics.sql.LocalPeriod` reads these too).
LOCAL_PERIOD_FORMATS = {"hour": "HH24", "weekday_hour": "ID-HH24"}
UNANSWERED = (InMailStatus.PENDING, InMailStatus.NO_RESPONSE)


def settled_day(now: datetime) -> date:
    """The day the daily settling moves `settled_before` to: the 30-day cutoff's day."""
    return cutoff_day(now)


def _buckets(tag_source: str | None) -> dict[str, tuple[str, str]]:
    """Each kind's bucket expression and join, over a source `d` of InMail columns. A source
    of tag rows (`tag_source`: its tag column) counts only under `tag`."""
    if tag_source is not None:
        return {"tag": (tag_source, "")}
    local = "(d.sent_at AT TIME ZONE zone)"
    return {
        "hour": (f"to_char({local}, {_quote(LOCAL_PERIOD_FORMATS['hour'])})", ""),
        "weekday_hour": (f"to_char({local}, {_quote(LOCAL_PERIOD_FORMATS['weekday_hour'])})", ""),
        "template": ("d.template", ""),
        "tag": ("t.tag", "JOIN ledger_inmailtag t ON t.inmail_id = d.id"),
    }


def counts_sql(
    source: str,
    *,
    tag_source: str | None = None,
    columns: tuple[str, ...] = COLUMNS,
    monthly: bool = False,
) -> str:
    """SELECT kind, seat_id, sender_id, bucket, <the counts `columns`> FROM the InMails of
    `source` (a subquery aliased d, with a `sign` column: +1 for a row that now counts, -1 for
    one that no longer does) grouped by the key. `zone` and `settled` name the time zone and
    the settled day: columns of the source, or the trigger function's variables. Only the
    hours columns: only the answered InMails' rows. `monthly`: by local month of sending too
    (MONTH_KEY: the month after the sender)."""
    measures = _measure_conditions("zone")
    unanswered = ", ".join(_quote(s) for s in UNANSWERED)
    measures["settled_unanswered"] = (
        f"status IN ({unanswered}) AND (d.sent_at AT TIME ZONE zone)::date < settled"
    )
    # An answered InMail's bucket of hours to the response, worked out once per row.
    for n, column in enumerate(RESPONSE_HOURS_COLUMNS):
        measures[column] = f"hb.h_bucket = {n}"
    answered = ", ".join(_quote(s) for s in RESPONSE_STATUSES)
    hours = hours_sql("d")
    hours_bucket = ""
    if set(columns) & set(RESPONSE_HOURS_COLUMNS):
        hours_bucket = (
            f"CROSS JOIN LATERAL (SELECT CASE WHEN d.status IN ({answered}) "
            f"THEN {hours_bucket_sql(hours)} END AS h_bucket) hb"
        )
        if set(columns) <= set(RESPONSE_HOURS_COLUMNS):
            hours_bucket += " WHERE hb.h_bucket IS NOT NULL"
    weighted = ", ".join(f"CASE WHEN {measures[c]} THEN d.sign ELSE 0 END AS {c}" for c in columns)
    month = "date_trunc('month', d.sent_at AT TIME ZONE zone)::date AS month, " if monthly else ""
    branches = " UNION ALL ".join(
        f"SELECT {_quote(kind)}::text AS kind, d.seat_id, d.sender_id, {month}"  # noqa: S608
        f"{bucket} AS bucket, {weighted} FROM {source} {join} {hours_bucket}"
        for kind, (bucket, join) in _buckets(tag_source).items()
    )
    sums = ", ".join(f"SUM({c}) AS {c}" for c in columns)
    key = MONTH_KEY if monthly else KEY
    grouped = ", ".join(str(n) for n in range(1, len(key) + 1))
    return f"SELECT {', '.join(key)}, {sums} FROM ({branches}) e GROUP BY {grouped}"  # noqa: S608


def _upsert(
    source: str,
    *,
    tag_source: str | None = None,
    columns: tuple[str, ...] = COUNT_COLUMNS,
    monthly: bool = False,
) -> str:
    # The counts at zero in a row of hours it would insert: PostgreSQL checks NOT NULL on that
    # row before it finds the conflict (the hours columns are zero by default in the database).
    table, key = (MONTH_TABLE, MONTH_KEY) if monthly else (TABLE, KEY)
    zeros = tuple(c for c in COUNT_COLUMNS if c not in columns)
    names = ", ".join((*key, *columns, *zeros))
    values = ", ".join((*key, *columns, *("0" for _ in zeros)))
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns)
    counted = counts_sql(source, tag_source=tag_source, columns=columns, monthly=monthly)
    ordered = ", ".join(str(n) for n in range(1, len(key) + 1))
    # Ordered by key so that two transactions touching the same rows lock them in one order.
    return (
        f"INSERT INTO {table} ({names})\nSELECT {values} FROM ({counted}) c "
        f"ORDER BY {ordered}\nON CONFLICT ({', '.join(key)}) "
        f"DO UPDATE SET {updates};"
    )


def _upserts(
    source: str, *, tag_source: str | None = None, hours: bool = True, months: bool = True
) -> str:
    """The counts, then the hours buckets only when an answered InMail is among the rows: a
    send (pending) pays for its rows' ten counts, not for eighty buckets it leaves at zero (a
    statement of that size costs more to start than to run). Without `hours`, the counts only.
    `months`: the rows by month too (`RateBreakdownMonth`), after the all-time ones."""
    tables = (False, True) if months else (False,)
    counts = "\n  ".join(_upsert(source, tag_source=tag_source, monthly=m) for m in tables)
    if not hours:
        return counts
    answered = ", ".join(_quote(s) for s in RESPONSE_STATUSES)
    hours_upserts = "\n    ".join(
        _upsert(source, tag_source=tag_source, columns=RESPONSE_HOURS_COLUMNS, monthly=m)
        for m in tables
    )
    return (
        f"{counts}\n"  # noqa: S608 (our own text only)
        f"  IF EXISTS (SELECT 1 FROM {source} WHERE d.status IN ({answered})) THEN\n"
        f"    {hours_upserts}\n"
        "  END IF;"
    )


# The fields whose change moves an InMail between breakdown rows or counts.
_COUNTED_FIELDS = ("seat_id", "sender_id", "sent_at", "responded_at", "status", "template")


def _signed(new: str | None, old: str | None, changed: str, key: str = "id") -> str:
    if new and old:
        return (
            f"(SELECT 1 AS sign, n.* FROM {new} n JOIN {old} o ON o.{key} = n.{key} "  # noqa: S608
            f"WHERE {changed} UNION ALL "
            f"SELECT -1 AS sign, o.* FROM {old} o JOIN {new} n ON n.{key} = o.{key} "
            f"WHERE {changed})"
        )
    return f"(SELECT {1 if new else -1} AS sign, * FROM {new or old})"  # noqa: S608


def trigger_sql(*, hours: bool = True, months: bool = True) -> str:
    """The two functions and six statement triggers that keep the breakdowns exact, and the
    rebuild function. `hours=False`: without the hours buckets, as before migration 0025 (what
    going back from it installs, so that the rows stay kept and `rates_check` can rebuild);
    `months=False`: without the rows by month, as before migration 0026."""
    assert hours or not months, "the rows by month came after the hours buckets"
    changed = " OR ".join(f"n.{f} IS DISTINCT FROM o.{f}" for f in _COUNTED_FIELDS)
    # Tag rows joined with their InMails as they stand: one row per (tag row, InMail).
    tagged = "(SELECT s.sign, s.tag, i.* FROM {rows} s JOIN ledger_inmail i ON i.id = s.inmail_id)"
    tag_changed = "n.tag IS DISTINCT FROM o.tag OR n.inmail_id IS DISTINCT FROM o.inmail_id"
    inmail_ops = {
        "INSERT": _upserts(
            f"{_signed('new_rows', None, changed)} AS d", hours=hours, months=months
        ),
        "DELETE": _upserts(
            f"{_signed(None, 'old_rows', changed)} AS d", hours=hours, months=months
        ),
        "UPDATE": _upserts(
            f"{_signed('new_rows', 'old_rows', changed)} AS d", hours=hours, months=months
        ),
    }
    tag_ops = {
        op: _upserts(
            f"{tagged.format(rows=rows)} AS d", tag_source="d.tag", hours=hours, months=months
        )
        for op, rows in (
            ("INSERT", _signed("new_rows", None, tag_changed)),
            ("DELETE", _signed(None, "old_rows", tag_changed)),
            ("UPDATE", _signed("new_rows", "old_rows", tag_changed)),
        )
    }

    def function(name: str, ops: dict[str, str]) -> str:
        return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE zone text; settled date;
BEGIN
  SELECT time_zone, settled_before INTO zone, settled FROM {STATE_TABLE} WHERE id = 1;
  IF zone IS NULL THEN
    -- No state (emptied, as a test database's flush does): the analytics count the InMails
    -- and rates_check asks for a rebuild; a write never fails for the breakdowns.
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    {ops["INSERT"]}
  ELSIF TG_OP = 'DELETE' THEN
    {ops["DELETE"]}
  ELSE
    {ops["UPDATE"]}
  END IF;
  RETURN NULL;
END
$body$;"""  # noqa: S608 (only our own table, column and constant text)

    triggers = []
    for table, fn in (
        ("ledger_inmail", "ledger_rate_breakdown_apply"),
        ("ledger_inmailtag", "ledger_rate_breakdown_tag_apply"),
    ):
        for op, referencing in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
        ):
            name = f"{fn}_{op}"
            triggers.append(
                f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
                f"CREATE TRIGGER {name} AFTER {op.upper()} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}();"
            )
    counted = COLUMNS if hours else COUNT_COLUMNS
    columns = ", ".join((*KEY, *counted))
    every_inmail = "(SELECT 1 AS sign, * FROM ledger_inmail) AS d"
    by_month = (
        f"DELETE FROM {MONTH_TABLE};\n"  # noqa: S608 (only our own table, column and constant text)
        f"  INSERT INTO {MONTH_TABLE} ({', '.join((*MONTH_KEY, *counted))})\n"
        f"    {counts_sql(every_inmail, columns=counted, monthly=True)};"
        if months
        else ""
    )
    rebuild = f"""
CREATE OR REPLACE FUNCTION ledger_rate_breakdown_rebuild(zone text, settled date) RETURNS integer
LANGUAGE plpgsql AS $body$
DECLARE written integer;
BEGIN
  -- Both tables the rows count: no write slips between the recount and the rows it writes.
  LOCK TABLE ledger_inmail, ledger_inmailtag IN SHARE MODE;
  DELETE FROM {TABLE};
  INSERT INTO {STATE_TABLE} (id, time_zone, settled_before) VALUES (1, zone, settled)
    ON CONFLICT (id) DO UPDATE
    SET time_zone = EXCLUDED.time_zone, settled_before = EXCLUDED.settled_before;
  INSERT INTO {TABLE} ({columns})
    {counts_sql(every_inmail, columns=counted)};
  GET DIAGNOSTICS written = ROW_COUNT;
  {by_month}
  RETURN written;
END
$body$;"""  # noqa: S608 (only our own table, column and constant text)
    return "\n".join(
        (
            function("ledger_rate_breakdown_apply", inmail_ops),
            function("ledger_rate_breakdown_tag_apply", tag_ops),
            rebuild,
            *triggers,
        )
    )


DROP_TRIGGER_SQL = "\n".join(
    [
        f"DROP TRIGGER IF EXISTS {fn}_{op} ON {table};"
        for table, fn in (
            ("ledger_inmail", "ledger_rate_breakdown_apply"),
            ("ledger_inmailtag", "ledger_rate_breakdown_tag_apply"),
        )
        for op in ("insert", "update", "delete")
    ]
    + [
        "DROP FUNCTION IF EXISTS ledger_rate_breakdown_apply();",
        "DROP FUNCTION IF EXISTS ledger_rate_breakdown_tag_apply();",
        f"DROP FUNCTION IF EXISTS {BREAKDOWN_REBUILD};",
    ]
)


# --- Use, check, rebuild, settle -------------------------------------------------------------


def _raw_rows(where: str = "TRUE", *, sign: str = "1") -> str:
    """The InMails with a sign, the time zone and the settled day (two parameters) as columns."""
    return (
        f"SELECT {sign} AS sign, i.*, CAST(%s AS text) AS zone, "  # noqa: S608
        f"CAST(%s AS date) AS settled FROM ledger_inmail i WHERE {where}"
    )


def _raw_source() -> str:
    return f"({_raw_rows()}) AS d"


def breakdowns_settled_before(using: str = "default") -> date | None:
    """The breakdowns' settled day when the analytics may read them (PostgreSQL, kept in the
    organisation's current time zone); None otherwise. Read on every use (once per analytics
    snapshot), as the rollups' zone
    (a copy kept in the process would trust rows emptied or rebuilt elsewhere)."""
    if connections[using].vendor != "postgresql":
        return None
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT time_zone, settled_before FROM {STATE_TABLE} WHERE id = 1"  # noqa: S608
        )
        found = cursor.fetchone()
    if found is None or found[0] != schedule.org_tz().key:
        return None
    settled: date = found[1]
    return settled


@dataclass(frozen=True)
class BreakdownDifference:
    kind: str
    seat_id: int
    sender_id: int
    bucket: str
    column: str
    stored: int
    recomputed: int
    # The local month of a row by month (`RateBreakdownMonth`); None for an all-time row.
    month: date | None = None

    def __str__(self) -> str:
        month = "" if self.month is None else f" month {self.month:%Y-%m}"
        return (
            f"rate breakdown {self.kind} {self.bucket!r} seat {self.seat_id} sender "
            f"{self.sender_id}{month}: {self.column} is {self.stored}, the InMails say "
            f"{self.recomputed}"
        )


@dataclass(frozen=True)
class BreakdownCheck:
    zone: str | None
    expected_zone: str
    differences: list[BreakdownDifference]
    rows: int

    def problems(self) -> list[str]:
        found = [str(d) for d in self.differences]
        if self.zone != self.expected_zone:
            found.insert(
                0,
                f"rate breakdowns are kept in time zone {self.zone!r}, the organisation's is "
                f"{self.expected_zone!r} (the analytics read raw rows until a rebuild)",
            )
        return found


def _differences(
    cursor: Any, zone: str, settled: date, *, monthly: bool, limit: int
) -> list[BreakdownDifference]:
    """The rows of one table (all-time or by month) that differ from a recount, up to `limit`."""
    table, key = (MONTH_TABLE, MONTH_KEY) if monthly else (TABLE, KEY)
    nonzero = " OR ".join(f"s.{c} <> 0" for c in COLUMNS)
    stored_cols = ", ".join(f"COALESCE(s.{c}, 0)" for c in COLUMNS)
    fresh_cols = ", ".join(f"COALESCE(f.{c}, 0)" for c in COLUMNS)
    differs = " OR ".join(f"COALESCE(s.{c}, 0) <> COALESCE(f.{c}, 0)" for c in COLUMNS)
    fresh = counts_sql(_raw_source(), monthly=monthly)
    keys = ", ".join(f"COALESCE(s.{k}, f.{k}) AS {k}" for k in key)
    ordered = ", ".join(str(n) for n in range(1, len(key) + 1))
    sql = (
        f"WITH f AS ({fresh}), s AS (SELECT * FROM {table} s WHERE {nonzero}) "  # noqa: S608
        f"SELECT {keys}, {stored_cols}, {fresh_cols} "
        f"FROM s FULL OUTER JOIN f USING ({', '.join(key)}) WHERE {differs} "
        f"ORDER BY {ordered} LIMIT %s"
    )
    # The source's parameters, once per branch of the union (four kinds).
    cursor.execute(sql, [*[zone, settled] * len(RATE_BREAKDOWN_KINDS), limit])
    differences = []
    for row in cursor.fetchall():
        found = dict(zip(key, row[: len(key)], strict=True))
        values = row[len(key) :]
        stored, recomputed = values[: len(COLUMNS)], values[len(COLUMNS) :]
        for column, a, b in zip(COLUMNS, stored, recomputed, strict=True):
            if a != b:
                differences.append(
                    BreakdownDifference(
                        found["kind"],
                        found["seat_id"],
                        found["sender_id"],
                        found["bucket"],
                        column,
                        a,
                        b,
                        month=found.get("month"),
                    )
                )
    return differences


def breakdown_check(*, limit: int = 1000) -> BreakdownCheck:
    """Recompute every breakdown row, all-time and by month, from the InMails and their tags;
    list each difference."""
    expected = schedule.org_tz().key
    if connection.vendor != "postgresql":
        return BreakdownCheck(zone=expected, expected_zone=expected, differences=[], rows=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT time_zone, settled_before FROM {STATE_TABLE} WHERE id = 1"  # noqa: S608
        )
        found = cursor.fetchone()
        if found is None:
            return BreakdownCheck(zone=None, expected_zone=expected, differences=[], rows=0)
        zone, settled = found
        differences = _differences(cursor, zone, settled, monthly=False, limit=limit)
        differences += _differences(cursor, zone, settled, monthly=True, limit=limit)
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {TABLE}) + (SELECT COUNT(*) FROM {MONTH_TABLE})"  # noqa: S608
        )
        (rows,) = cursor.fetchone()
    return BreakdownCheck(zone=zone, expected_zone=expected, differences=differences, rows=rows)


def _lock_writers(cursor: object) -> None:
    # Both tables the rows count: no write slips between a recount and the rows it writes.
    cursor.execute("LOCK TABLE ledger_inmail, ledger_inmailtag IN SHARE MODE")  # type: ignore[attr-defined]


def breakdown_rebuild(now: datetime | None = None) -> int:
    """Recompute every breakdown row from the InMails in the organisation's current time zone,
    settled at `now`'s cutoff day (after the zone changed, or to repair); the rows written.
    `rate_rollups.rollup_rebuild` runs the same database function."""
    if connection.vendor != "postgresql":
        return 0
    zone = schedule.org_tz().key
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT ledger_rate_breakdown_rebuild(%s, %s)",
            [zone, settled_day(now or timezone.now())],
        )
        (written,) = cursor.fetchone()
    return int(written)


def breakdown_settle(now: datetime | None = None) -> date | None:
    """Move the settled day to `now`'s cutoff day (daily, `ledger.tasks.check_ledger`): each
    row's `settled_unanswered` gains (or loses) the unanswered InMails sent between the old and
    the new day. Returns the new day; None without breakdowns to settle."""
    if connection.vendor != "postgresql":
        return None
    new = settled_day(now or timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT time_zone, settled_before FROM {STATE_TABLE} "  # noqa: S608
            "WHERE id = 1 FOR UPDATE"
        )
        found = cursor.fetchone()
        if found is None:
            return None
        zone, old = found
        if old == new:
            return new
        _lock_writers(cursor)
        low, high = min(old, new), max(old, new)
        between = (
            # Local midnights as instants: an index range on sent_at.
            "i.sent_at >= CAST(%s AS date)::timestamp AT TIME ZONE CAST(%s AS text) "
            "AND i.sent_at < CAST(%s AS date)::timestamp AT TIME ZONE CAST(%s AS text) "
            f"AND i.status IN ({', '.join(_quote(s) for s in UNANSWERED)})"
        )
        # The InMails between the two days counted twice: +1 settled at the new day, -1 at the
        # old; every count but `settled_unanswered` cancels out.
        source = f"({_raw_rows(between, sign='1')} UNION ALL {_raw_rows(between, sign='-1')}) AS d"
        one = [zone, new, low, zone, high, zone]
        other = [zone, old, low, zone, high, zone]
        for monthly in (False, True):
            cursor.execute(
                _upsert(source, monthly=monthly), (one + other) * len(RATE_BREAKDOWN_KINDS)
            )
        cursor.execute(
            f"UPDATE {STATE_TABLE} SET settled_before = %s WHERE id = 1",  # noqa: S608
            [new],
        )
    return new
