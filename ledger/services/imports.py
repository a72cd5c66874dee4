"""Importing InMail history (analytics only: nothing is charged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from ledger import schedule
from ledger.exceptions import (
    LedgerValidationError,
)
from ledger.models import (
    RESPONSE_STATUSES,
    Account,
    InMail,
    InMailStatus,
)
from ledger.rules import (
    _INMAIL_STATUSES,
    RESPONSE_WINDOW_DAYS,
    _validate_message,
    normalise_recipient,
    normalise_tags,
    normalise_template,
)
from ledger.services.inmails import inmails_close_response_windows
from ledger.services.locking import Cause, _lock
from ledger.services.reassign import seat_holding_history
from ledger.services.tags import _save_tags
from teams.models import PersonalSettings, Seat, User
from teams.selectors import seats_visible_to
from teams.services import audit_record

# --------------------------------------------------------------------------------------------
# Import (analytics only)
# --------------------------------------------------------------------------------------------

IMPORT_MAX_ROWS = 100_000  # issue 14; the page takes fewer (ledger.web.csv_io.IMPORT_MAX_ROWS)


@dataclass(frozen=True)
class HistoricInMail:
    """One InMail of history brought in from a file: counted in analytics, never charged.

    `line` is its row number in the file (the header is row 1), so a problem can be reported
    where the person will look for it.
    """

    line: int
    seat: Seat
    recipient: str
    subject: str
    body: str
    sent_at: datetime
    open_profile: bool = False
    status: str = InMailStatus.PENDING
    responded_at: datetime | None = None
    # R22 outreach tags: as given; normalised (and checked) like a send's.
    template: str = ""
    tags: tuple[str, ...] = ()

    def outcome(self, now: datetime) -> tuple[str, datetime | None]:
        """The status and closing instant it is stored with.

        A pending InMail whose 90-day window has already ended is closed as `no_response` at
        the window's end, as the closing job would do on its next run (R10, R17).
        """
        deadline = schedule.add_days(self.sent_at, RESPONSE_WINDOW_DAYS)
        if self.status == InMailStatus.PENDING:
            return (InMailStatus.NO_RESPONSE, deadline) if deadline <= now else (self.status, None)
        if self.status == InMailStatus.NO_RESPONSE:
            return self.status, deadline
        if self.status in RESPONSE_STATUSES:
            return self.status, self.responded_at
        # Withdrawn: when it was withdrawn is not known.
        return self.status, None


@dataclass(frozen=True)
class ImportProblem:
    line: int
    column: str
    message: str


class ImportRejected(LedgerValidationError):
    """Rows of an import that no rule could accept; nothing of the import was kept."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        count = len(problems)
        super().__init__(
            "rows",
            ngettext(
                "%(count)d problem in the rows to import.",
                "%(count)d problems in the rows to import.",
                count,
            )
            % {"count": count},
        )
        self.problems = problems


def _a_status(status: str) -> str:
    """ "An accepted InMail", "A declined InMail": the article the status's sound takes."""
    return f"{'An' if status[:1] in 'aeiou' else 'A'} {status} InMail"


def _historic_problems(row: HistoricInMail, now: datetime) -> list[ImportProblem]:
    """What is wrong with one row on its own: the message rules of a send, and times."""
    problems: list[ImportProblem] = []
    try:
        _validate_message(row.recipient, row.subject, row.body)
    except LedgerValidationError as error:
        problems.append(ImportProblem(row.line, error.field, error.message))
    # --- R22 outreach tags ---
    try:
        normalise_template(row.template)
    except LedgerValidationError as error:
        problems.append(ImportProblem(row.line, error.field, error.message))
    try:
        normalise_tags(list(row.tags))
    except LedgerValidationError as error:
        problems.append(ImportProblem(row.line, error.field, error.message))
    # --- end R22 ---
    if row.sent_at > now:
        problems.append(ImportProblem(row.line, "sent_at", "It is in the future."))
        return problems
    if row.status not in _INMAIL_STATUSES:
        problems.append(ImportProblem(row.line, "status", f"Unknown status {row.status!r}."))
    elif row.status in RESPONSE_STATUSES:
        if row.responded_at is None:
            problems.append(
                ImportProblem(
                    row.line, "responded_at", f"{_a_status(row.status)} needs the response time."
                )
            )
        elif row.responded_at < row.sent_at:
            problems.append(
                ImportProblem(row.line, "responded_at", "The response comes before the InMail.")
            )
        elif row.responded_at > now:
            problems.append(ImportProblem(row.line, "responded_at", "It is in the future."))
    elif row.responded_at is not None:
        problems.append(
            ImportProblem(
                row.line,
                "responded_at",
                f"{_a_status(row.status)} has no response; leave responded_at empty "
                "or give the status accepted, declined or replied.",
            )
        )
    elif (
        row.status == InMailStatus.NO_RESPONSE
        and schedule.add_days(row.sent_at, RESPONSE_WINDOW_DAYS) > now
    ):
        problems.append(
            ImportProblem(
                row.line,
                "status",
                f"no_response means unanswered for {RESPONSE_WINDOW_DAYS} days, and this InMail "
                "is more recent; import it as pending.",
            )
        )
    return problems


