"""What one InMail send costs with N ledger entries already in the tables (issue 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \\
        .venv/bin/python bench/spend_cost.py --entries 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \\
        .venv/bin/python bench/spend_cost.py --entries 1000000
    .venv/bin/python bench/spend_cost.py --entries 10000        # SQLite, bench/*.sqlite3

The benchmark never touches the database named in DATABASE_URL: it uses its own,
`inmail_bench_<N>` on the same server (created through the `postgres` database if missing), or
`bench/inmail_bench_<N>.sqlite3` without DATABASE_URL, migrated with `migrate`. A marker team
records which history it holds, so a second run with the same N reuses it; `--reload` starts
again from an empty database.

The history is simulated seat by seat with the ledger's own rules — monthly grants on the
billing day under the cap, spends from the lot that expires first, refunds of answered InMails
as new lots, expiries 90 days after grant — so every table (entries, lots, InMails, refreshes)
and every index has the size and shape two years of real use would give it, and the cached
balances agree with the entries. It is loaded with COPY on PostgreSQL (executemany on SQLite),
then ANALYZEd.

Then fresh Recruiter Lite seats (30 credits each) send InMails through `inmail_send`, the real
service: after a warm-up, wall time per send (median, p95), then SQL statements per send
(CaptureQueriesContext) with the time of each statement, and EXPLAIN of every read a send makes,
the lot selection of R6 first. The same is measured for seats spending from a 20-seat team
pool. The alert task a send publishes after commit is switched off (`--publish-tasks` keeps
it): it is the broker's cost, not the ledger's. The results replace this N's section of
bench/RESULTS.md and its row in the summary.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import (
    RESULTS,
    ROOT,
    access_paths,
    database_counters,
    ensure_database,
    explain,
    machine,
    machine_line,
    read_of,
    reset_database,
    setup_django,
    statement_label,
)
from datagen_spend import HISTORY_DAYS, PLAN, load, simulate_history

POOLED_PLAN = "recruiter_corporate"
# A heavy seat: a pool, or a recruiter who sent every working day for years.
HEAVY_LOTS = 5_000
HEAVY_INMAILS = 10_000
SUMMARY_START = "<!-- summary:start -->"
SUMMARY_END = "<!-- summary:end -->"


# --------------------------------------------------------------------------------------------
# The benchmark database
# --------------------------------------------------------------------------------------------


def bench_database_url(entries: int) -> str:
    """The URL of this N's own database, next to the one DATABASE_URL names."""
    url = os.environ.get("DATABASE_URL", "")
    name = f"inmail_bench_{entries}"
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{ROOT / 'bench' / f'{name}.sqlite3'}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    label: str
    times_ms: list[float]
    sql_ms: list[float]
    commit_ms: list[float]
    queries: list[int]
    # PostgreSQL's own count of the work, per timed send: buffers touched, rows read.
    buffers: float | None
    rows_read: float | None
    statements: list[tuple[str, float, float]]
    explains: list[tuple[str, list[str]]]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.times_ms, n=20)[-1]

    @property
    def median_sql_ms(self) -> float:
        return statistics.median(self.sql_ms)

    @property
    def median_commit_ms(self) -> float:
        return statistics.median(self.commit_ms)


def measure(
    label: str,
    senders: Iterator[Any],
    send: Callable[[Any, int], None],
    *,
    warmup: int,
    spends: int,
    profiled: int,
) -> Measurement:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    durations: dict[str, list[float]] = defaultdict(list)
    spent: dict[str, float] = {"sql": 0.0, "commit": 0.0}

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            spent["sql"] += elapsed
            durations[statement_label(sql)].append(elapsed)

    commit = connection.commit

    def timed_commit() -> None:
        # COMMIT is not a statement Django's execute wrappers see; on PostgreSQL it waits for
        # the WAL to reach the disk, the one cost of a send that is pure I/O.
        started = time.perf_counter()
        try:
            commit()
        finally:
            spent["commit"] += (time.perf_counter() - started) * 1000

    before: tuple[int, int] | None = None
    times: list[float] = []
    sql_times: list[float] = []
    commit_times: list[float] = []
    connection.commit = timed_commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(timed):
            for index in range(warmup + spends):
                seat = next(senders)
                if index == warmup:
                    before = database_counters()
                    durations.clear()
                spent.update(sql=0.0, commit=0.0)
                started = time.perf_counter()
                send(seat, index)
                elapsed = (time.perf_counter() - started) * 1000
                if index >= warmup:
                    times.append(elapsed)
                    sql_times.append(spent["sql"])
                    commit_times.append(spent["commit"])
    finally:
        del connection.commit
    after = database_counters()
    buffers = rows_read = None
    if before is not None and after is not None:
        buffers = (after[0] - before[0]) / spends
        rows_read = (after[1] - before[1]) / spends

    last_sql: dict[str, str] = {}
    counts = []
    for index in range(profiled):
        seat = next(senders)
        with CaptureQueriesContext(connection) as captured:
            send(seat, warmup + spends + index)
        counts.append(len(captured.captured_queries))
        for query in captured.captured_queries:
            last_sql[statement_label(query["sql"])] = query["sql"]
    statements = sorted(
        (
            (name, len(values) / spends, statistics.median(values))
            for name, values in durations.items()
        ),
        key=lambda item: -item[1] * item[2],
    )
    # Each read a send makes, with the plan the server chooses for it.
    explains = [(name, explain(read)) for name, sql in last_sql.items() if (read := read_of(sql))]
    return Measurement(
        label, times, sql_times, commit_times, counts, buffers, rows_read, statements, explains
    )


