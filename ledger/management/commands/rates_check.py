"""`manage.py rates_check`: recompute the response-rate rollups and the breakdowns by hour,
weekday and hour, template and tag from the InMails; exit 1 on a difference. `--rebuild`
recomputes them all (after the organisation's time zone changed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import ngettext

from ledger.rate_breakdowns import breakdown_check
from ledger.rate_rollups import rollup_check, rollup_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every response-rate rollup row from the InMails and report each difference; "
        "with --rebuild, first rebuild them all in the organisation's time zone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="rebuild every rollup row from the InMails"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("No rate rollups on SQLite: the analytics count the InMails.")
            return
        if options["rebuild"]:
            # The breakdowns with them.
            written = rollup_rebuild()
            self.stdout.write(f"Rebuilt {written} rate rollup rows.")
        check = rollup_check()
        breakdowns = breakdown_check()
        problems = check.problems() + breakdowns.problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(
                ngettext(
                    "%(count)d difference across %(rows)d rate rollup rows.",
                    "%(count)d differences across %(rows)d rate rollup rows.",
                    len(problems),
                )
                % {"count": len(problems), "rows": check.rows + breakdowns.rows},
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"Rate rollups exact: {check.rows} rows, 0 differences.")
        )
        self.stdout.write(
            self.style.SUCCESS(f"Rate breakdowns exact: {breakdowns.rows} rows, 0 differences.")
        )
