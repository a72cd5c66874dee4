"""How long one `ledger_tick` takes over N seats with a month of due work (issue 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \\
        .venv/bin/python bench/tick_cost.py --seats 10000

The benchmark never touches the database named in DATABASE_URL: it works in its own,
`inmail_bench_tick_<N>` on the same server (created through the `postgres` database), and keeps
a copy of it as it stands before the timed tick, `inmail_bench_tick_<N>_setup`, so a second run
with the same N starts from that copy in seconds (`--rebuild` builds it again).

The organisation is built with the ledger's own services on a frozen clock (time_machine):

- N seats, every one activated through `seat_activate`: 80% on plans of their own (Recruiter
  Lite 30%, Premium Career, Premium Business, both Sales Navigators, Recruiter Professional 10%
  each) in teams of 50, and 20% on Recruiter Corporate in pooled teams of 20 seats, half of
  them with a monthly allocation of 20 from the pool.
- Activation dates spread over the 20 days before 1 November 2024, 09:00 (pooled teams: one
  date per team); every fourth seat sends an InMail that day.
- On 1 January 2025, 09:00 one (untimed) tick brings everything up to date, and another
  quarter of the seats send an InMail.

Then the clock moves one month and a day, to 2 February 2025, 09:00. Every account now has a
month of due work: one or two refreshes (pools pay their allocations), the expiry of its
activation grant, and the InMails' reminders (sent on 1 January) and 90-day closures (sent on
1 November). One `ledger_tick()` is timed (wall time, SQL statements through
`connection.execute_wrapper` — the batched path's `COPY`s are not among them — and the peak
resident memory of the process during the tick, VmHWM reset just before it), then a second one
right after, which should find nothing to do.

While the first tick runs, `--senders` processes (3 by default; 0 for none) send InMails through
`inmail_send` from seats picked at random, one after another, and the latency of each send is
recorded: the table gives their count, median, p99 and maximum. A send whose seat the tick has
not reached yet brings that seat's group up to date itself (the per-group path), as it would in
production. The same senders also run for ten seconds after both ticks, when nothing is due,
for a baseline.
The result replaces the "## Tick" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

from common import (
    QUIET,
    RESULTS,
    ROOT,
    counted,
    database_exists,
    database_url,
    machine,
    machine_line,
    previous_setup_line,
    recreate_database,
    replace_subsection,
    setup_django,
)

HEADING = "## Tick"

BUILT_AT = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)
CAUGHT_UP_AT = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
TICK_AT = datetime(2025, 2, 2, 9, 0, tzinfo=UTC)
ACTIVATION_SPREAD_DAYS = 20
SOLO_TEAM_SIZE = 50
POOL_TEAM_SIZE = 20
POOLED_SHARE = 0.20
# The seats of their own, by plan, as shares of all seats.
SOLO_PLANS = [
    ("recruiter_lite", 0.30),
    ("premium_career", 0.10),
    ("premium_business", 0.10),
    ("sales_navigator_core", 0.10),
    ("sales_navigator_advanced", 0.10),
    ("recruiter_professional", 0.10),
]
POOLED_PLAN = "recruiter_corporate"


# --------------------------------------------------------------------------------------------
# The organisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatPlan:
    plan: str
    team: int
    activated_on: date
    allocation: int | None


def seat_plans(seats: int, rng: random.Random) -> list[SeatPlan]:
    """Which seats to activate, in activation-date order (a pool refuses older seats)."""
    first_day = BUILT_AT.date() - timedelta(days=ACTIVATION_SPREAD_DAYS)
    pooled = round(seats * POOLED_SHARE)
    planned: list[SeatPlan] = []
    team = 0
    for index in range(pooled):
        if index % POOL_TEAM_SIZE == 0:
            team += 1
            team_day = first_day + timedelta(days=rng.randrange(ACTIVATION_SPREAD_DAYS + 1))
        planned.append(SeatPlan(POOLED_PLAN, team, team_day, 20 if index % 2 else None))
    solo = seats - pooled
    codes = [code for code, share in SOLO_PLANS for _ in range(round(share * 1000))]
    for index in range(solo):
        if index % SOLO_TEAM_SIZE == 0:
            team += 1
        day = first_day + timedelta(days=rng.randrange(ACTIVATION_SPREAD_DAYS + 1))
        planned.append(SeatPlan(codes[index * len(codes) // solo], team, day, None))
    return sorted(planned, key=lambda seat: seat.activated_on)


def progress(label: str, done: int, total: int, started: float) -> None:
    if done % 1000 == 0 or done == total:
        print(f"  {label}: {done:,}/{total:,} ({time.perf_counter() - started:.0f} s)", flush=True)


def build_organisation(seats: int) -> dict[str, float]:
    """Activate the seats and their history through the services; returns set-up timings."""
    import time_machine
    from django.contrib.auth.hashers import make_password

    from ledger.services import Cause, inmail_send, ledger_tick, seat_activate
    from teams.models import Plan, Seat, Team, User

    rng = random.Random(4)
    cause = Cause.system("bench")
    planned = seat_plans(seats, rng)
    timings: dict[str, float] = {}
    with time_machine.travel(BUILT_AT, tick=False) as clock:
        unusable = make_password(None)
        User.objects.bulk_create(
            [User(username=f"bench-{n}", password=unusable) for n in range(seats)],
            batch_size=2000,
        )
        holders = list(User.objects.filter(username__startswith="bench-").order_by("pk"))
        team_ids = sorted({seat.team for seat in planned})
        Team.objects.bulk_create([Team(name=f"Bench team {n}") for n in team_ids])
        teams = {team.name: team for team in Team.objects.filter(name__startswith="Bench team")}
        plans = {plan.code: plan for plan in Plan.objects.all()}

        started = time.perf_counter()
        print(f"Activating {seats:,} seats with seat_activate…", flush=True)
        for done, (seat, holder) in enumerate(zip(planned, holders, strict=True), start=1):
            seat_activate(
                holder=holder,
                team=teams[f"Bench team {seat.team}"],
                plan=plans[seat.plan],
                activated_on=seat.activated_on,
                monthly_allocation=seat.allocation,
                cause=cause,
            )
            progress("activated", done, seats, started)
        timings["activate"] = time.perf_counter() - started

        def send_from_every_fourth(offset: int, tag: str) -> None:
            active = list(Seat.objects.order_by("pk"))[offset::4]
            for seat in active:
                inmail_send(
                    seat=seat,
                    recipient=f"linkedin.com/in/candidate-{tag}-{seat.pk}",
                    subject="A role you may like",
                    body="Would you be open to a short call this week?",
                    cause=cause,
                )

        started = time.perf_counter()
        send_from_every_fourth(0, "november")
        timings["november sends"] = time.perf_counter() - started

        clock.move_to(CAUGHT_UP_AT)
        started = time.perf_counter()
        caught_up = ledger_tick()
        timings["catch-up tick, two months"] = time.perf_counter() - started
        timings["catch-up groups"] = caught_up.groups
        send_from_every_fourth(2, "january")
    return timings


# --------------------------------------------------------------------------------------------
# Copies of the organisation
# --------------------------------------------------------------------------------------------


def replicate(copies: int) -> float:
    """Add `copies - 1` copies of everything the services built, by SQL: every row of the
    tables below again with its id and its references moved past the originals (the k-th copy
    adds k times the table's largest id), user and team names suffixed. The copies are the
    same organisation again: the same plans, dates, lots, entries, refreshes and InMails,
    consistent by construction (`ledger_check` agrees), built in seconds instead of the hours
    `seat_activate` would take for 100,000 seats."""
    from django.db import connection, models

    from ledger.models import Account, Entry, InMail, Lot, Operation, Refresh
    from teams.models import Membership, Seat, SeatHolding, Team, User

    if copies <= 1:
        return 0.0
    started = time.perf_counter()
    order: list[type[models.Model]] = [
        User,
        Team,
        Membership,
        Seat,
        SeatHolding,
        Account,
        Operation,
        Lot,
        Refresh,
        InMail,
        Entry,
    ]
    renamed = {(User, "username"), (Team, "name")}
    with connection.cursor() as cursor:
        spans: dict[type[models.Model], int] = {}
        for model in order:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")  # noqa: S608
            spans[model] = cursor.fetchone()[0]
        for model in order:
            columns, values = [], []
            for field in model._meta.concrete_fields:
                if field.generated:  # computed by the database
                    continue
                column = field.column
                columns.append(f'"{column}"')
                if field.primary_key:
                    values.append(f'"{column}" + k * {spans[model]}')
                elif isinstance(target := field.related_model, type) and target in spans:
                    values.append(f'"{column}" + k * {spans[target]}')
                elif (model, field.name) in renamed:
                    values.append(f"\"{column}\" || '-copy-' || k")
                else:
                    values.append(f'"{column}"')
            table = model._meta.db_table
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"SELECT {', '.join(values)} FROM {table} "
                f"CROSS JOIN generate_series(1, %s) AS k WHERE id <= %s",
                [copies - 1, spans[model]],
            )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))"
            )
            print(f"  copied {table} ×{copies - 1}", flush=True)
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Memory and concurrent sends
# --------------------------------------------------------------------------------------------


def server_cpu_seconds() -> float:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far, read from
    /proc when the server runs on this machine; 0 where it can't be read."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: writing 5 to clear_refs); False where it can't be reset."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def _sender(seat_ids: list[int], number: int, stop: Any, results: Any, tag: str) -> None:
    """Send InMails from random seats until `stop` is set; put the latencies (seconds)."""
    from django.db import connection

    from ledger.exceptions import LedgerError
    from ledger.services import Cause, inmail_send
    from teams.models import Seat

    connection.close()
    rng = random.Random(number)
    cause = Cause.system("bench")
    latencies: list[float] = []
    errors = 0
    sent = 0
    while not stop.is_set():
        seat_id = rng.choice(seat_ids)
        started = time.perf_counter()
        try:
            inmail_send(
                seat=Seat.objects.get(pk=seat_id),
                recipient=f"linkedin.com/in/bench-{tag}-{number}-{sent}",
                subject="A role you may like",
                body="Would you be open to a short call this week?",
                cause=cause,
            )
        except LedgerError as error:
            errors += 1
            if errors <= 3:
                print(f"  sender {number}: refused ({type(error).__name__}: {error})", flush=True)
        latencies.append(time.perf_counter() - started)
        sent += 1
    connection.close()
    results.put((latencies, errors))


@dataclass(frozen=True)
class Sends:
    count: int
    refused: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    def line(self) -> str:
        return (
            f"{self.count:,} sends ({self.refused:,} refused), median {self.p50_ms:.0f} ms, "
            f"p99 {self.p99_ms:.0f} ms, max {self.max_ms:.0f} ms"
        )


class Senders:
    """`count` processes sending from random seats while the block runs."""

    def __init__(self, count: int, seat_ids: list[int], tag: str) -> None:
        self.count = count
        self.seat_ids = seat_ids
        self.tag = tag

    def __enter__(self) -> Senders:
        from django.db import connections

        connections.close_all()
        context = multiprocessing.get_context("fork")
        self.stop = context.Event()
        self.results: Any = context.Queue()
        self.processes = [
            context.Process(
                target=_sender, args=(self.seat_ids, n, self.stop, self.results, self.tag)
            )
            for n in range(self.count)
        ]
        for process in self.processes:
            process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.outcome = [self.results.get() for _ in self.processes]
        for process in self.processes:
            process.join()

    def sends(self) -> Sends | None:
        latencies: list[float] = sorted(x for lat, _ in self.outcome for x in lat)
        if not latencies:
            return None

        def at(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        return Sends(
            count=len(latencies),
            refused=sum(errors for _, errors in self.outcome),
            p50_ms=at(0.50),
            p99_ms=at(0.99),
            max_ms=latencies[-1] * 1000,
        )


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickRun:
    seconds: float
    groups: int
    reminders: int
    closed: int
    statements: int
    sql_seconds: float
    entries: Counter[str]
    refreshes: int
    peak_rss_mb: float
    sends: Sends | None
    # CPU seconds the tick used: this process, and its PostgreSQL backend (same machine).
    client_cpu: float
    server_cpu: float


def timed_tick(senders: int = 0, *, per_group: bool = False) -> TickRun:
    from django.db.models import Count

    from ledger.models import Entry, Refresh
    from ledger.services import ledger_bring_all_up_to_date, ledger_tick
    from teams.models import Seat

    last_entry = Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    refreshes_before = Refresh.objects.count()
    seat_ids = list(Seat.objects.filter(status="active").values_list("pk", flat=True))
    path = (
        mock.patch(
            "ledger.services.jobs.ledger_bring_all_up_to_date_batched",
            ledger_bring_all_up_to_date,
        )
        if per_group
        else contextlib.nullcontext()
    )
    with Senders(senders, seat_ids, "tick") as sending, path:
        reset_peak_rss()
        server = server_cpu_seconds()
        client = time.process_time()
        with counted() as statements:
            started = time.perf_counter()
            report = ledger_tick()
            seconds = time.perf_counter() - started
        client = time.process_time() - client
        server = server_cpu_seconds() - server
        peak = peak_rss_mb()
    entries = Counter(
        dict(
            Entry.objects.filter(pk__gt=last_entry)
            .values("kind")
            .annotate(n=Count("id"))
            .values_list("kind", "n")
        )
    )
    return TickRun(
        seconds=seconds,
        groups=report.groups,
        reminders=report.reminders,
        closed=report.closed,
        statements=statements.count,
        sql_seconds=statements.seconds,
        entries=entries,
        refreshes=Refresh.objects.count() - refreshes_before,
        peak_rss_mb=peak,
        sends=sending.sends() if senders else None,
        client_cpu=client,
        server_cpu=server,
    )


def baseline_sends(senders: int, seconds: float) -> Sends | None:
    """The same senders with no tick running, for comparison."""
    from teams.models import Seat

    if not senders:
        return None
    seat_ids = list(Seat.objects.filter(status="active").values_list("pk", flat=True))
    with Senders(senders, seat_ids, "baseline") as sending:
        time.sleep(seconds)
    return sending.sends()


def organisation_size() -> dict[str, int]:
    from ledger.models import Account, Entry, InMail, Lot
    from teams.models import Seat

    return {
        "seats": Seat.objects.count(),
        "accounts": Account.objects.count(),
        "pools": Account.objects.filter(kind="pool").count(),
        "lots": Lot.objects.count(),
        "entries": Entry.objects.count(),
        "InMails": InMail.objects.count(),
    }


# --------------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------------


def commit() -> str:
    import subprocess

    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as make does
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def subsection_heading(seats: int, per_group_path: bool = False) -> str:
    return f"### {seats:,} seats" + (
        ", one group at a time (`--per-group`)" if per_group_path else ""
    )


def subsection(
    seats: int,
    info: dict[str, str],
    size: dict[str, int],
    setup: dict[str, float] | None,
    first: TickRun,
    second: TickRun,
    baseline: Sends | None = None,
    senders: int = 0,
    base: int = 1_000,
    per_group_path: bool = False,
) -> str:
    """This run's part of the "## Tick" section."""

    def per_group(run: TickRun, value: float) -> str:
        return f"{value / run.groups:.1f}" if run.groups else "–"

    def rate(run: TickRun) -> str:
        return f"{run.groups / run.seconds:,.1f}" if run.groups else "–"

    moved = ", ".join(f"{kind} {n:,}" for kind, n in sorted(first.entries.items()))
    base_option = "" if base == 1_000 else f" --base {base}"
    lines = [
        subsection_heading(seats, per_group_path),
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with "
        f"`DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev "
        f".venv/bin/python bench/tick_cost.py --seats {seats}{base_option}`.",
        "",
        f"Code: commit {commit()}" + (", `--per-group`." if per_group_path else "."),
        "",
        machine_line(info),
        "",
        f"Before the tick: {', '.join(f'{n:,} {what}' for what, n in size.items())}.",
        "",
        "| tick | seconds | account groups | groups/s | SQL statements | statements per group "
        "| SQL ms per group | refreshes | reminders | closures | peak RSS MB "
        "| CPU s: tick process / its PostgreSQL backend |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, run in (("one month of due work", first), ("again, right after", second)):
        lines.append(
            f"| {label} | {run.seconds:.2f} | {run.groups:,} | {rate(run)} "
            f"| {run.statements:,} | {per_group(run, run.statements)} "
            f"| {per_group(run, run.sql_seconds * 1000)} | {run.refreshes:,} "
            f"| {run.reminders:,} | {run.closed:,} | {run.peak_rss_mb:.0f} "
            f"| {run.client_cpu:.1f} / {run.server_cpu:.1f} |"
        )
    lines += ["", f"Entries the first tick wrote: {moved or 'none'}."]
    if first.sends is not None:
        lines += [
            "",
            f"Sends from {senders} processes (`inmail_send`, random seats) while the first "
            f"tick ran: {first.sends.line()}."
            + (
                " The same senders for ten seconds after both ticks (nothing due): "
                f"{baseline.line()}."
                if baseline
                else ""
            ),
        ]
    if setup:
        lines += [
            "",
            f"Set-up (not timed above): {setup['activate']:.0f} s to activate the seats through "
            f"`seat_activate`, {setup['november sends']:.0f} s for the November sends, and "
            f"{setup['catch-up tick, two months']:.0f} s for the catch-up tick over two months "
            f"on 1 January ({int(setup['catch-up groups']):,} groups)"
            + (
                f"; then {int(setup['copies']) - 1} copies of that organisation by SQL "
                f"({setup['replicate']:.0f} s, see `replicate`)."
                if setup.get("copies", 1) > 1
                else "."
            ),
        ]
    else:
        lines += [
            "",
            previous_setup_line(
                HEADING,
                subsection_heading(seats, per_group_path),
                "Set-up: reused from the saved copy; run with `--rebuild` for its timings.",
            ),
        ]
    return "\n".join(lines) + "\n"


INTRO = (
    "Written by `bench/tick_cost.py` (its docstring describes the organisation it builds): "
    "one `ledger_tick()` over N seats, each with a month of due work (refreshes, pool "
    "allocations, expiries, reminders, 90-day closures), then a second tick right after, "
    "with sends from other processes running during the first. "
    '"Account groups" is what the tick reports: the groups of accounts it brought up to date '
    "(a seat of its own, or a team pool with its pooled seats). On PostgreSQL the tick works "
    "a batch of groups per transaction (`ledger/services/batch_catch_up.py`); `--per-group` "
    "times the one-group-at-a-time catch-up it replaced on the same data. SQL statements are "
    "those `execute_wrapper` sees: the batched path's `COPY`s are not among them. Each run "
    "replaces its own subsection."
)


def write_results(body: str, seats: int, per_group_path: bool = False) -> None:
    """Replace this run's subsection of "## Tick" in RESULTS.md; keep everything else."""
    replace_subsection(
        HEADING, INTRO, subsection_heading(seats, per_group_path), body, in_place=False
    )


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seats", type=int, default=10_000, help="seats in all")
    parser.add_argument(
        "--base",
        type=int,
        default=1_000,
        help="seats built through the services; the rest are copies of them (--seats must be "
        "a multiple)",
    )
    parser.add_argument("--rebuild", action="store_true", help="don't reuse the saved set-up")
    parser.add_argument("--no-write", action="store_true", help="don't touch bench/RESULTS.md")
    parser.add_argument(
        "--per-group",
        action="store_true",
        help="time the one-group-at-a-time catch-up (the code before the batched tick)",
    )
    parser.add_argument(
        "--senders", type=int, default=3, help="processes sending InMails during the tick"
    )
    args = parser.parse_args()

    name = f"inmail_bench_tick_{args.seats}"
    saved = f"{name}_setup"
    url = database_url(name)
    reuse = not args.rebuild and database_exists(url, saved)
    recreate_database(url, name, template=saved if reuse else None)
    setup_django(url, QUIET)
    import time_machine
    from django.core.management import call_command
    from django.db import connection

    setup: dict[str, float] | None = None
    if reuse:
        print(f"Starting from the saved set-up {saved}.")
    else:
        call_command("migrate", verbosity=0)
        base = min(args.base, args.seats)
        if args.seats % base:
            parser.error("--seats must be a multiple of --base")
        setup = build_organisation(base)
        setup["copies"] = args.seats // base
        setup["replicate"] = replicate(args.seats // base)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connection.close()
        recreate_database(url, saved, template=name)
        print(f"Saved the set-up as {saved}.")

    size = organisation_size()
    print(f"Ticking at {TICK_AT:%Y-%m-%d %H:%M} UTC over {size}…", flush=True)
    with time_machine.travel(TICK_AT, tick=False):
        first = timed_tick(args.senders, per_group=args.per_group)
        second = timed_tick()
        # Nothing is due any more: what a send costs on this machine without a tick.
        baseline = baseline_sends(args.senders, 10.0)
    for label, run in (("first", first), ("second", second)):
        print(
            f"{label} tick: {run.seconds:.2f} s, {run.groups:,} groups, "
            f"{run.statements:,} statements ({run.sql_seconds:.2f} s in SQL), "
            f"{run.refreshes:,} refreshes, {run.reminders:,} reminders, {run.closed:,} closed, "
            f"entries {dict(run.entries)}, peak RSS {run.peak_rss_mb:.0f} MB, "
            f"CPU {run.client_cpu:.1f} s here + {run.server_cpu:.1f} s in its backend"
        )
        if run.sends is not None:
            print(f"  sends during it: {run.sends.line()}")
    if baseline is not None:
        print(f"baseline sends: {baseline.line()}")
    body = subsection(
        args.seats,
        machine(),
        size,
        setup,
        first,
        second,
        baseline,
        args.senders,
        args.base,
        args.per_group,
    )
    print(body)
    if not args.no_write:
        write_results(body, args.seats, args.per_group)
        print(f"Wrote “{HEADING[3:]}, {args.seats:,} seats” into {RESULTS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
