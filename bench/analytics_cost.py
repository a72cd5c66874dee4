"""How the analytics and the busiest pages scale with a year of InMail history.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \\
        .venv/bin/python bench/analytics_cost.py --inmails 100000

The benchmark never touches the database named in DATABASE_URL: it builds its own,
`inmail_bench_analytics_<N>` on the same server (created through the `postgres` database), and
keeps it; a later run with the same N reuses it (a comment on the database records a finished
build) and `--rebuild` builds it again. `--database NAME` builds or reuses another database (two
people measuring at once); `--raw` makes the response rates count the InMails themselves, as
before the rate rollups (issue 15), for before/after figures on one database; `--only REGEX`
runs the cases whose "what case" text matches (with `--no-write`: a partial run is no
subsection). Everything it measures only reads; before measuring it vacuums the InMails, their
tags and the breakdowns, as autovacuum would have after the load, and (without `--raw`) settles
the response-rate breakdowns at "now", as the daily check would have that morning.

The organisation, on a frozen clock (time_machine), "now" being Monday 16 June 2025, 10:00:

- 10 teams of 20 seats, each with a lead who holds no seat, and one admin (`is_staff`). Seats
  are on Recruiter Professional (60 %) and Recruiter Lite (40 %), activated through
  `ledger.services.seat_activate` on dates spread over the two weeks before 16 June 2024. No
  pooled plans: every InMail is paid from its seat's own credits.
- N InMails sent from activation until now, on working days and hours mostly, over the seats
  in proportion to a random weight per seat; one recruiter of team 1 ("heavy") sends 2 % of
  them (2,000 at N=100,000). Open Profile (free) 15 % (30 % for the heavy recruiter); bodies
  under 400 characters 50 %, 400–999 35 %, 1,000+ 15 %; subjects of up to five words 55 %.
- Outcomes: about 27 % are answered (more for short bodies and subjects, fewer for long
  bodies and Open Profile; accepted, replied, declined), most within days, some after 30 or
  even 90 days; 3 % are withdrawn; the rest are `no_response` once their 90-day window is over,
  else `pending` (so pending InMails are those of the last 90 days). Reminders are recorded
  as the tick would have.
- The ledger those imply, simulated with the ledger's rules (monthly grants on the billing day
  under the cap, each spend from the lot that expires first, a refund lot for each paid InMail
  answered within 90 days, expiries 90 days after a grant) and loaded with COPY. A paid InMail
  sent when its seat had no credit left is kept as imported history (`imported=True`, no
  charge: analytics only), as a CSV import would have recorded it; how many is printed and
  written to the results.

After building, one `ledger_tick()` at "now" must find nothing to do, and
`ledger.selectors.ledger_discrepancies()` (what `manage.py ledger_check` runs) must find
nothing wrong. Then each case below runs once to warm up and five times timed (`--runs N`):
median and p95 wall time (nearest rank: of five runs the slowest; the issue's goal is a p95, so
use `--runs 20` or more for it), SQL statements (through `connection.execute_wrapper`) and the
time spent in them.

- `response_rates` for every group_by over the whole organisation (the admin's scope) and over
  team 1 (its lead's scope, `team=`); `response_totals` over both;
- `credit_flows` for the last 30 days and the last 12 months, organisation and team 1;
  `monthly_credit_flows(months=12)` for team 1;
- the team page of team 1 for its lead (also `?months=12`), the recruiter home of the heavy
  recruiter and the admin's organisation overview (Django
  test Client, `force_login`; static files through the plain storage, since the benchmark does
  not run `collectstatic`);
- `GET /api/v1/inmails/?page_size=500` and `GET /api/v1/analytics/response-rates/?group_by=
  month` as the admin (DRF APIClient, `force_authenticate`).

The results replace this N's subsection of "## Analytics and pages" in bench/RESULTS.md, and
the section's summary table is rebuilt from every N's subsection.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import (
    QUIET,
    RESULTS,
    ROOT,
    counted,
    database_comment,
    database_url,
    machine,
    machine_line,
    mark_built,
    previous_setup_line,
    recreate_database,
    replace_subsection,
    setup_django,
    size_of,
)
from datagen_analytics import NOW, build

from inmail_site.heap import freeze_loaded_objects

HEADING = "## Analytics and pages"
WARMUP = 1
RUNS = 5  # the default of --runs
BUILT_COMMENT = "inmail bench analytics: built, {n} InMails, seed {seed}"

# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    group: str
    label: str
    run: Callable[[], Any]


@dataclass(frozen=True)
class Timing:
    group: str
    label: str
    median_ms: float
    p95_ms: float
    min_ms: float
    sql_ms: float
    statements: int
    varying: bool  # the statement count differed between runs


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank: of 5 runs the p95 is the slowest; `--runs 20` or more
    makes it one."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def measure(case: Case, runs: int) -> Timing:
    for _ in range(WARMUP):
        case.run()
    seconds: list[float] = []
    sql: list[float] = []
    counts: list[int] = []
    for _ in range(runs):
        with counted() as statements:
            started = time.perf_counter()
            case.run()
            seconds.append(time.perf_counter() - started)
        sql.append(statements.seconds)
        counts.append(statements.count)
    timing = Timing(
        group=case.group,
        label=case.label,
        median_ms=statistics.median(seconds) * 1000,
        p95_ms=nearest_rank(seconds, 0.95) * 1000,
        min_ms=min(seconds) * 1000,
        sql_ms=statistics.median(sql) * 1000,
        statements=int(statistics.median(counts)),
        varying=len(set(counts)) > 1,
    )
    print(
        f"  {case.group:<28} {case.label:<44} {timing.median_ms:9.1f} ms "
        f"(p95 {timing.p95_ms:7.1f} ms, SQL {timing.sql_ms:8.1f} ms, "
        f"{timing.statements} statements)",
        flush=True,
    )
    return timing


@dataclass(frozen=True)
class Subjects:
    admin: Any
    lead: Any
    team: Any
    heavy: Any


def subjects() -> Subjects:
    from teams.models import Membership, Role, Seat, Team, User

    team = Team.objects.get(name="Bench team 01")
    lead = User.objects.get(
        pk=Membership.objects.filter(team=team, role=Role.LEAD).values("user")[:1]
    )
    heavy = (
        Seat.objects.filter(team=team).order_by("holder__username").select_related("holder")[0]
    ).holder
    return Subjects(User.objects.get(username="bench-admin"), lead, team, heavy)


def cases(who: Subjects) -> list[Case]:
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    from ledger import analytics, schedule

    today = schedule.local_date(NOW)
    year_ago = today - timedelta(days=364)
    org = analytics.analytics_inmails(who.admin)
    team = analytics.analytics_inmails(who.lead, team=who.team)
    found: list[Case] = []
    for scope, inmails in (("organisation (admin)", org), ("team 1 (its lead)", team)):
        for group_by in analytics.GROUP_BY:
            found.append(
                Case(
                    f"response_rates, {scope}",
                    f"group_by={group_by}",
                    partial(analytics.response_rates, inmails, group_by=group_by),
                )
            )
        found.append(
            Case(
                f"response_rates, {scope}",
                "response_totals",
                partial(analytics.response_totals, inmails),
            )
        )
    for scope, user, team_arg in (
        ("organisation (admin)", who.admin, None),
        ("team 1 (its lead)", who.lead, who.team),
    ):
        found.append(
            Case(
                f"credit flows, {scope}",
                "credit_flows, last 30 days",
                partial(analytics.credit_flows, user, team=team_arg),
            )
        )
        found.append(
            Case(
                f"credit flows, {scope}",
                "credit_flows, last 12 months",
                partial(analytics.credit_flows, user, team=team_arg, start=year_ago),
            )
        )
    found.append(
        Case(
            "credit flows, team 1 (its lead)",
            "monthly_credit_flows(months=12)",
            partial(analytics.monthly_credit_flows, who.lead, team=who.team, months=12),
        )
    )

    def page(user: Any, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def get() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return get

    def api(user: Any, url: str) -> Callable[[], Any]:
        client = APIClient()
        client.force_authenticate(user)

        def get() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content)
            return response

        return get

    team_url = reverse("team_detail", args=[who.team.pk])
    found += [
        Case("pages", "team page of team 1, its lead", page(who.lead, team_url)),
        Case("pages", "team page, ?months=12", page(who.lead, f"{team_url}?months=12")),
        Case("pages", "recruiter home, heavy recruiter (/)", page(who.heavy, reverse("home"))),
        Case("pages", "admin overview (/overview/)", page(who.admin, reverse("overview"))),
        Case(
            "API, admin",
            "GET /api/v1/inmails/?page_size=500",
            api(who.admin, "/api/v1/inmails/?page_size=500"),
        ),
        Case(
            "API, admin",
            "GET /api/v1/analytics/response-rates/?group_by=month",
            api(who.admin, "/api/v1/analytics/response-rates/?group_by=month"),
        ),
    ]
    return found


def organisation_facts(who: Subjects) -> dict[str, Any]:
    from django.db.models import Count

    from ledger import analytics
    from ledger.models import Account, Entry, InMail, Lot, Refresh
    from teams.models import Seat, Team

    statuses = dict(
        InMail.objects.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = analytics.response_totals(analytics.analytics_inmails(who.admin))
    return {
        "teams": Team.objects.count(),
        "seats": Seat.objects.count(),
        "accounts": Account.objects.count(),
        "InMails": InMail.objects.count(),
        "entries": Entry.objects.count(),
        "lots": Lot.objects.count(),
        "refreshes": Refresh.objects.count(),
        "imported": InMail.objects.filter(imported=True).count(),
        "open_profile": InMail.objects.filter(open_profile=True).count(),
        "statuses": statuses,
        "response_rate": total.response_rate,
        "team_inmails": InMail.objects.filter(seat__team=who.team).count(),
        "team_seats": Seat.objects.filter(team=who.team).count(),
        "heavy_inmails": InMail.objects.filter(seat__holder=who.heavy).count(),
    }


# --------------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------------


def subsection_heading(inmails: int) -> str:
    return f"### {inmails:,} InMails"


def command(inmails: int, runs: int) -> str:
    """The command that measured a subsection, as it can be run again (the server of
    DATABASE_URL, the benchmark's own database on it)."""
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    server = urlunsplit(url._replace(path="/postgres", query="", fragment=""))
    runs_option = "" if runs == RUNS else f" --runs {runs}"
    return (
        f"DATABASE_URL={server} "
        f".venv/bin/python bench/analytics_cost.py --inmails {inmails}{runs_option}"
    )


def subsection(
    inmails: int,
    info: dict[str, str],
    facts: dict[str, Any],
    setup: dict[str, Any] | None,
    timings: list[Timing],
    runs: int,
) -> str:
    statuses = ", ".join(f"{name} {n:,}" for name, n in sorted(facts["statuses"].items()))
    rate = facts["response_rate"]
    lines = [
        subsection_heading(inmails),
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command(inmails, runs)}`.",
        "",
        machine_line(info),
        "",
        f"The organisation: {facts['teams']} teams, {facts['seats']} seats, "
        f"{facts['InMails']:,} InMails ({statuses}; Open Profile {facts['open_profile']:,}; "
        f"imported for want of credit {facts['imported']:,}), {facts['entries']:,} entries, "
        f"{facts['lots']:,} lots, {facts['refreshes']:,} refresh records. Response rate "
        f"{'n/a' if rate is None else f'{rate:.1%}'}. Team 1: {facts['team_seats']} seats, "
        f"{facts['team_inmails']:,} InMails; the heavy recruiter: "
        f"{facts['heavy_inmails']:,} InMails.",
        "",
        f"Median and p95 (nearest rank) of {runs} runs after {WARMUP} warm-up; SQL is the "
        "median time spent in the "
        "statements (the rest is Python: ORM, templates, serialisers).",
        "",
        "| what | case | median ms | p95 ms | min ms | SQL ms | SQL statements |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for timing in timings:
        statements = f"{timing.statements:,}" + (" (varies)" if timing.varying else "")
        lines.append(
            f"| {timing.group} | {timing.label} | {timing.median_ms:,.1f} | "
            f"{timing.p95_ms:,.1f} | {timing.min_ms:,.1f} | {timing.sql_ms:,.1f} | {statements} |"
        )
    if setup:
        tick = setup["tick"]
        lines += [
            "",
            f"Set-up (not timed above): {setup['activate']:.0f} s to activate the seats through "
            f"`seat_activate`, {setup['simulate']:.0f} s to simulate the year, "
            f'{setup["load"]:.0f} s to load it with COPY; the tick at "now" then found '
            f"{tick.groups} groups, {tick.reminders} reminders and {tick.closed} closures to do, "
            "and `ledger_discrepancies()` found none.",
        ]
    else:
        lines += [
            "",
            previous_setup_line(
                HEADING,
                subsection_heading(inmails),
                "Set-up: the database of an earlier run was reused; `--rebuild` times the build.",
            ),
        ]
    return "\n".join(lines) + "\n"


def table_of(part: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(what, case) → (median ms, statements) from a subsection's table."""
    found = {}
    for line in part.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        # Six cells before the p95 column, seven since.
        if len(cells) in (6, 7) and re.fullmatch(r"[\d,.]+", cells[2]):
            found[(cells[0], cells[1])] = (cells[2], cells[-1])
    return found


def summary(runs: list[str]) -> list[str]:
    """One row per case, a column pair per N: how each grows with the history."""
    tables = [(size_of(part), table_of(part)) for part in runs]
    keys = list(dict.fromkeys(key for _, table in tables for key in table))
    lines = [
        "| what | case | "
        + " | ".join(f"{n:,}: median ms | {n:,}: statements" for n, _ in tables)
        + " |",
        "|---|---|" + "---:|---:|" * len(tables),
    ]
    for key in keys:
        cells = []
        for _, table in tables:
            ms, statements = table.get(key, ("–", "–"))
            cells += [ms, statements]
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return lines


INTRO = (
    "Written by `bench/analytics_cost.py` (its docstring describes the organisation it builds: "
    "10 teams, 200 seats, N InMails over a year with the ledger entries they imply). Read-only "
    "analytics selectors, the team page, the recruiter home and two API lists, each timed as "
    "the median of 5 runs after a warm-up. Each run replaces its own subsection; the table "
    "below puts every N side by side."
)


def write_results(body: str, inmails: int) -> None:
    """Replace this N's subsection of our section and its summary; keep everything else.

    In place when it was there, so the file keeps its order; else at the end.
    """
    replace_subsection(
        HEADING, INTRO, subsection_heading(inmails), body, summary=summary, in_place=True
    )


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--inmails", type=int, default=100_000, help="InMails in the history")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--no-write", action="store_true", help="don't touch bench/RESULTS.md")
    parser.add_argument(
        "--name",
        default="inmail_bench_analytics",
        help="the database's name before _<N> (so two checkouts can keep their own)",
    )
    parser.add_argument("--database", help="the database to build or reuse (default <--name>_<N>)")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="response rates from the InMails themselves, not the rollups (the 'before' figures)",
    )
    parser.add_argument(
        "--only",
        help="run only the cases whose label matches this regular expression (e.g. 'hour|tag')",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=RUNS,
        help=f"timed runs of each case (default {RUNS}); 20 or more for a p95 that "
        "isn't the slowest run",
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the loaded objects in the garbage collector's passes (as before issue 15's "
        "inmail_site/heap.py; a web worker freezes them when it loads inmail_site.wsgi)",
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="measure the pages only (team page, home, overview); implies --no-write",
    )
    args = parser.parse_args()
    if args.pages_only:
        args.no_write = True

    name = args.database or f"{args.name}_{args.inmails}"
    url = database_url(name)
    built = BUILT_COMMENT.format(n=args.inmails, seed=args.seed)
    reuse = not args.rebuild and database_comment(url, name) == built
    if not reuse:
        recreate_database(url, name)
    # WhiteNoise looks for collected static files, which a benchmark doesn't need.
    warnings.filterwarnings("ignore", message="No directory at")
    setup_django(url, QUIET)
    # django-axes logs every force_login at INFO.
    logging.getLogger("axes").setLevel(logging.WARNING)
    import time_machine
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    if args.raw:
        from ledger.analytics import scope

        scope.rollups_in_use = lambda using="default": False  # type: ignore[attr-defined]
        scope.breakdowns_settled_before = lambda using="default": None  # type: ignore[attr-defined]

    setup: dict[str, Any] | None = None
    if reuse:
        # A database built before a later migration (a rollup, say) is brought up to date.
        call_command("migrate", verbosity=0)
        print(f"Reusing {name} ({built}).", flush=True)
    else:
        call_command("migrate", verbosity=0)
        setup = build(args.inmails, args.seed)
        connection.close()
        mark_built(url, name, built)
        print(f"Built {name}.", flush=True)

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with time_machine.travel(NOW, tick=False), override_settings(STORAGES=storages):
        if not args.raw:
            # What the daily check (`ledger.tasks.check_ledger`) did this morning: the response-
            # rate breakdowns settled up to now's 30-day cutoff (a write, before any timing).
            from ledger.rate_breakdowns import breakdown_settle

            breakdown_settle()
        # As autovacuum would have by then: the visibility map set after the build's COPY and
        # a migration's rebuild, so that index-only scans read no heap (a no-op when done).
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE ledger_inmail, ledger_inmailtag, ledger_rate_breakdown, "
                "ledger_rate_breakdown_month"
            )
        who = subjects()
        facts = organisation_facts(who)
        print(f"Organisation: {facts}", flush=True)
        if not args.no_freeze:
            # What a web worker does once it has loaded the site (inmail_site.wsgi).
            freeze_loaded_objects()
        chosen = [
            case
            for case in cases(who)
            if (args.only is None or re.search(args.only, f"{case.group} {case.label}"))
            and (not args.pages_only or case.group == "pages")
        ]
        timings = [measure(case, args.runs) for case in chosen]
    body = subsection(args.inmails, machine(), facts, setup, timings, args.runs)
    print(body)
    if not args.no_write:
        write_results(body, args.inmails)
        print(f"Wrote “{HEADING[3:]}, {args.inmails:,} InMails” into {RESULTS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
