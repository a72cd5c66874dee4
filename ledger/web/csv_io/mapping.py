"""Any CSV in (issue 14, item 3): a file's own columns mapped to ours.

A file whose header names our columns (`imports.REQUIRED_COLUMNS`...) is read as it always was.
Any other file is read through a `ColumnMapping`: for each of our fields the file's column that
holds it (guessed from the header names, `guess_columns`), the date format of its dates
(detected from the rows, `detect_date_format`, or chosen when the rows can't tell), the time
zone of dates without one, and what each of the file's status words means (`guess_status`).

The mapped rows are turned into our own cells (dates as ISO 8601 instants, statuses as ours,
the sender's email or username as `holder`), so the rest of the import (the checks, the preview,
the all-or-nothing commit) is the same for every file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.models import InMailStatus

# Our fields, in the order the mapping form shows them, with what each holds.
FIELDS: dict[str, str] = {
    "recipient": "Recipient (LinkedIn profile URL or member id)",
    "sent_at": "Sent at",
    "subject": "Subject",
    "body": "Body",
    "status": "Status",
    "responded_at": "Responded at",
    "template": "Template",
    "tags": "Tags (separated by commas or semicolons)",
    "holder": "Sender (email or username of the seat's holder)",
    "seat": "Seat id",
    "open_profile": "Open Profile (true/false)",
}
REQUIRED_FIELDS = ("recipient", "sent_at", "subject", "body")
DATE_FIELDS = ("sent_at", "responded_at")

# Header names (lower case, non-letters as "_") that mean each field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "recipient": (
        "recipient",
        "profile_url",
        "linkedin_url",
        "linkedin_profile",
        "linkedin_profile_url",
        "profile",
        "candidate_url",
        "candidate",
        "member_id",
        "to",
        "url",
    ),
    "sent_at": ("sent_at", "date_sent", "sent", "sent_on", "sent_date", "send_date", "date"),
    "subject": ("subject", "message_subject", "title"),
    "body": ("body", "message", "message_body", "text", "content"),
    "status": ("status", "outcome", "result", "response", "state"),
    "responded_at": (
        "responded_at",
        "reply_date",
        "replied_at",
        "replied_on",
        "response_date",
        "date_replied",
        "answered_at",
    ),
    "template": ("template", "template_name"),
    "tags": ("tags", "tag", "labels"),
    "holder": (
        "holder",
        "holder_username",
        "username",
        "recruiter",
        "sender",
        "email",
        "sender_email",
        "recruiter_email",
        "owner",
        "user",
        "from",
    ),
    "seat": ("seat", "seat_id"),
    "open_profile": ("open_profile", "open"),
}

# The file's status words (lower case) that mean each of ours, besides our values and labels.
STATUS_SYNONYMS: dict[str, str] = {
    "interested": InMailStatus.ACCEPTED,
    "yes": InMailStatus.ACCEPTED,
    "reply": InMailStatus.REPLIED,
    "responded": InMailStatus.REPLIED,
    "answered": InMailStatus.REPLIED,
    "not interested": InMailStatus.DECLINED,
    "rejected": InMailStatus.DECLINED,
    "no": InMailStatus.DECLINED,
    "no reply": InMailStatus.NO_RESPONSE,
    "no answer": InMailStatus.NO_RESPONSE,
    "unanswered": InMailStatus.NO_RESPONSE,
    "ignored": InMailStatus.NO_RESPONSE,
    "sent": InMailStatus.PENDING,
    "awaiting": InMailStatus.PENDING,
    "awaiting reply": InMailStatus.PENDING,
    "": InMailStatus.PENDING,
}
# At most this many distinct status words are mapped one by one.
MAX_STATUS_WORDS = 30

DATE_FORMATS = {
    "iso": "ISO 8601 (2024-03-31, 2024-03-31 14:05, 2024-03-31T14:05:00+02:00)",
    "mdy": "MM/DD/YYYY (03/31/2024, 03/31/2024 2:05 PM)",
    "dmy": "DD/MM/YYYY (31/03/2024, 31/03/2024 14:05)",
}
_DAY_FIRST = re.compile(
    r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<year>\d{4})"
    r"(?:[ T,]+(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\s*(?P<ampm>[AaPp][Mm])?)?$"
)


def column_key(header: str) -> str:
    """A header name as the synonyms spell it: lower case, every run of non-letters as "_"."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def guess_columns(header: list[str]) -> dict[str, str]:
    """For each of our fields the file's column that most likely holds it ("" when none):
    the first synonym found wins, and a column is used for one field only."""
    keys = {column_key(name): name for name in reversed(header) if name.strip()}
    used: set[str] = set()
    guessed: dict[str, str] = {}
    for name in FIELDS:
        guessed[name] = ""
        for synonym in SYNONYMS[name]:
            column = keys.get(synonym)
            if column is not None and column not in used:
                guessed[name] = column
                used.add(column)
                break
    return guessed


