"""Importing InMail history (analytics only: nothing is charged)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
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
    ImportJob,
    ImportJobStatus,
    InMail,
    InMailStatus,
    InMailTag,
)
from ledger.rules import (
    _INMAIL_STATUSES,
    RESPONSE_WINDOW_DAYS,
    _validate_subject_and_body,
    normalise_tags,
    normalise_template,
    recipient_checked,
)
from ledger.services.inmails import inmails_close_response_windows
from ledger.services.locking import Cause, _lock
from ledger.services.reassign import HoldingHistory, seat_holding_history
from ledger.services.tags import _save_tags
from teams.models import PersonalSettings, Seat, User
from teams.selectors import seats_visible_to
from teams.services import audit_record

# --------------------------------------------------------------------------------------------
# Import (analytics only)
# --------------------------------------------------------------------------------------------

IMPORT_MAX_ROWS = 100_000  # issue 14; the page's own requests take fewer, a job this many


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

    def outcome(
        self, now: datetime, deadline: datetime | None = None
    ) -> tuple[str, datetime | None]:
        """The status and closing instant it is stored with.

        A pending InMail whose 90-day window has already ended is closed as `no_response` at
        the window's end (`deadline`, computed here unless given), as the closing job would do
        on its next run (R10, R17).
        """
        if deadline is None:
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


@dataclass(frozen=True, slots=True)
class _ReadyInMail:
    """A row that passed its own checks, with the values it is stored with."""

    row: HistoricInMail
    recipient: str
    key: str
    template: str
    tags: tuple[str, ...]
    # The end of its 90-day response window, computed once (the check and the insert use it).
    deadline: datetime

    def outcome(self, now: datetime) -> tuple[str, datetime | None]:
        return self.row.outcome(now, self.deadline)


def _historic_problems(
    row: HistoricInMail, now: datetime
) -> tuple[list[ImportProblem], _ReadyInMail | None]:
    """What is wrong with one row on its own (the message rules of a send, and times), or the
    row as it will be stored, its values normalised once (an import checks 100,000 of them)."""
    problems: list[ImportProblem] = []
    recipient = row.recipient.strip()
    key, problem = recipient_checked(recipient)
    if problem is not None:
        # The first of the message's problems, as a send reports it.
        problems.append(ImportProblem(row.line, "recipient", problem))
    else:
        try:
            _validate_subject_and_body(row.subject, row.body)
        except LedgerValidationError as error:
            problems.append(ImportProblem(row.line, error.field, error.message))
    # --- R22 outreach tags ---
    template = ""
    tags: tuple[str, ...] = ()
    try:
        template = normalise_template(row.template)
    except LedgerValidationError as error:
        problems.append(ImportProblem(row.line, error.field, error.message))
    try:
        tags = tuple(normalise_tags(list(row.tags)))
    except LedgerValidationError as error:
        problems.append(ImportProblem(row.line, error.field, error.message))
    # --- end R22 ---
    if row.sent_at > now:
        problems.append(ImportProblem(row.line, "sent_at", "It is in the future."))
        return problems, None
    deadline = schedule.add_days(row.sent_at, RESPONSE_WINDOW_DAYS)
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
    elif row.status == InMailStatus.NO_RESPONSE and deadline > now:
        problems.append(
            ImportProblem(
                row.line,
                "status",
                f"no_response means unanswered for {RESPONSE_WINDOW_DAYS} days, and this InMail "
                "is more recent; import it as pending.",
            )
        )
    if problems or key is None:
        return problems, None
    return [], _ReadyInMail(row, recipient, key, template, tags, deadline)


@dataclass(frozen=True)
class CheckedImport:
    """Rows read and checked once (`inmail_import_check`): every problem that the file itself
    shows, and the rows that passed, ready to be stored. What depends on what is recorded (a
    row already recorded, a pending InMail to the same recipient) is checked again under the
    seats' locks when the rows are imported, since a send may record one meanwhile."""

    user_id: int
    now: datetime
    rows: list[HistoricInMail]
    ready: list[_ReadyInMail]
    problems: list[ImportProblem]

    @property
    def seat_ids(self) -> list[int]:
        return sorted({row.seat.pk for row in self.rows})

    def as_json(self) -> str:
        """The rows that passed, in the values they are stored with, for an import job's commit
        (another task, maybe another worker) to use without reading the file again."""
        return json.dumps(
            {
                "user": self.user_id,
                "now": self.now.isoformat(),
                "rows": [
                    [
                        ready.row.line,
                        ready.row.seat.pk,
                        ready.recipient,
                        ready.key,
                        ready.row.subject,
                        ready.row.body,
                        ready.row.sent_at.isoformat(),
                        ready.row.open_profile,
                        ready.row.status,
                        ready.row.responded_at.isoformat() if ready.row.responded_at else None,
                        ready.template,
                        ready.tags,
                        ready.deadline.isoformat(),
                    ]
                    for ready in self.ready
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> CheckedImport:
        """Rows `as_json` kept: checked already; the commit checks again under the seats' locks
        whether the user may still log for them and what a send may have changed."""
        kept = json.loads(text)
        seats = Seat.objects.in_bulk({row[1] for row in kept["rows"]})
        ready = []
        for line, seat_id, recipient, key, subject, body, sent, open_profile, status, *rest in kept[
            "rows"
        ]:
            responded, template, tags, deadline = rest
            row = HistoricInMail(
                line=line,
                seat=seats[seat_id],
                recipient=recipient,
                subject=subject,
                body=body,
                sent_at=datetime.fromisoformat(sent),
                open_profile=open_profile,
                status=status,
                responded_at=datetime.fromisoformat(responded) if responded else None,
                template=template,
                tags=tuple(tags),
            )
            ready.append(
                _ReadyInMail(
                    row, recipient, key, template, tuple(tags), datetime.fromisoformat(deadline)
                )
            )
        rows = [checked.row for checked in ready]
        return cls(kept["user"], datetime.fromisoformat(kept["now"]), rows, ready, [])


def _allowed_seat_ids(user: User, seat_ids: Iterable[int]) -> set[int]:
    # Seats the user may act on: the seats they may see (holder, lead, admin) are exactly those.
    return set(seats_visible_to(user).filter(pk__in=set(seat_ids)).values_list("pk", flat=True))


def _file_problems(
    *, user: User, rows: list[HistoricInMail], now: datetime
) -> tuple[list[ImportProblem], list[_ReadyInMail]]:
    """The checks that depend only on the rows: each row's own, who may log for the seat, and a
    row repeating another row."""
    if len(rows) > IMPORT_MAX_ROWS:
        return [ImportProblem(0, "file", f"At most {IMPORT_MAX_ROWS:,} rows at a time.")], []
    allowed = _allowed_seat_ids(user, (row.seat.pk for row in rows))
    problems: list[ImportProblem] = []
    ready: list[_ReadyInMail] = []
    seen: dict[tuple[int, str, datetime], int] = {}
    for row in rows:
        if row.seat.pk not in allowed:
            problems.append(
                ImportProblem(row.line, "seat", "No seat you may log InMails for has this id.")
            )
            continue
        own, checked = _historic_problems(row, now)
        problems.extend(own)
        if checked is None:
            continue
        same = (row.seat.pk, checked.key, row.sent_at)
        if same in seen:
            problems.append(
                ImportProblem(
                    row.line, "row", f"Row {seen[same]} is the same InMail (seat, recipient, sent)."
                )
            )
            continue
        seen[same] = row.line
        ready.append(checked)
    return problems, ready


def _recorded_problems(ready: list[_ReadyInMail], now: datetime) -> list[ImportProblem]:
    """The checks that depend on what is recorded: a row already recorded (same seat, recipient
    and instant), and one pending InMail per seat and recipient, counting the file and what is
    recorded (R8). Run under the seats' locks at commit."""
    if not ready:
        return []
    seat_ids = {checked.row.seat.pk for checked in ready}
    earliest = min(checked.row.sent_at for checked in ready)
    latest = max(checked.row.sent_at for checked in ready)
    recorded: dict[tuple[int, str, datetime], int] = {}
    pending: dict[tuple[int, str], int] = {}
    history = InMail.objects.filter(seat_id__in=seat_ids).filter(
        Q(sent_at__range=(earliest, latest)) | Q(status=InMailStatus.PENDING)
    )
    for pk, seat_id, key, sent_at, status in history.values_list(
        "pk", "seat_id", "recipient_key", "sent_at", "status"
    ).iterator(chunk_size=5000):
        recorded[(seat_id, key, sent_at)] = pk
        if (
            status == InMailStatus.PENDING
            and schedule.add_days(sent_at, RESPONSE_WINDOW_DAYS) > now
        ):
            pending[(seat_id, key)] = pk
    problems: list[ImportProblem] = []
    pending_in_file: dict[tuple[int, str], int] = {}
    for checked in ready:
        row = checked.row
        same = (row.seat.pk, checked.key, row.sent_at)
        if same in recorded:
            problems.append(
                ImportProblem(row.line, "row", f"Already recorded as InMail #{recorded[same]}.")
            )
            continue
        if checked.outcome(now)[0] != InMailStatus.PENDING:
            continue
        pair = (row.seat.pk, checked.key)
        if pair in pending:
            problems.append(
                ImportProblem(
                    row.line,
                    "recipient",
                    f"InMail #{pending[pair]} to this recipient is still "
                    "pending on this seat; only one may be pending.",
                )
            )
        elif pair in pending_in_file:
            problems.append(
                ImportProblem(
                    row.line,
                    "recipient",
                    f"Row {pending_in_file[pair]} is already a pending InMail "
                    "to this recipient from this seat; only one may be pending.",
                )
            )
        else:
            pending_in_file[pair] = row.line
    return problems


def inmail_import_check(*, user: User, rows: list[HistoricInMail], now: datetime) -> CheckedImport:
    """Check the rows once, for the preview and then the commit (`inmails_import`)."""
    problems, ready = _file_problems(user=user, rows=rows, now=now)
    problems.extend(_recorded_problems(ready, now))
    problems.sort(key=lambda problem: problem.line)
    return CheckedImport(user.pk, now, rows, ready, problems)


def inmail_import_problems(
    *, user: User, rows: list[HistoricInMail], now: datetime
) -> list[ImportProblem]:
    """Every reason the rows can't be imported, in row order; empty when they all can.

    Besides each row's own checks: the user must be allowed to log InMails for the seat (the
    same answer whether the seat exists or not), a row may not repeat another row or an InMail
    already recorded (same seat, recipient and instant), and a seat may have only one pending
    InMail per recipient, counting the file and what is recorded (R8).
    """
    return inmail_import_check(user=user, rows=rows, now=now).problems


def inmails_import(*, user: User, rows: list[HistoricInMail] | CheckedImport, cause: Cause) -> int:
    """Record InMail history for analytics: no credit is charged and no entry is written.

    All or nothing. `rows` already checked (`inmail_import_check`, as the preview did) are not
    read again; only what a concurrent send can change is checked again, inside the transaction
    and under the locks a send takes on the seats' accounts, so no pending InMail appears between
    that check and the insert. Only those accounts are locked: sends on other seats go on. Any
    problem (or a send racing in a pending InMail to the same recipient) keeps none of the rows.
    """
    if isinstance(rows, CheckedImport) and rows.user_id == user.pk:
        checked = rows
    else:
        listed = rows.rows if isinstance(rows, CheckedImport) else rows
        checked = inmail_import_check(user=user, rows=listed, now=timezone.now())
    if not checked.rows:
        raise ImportRejected([ImportProblem(0, "file", "There are no rows to import.")])
    if checked.problems:
        raise ImportRejected(checked.problems)
    now = timezone.now()
    seat_ids = checked.seat_ids
    with transaction.atomic():
        # The row lock a send takes on a seat's account (ascending ids, like every writer).
        _lock(Account.objects.filter(seat_id__in=seat_ids).values_list("pk", flat=True))
        if _allowed_seat_ids(user, seat_ids) != set(seat_ids):
            raise ImportRejected(
                [ImportProblem(0, "seat", "A seat of the file is no longer yours to log for.")]
            )
        seats = Seat.objects.select_related("team").in_bulk(seat_ids)
        for seat in seats.values():
            # Windows that ended are closed first (R17), so they don't count as pending.
            inmails_close_response_windows(until=now, seat=seat)
        problems = _recorded_problems(checked.ready, now)
        if problems:
            raise ImportRejected(problems)
        # R19: each InMail's sender is whoever held its seat when it was sent.
        holdings = seat_holding_history(seat_ids)
        try:
            counts = _store(checked.ready, holdings, now, cause)
        except IntegrityError as error:
            raise ImportRejected(
                [ImportProblem(0, "file", "The InMails changed meanwhile; preview the file again.")]
            ) from error
        for seat_id, count in sorted(counts.items()):
            seat = seats[seat_id]
            audit_record(
                actor=cause.actor,
                action="inmail.import",
                obj=seat,
                changes={"imported_inmails": (None, count), "via": (None, cause.via)},
                team=seat.team,
                seat=seat,
            )
    return len(checked.ready)


_INMAIL_COLUMNS = (
    "seat_id",
    "recipient",
    "recipient_key",
    "subject",
    "body",
    "open_profile",
    "status",
    "sent_at",
    "responded_at",
    "closed_at",
    "credit_cost",
    "paid_from",
    "refunded",
    "imported",
    "created_by_id",
    "sender_id",
    "created_at",
    "template",
)


def _store(
    ready: list[_ReadyInMail], holdings: HoldingHistory, now: datetime, cause: Cause
) -> dict[int, int]:
    """Insert the InMails and their tags; how many went to each seat.

    On PostgreSQL with COPY (ids taken from the table's sequence first, so the tags can name
    their InMails): a tenth of the time of batched INSERTs through the ORM, and no model object
    per row. Elsewhere (SQLite in development) with `bulk_create`.
    """
    actor_id = cause.actor.pk if cause.actor is not None else None
    values = []
    counts: dict[int, int] = {}
    for checked in ready:
        row = checked.row
        seat_id = row.seat.pk
        counts[seat_id] = counts.get(seat_id, 0) + 1
        status, closed_at = checked.outcome(now)
        values.append(
            (
                seat_id,
                checked.recipient,
                checked.key,
                row.subject,
                row.body,
                row.open_profile,
                status,
                row.sent_at,
                row.responded_at,
                closed_at,
                0,
                None,
                False,
                True,
                actor_id,
                holdings.holder_at(seat_id, row.sent_at),
                now,
                checked.template,
            )
        )
    if connection.vendor == "postgresql":
        _copy(values, [checked.tags for checked in ready])
    else:
        inmails = [InMail(**dict(zip(_INMAIL_COLUMNS, row, strict=True))) for row in values]
        InMail.objects.bulk_create(inmails, batch_size=1000)
        _save_tags(  # R22
            (inmail, checked.tags) for inmail, checked in zip(inmails, ready, strict=True)
        )
    return counts


def _copy(values: Sequence[tuple[object, ...]], tags: list[tuple[str, ...]]) -> None:
    inmail_table = InMail._meta.db_table
    tag_table = InMailTag._meta.db_table
    # Django wraps only what runs through its cursor; COPY runs on psycopg's own, so its errors
    # (a unique or foreign key violation) are translated here into Django's IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [inmail_table, len(values)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        raw = cursor.cursor
        columns = ", ".join(("id", *_INMAIL_COLUMNS))
        with raw.copy(f"COPY {inmail_table} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, values, strict=True):
                copy.write_row((pk, *row))
        with raw.copy(f"COPY {tag_table} (inmail_id, tag) FROM STDIN") as copy:
            for pk, names in zip(ids, tags, strict=True):
                for name in names:
                    copy.write_row((pk, name))


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


# --- issue 14 item 3: large imports as jobs a worker runs (ImportJob) -------------------------

IMPORT_JOB_PROBLEMS_KEPT = 200


def import_job_create(*, user: User, name: str, text: str, digest: str) -> ImportJob:
    """Keep an uploaded file too large for the page's own check until a worker checks it."""
    now = timezone.now()
    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=user,
            name=name[:255],
            content=text,
            digest=digest,
            created_at=now,
            updated_at=now,
        )
        audit_record(
            actor=user,
            action="import_job.create",
            obj=job,
            changes={"name": (None, job.name), "bytes": (None, len(text.encode()))},
        )
    return job


def _job_move(job: ImportJob, to: str, *, source: Iterable[str], **values: object) -> bool:
    """Move the job to status `to` if it is still in one of `source`: one conditional UPDATE,
    so of two workers (or a worker and a second click) only one takes the step."""
    now = timezone.now()
    moved = ImportJob.objects.filter(pk=job.pk, status__in=list(source)).update(
        status=to, updated_at=now, **values
    )
    if moved:
        # What was written, without reading back the file's text (up to 50 MB).
        for name, value in {"status": to, "updated_at": now, **values}.items():
            setattr(job, name, value)
    return bool(moved)


def import_job_queue_check(*, job: ImportJob, mapping: dict[str, object] | None) -> bool:
    """The file's columns are read as `mapping` says (None: ours); a worker may check it."""
    return _job_move(
        job, ImportJobStatus.QUEUED, source=[ImportJobStatus.UPLOADED], mapping=mapping
    )


def import_job_start_check(*, job: ImportJob) -> bool:
    return _job_move(job, ImportJobStatus.CHECKING, source=[ImportJobStatus.QUEUED])


def import_job_checked(
    *,
    job: ImportJob,
    rows_total: int,
    problems: list[ImportProblem],
    sample: list[dict[str, object]],
    checked: CheckedImport | None = None,
) -> bool:
    """Record the check: ready to import when no row has a problem, else failed (nothing of a
    file with a problem is imported, and its text is forgotten: the person fixes the file and
    uploads it again)."""
    done: dict[str, object] = (
        {"content": "", "finished_at": timezone.now()}
        if problems or checked is None
        else {"checked_rows": checked.as_json()}
    )
    return _job_move(
        job,
        ImportJobStatus.FAILED if problems or checked is None else ImportJobStatus.CHECKED,
        source=[ImportJobStatus.CHECKING],
        rows_total=rows_total,
        problems=_kept(problems),
        problems_total=len(problems),
        sample=sample,
        **done,
    )


def import_job_queue_commit(*, job: ImportJob, user: User) -> bool:
    """The person confirmed the checked file: a worker may import it."""
    with transaction.atomic():
        moved = _job_move(job, ImportJobStatus.COMMITTING, source=[ImportJobStatus.CHECKED])
        if moved:
            audit_record(
                actor=user,
                action="import_job.commit",
                obj=job,
                changes={"status": (ImportJobStatus.CHECKED, ImportJobStatus.COMMITTING)},
            )
    return moved


def import_job_commit(*, job: ImportJob) -> int:
    """Import the rows the job's check kept, all or nothing, and mark it done in the same
    transaction: a worker that dies half-way leaves it committing with nothing imported, and
    running it again is safe. `ImportRejected` leaves the ledger as it was (the caller records
    why with `import_job_fail`)."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJobStatus.COMMITTING:
            return 0
        rows = CheckedImport.from_json(locked.checked_rows)
        count = inmails_import(
            user=locked.created_by, rows=rows, cause=Cause(locked.created_by, "csv_import_job")
        )
        now = timezone.now()
        _job_move(
            job,
            ImportJobStatus.DONE,
            source=[ImportJobStatus.COMMITTING],
            rows_imported=count,
            content="",
            checked_rows="",
            finished_at=now,
        )
    return count


def import_job_fail(
    *, job: ImportJob, message: str = "", problems: list[ImportProblem] | None = None
) -> bool:
    """The job stops without importing anything, saying why; its text is forgotten."""
    problems = problems or []
    return _job_move(
        job,
        ImportJobStatus.FAILED,
        source=[
            ImportJobStatus.UPLOADED,
            ImportJobStatus.QUEUED,
            ImportJobStatus.CHECKING,
            ImportJobStatus.CHECKED,
            ImportJobStatus.COMMITTING,
        ],
        message=message,
        problems=_kept(problems),
        problems_total=len(problems),
        content="",
        checked_rows="",
        finished_at=timezone.now(),
    )


def import_job_discard(*, job: ImportJob) -> bool:
    """The person dropped the file before importing it: its text is forgotten."""
    return _job_move(
        job,
        ImportJobStatus.FAILED,
        source=[ImportJobStatus.UPLOADED, ImportJobStatus.CHECKED],
        content="",
        checked_rows="",
        message=job.message or "Discarded; nothing was imported.",
        finished_at=job.finished_at or timezone.now(),
    )


def _kept(problems: list[ImportProblem]) -> list[dict[str, object]]:
    return [
        {"line": p.line, "column": p.column, "message": p.message}
        for p in problems[:IMPORT_JOB_PROBLEMS_KEPT]
    ]
