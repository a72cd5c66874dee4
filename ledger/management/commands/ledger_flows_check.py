"""`manage.py ledger_flows_check`: prove the entries' days (`EntryDay`, what credit flows read)
from the entries; exit 1 on a difference. `--rebuild` counts them again (after the
organisation's time zone changed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import ngettext

from ledger import schedule
from ledger.models import EntryDay
from ledger.selectors import flow_day_discrepancies, flow_days_zone
from ledger.services.flow_days import flow_days_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the entries' days (the rollup credit flows read) from the ledger entries and "
        "report each difference; --rebuild counts them again in the organisation's time zone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="count every entry's day again first (in settings.TIME_ZONE)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            rebuilt = flow_days_rebuild()
            self.stdout.write(
                f"Counted {rebuilt.days} entry days in {rebuilt.time_zone}"
                f" (before: {rebuilt.previous_time_zone or 'none kept'})."
            )
        zone, organisation_zone = flow_days_zone(), schedule.org_tz().key
        if zone is None:
            self.stdout.write("The entries' days are not kept (no zone): nothing to check.")
        elif zone != organisation_zone:
            self.stderr.write(
                f"The entries' days are counted in {zone}, not the organisation's "
                f"{organisation_zone}: credit flows read the entries until --rebuild."
            )
        differences = flow_day_discrepancies()
        for difference in differences:
            self.stderr.write(str(difference))
        if differences:
            raise CommandError(
                ngettext(
                    "%(count)d difference in the entries' days.",
                    "%(count)d differences in the entries' days.",
                    len(differences),
                )
                % {"count": len(differences)},
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Entries' days consistent: {EntryDay.objects.count()} rows, 0 differences."
            )
        )
