"""What the InMail table's statement triggers (rate rollups, response hours, breakdowns, response
days) cost one send's INSERT, on PostgreSQL.

Copies one InMail of the database as a pending send made now, `--inserts` times with the
triggers and as many times with them switched off (`session_replication_role = replica`), each
way after `--warmup` untimed INSERTs (the connection's first ones plan the trigger functions),
all in one transaction that is rolled back: no row is kept (the InMail id sequence moves on, and
the rows rolled back wait for a vacuum). Prints the mean and median INSERT each way (client round
trip included) and each trigger function's own time per timed call (`track_functions`). Needs a
migrated database with InMails and the rollups in use, such as the demo's (`manage.py demo`) or a
benchmark database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \
        .venv/bin/python bench/trigger_cost.py

Run it a few times: the machine's speed moves the figures from run to run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg

COLUMNS = (
    "recipient, recipient_key, subject, body, open_profile, status, sent_at, responded_at, "
    "reminder_at, closed_at, credit_cost, paid_from, refunded, imported, created_at, "
    "created_by_id, paid_account_id, seat_id, sender_id, template"
)
COPY = (
    f"INSERT INTO ledger_inmail ({COLUMNS}) "  # noqa: S608 - constant text
    "SELECT %(tag)s || recipient, %(tag)s || recipient_key, subject, body, open_profile, "
    "'pending', now(), NULL, NULL, NULL, credit_cost, paid_from, false, false, "
    "now(), created_by_id, paid_account_id, seat_id, sender_id, template "
    "FROM ledger_inmail WHERE id = %(source)s"
)


def _timed_inserts(cursor: psycopg.Cursor, source: int, inserts: int, label: str) -> list[float]:
    times = []
    for i in range(inserts):
        started = time.perf_counter()
        cursor.execute(COPY, {"tag": f"bench-{label}-{i}-", "source": source})
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inserts", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM ledger_inmail")
        (source,) = cursor.fetchone() or (None,)
        if source is None:
            raise SystemExit("The database holds no InMail to copy.")
        cursor.execute("SET LOCAL track_functions = 'pl'")
        _timed_inserts(cursor, source, args.warmup, "warm-on")
        warm = _function_times(cursor)
        with_triggers = _timed_inserts(cursor, source, args.inserts, "on")
        timed = _function_times(cursor)
        cursor.execute("SET LOCAL session_replication_role = replica")
        _timed_inserts(cursor, source, args.warmup, "warm-off")
        without = _timed_inserts(cursor, source, args.inserts, "off")
        connection.rollback()
    print(f"{args.inserts} single-row InMail INSERTs each way after {args.warmup}, rolled back")
    for label, times in (("with the triggers", with_triggers), ("without them", without)):
        print(
            f"  {label + ':':<19} mean {statistics.fmean(times):.3f} ms, "
            f"median {statistics.median(times):.3f} ms"
        )
    for name, (calls, total) in sorted(timed.items(), key=lambda item: -item[1][1]):
        calls -= warm.get(name, (0, 0.0))[0]
        total -= warm.get(name, (0, 0.0))[1]
        print(f"  {name:<40} {total / calls:.3f} ms a call ({calls} calls)")


def _function_times(cursor: psycopg.Cursor) -> dict[str, tuple[int, float]]:
    """Calls and milliseconds so far in this transaction, by trigger function."""
    cursor.execute(
        "SELECT funcname, calls, total_time FROM pg_stat_xact_user_functions "
        "WHERE funcname LIKE 'ledger_%%'"
    )
    return {name: (calls, total) for name, calls, total in cursor.fetchall()}


if __name__ == "__main__":
    main()