def inmail_import_problems(
    *, user: User, rows: list[HistoricInMail], now: datetime
) -> list[ImportProblem]:
    """Every reason the rows can't be imported, in row order; empty when they all can.

    Besides each row's own checks: the user must be allowed to log InMails for the seat (the
    same answer whether the seat exists or not), a row may not repeat another row or an InMail
    already recorded (same seat, recipient and instant), and a seat may have only one pending
    InMail per recipient, counting the file and what is recorded (R8).
    """
    problems: list[ImportProblem] = []
    if len(rows) > IMPORT_MAX_ROWS:
        return [ImportProblem(0, "file", f"At most {IMPORT_MAX_ROWS:,} rows at a time.")]
    seat_ids = {row.seat.pk for row in rows}
    # Seats the user may act on: the seats they may see (holder, lead, admin) are exactly those.
    allowed = set(seats_visible_to(user).filter(pk__in=seat_ids).values_list("pk", flat=True))
    recorded: dict[tuple[int, str, datetime], int] = {}
    pending: dict[tuple[int, str], int] = {}
    if rows:
        earliest = min(row.sent_at for row in rows)
        latest = max(row.sent_at for row in rows)
        history = InMail.objects.filter(seat_id__in=allowed).filter(
            Q(sent_at__range=(earliest, latest)) | Q(status=InMailStatus.PENDING)
        )
        for pk, seat_id, key, sent_at, status in history.values_list(
            "pk", "seat_id", "recipient_key", "sent_at", "status"
        ).iterator():
            recorded[(seat_id, key, sent_at)] = pk
            window_open = schedule.add_days(sent_at, RESPONSE_WINDOW_DAYS) > now
            if status == InMailStatus.PENDING and window_open:
                pending[(seat_id, key)] = pk
    seen: dict[tuple[int, str, datetime], int] = {}
    pending_in_file: dict[tuple[int, str], int] = {}
    for row in rows:
        if row.seat.pk not in allowed:
            problems.append(
                ImportProblem(row.line, "seat", "No seat you may log InMails for has this id.")
            )
            continue
        own = _historic_problems(row, now)
        problems.extend(own)
        if own:
            continue
        key = normalise_recipient(row.recipient)
        same = (row.seat.pk, key, row.sent_at)
        if same in seen:
            problems.append(
                ImportProblem(
                    row.line, "row", f"Row {seen[same]} is the same InMail (seat, recipient, sent)."
                )
            )
            continue
        seen[same] = row.line
        if same in recorded:
            problems.append(
                ImportProblem(row.line, "row", f"Already recorded as InMail #{recorded[same]}.")
            )
            continue
        status, _ = row.outcome(now)
        if status == InMailStatus.PENDING:
            if (row.seat.pk, key) in pending:
                problems.append(
                    ImportProblem(
                        row.line,
                        "recipient",
                        f"InMail #{pending[(row.seat.pk, key)]} to this recipient is still "
                        "pending on this seat; only one may be pending.",
                    )
                )
            elif (row.seat.pk, key) in pending_in_file:
                problems.append(
                    ImportProblem(
                        row.line,
                        "recipient",
                        f"Row {pending_in_file[(row.seat.pk, key)]} is already a pending InMail "
                        "to this recipient from this seat; only one may be pending.",
                    )
                )
            else:
                pending_in_file[(row.seat.pk, key)] = row.line
    return problems