def lot_selection_plan(account: Any) -> list[str]:
    """EXPLAIN ANALYZE of the R6 lot lookup (`spendable_lots(...).first()`) for an account."""
    from django.db import connection
    from django.utils import timezone

    from ledger.services.accounts import spendable_lots

    lookup = spendable_lots(account, timezone.now())[:1]
    if connection.vendor == "postgresql":
        return lookup.explain(analyze=True, buffers=True).splitlines()
    return lookup.explain().splitlines()


def reads_of_a_send_on_a_seat_with_years_of_history(
    seat: Any, send: Callable[[Any, int], None], *, lots: int, inmails: int
) -> list[tuple[str, str]]:
    """Give a seat `lots` more spent lots and `inmails` more old InMails, send once, and
    EXPLAIN ANALYZE every read of that send; all rolled back afterwards.

    The history above is two years of an average seat; this is a heavy one (a pool, or a
    recruiter sending every day for years). No read of a send may grow with it.
    """
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ledger.models import Account, InMail, Lot, LotSource
    from ledger.services import Cause, bonus_grant

    account = Account.objects.get(seat=seat)
    long_ago = timezone.now() - timedelta(days=HISTORY_DAYS * 5)
    with transaction.atomic():
        Lot.objects.bulk_create(
            (
                Lot(
                    account=account,
                    source=LotSource.GRANT,
                    granted_at=long_ago + timedelta(hours=i),
                    expires_at=long_ago + timedelta(hours=i, days=90),
                    initial=30,
                    remaining=0,
                )
                for i in range(lots)
            ),
            batch_size=5000,
        )
        InMail.objects.bulk_create(
            (
                InMail(
                    seat=seat,
                    sender_id=seat.holder_id,
                    recipient=f"member-{i}",
                    recipient_key=f"member-{i}",
                    subject="Earlier outreach",
                    body="Hello again",
                    status="no_response",
                    sent_at=long_ago + timedelta(minutes=i),
                    closed_at=long_ago + timedelta(minutes=i, days=90),
                    credit_cost=1,
                    paid_from="seat",
                    paid_account=account,
                )
                for i in range(inmails)
            ),
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_lot")
            cursor.execute("ANALYZE ledger_inmail")
        bonus_grant(seat=seat, credits=1, memo="A credit to spend", cause=Cause.system("bench"))
        with CaptureQueriesContext(connection) as captured:
            send(seat, 0)
        reads = {
            statement_label(query["sql"]): read
            for query in captured.captured_queries
            if (read := read_of(query["sql"]))
        }
        explained = [
            (name, access_paths(explain(read, analyze=True))) for name, read in reads.items()
        ]
        transaction.set_rollback(True)
    return explained


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def table_sizes() -> list[tuple[str, int, str]]:
    from django.db import connection

    from ledger.models import Entry, InMail, Lot, Refresh

    sizes = []
    for model in (Entry, Lot, InMail, Refresh):
        table = model._meta.db_table
        size = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table])
                size = cursor.fetchone()[0]
        sizes.append((table, model.objects.count(), size))
    return sizes


def figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def scenario_row(vendor: str, entries: int, results: list[Measurement]) -> str:
    cells = [vendor, f"{entries:,}"]
    for result in results:
        cells += [
            f"{result.median_ms:.2f}",
            f"{result.p95_ms:.2f}",
            f"{result.median_sql_ms:.2f}",
            figure(result.buffers),
            "/".join(str(count) for count in sorted(set(result.queries))),
        ]
    return "| " + " | ".join(cells) + " |"


