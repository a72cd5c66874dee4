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
import heapq
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inmail_site.settings")

HISTORY_DAYS = 730
PLAN = "recruiter_lite"
POOLED_PLAN = "recruiter_corporate"
RESPONSE_RATE = 0.25
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


def maintenance_dsn(url: str) -> str:
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/postgres"))


def reset_database(url: str) -> None:
    """Drop and create the benchmark database (PostgreSQL) or delete its file (SQLite)."""
    if url.startswith("sqlite"):
        Path(urlsplit(url).path).unlink(missing_ok=True)
        return
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def ensure_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


# --------------------------------------------------------------------------------------------
# A simulated history
# --------------------------------------------------------------------------------------------


@dataclass
class Rows:
    """Rows to load, per model, as dicts keyed by field attname."""

    by_model: dict[Any, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    next_id: dict[Any, int] = field(default_factory=dict)

    def add(self, model: Any, **values: Any) -> int:
        pk = self.next_id.get(model, 1)
        self.next_id[model] = pk + 1
        values["id"] = pk
        self.by_model[model].append(values)
        return pk

    def count(self, model: Any) -> int:
        return len(self.by_model[model])


@dataclass
class SimLot:
    pk: int
    granted_at: datetime
    expires_at: datetime
    remaining: int
    source: str


def simulate_history(entries: int, seed: int, until: datetime) -> tuple[Rows, str]:
    """Seats on Recruiter Lite living two years under R3–R9, until `entries` entries exist."""
    from django.contrib.auth.hashers import make_password

    from ledger import schedule
    from ledger.models import Account, Entry
    from teams.models import Membership, Plan, Seat, Team, User

    rng = random.Random(seed)
    nobody_logs_in = make_password(None)
    plan = Plan.objects.get(code=PLAN)
    lifetime = plan.credit_lifetime_days or 90
    rows = Rows()
    marker = f"Bench history: {entries} entries, seed {seed}"
    teams = [rows.add(Team, name=marker, share_usage=True, created_at=until)]
    seats = 0
    while rows.count(Entry) < entries:
        if seats % 25 == 24:
            teams.append(
                rows.add(Team, name=f"Bench team {len(teams)}", share_usage=True, created_at=until)
            )
        team = teams[-1]
        seats += 1
        user = rows.add(
            User,
            password=nobody_logs_in,
            last_login=None,
            is_superuser=False,
            username=f"bench{seats}",
            first_name="Bench",
            last_name=f"Recruiter {seats}",
            email=f"bench{seats}@example.com",
            is_staff=False,
            is_active=True,
            date_joined=until,
        )
        rows.add(Membership, user_id=user, team_id=team, role="recruiter", created_at=until)
        activated_on = (until - timedelta(days=HISTORY_DAYS - rng.randrange(60))).date()
        seat = rows.add(
            Seat,
            holder_id=user,
            team_id=team,
            plan_id=plan.pk,
            status="active",
            activated_on=activated_on,
            anchor_day=activated_on.day,
            pool_access=False,
            monthly_allocation=None,
            cancelled_at=None,
            replaced_by_id=None,
            created_at=until,
        )
        account = rows.next_id.get(Account, 1)
        balance, next_due = simulate_account(
            rows, rng, schedule, account, seat, activated_on, until, plan, lifetime
        )
        rows.add(
            Account,
            kind="seat",
            seat_id=seat,
            team_id=team,
            anchor_on=activated_on,
            refresh="billing_day",
            balance=balance,
            synced_until=until,
            next_due_at=next_due,
            is_open=True,
            created_at=until,
        )
    return rows, marker


def simulate_account(
    rows: Rows,
    rng: random.Random,
    schedule: Any,
    account: int,
    seat: int,
    anchor: date,
    until: datetime,
    plan: Any,
    lifetime: int,
) -> tuple[int, datetime | None]:
    """One seat account's history in time order; returns its balance and next due instant."""
    from ledger.models import Entry, InMail, Lot, Refresh

    events: list[tuple[datetime, int, int, str, Any]] = []
    sequence = iter(range(10**9))
    lots: list[SimLot] = []
    balance = 0

    def push(at: datetime, priority: int, kind: str, payload: Any) -> None:
        # At one instant expiries come first, then the refresh, then everything else (R17).
        heapq.heappush(events, (at, priority, next(sequence), kind, payload))

    def post(at: datetime, kind: str, amount: int, lot: int, **extra: Any) -> None:
        nonlocal balance
        balance += amount
        rows.add(
            Entry,
            account_id=account,
            at=at,
            kind=kind,
            amount=amount,
            balance_after=balance,
            lot_id=lot,
            inmail_id=extra.get("inmail"),
            refresh_id=extra.get("refresh"),
            actor_id=None,
            cause=extra.get("cause", "api"),
            memo=extra.get("memo", ""),
            created_at=at,
        )

    def new_lot(at: datetime, credits: int, source: str, refund_of: int | None = None) -> SimLot:
        expires_at = schedule.add_days(at, lifetime)
        pk = rows.add(
            Lot,
            account_id=account,
            source=source,
            granted_at=at,
            expires_at=expires_at,
            initial=credits,
            remaining=credits,
            moved_from_id=None,
            refund_of_id=refund_of,
            created_at=at,
        )
        lot = SimLot(pk, at, expires_at, credits, source)
        lots.append(lot)
        if expires_at <= until:
            push(expires_at, 0, "expiry", lot)
        return lot

    def take(lot: SimLot, credits: int) -> None:
        lot.remaining -= credits
        rows.by_model[Lot][lot.pk - 1]["remaining"] = lot.remaining

    def refresh_at(k: int) -> datetime:
        day: date = anchor if k == 0 else schedule.refresh_date(anchor, "billing_day", k)
        at: datetime = schedule.start_of_day(day)
        return at

    push(refresh_at(0), 1, "refresh", 0)
    while events:
        at, _, _, kind, payload = heapq.heappop(events)
        if kind == "expiry":
            lot = payload
            if lot.remaining:
                credits = lot.remaining
                take(lot, credits)
                post(at, "expiry", -credits, lot.pk, cause="expiry")
        elif kind == "refresh":
            k = payload
            capped = sum(lot.remaining for lot in lots)
            granted = min(plan.monthly_credits, max(0, plan.max_balance - capped))
            refresh = rows.add(
                Refresh,
                account_id=account,
                kind="activation" if k == 0 else "refresh",
                period_on=schedule.local_date(at),
                due_at=at,
                seat_id=seat if k == 0 else None,
                monthly=plan.monthly_credits,
                cap=plan.max_balance,
                capped_before=capped,
                granted=granted,
                lost_to_cap=plan.monthly_credits - granted + max(0, capped - plan.max_balance),
                created_at=at,
            )
            excess = capped - plan.max_balance
            for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.granted_at, lot.pk)):
                if excess <= 0:
                    break
                piece = min(lot.remaining, excess)
                if piece:
                    take(lot, piece)
                    post(at, "lost_to_cap", -piece, lot.pk, refresh=refresh, cause="refresh")
                    excess -= piece
            if granted:
                lot = new_lot(at, granted, "grant")
                post(at, "grant", granted, lot.pk, refresh=refresh, cause="refresh")
            following = refresh_at(k + 1)
            end = min(following, until)
            for _ in range(rng.randint(4, 10)):
                push(at + (end - at) * rng.random(), 2, "spend", None)
            if following <= until:
                push(following, 1, "refresh", k + 1)
        elif kind == "spend":
            spendable = [lot for lot in lots if lot.remaining and lot.expires_at > at]
            if not spendable:
                continue
            lot = min(spendable, key=lambda lot: (lot.expires_at, lot.granted_at, lot.pk))
            window_end = schedule.add_days(at, 90)
            answered_at = at + timedelta(hours=rng.uniform(2, 24 * 20))
            answered = rng.random() < RESPONSE_RATE and answered_at <= until
            status = (
                rng.choice(["accepted", "declined", "replied"])
                if answered
                else ("no_response" if window_end <= until else "pending")
            )
            inmail = rows.add(
                InMail,
                seat_id=seat,
                recipient=f"https://www.linkedin.com/in/member-{rows.next_id.get(InMail, 1)}",
                recipient_key=f"linkedin:in/member-{rows.next_id.get(InMail, 1)}",
                subject="A role on our platform team",
                body="Hi, I came across your profile and thought of a role we are hiring for. "
                "Would you be open to a short call next week?",
                open_profile=False,
                status=status,
                sent_at=at,
                responded_at=answered_at if answered else None,
                reminder_at=schedule.add_days(at, 3) if status != "pending" else None,
                closed_at=answered_at
                if answered
                else (window_end if status != "pending" else None),
                credit_cost=1,
                paid_from="seat",
                paid_account_id=account,
                refunded=answered,
                imported=False,
                created_by_id=None,
                created_at=at,
            )
            take(lot, 1)
            post(at, "spend", -1, lot.pk, inmail=inmail)
            if answered:
                push(answered_at, 2, "refund", inmail)
        elif kind == "refund":
            lot = new_lot(at, 1, "refund", refund_of=payload)
            post(at, "refund", 1, lot.pk, inmail=payload, memo="Answered within 90 days")
    alive = [lot.expires_at for lot in lots if lot.remaining]
    next_refresh = min(refresh_at(k) for k in range(1, 40) if refresh_at(k) > until)
    return balance, min([next_refresh, *alive])


