"""The ledger-level CSV tests' steps: the import header, sends and reading an export back."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ledger.models import InMail
from ledger.services import Cause, inmail_send
from ledger.web.csv_io import ExportFilters, export_entries, export_inmails
from teams.models import Seat, User

HEADER = "seat,recipient,subject,body,sent_at,open_profile,status,responded_at\n"


def send(
    seat: Seat, recipient: str, subject: str = "Hello", body: str = "A role for you"
) -> InMail:
    return inmail_send(
        seat=seat, recipient=recipient, subject=subject, body=body, cause=Cause(seat.holder, "test")
    ).inmail


def rows_of(lines: Iterable[str]) -> list[dict[str, str]]:
    text = "".join(lines)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def inmail_rows(user: User, **filters: object) -> list[dict[str, str]]:
    return rows_of(export_inmails(user, ExportFilters(**filters)))  # type: ignore[arg-type]


def entry_rows(user: User, **filters: object) -> list[dict[str, str]]:
    return rows_of(export_entries(user, ExportFilters(**filters)))  # type: ignore[arg-type]