def section(
    entries: int,
    info: dict[str, str],
    sizes: list[tuple[str, int, str]],
    results: list[Measurement],
    plans: list[tuple[str, list[str]]],
    heavy: list[tuple[str, str]],
) -> tuple[str, str, str]:
    """This run's section of RESULTS.md, its heading and its summary row."""
    vendor = info["database"].split(" ", 1)[0]
    heading = f"## {vendor}, {entries:,} entries"
    prefix = "DATABASE_URL=postgres://… " if vendor == "PostgreSQL" else ""
    command = f"{prefix}.venv/bin/python bench/spend_cost.py --entries {entries}"
    lines = [
        heading,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} at commit {info['commit']} "
        f"with `{command}`.",
        "",
        machine_line(info),
        "",
        "| table | rows | size with indexes |",
        "|---|---:|---:|",
        *(f"| {table} | {rows:,} | {size or 'n/a'} |" for table, rows, size in sizes),
        "",
        "| scenario | median ms | p95 ms | of which SQL statements (median ms) "
        "| of which COMMIT (median ms) | buffers per send | rows read per send "
        "| SQL statements per send | sends timed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {result.label} | {result.median_ms:.2f} | {result.p95_ms:.2f} | "
            f"{result.median_sql_ms:.2f} | {result.median_commit_ms:.2f} | "
            f"{figure(result.buffers)} | {figure(result.rows_read)} | "
            f"{'/'.join(str(count) for count in sorted(set(result.queries)))} | "
            f"{len(result.times_ms)} |"
            for result in results
        ),
    ]
    for result in results:
        lines += [
            "",
            f"### The statements of one send, {result.label}",
            "",
            "| statement | runs per send | median ms per run |",
            "|---|---:|---:|",
            *(f"| {name} | {runs:.1f} | {ms:.3f} |" for name, runs, ms in result.statements),
        ]
    for result in results:
        lines += ["", f"### How each read of a send finds its rows, {result.label}", ""]
        lines += [f"- {name}: {access_paths(plan)}" for name, plan in result.explains]
    for title, plan in plans:
        lines += ["", f"### {title}", "", "```", *plan, "```"]
    lines += [
        "",
        f"### The reads of one send on a two-year-old seat given {HEAVY_LOTS:,} more spent lots "
        f"and {HEAVY_INMAILS:,} more old InMails (EXPLAIN ANALYZE, rolled back)",
        "",
        *(f"- {name}: {paths}" for name, paths in heavy),
    ]
    return heading, "\n".join(lines) + "\n", scenario_row(vendor, entries, results)


