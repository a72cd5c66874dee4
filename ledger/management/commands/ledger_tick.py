"""`manage.py ledger_tick [--until <ISO datetime>]`: apply everything due, in time order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import ngettext

from ledger.exceptions import LedgerValidationError
from ledger.services import ledger_tick


def _instant(text: str) -> datetime:
    try:
        parsed = parse_datetime(text)
    except ValueError as error:
        raise CommandError(f"--until {text!r} is not a valid date and time: {error}") from None
    if parsed is None:
        raise CommandError(
            f"--until {text!r} is not an ISO 8601 date and time, e.g. 2026-11-01T00:00:00+00:00"
        )
    if timezone.is_naive(parsed):
        # A time without an offset is read in the organisation's time zone.
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = (
        "Apply every refresh, expiry, reminder and response-window closure due up to --until "
        "(default: now), in time order. Safe to run late, twice, or concurrently."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--until", help="ISO 8601 date and time; default now")

    def handle(self, *args: Any, **options: Any) -> None:
        until = _instant(options["until"]) if options["until"] else None
        try:
            report = ledger_tick(until=until)
        except LedgerValidationError as error:
            raise CommandError(f"--until: {error.message}") from None
        groups = ngettext(
            "%(count)d account group moved", "%(count)d account groups moved", report.groups
        ) % {"count": report.groups}
        reminders = ngettext("%(count)d reminder", "%(count)d reminders", report.reminders) % {
            "count": report.reminders
        }
        closed = ngettext(
            "%(count)d InMail closed as no_response",
            "%(count)d InMails closed as no_response",
            report.closed,
        ) % {"count": report.closed}
        self.stdout.write(
            f"Ledger up to date until {report.until.isoformat()}: {groups}, {reminders}, {closed}."
        )
