"""CSV import of InMail history, checked row by row before anything is recorded.

A file is decoded (UTF-8, with or without a byte-order mark), read (comma, semicolon or tab
separated, header row first) and every row checked, so the person sees every problem at once,
each with its row number and column. `ledger.services.inmails_import` then records the rows, all
or nothing, as imported InMails: analytics only, never charged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from ledger import schedule
from ledger.models import InMailStatus
from ledger.services import (
    CheckedImport,
    HistoricInMail,
    ImportProblem,
    inmail_import_check,
)
from ledger.web.csv_io.mapping import (
    ColumnMapping,
    mapped_cells,
    time_zone,
)
from teams.models import Seat, User
from teams.selectors import seats_visible_to, user_can_act_on_seat

IMPORT_MAX_BYTES = 5 * 1024 * 1024
# Rows (and bytes, above) a file may hold to be checked and imported within the page's own
# requests (the web server's 30 s timeout, deploy/). A larger one, up to
# `ledger.services.IMPORT_MAX_ROWS` (100,000, bench/import_cost.py) rows, goes to a worker as
# an import job (`ledger.web.csv_io.jobs`), which passes that limit as `max_rows`.
IMPORT_MAX_ROWS = 20_000
# Ids are 64-bit; a larger number can't name anything and some databases refuse it.
MAX_ID = 2**63 - 1
# LinkedIn started in 2003; an earlier date is a typo (and far-off years overflow time zones).
EARLIEST_YEAR = 2003
LATEST_YEAR = 9000


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("recipient", "subject", "body", "sent_at")
OPTIONAL_COLUMNS = (
    "seat",
    "holder",
    "open_profile",
    "status",
    "responded_at",
    "template",
    "tags",
)
COLUMN_ALIASES = {"seat_id": "seat", "holder_username": "holder", "username": "holder"}
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f", ""})


def too_large(max_bytes: int) -> str:
    return f"The file is larger than {max_bytes // (1024 * 1024)} MB; split it into smaller files."


TOO_LARGE = too_large(IMPORT_MAX_BYTES)
INSTANT_HINT = "Use a date like 2024-03-01, or a date and time like 2024-03-01T09:30:00+01:00."


class ImportFileError(Exception):
    """The file as a whole can't be read; `message` says why, for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode_upload(raw: bytes, max_bytes: int = IMPORT_MAX_BYTES) -> str:
    """The file's text, or an `ImportFileError` that says what to do instead."""
    if len(raw) > max_bytes:
        raise ImportFileError(too_large(max_bytes))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "The file is UTF-16 text; save it as “CSV UTF-8 (comma delimited)” and upload it again."
        )
    if b"\x00" in raw:
        raise ImportFileError("This is not a CSV file: it holds binary data.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {error.start + 1} can't be read); save it as "
            "“CSV UTF-8 (comma delimited)” and upload it again."
        ) from error
    if not text.strip():
        raise ImportFileError("The file is empty.")
    return text


@dataclass(frozen=True)
class CsvRecord:
    line: int
    cells: dict[str, str]
    # How many cells the row has when it fills cells beyond the header's columns; else 0.
    overflow: int = 0
    # Problems met while mapping the file's cells to ours (issue 14): column → message.
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CsvTable:
    ignored_columns: list[str]
    records: list[CsvRecord]


def _delimiter(text: str) -> str:
    """Spreadsheets in many locales save CSV with semicolons; the header row tells which."""
    first_line = text.split("\n", 1)[0]
    return max(",;\t", key=first_line.count)


def _column_name(header: str) -> str:
    name = header.strip().lower().replace(" ", "_").replace("-", "_")
    return COLUMN_ALIASES.get(name, name)


class MissingColumns(ImportFileError):
    """The header lacks some of our columns: the file may still be read through a mapping."""