def write_results(heading: str, body: str, row: str) -> None:
    """Replace this run's section and summary row in RESULTS.md; keep everything else."""
    if RESULTS.exists():
        text = RESULTS.read_text()
    else:
        text = (
            "# Cost of one InMail send\n\n"
            "Written by `bench/spend_cost.py`; each run replaces its own section and row.\n\n"
            f"{SUMMARY_START}\n{SUMMARY_END}\n"
        )
    head, _, rest = text.partition(SUMMARY_START)
    table, _, tail = rest.partition(SUMMARY_END)

    def row_key(line: str) -> tuple[str, int]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        return cells[0], int(cells[1].replace(",", ""))

    rows = [
        line
        for line in table.splitlines()
        if line.startswith("| ") and re.match(r"\| \w+ \| [\d,]+ \|", line)
    ]
    rows = sorted([line for line in rows if row_key(line) != row_key(row)] + [row], key=row_key)
    header = (
        "| database | entries | own credits: median ms | p95 ms | in SQL ms | buffers "
        "| statements | pool credits: median ms | p95 ms | in SQL ms | buffers | statements |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    sections = [part for part in re.split(r"(?m)^(?=## )", tail) if part.strip()]
    kept = [part for part in sections if part.splitlines()[0] != heading]

    def section_key(part: str) -> tuple[str, int]:
        found = re.match(r"## (\w+), ([\d,]+) entries", part)
        return (found.group(1), int(found.group(2).replace(",", ""))) if found else ("~", 0)

    ordered = sorted([*kept, body], key=section_key)
    RESULTS.write_text(
        f"{head}{SUMMARY_START}\n{header}\n"
        + "\n".join(rows)
        + f"\n{SUMMARY_END}\n\n"
        + "\n".join(part.strip("\n") + "\n" for part in ordered)
    )


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=10_000, help="ledger entries to preload")
    parser.add_argument("--spends", type=int, default=300, help="sends timed per scenario")
    parser.add_argument("--warmup", type=int, default=50, help="sends before timing")
    parser.add_argument(
        "--profiled", type=int, default=30, help="sends whose statements are counted"
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--reload", action="store_true", help="rebuild the history")
    parser.add_argument("--no-write", action="store_true", help="don't touch bench/RESULTS.md")
    parser.add_argument(
        "--publish-tasks",
        action="store_true",
        help="let each send publish its alert task to the Celery broker (off: the benchmark "
        "measures the ledger, and a broker on a laptop would collect hundreds of messages)",
    )
    args = parser.parse_args()

    url = bench_database_url(args.entries)
    if args.reload:
        reset_database(url)
    ensure_database(url)
    setup_django(url, {} if args.publish_tasks else {"LEDGER_PUBLISH_TASKS": "false"})
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from ledger.models import Account, AccountKind, Entry
    from ledger.services import Cause, inmail_send, seat_activate
    from teams.models import Plan, Team, User

    call_command("migrate", verbosity=0)
    marker = f"Bench history: {args.entries} entries, seed {args.seed}"
    if not Team.objects.filter(name=marker).exists():
        if Team.objects.exists() or Entry.objects.exists():
            connection.close()
            reset_database(url)
            call_command("migrate", verbosity=0)
        print(f"Simulating two years of history with {args.entries:,} entries…")
        started = time.perf_counter()
        rows, _ = simulate_history(args.entries, args.seed, timezone.now())
        print(f"  simulated in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        load(rows)
        print(f"  loaded and analysed in {time.perf_counter() - started:.1f}s")
    else:
        print(f"Reusing the history in {url.rsplit('/', 1)[-1]}.")

    info = machine()
    sizes = table_sizes()
    run = time.strftime("%Y%m%d%H%M%S")
    cause = Cause.system("bench")
    team = Team.objects.create(name=f"Bench run {run}")
    pooled_team = Team.objects.create(name=f"Bench pool run {run}")
    total = args.warmup + args.spends + args.profiled

    def people(count: int, prefix: str) -> list[User]:
        return [
            User.objects.create(username=f"{prefix}-{run}-{i}", password=make_password(None))
            for i in range(count)
        ]

    lite = Plan.objects.get(code=PLAN)
    per_seat = lite.monthly_credits
    own_seats = [
        seat_activate(holder=holder, team=team, plan=lite, cause=cause)
        for holder in people(-(-total // per_seat), "own")
    ]
    pooled = Plan.objects.get(code=POOLED_PLAN)
    pool_seats = [
        seat_activate(holder=holder, team=pooled_team, plan=pooled, cause=cause, pool_access=True)
        for holder in people(20, "pool")
    ]

    def each_credit_of(seats: list[Any], credits: int) -> Iterator[Any]:
        for seat in seats:
            yield from [seat] * credits

    def rotate(seats: list[Any]) -> Iterator[Any]:
        while True:
            yield from seats

    def send(seat: Any, index: int) -> None:
        inmail_send(
            seat=seat,
            recipient=f"https://www.linkedin.com/in/bench-{run}-{seat.pk}-{index}/",
            subject="A role on our platform team",
            body="Would you be open to a short call next week?",
            cause=cause,
        )

    print("Timing sends…")
    results = [
        measure(
            "own credits (Recruiter Lite seat)",
            each_credit_of(own_seats, per_seat),
            send,
            warmup=args.warmup,
            spends=args.spends,
            profiled=args.profiled,
        ),
        measure(
            "pool credits (seat in a 20-seat Corporate pool)",
            rotate(pool_seats),
            send,
            warmup=args.warmup,
            spends=args.spends,
            profiled=args.profiled,
        ),
    ]
    fresh = Account.objects.get(seat=own_seats[-1])
    busiest = (
        Account.objects.filter(kind=AccountKind.SEAT, team__name__startswith="Bench")
        .exclude(team__name__startswith="Bench run")
        .exclude(team__name__startswith="Bench pool run")
        .order_by("-pk")
        .first()
    )
    plans = [
        ("EXPLAIN of the lot selection (R6) on a fresh seat's account", lot_selection_plan(fresh))
    ]
    if busiest is not None:
        lots = busiest.lots.count()
        plans.append(
            (
                f"EXPLAIN of the lot selection on a two-year-old account ({lots} lots, "
                f"{busiest.entries.count()} entries)",
                lot_selection_plan(busiest),
            )
        )
    heavy_seat = busiest.seat if busiest is not None and busiest.seat else own_seats[-1]
    heavy = reads_of_a_send_on_a_seat_with_years_of_history(
        heavy_seat, send, lots=HEAVY_LOTS, inmails=HEAVY_INMAILS
    )
    for result in results:
        print(
            f"  {result.label}: median {result.median_ms:.2f} ms, p95 {result.p95_ms:.2f} ms, "
            f"{sorted(set(result.queries))} statements, {figure(result.buffers)} buffers and "
            f"{figure(result.rows_read)} rows read per send"
        )
    for title, plan in plans:
        print(f"{title}:\n  " + "\n  ".join(plan))
    print("Reads of a send on a seat with years of history:")
    for name, paths in heavy:
        print(f"  {name}: {paths}")
    heading, body, row = section(args.entries, info, sizes, results, plans, heavy)
    if not args.no_write:
        write_results(heading, body, row)
        print(f"Wrote “{heading[3:]}” into {RESULTS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