def load(rows: Rows) -> None:
    """COPY (PostgreSQL) or executemany (SQLite) every table, then move the id sequences on."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from ledger.models import Account, Entry, InMail, Lot, Refresh
    from teams.models import Membership, Seat, Team, User

    order = [User, Team, Membership, Seat, Account, Refresh, Lot, InMail, Entry]
    with transaction.atomic():
        for model in order:
            records = rows.by_model[model]
            if not records:
                continue
            fields = model._meta.concrete_fields
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            table = connection.ops.quote_name(model._meta.db_table)
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    raw = cursor.cursor
                    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for record in records:
                            copy.write_row([record[f.attname] for f in fields])
            else:
                marks = ", ".join("?" for _ in fields)
                raw = connection.connection
                # Table and column names come from the models, not from input.
                raw.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                    (
                        [f.get_db_prep_value(record[f.attname], connection) for f in fields]
                        for record in records
                    ),
                )
            print(
                f"  loaded {len(records):>9,} rows into {model._meta.db_table} "
                f"in {time.perf_counter() - started:.1f}s"
            )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), order):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


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


def collapse(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def statement_label(sql: str) -> str:
    """A short name for a statement: verb, table, what it filters and sorts on, row locks."""
    sql = collapse(sql)
    verb = sql.split(" ", 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE) "([a-z_]+)"', sql)
    where = re.search(r" WHERE (.*?)(?: ORDER BY| LIMIT| FOR UPDATE| RETURNING|$)", sql)
    order = re.search(r" ORDER BY (.*?)(?: LIMIT| FOR UPDATE|$)", sql)
    label = f"{verb} {table.group(1) if table else '?'}"
    if where:
        label += " by " + ", ".join(sorted(set(re.findall(r'"[a-z_]+"\."([a-z_]+)"', where[1]))))
    if order:
        # Django names the sort columns `"table"."column"`, or `"column"` / a position when the
        # column is selected too.
        selected = re.findall(r'"([a-z_]+)"(?:,| FROM)', sql.split(" FROM ", 1)[0] + " FROM")
        names = []
        for term in (term.strip() for term in order[1].split(",")):
            quoted = re.findall(r'"([a-z_]+)"', term)
            position = term.split(" ")[0]
            if quoted:
                names.append(quoted[-1])
            elif position.isdigit() and int(position) <= len(selected):
                names.append(selected[int(position) - 1])
            else:
                names.append(position)
        label += " order by " + ", ".join(names)
    if " LIMIT 1" in sql:
        label += " limit 1"
    if " FOR UPDATE" in sql:
        label += " for update"
    return label


def read_of(sql: str) -> str | None:
    """The SELECT a statement runs (a server-side cursor wraps it in DECLARE), or None."""
    sql = collapse(sql)
    if sql.upper().startswith("DECLARE"):
        sql = sql.split(" FOR ", 1)[1]
    return sql if sql.upper().startswith("SELECT") else None


def explain(sql: str, *, analyze: bool = False) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]


def access_paths(plan: list[str]) -> str:
    """The scans of a plan, and the buffers it touched when it was run."""
    scans = [
        re.sub(r"\s+\(cost=.*", "", line.strip().lstrip("-> "))
        for line in plan
        if re.search(r"Scan|SCAN|SEARCH", line)
    ]
    touched = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", "\n".join(plan))
    text = "; ".join(scans) or plan[0].strip()
    executed = re.search(r"Execution Time: ([\d.]+) ms", "\n".join(plan))
    if touched:
        text += f" — {int(touched[1]) + int(touched[2] or 0)} buffers"
    if executed:
        text += f", {float(executed[1]):.2f} ms"
    return text


def database_counters() -> tuple[int, int] | None:
    """Buffers touched and rows read so far in this database (PostgreSQL's statistics).

    Only this benchmark uses its database, so the difference over the timed sends is their
    work alone, free of the wall-clock noise of a shared machine.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT blks_hit + blks_read, tup_returned + tup_fetched "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        buffers, rows = cursor.fetchone()
    return int(buffers), int(rows)


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


def machine() -> dict[str, str]:
    from django.db import connection

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.*)", cpuinfo.read_text())
        cpu = found.group(1) if found else cpu
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    try:
        # A fixed command, no input from anywhere: which code was measured.
        commit = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "database": database,
    }


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
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['database']}, {info['os']}.",
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

    if not args.publish_tasks:
        os.environ["LEDGER_PUBLISH_TASKS"] = "false"
    url = bench_database_url(args.entries)
    if args.reload:
        reset_database(url)
    ensure_database(url)
    os.environ["DATABASE_URL"] = url

    import django

    django.setup()
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