def read_table(text: str, max_rows: int | None = None) -> CsvTable:
    """The header and the non-blank rows; an `ImportFileError` if the file can't be read.

    Row numbers count records as a spreadsheet shows them: the header is row 1.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError("The first row must be the header row naming the columns.")
        columns = [_column_name(cell) for cell in header]
        repeated = sorted({name for name in columns if name and columns.count(name) > 1})
        if repeated:
            raise ImportFileError(f"The header names these columns twice: {', '.join(repeated)}.")
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if "seat" not in columns and "holder" not in columns:
            missing.insert(0, "seat or holder")
        if missing:
            raise MissingColumns(
                "The header row (the first row) lacks these columns: "
                f"{', '.join(missing)}. Needed: seat (id) or holder (username), recipient, "
                "subject, body, sent_at; optional: open_profile, status, responded_at, template, "
                "tags."
            )
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
        records: list[CsvRecord] = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(records) == (limit := max_rows or IMPORT_MAX_ROWS):
                raise ImportFileError(
                    f"The file has more than {limit:,} rows; split it into smaller files."
                )
            values = {name: cell for name, cell in zip(columns, cells, strict=False) if name}
            # Kept as a row problem rather than a file error: the rest can still be checked.
            overflow = len(cells) if any(c.strip() for c in cells[len(columns) :]) else 0
            records.append(CsvRecord(line, values, overflow))
    except csv.Error as error:
        raise ImportFileError(
            f"Line {reader.line_num}: the file can't be read as CSV ({error}); a quote may be "
            "left open."
        ) from error
    ignored = [name for name in columns if name and name not in known]
    return CsvTable(ignored, records)


def file_header_and_rows(text: str, limit: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and (up to `limit`) non-blank rows of a file, as the file spells them."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[list[str]] = []
    try:
        header = next(reader, None) or []
        for cells in reader:
            if limit is not None and len(rows) >= limit:
                break
            if any(cell.strip() for cell in cells):
                rows.append(cells)
    except csv.Error as error:
        raise ImportFileError(
            f"Line {reader.line_num}: the file can't be read as CSV ({error}); a quote may be "
            "left open."
        ) from error
    return [cell.strip() for cell in header], rows


def read_mapped_table(text: str, mapping: ColumnMapping, max_rows: int | None = None) -> CsvTable:
    """The rows of any file, read through a mapping of its columns to ours (issue 14)."""
    header, rows = file_header_and_rows(text)
    tz = time_zone(mapping.time_zone) or schedule.org_tz()
    if len(rows) > (limit := max_rows or IMPORT_MAX_ROWS):
        raise ImportFileError(
            f"The file has more than {limit:,} rows; split it into smaller files."
        )
    lacking = [c for c in mapping.columns.values() if c and c not in header]
    if lacking:
        raise ImportFileError(f"The file has no column {lacking[0]!r}; map its columns again.")
    used = set(mapping.columns.values())
    records = []
    # Row numbers as a spreadsheet shows them; blank lines were left out, so count them back.
    for cells, line in zip(rows, _non_blank_lines(text), strict=False):
        named = dict(zip(header, cells, strict=False))
        ours, problems = mapped_cells(named, mapping, tz)
        overflow = len(cells) if any(c.strip() for c in cells[len(header) :]) else 0
        records.append(CsvRecord(line, ours, overflow, problems))
    ignored = [name for name in header if name and name not in used]
    return CsvTable(ignored, records)


def _non_blank_lines(text: str) -> list[int]:
    """The row number (header = 1) of every non-blank record after the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    next(reader, None)
    return [n for n, cells in enumerate(reader, start=2) if any(c.strip() for c in cells)]


@dataclass
class ImportPreview:
    """What an import would record, and every problem that stops it."""

    rows: list[HistoricInMail]
    problems: list[ImportProblem]
    total: int
    ignored_columns: list[str] = field(default_factory=list)
    now: datetime = field(default_factory=timezone.now)
    # The rows checked once, handed to `inmails_import` so the commit doesn't check them again.
    checked: CheckedImport | None = None

    @property
    def can_commit(self) -> bool:
        return bool(self.rows) and not self.problems

    @property
    def lines_with_problems(self) -> int:
        """Rows of the file with at least one problem (the file's own problems are line 0)."""
        return len({problem.line for problem in self.problems if problem.line})

    @property
    def lines_without_problems(self) -> int:
        return self.total - self.lines_with_problems


