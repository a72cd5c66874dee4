"""CSV export of InMails and ledger entries, streamed.

Rows are read with `.iterator()` and written a batch at a time into a generator that a
`StreamingHttpResponse` sends as it goes, so memory stays flat whatever the size. Only what the
user may see is written: InMails of the seats `seats_visible_to` them, entries of those seats'
accounts, and the pool entries of teams they lead. A text cell a spreadsheet would read as a
formula (starting with = + - @ or their full-width forms, `|`, a space, a tab or a line break)
gets a leading apostrophe, as OWASP advises; numbers, flags and instants are never touched, so an
amount of -1 stays -1. Instants are ISO 8601 with their offset, in the organisation's time zone.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from ledger import schedule
from ledger.models import AccountKind, Entry, InMail, InMailTag
from ledger.web.csv_io.columns import INMAIL_COLUMNS
from teams.models import Seat, Team, User
from teams.selectors import seats_visible_to, teams_led_by

EXPORT_CHUNK_SIZE = 2000
# Rows joined into one piece of the response: fewer, larger writes to the socket.
EXPORT_ROWS_PER_PIECE = 500

# What a spreadsheet may read as the start of a formula: the four operators, their full-width
# forms (which some spreadsheets fold to ASCII), `|` (DDE in older Excel), and leading white space
# or a line break, which some strip before looking at the first character.
FORMULA_PREFIXES = (
    "=", "+", "-", "@", "|",
    "\uff1d", "\uff0b", "\uff0d", "\uff20",  # ＝ ＋ － ＠
    " ", "\t", "\r", "\n",
)  # fmt: skip

ENTRY_COLUMNS = (
    "id",
    "account",
    "seat",
    "holder",
    "team",
    "at",
    "kind",
    "amount",
    "balance_after",
    "lot",
    "lot_source",
    "lot_expires_at",
    "inmail",
    "actor",
    "cause",
    "memo",
)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def money_column(name: str) -> str:
    """A money column's header, which names the currency (`CURRENCY`): cost → cost_USD.

    The cells stay plain decimals, for a spreadsheet to sum; the currency is said once, in the
    header, as the pages say it beside every amount (`{{ amount|money }}`).
    """
    return f"{name}_{settings.CURRENCY}"


def text_cell(text: str) -> str:
    """A text cell a spreadsheet will show as text, never run as a formula (OWASP)."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _instant(instant: datetime | None) -> str:
    return "" if instant is None else timezone.localtime(instant).isoformat()


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class ExportFilters:
    """What to export: everything the user may see, narrowed by these (all optional).

    `since` and `until` are local dates, both included.
    """

    seat: Seat | None = None
    team: Team | None = None
    since: date | None = None
    until: date | None = None
    status: str = ""
    kind: str = ""


def _time_range(field_name: str, filters: ExportFilters) -> Q:
    condition = Q()
    if filters.since is not None:
        condition &= Q(**{f"{field_name}__gte": schedule.start_of_day(filters.since)})
    if filters.until is not None:
        end = schedule.start_of_day(filters.until)
        condition &= Q(**{f"{field_name}__lt": schedule.add_days(end, 1)})
    return condition


def inmails_for_export(user: User, filters: ExportFilters) -> QuerySet[InMail]:
    """The InMails of the seats the user may see, oldest first."""
    inmails = InMail.objects.filter(seat__in=seats_visible_to(user).values("pk"))
    if filters.seat is not None:
        inmails = inmails.filter(seat=filters.seat)
    if filters.team is not None:
        inmails = inmails.filter(seat__team=filters.team)
    if filters.status:
        inmails = inmails.filter(status=filters.status)
    return inmails.filter(_time_range("sent_at", filters)).order_by("sent_at", "id")


def entries_for_export(user: User, filters: ExportFilters) -> QuerySet[Entry]:
    """Entries of the seats the user may see, and of the pools of teams they lead, in time
    order."""
    entries = Entry.objects.filter(
        Q(account__seat__in=seats_visible_to(user).values("pk"))
        | Q(account__kind=AccountKind.POOL, account__team__in=teams_led_by(user).values("pk"))
    )
    if filters.seat is not None:
        entries = entries.filter(account__seat=filters.seat)
    if filters.team is not None:
        entries = entries.filter(account__team=filters.team)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    return (
        entries.filter(_time_range("at", filters))
        .select_related("account__seat__holder", "account__team", "lot", "actor")
        .order_by("at", "id")
    )