def guess_status(word: str) -> str:
    """Our status for one of the file's status words, or "" when it can't be told."""
    value = word.strip().lower()
    for status in InMailStatus:
        if value in (status.value, status.label.lower()):
            return str(status.value)
    return STATUS_SYNONYMS.get(value, "")


class DateFormatError(ValueError):
    pass


def parse_date(text: str, date_format: str, tz: ZoneInfo) -> datetime:
    """One date of the file as an aware instant; a `DateFormatError` if it isn't one."""
    value = text.strip()
    if date_format == "iso":
        try:
            if len(value) == 10:
                instant = datetime.fromisoformat(value)
            else:
                instant = datetime.fromisoformat(value.replace(" ", "T", 1))
        except ValueError as error:
            raise DateFormatError(value) from error
        return instant if instant.tzinfo is not None else instant.replace(tzinfo=tz)
    match = _DAY_FIRST.match(value)
    if match is None:
        raise DateFormatError(value)
    a, b = int(match["a"]), int(match["b"])
    month, day = (a, b) if date_format == "mdy" else (b, a)
    hour = minute = second = 0
    if match["time"]:
        parts = [int(p) for p in match["time"].split(":")]
        hour, minute = parts[0], parts[1]
        second = parts[2] if len(parts) == 3 else 0
        if match["ampm"]:
            if not 1 <= hour <= 12:
                raise DateFormatError(value)
            hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    try:
        return datetime(int(match["year"]), month, day, hour, minute, second, tzinfo=tz)
    except ValueError as error:
        raise DateFormatError(value) from error


def detect_date_format(values: list[str]) -> str | None:
    """The format every non-blank value is written in: "iso", "mdy" or "dmy"; None when the
    values can't tell (every day and month 12 or less), or no format reads them all."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return "iso"
    fits = []
    for candidate in DATE_FORMATS:
        try:
            for value in values:
                parse_date(value, candidate, ZoneInfo("UTC"))
        except DateFormatError:
            continue
        fits.append(candidate)
    return fits[0] if len(fits) == 1 else None


def time_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass
class ColumnMapping:
    """How to read a file: our field → its column ("" when the file has none), the dates'
    format and time zone, and its status words → our statuses."""

    columns: dict[str, str]
    date_format: str = "iso"
    time_zone: str = "UTC"
    status_values: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": dict(self.columns),
            "date_format": self.date_format,
            "time_zone": self.time_zone,
            "status_values": dict(self.status_values),
        }

    @classmethod
    def from_json(cls, data: object) -> ColumnMapping | None:
        """A mapping as stored (in the session, or saved by name); None if it isn't one."""
        if not isinstance(data, dict):
            return None
        columns, statuses = data.get("columns"), data.get("status_values", {})
        if not isinstance(columns, dict) or not isinstance(statuses, dict):
            return None
        date_format, zone = data.get("date_format"), data.get("time_zone")
        if date_format not in DATE_FORMATS or not isinstance(zone, str) or not time_zone(zone):
            return None
        return cls(
            columns={k: str(v) for k, v in columns.items() if k in FIELDS},
            date_format=str(date_format),
            time_zone=zone,
            status_values={str(k): str(v) for k, v in statuses.items()},
        )


def mapped_cells(
    cells: dict[str, str], mapping: ColumnMapping, tz: ZoneInfo
) -> tuple[dict[str, str], dict[str, str]]:
    """One row's cells (by the file's column names) as our cells, and the problems met."""
    ours: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name, column in mapping.columns.items():
        if column:
            ours[name] = cells.get(column, "")
    for name in DATE_FIELDS:
        value = ours.get(name, "").strip()
        if not value:
            continue
        try:
            ours[name] = parse_date(value, mapping.date_format, tz).isoformat()
        except DateFormatError:
            problems[name] = f"{value!r} is not a date written {DATE_FORMATS[mapping.date_format]}."
    if "status" in ours:
        word = ours["status"].strip()
        ours["status"] = mapping.status_values.get(word, word)
    return ours, problems