class _RowProblem(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _parse_instant(text: str, column: str) -> datetime:
    value = text.strip()
    try:
        if len(value) == 10:
            instant = schedule.start_of_day(date.fromisoformat(value))
        else:
            instant = datetime.fromisoformat(value)
            if timezone.is_naive(instant):
                instant = instant.replace(tzinfo=schedule.org_tz())
    except ValueError as error:
        raise _RowProblem(column, f"{value!r} is not a date. {INSTANT_HINT}") from error
    if instant.year < EARLIEST_YEAR:
        raise _RowProblem(column, f"{value!r} is before {EARLIEST_YEAR}.")
    if instant.year > LATEST_YEAR:
        raise _RowProblem(column, f"{value!r} is in the future.")
    return instant


def _parse_flag(text: str, column: str) -> bool:
    value = text.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise _RowProblem(column, f"{text.strip()!r} is not true or false.")


_STATUS_WORDS = {
    **{status.value: status.value for status in InMailStatus},
    **{status.label.lower(): status.value for status in InMailStatus},
}


def _parse_status(text: str) -> str:
    value = text.strip().lower()
    if not value:
        return InMailStatus.PENDING
    if value in _STATUS_WORDS:
        return _STATUS_WORDS[value]
    raise _RowProblem(
        "status", f"{text.strip()!r} is not one of: {', '.join(InMailStatus.values)}."
    )


def _parse_seat_id(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise _RowProblem("seat", f"{value!r} is not a seat id.")
    return int(value)


class _SeatResolver:
    """Finds the seat a row names, among the seats the user may log InMails for.

    A seat that exists but is out of reach gets the same answer as one that doesn't exist.
    """

    def __init__(self, user: User, records: list[CsvRecord]) -> None:
        ids: set[int] = set()
        for record in records:
            try:
                seat_id = _parse_seat_id(record.cells.get("seat", ""))
            except _RowProblem:
                continue
            if seat_id is not None:
                ids.add(seat_id)
        names = {record.cells.get("holder", "").strip() for record in records} - {""}
        visible = seats_visible_to(user)
        found = list(visible.in_bulk(ids).values())
        if names:
            found += list(visible.filter(holder__username__in=names))
            # Issue 14: a file may name the sender by email (any case).
            emails = [name for name in names if "@" in name]
            for email in emails:
                found += list(visible.filter(holder__email__iexact=email))
        self.seats = {seat.pk: seat for seat in found if user_can_act_on_seat(user, seat)}
        self.by_holder: dict[str, list[Seat]] = {}
        for seat in sorted(self.seats.values(), key=lambda seat: seat.pk):
            self.by_holder.setdefault(seat.holder.username, []).append(seat)
            if seat.holder.email:
                held = self.by_holder.setdefault(seat.holder.email.lower(), [])
                if seat not in held:
                    held.append(seat)

    def seat(self, cells: dict[str, str], sent_at: datetime | None) -> Seat:
        seat_id = _parse_seat_id(cells.get("seat", ""))
        name = cells.get("holder", "").strip()
        if seat_id is not None:
            seat = self.seats.get(seat_id)
            if seat is None:
                raise _RowProblem("seat", f"No seat you may log InMails for has the id {seat_id}.")
            if name and name != seat.holder.username and name.lower() != _email(seat.holder):
                raise _RowProblem("holder", f"Seat {seat_id} is not held by {name!r}.")
            return seat
        if not name:
            raise _RowProblem("seat", "Give the seat id or the holder's username.")
        held = self.by_holder.get(name) or self.by_holder.get(name.lower(), [])
        if not held:
            raise _RowProblem("holder", f"No seat you may log InMails for is held by {name!r}.")
        if len(held) > 1 and sent_at is not None:
            held = [seat for seat in held if _active_at(seat, sent_at)] or held
        if len(held) > 1:
            ids = ", ".join(str(seat.pk) for seat in held)
            raise _RowProblem("seat", f"{name!r} holds several seats ({ids}); give the seat id.")
        return held[0]


def _email(user: User) -> str:
    return (user.email or "").lower()


def _active_at(seat: Seat, instant: datetime) -> bool:
    started = schedule.start_of_day(seat.activated_on) <= instant
    return started and (seat.cancelled_at is None or instant < seat.cancelled_at)


def _historic_inmail(
    record: CsvRecord, seats: _SeatResolver
) -> tuple[HistoricInMail | None, list[ImportProblem]]:
    """The row's values in their types, or the problems that stop reading it."""
    cells = record.cells
    problems: list[ImportProblem] = []
    values: dict[str, Any] = {}

    def read(column: str, parse: Callable[[], object]) -> None:
        try:
            values[column] = parse()
        except _RowProblem as problem:
            problems.append(ImportProblem(record.line, problem.column, problem.message))

    if record.overflow:
        problems.append(
            ImportProblem(
                record.line, "row", f"This row has {record.overflow} cells; the header names fewer."
            )
        )
    for column, message in record.problems.items():
        problems.append(ImportProblem(record.line, column, message))
    if "sent_at" not in record.problems:
        read("sent_at", lambda: _parse_instant(cells.get("sent_at", ""), "sent_at"))
    read("seat", lambda: seats.seat(cells, values.get("sent_at")))
    read("open_profile", lambda: _parse_flag(cells.get("open_profile", ""), "open_profile"))
    read("status", lambda: _parse_status(cells.get("status", "")))
    responded = cells.get("responded_at", "").strip()
    if "responded_at" not in record.problems:
        read(
            "responded_at",
            lambda: _parse_instant(responded, "responded_at") if responded else None,
        )
    if problems:
        return None, problems
    return (
        HistoricInMail(
            line=record.line,
            seat=values["seat"],
            recipient=cells.get("recipient", ""),
            subject=cells.get("subject", ""),
            body=cells.get("body", ""),
            sent_at=values["sent_at"],
            open_profile=values["open_profile"],
            status=values["status"],
            responded_at=values["responded_at"],
            template=cells.get("template", ""),
            tags=_tags(cells.get("tags", "")),
        ),
        [],
    )


def _tags(text: str) -> tuple[str, ...]:
    """A cell of tags separated by commas or semicolons (R22 normalises them afterwards)."""
    return tuple(tag.strip() for tag in re.split(r"[,;]", text) if tag.strip())


def preview_import(
    user: User, text: str, mapping: ColumnMapping | None = None, *, max_rows: int | None = None
) -> ImportPreview:
    """Read and check every row; an `ImportFileError` if the file as a whole can't be read.

    With a `mapping`, the file's columns are read as it says (issue 14); without, the header
    must name our columns."""
    table = (
        read_table(text, max_rows)
        if mapping is None
        else read_mapped_table(text, mapping, max_rows)
    )
    now = timezone.now()
    seats = _SeatResolver(user, table.records)
    rows: list[HistoricInMail] = []
    problems: list[ImportProblem] = []
    for record in table.records:
        row, row_problems = _historic_inmail(record, seats)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    checked = inmail_import_check(user=user, rows=rows, now=now)
    problems.extend(checked.problems)
    problems.sort(key=lambda problem: problem.line)
    if not table.records:
        problems.append(ImportProblem(0, "file", "The file has a header but no rows."))
    return ImportPreview(
        rows=rows,
        problems=problems,
        total=len(table.records),
        ignored_columns=table.ignored_columns,
        now=now,
        checked=checked,
    )