# The columns are read as plain values, not model instances: building three or four objects
# per row would make the export several times slower, and a row needs only these.
INMAIL_VALUES = (
    "pk",
    "seat_id",
    # `holder` is whoever held the seat when the InMail was sent (its sender, R19), so an
    # export of a reassigned seat imports back to the same seat and sender.
    "sender__username",
    "seat__team__name",
    "recipient",
    "subject",
    "body",
    "open_profile",
    "status",
    "sent_at",
    "responded_at",
    "credit_cost",
    "paid_from",
    "refunded",
    "imported",
    "template",  # R22
)
# R22: an InMail's tags in one cell, as the import reads them back.
TAGS_SEPARATOR = ";"


def _inmail_row(values: tuple[Any, ...]) -> list[object]:
    (
        pk,
        seat,
        holder,
        team,
        recipient,
        subject,
        body,
        open_profile,
        status,
        sent_at,
        responded_at,
        credit_cost,
        paid_from,
        refunded,
        imported,
        template,
    ) = values
    return [
        pk,
        seat,
        text_cell(holder),
        text_cell(team),
        text_cell(recipient),
        text_cell(subject),
        text_cell(body),
        _flag(open_profile),
        status,
        _instant(sent_at),
        _instant(responded_at),
        credit_cost,
        paid_from or "",
        _flag(refunded),
        _flag(imported),
        text_cell(template),
    ]


ENTRY_VALUES = (
    "pk",
    "account__kind",
    "account__seat_id",
    "account__seat__holder__username",
    "account__team__name",
    "at",
    "kind",
    "amount",
    "balance_after",
    "lot_id",
    "lot__source",
    "lot__expires_at",
    "inmail_id",
    "actor__username",
    "cause",
    "memo",
)


def _entry_row(values: tuple[Any, ...]) -> list[object]:
    (
        pk,
        account_kind,
        seat,
        holder,
        team,
        at,
        kind,
        amount,
        balance_after,
        lot,
        lot_source,
        lot_expires_at,
        inmail,
        actor,
        cause,
        memo,
    ) = values
    return [
        pk,
        account_kind,
        "" if seat is None else seat,
        "" if holder is None else text_cell(holder),
        text_cell(team),
        _instant(at),
        kind,
        amount,
        balance_after,
        lot,
        lot_source,
        _instant(lot_expires_at),
        "" if inmail is None else inmail,
        "" if actor is None else text_cell(actor),
        text_cell(cause),
        text_cell(memo),
    ]


class _LineBuffer:
    """What `csv.writer` writes into: it hands each formatted line straight back."""

    def write(self, line: str) -> str:
        return line


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text, a piece at a time. It starts with a byte-order mark so that Excel reads
    it as UTF-8."""
    writer = csv.writer(_LineBuffer())
    yield "\ufeff" + writer.writerow(header)
    piece: list[str] = []
    for row in rows:
        piece.append(writer.writerow(row))
        if len(piece) == EXPORT_ROWS_PER_PIECE:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def _with_tags(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[object]]:
    """Each InMail row with its tags (R22), read for a chunk of rows at a time."""
    for chunk in iter(lambda: list(islice(rows, EXPORT_CHUNK_SIZE)), []):
        tags: dict[int, list[str]] = defaultdict(list)
        found = InMailTag.objects.filter(inmail_id__in=[values[0] for values in chunk])
        for inmail_id, tag in found.order_by("tag").values_list("inmail_id", "tag"):
            tags[inmail_id].append(tag)
        for values in chunk:
            yield [*_inmail_row(values), text_cell(TAGS_SEPARATOR.join(tags[values[0]]))]


def export_inmails(user: User, filters: ExportFilters) -> Iterator[str]:
    inmails = inmails_for_export(user, filters).values_list(*INMAIL_VALUES)
    return csv_lines(INMAIL_COLUMNS, _with_tags(inmails.iterator(chunk_size=EXPORT_CHUNK_SIZE)))


def export_entries(user: User, filters: ExportFilters) -> Iterator[str]:
    entries = entries_for_export(user, filters).values_list(*ENTRY_VALUES)
    return csv_lines(ENTRY_COLUMNS, map(_entry_row, entries.iterator(chunk_size=EXPORT_CHUNK_SIZE)))
