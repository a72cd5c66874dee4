"""Where one page's time goes: every SQL statement of one request, its time and the line of
project code that ran it, slowest first (issue 15, the team page, the home and the overview).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \\
        .venv/bin/python bench/page_profile.py --database inmail_bench_analytics_100000 \\
        team [--query months=12] [--explain 3]

Pages: `team` (team 1 for its lead), `home` (the heavy recruiter's `/`), `overview` (the
admin's `/overview/`), on an analytics benchmark database (bench/analytics_cost.py builds it),
on its frozen clock. Only reads. `--explain N` prints EXPLAIN ANALYZE of the N slowest.
"""

from __future__ import annotations

import argparse
import logging
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

from common import QUIET, collapse, database_url, setup_django
from datagen_analytics import NOW

from inmail_site.heap import freeze_loaded_objects


@dataclass
class Log:
    rows: list[tuple[float, str, Any, str]] = field(default_factory=list)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            where = [
                f"{frame.filename.split('/wt/')[-1].split('/', 1)[-1]}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_stack()
                if ("/ledger/" in frame.filename or "/teams/" in frame.filename)
                and "site-packages" not in frame.filename
            ]
            self.rows.append((elapsed, sql, params, " < ".join(reversed(where[-4:]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("page", choices=("team", "home", "overview"))
    parser.add_argument("--database", required=True)
    parser.add_argument("--query", default="")
    parser.add_argument("--explain", type=int, default=0)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--cprofile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument(
        "--sort", default="cumulative", help="cProfile's order: cumulative, tottime, …"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="No directory at")
    setup_django(database_url(args.database), QUIET)
    logging.getLogger("axes").setLevel(logging.WARNING)
    import time_machine
    from analytics_cost import subjects
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with time_machine.travel(NOW, tick=False), override_settings(STORAGES=storages):
        who = subjects()
        user, url = {
            "team": (who.lead, reverse("team_detail", args=[who.team.pk])),
            "home": (who.heavy, reverse("home")),
            "overview": (who.admin, reverse("overview")),
        }[args.page]
        if args.query:
            url += "?" + args.query
        client = Client()
        client.force_login(user)
        # As a web worker once it has loaded the site (inmail_site.wsgi).
        freeze_loaded_objects()
        assert client.get(url).status_code == 200
        log = Log()
        started = time.perf_counter()
        with connection.execute_wrapper(log):
            assert client.get(url).status_code == 200
        total = time.perf_counter() - started
        if args.cprofile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(client.get, url)
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.cprofile)
        sql_total = sum(row[0] for row in log.rows)
        print(
            f"{url}: {total * 1000:.0f} ms, {len(log.rows)} statements, "
            f"SQL {sql_total * 1000:.0f} ms"
        )
        for elapsed, sql, _params, where in sorted(log.rows, key=lambda r: -r[0])[: args.top]:
            print(f"{elapsed * 1000:8.1f} ms  {where}\n            {collapse(sql)[:300]}")
        for elapsed, sql, params, _where in sorted(log.rows, key=lambda r: -r[0])[: args.explain]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print(f"\n--- {elapsed * 1000:.1f} ms: {collapse(sql)[:2000]}\n{params}")
                print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