def inmails_import(*, user: User, rows: list[HistoricInMail], cause: Cause) -> int:
    """Record InMail history for analytics: no credit is charged and no entry is written.

    All or nothing: the rows are checked again inside the transaction, and any problem (or a
    send racing in a pending InMail to the same recipient) keeps none of them.
    """
    if not rows:
        raise ImportRejected([ImportProblem(0, "file", "There are no rows to import.")])
    now = timezone.now()
    with transaction.atomic():
        seat_ids = sorted({row.seat.pk for row in rows})
        # The row lock a send takes on a seat's account (ascending ids, like every writer),
        # so no pending InMail appears between the check below and the insert.
        _lock(Account.objects.filter(seat_id__in=seat_ids).values_list("pk", flat=True))
        for seat in Seat.objects.filter(pk__in=seat_ids):
            # Windows that ended are closed first (R17), so they don't count as pending.
            inmails_close_response_windows(until=now, seat=seat)
        problems = inmail_import_problems(user=user, rows=rows, now=now)
        if problems:
            raise ImportRejected(problems)
        inmails = []
        # R19: each InMail's sender is whoever held its seat when it was sent.
        holdings = seat_holding_history(seat_ids)
        for row in rows:
            status, closed_at = row.outcome(now)
            recipient = row.recipient.strip()
            inmails.append(
                InMail(
                    seat_id=row.seat.pk,
                    recipient=recipient,
                    recipient_key=normalise_recipient(recipient),
                    subject=row.subject,
                    body=row.body,
                    open_profile=row.open_profile,
                    status=status,
                    sent_at=row.sent_at,
                    responded_at=row.responded_at,
                    closed_at=closed_at,
                    credit_cost=0,
                    paid_from=None,
                    imported=True,
                    created_by=cause.actor,
                    sender_id=holdings.holder_at(row.seat.pk, row.sent_at),
                    template=normalise_template(row.template),
                )
            )
        try:
            InMail.objects.bulk_create(inmails, batch_size=1000)
            _save_tags(  # R22
                (inmail, normalise_tags(list(row.tags)))
                for inmail, row in zip(inmails, rows, strict=True)
            )
        except IntegrityError as error:
            raise ImportRejected(
                [ImportProblem(0, "file", "The InMails changed meanwhile; preview the file again.")]
            ) from error
    return len(inmails)


# --- issue 14 item 3: column mappings saved by name (csvmap) ----------------------------------

SAVED_MAPPINGS_MAX = 20


def import_mapping_save(*, user: User, name: str, mapping: dict[str, object]) -> list[str]:
    """Keep a CSV column mapping under `name` for the user's next imports (replacing one of
    the same name); the names they have saved, sorted. Mappings are per person: a file's
    columns are a habit of whoever exports it. At most SAVED_MAPPINGS_MAX names."""
    name = name.strip()
    if not name or len(name) > 60:
        raise LedgerValidationError("save_as", "Give the mapping a name of 1 to 60 characters.")
    with transaction.atomic():
        settings, _ = PersonalSettings.objects.get_or_create(user=user)
        settings = PersonalSettings.objects.select_for_update().get(pk=settings.pk)
        saved = dict(settings.csv_mappings) if isinstance(settings.csv_mappings, dict) else {}
        if name not in saved and len(saved) >= SAVED_MAPPINGS_MAX:
            raise LedgerValidationError(
                "save_as",
                f"You have {SAVED_MAPPINGS_MAX} saved mappings already; reuse one of their names.",
            )
        previous = saved.get(name)
        saved[name] = mapping
        settings.csv_mappings = saved
        settings.save(update_fields=["csv_mappings"])
        if previous != mapping:
            audit_record(
                actor=user,
                action="csv_mapping.save",
                obj=settings,
                changes={name: (previous, mapping)},
            )
    return sorted(saved)


def import_mappings_saved(user: User) -> dict[str, object]:
    """The user's saved CSV column mappings by name."""
    settings = PersonalSettings.objects.filter(user=user).first()
    saved = settings.csv_mappings if settings is not None else {}
    return dict(saved) if isinstance(saved, dict) else {}
