"""What the InMail table's statement triggers (rate rollups, response hours, breakdowns, response
days) cost one send's INSERT, on PostgreSQL.

Copies one InMail of the database as a pending send, `--inserts` times with the triggers and as
many times with them switched off (`session_replication_role = replica`), all in one transaction
that is rolled back: the database is left as it was. Prints the mean time of an INSERT each way
(client round trip included) and each trigger function's own time per call
(`track_functions`). Needs a migrated database with InMails and the rollups in use, such as the
demo's (`manage.py demo`) or a benchmark database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \
        .venv/bin/python bench/trigger_cost.py

Run it a few times: the first statements of a connection also plan the trigger functions.
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
    "'pending', sent_at, NULL, reminder_at, NULL, credit_cost, paid_from, false, imported, "
    "created_at, created_by_id, paid_account_id, seat_id, sender_id, template "
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
        with_triggers = _timed_inserts(cursor, source, args.inserts, "on")
        cursor.execute(
            "SELECT funcname, calls, total_time FROM pg_stat_xact_user_functions "
            "WHERE funcname LIKE 'ledger_%%' ORDER BY total_time DESC"
        )
        functions = cursor.fetchall()
        cursor.execute("SET LOCAL session_replication_role = replica")
        without = _timed_inserts(cursor, source, args.inserts, "off")
        connection.rollback()
    print(f"{args.inserts} single-row InMail INSERTs each way, rolled back")
    print(f"  with the triggers:    mean {statistics.fmean(with_triggers):.3f} ms")
    print(f"  without the triggers: mean {statistics.fmean(without):.3f} ms")
    for name, calls, total in functions:
        print(f"  {name:<40} {total / calls:.3f} ms a call ({calls} calls)")


if __name__ == "__main__":
    main()
