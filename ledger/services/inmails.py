"""InMails: send, respond, withdraw, response windows and reminders (R6–R10)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext

from ledger import schedule
from ledger.exceptions import (
    AlreadyAnswered,
    DuplicatePending,
    InsufficientCredits,
    LedgerValidationError,
    SeatInactive,
    SendLimitReached,
)
from ledger.models import (
    RESPONSE_STATUSES,
    Account,
    AccountKind,
    EntryKind,
    InMail,
    InMailStatus,
    LotSource,
    OperationKind,
    PaidFrom,
)
from ledger.queue import enqueue_alert_pass
from ledger.rules import (
    REMINDER_AFTER_DAYS,
    RESPONSE_WINDOW_DAYS,
    TEAMMATE_WARNING_DAYS,
    WARNING_TEAMMATE,
    _validate_message,
    normalise_recipient,
    normalise_tags,
    normalise_template,
    validate_recipient,
)
from ledger.services.accounts import spendable_lots
from ledger.services.catch_up import _bring_up_to_date
from ledger.services.locking import (
    Cause,
    _lock_groups,
    _lock_seat_group,
    _seat_group_newest,
    lock_newcomers,
    service_atomic,
)
from ledger.services.posting import OpenOperation, _insert, _new_lot, _spend_from
from ledger.services.prepared import Prepared
from ledger.services.seats import _require_active
from ledger.services.tags import _save_tags
from ledger.services.usage import check_usage_limit
from ledger.webhooks import announce as webhooks  # R23
from teams.models import Seat

# --------------------------------------------------------------------------------------------
# InMails: send, respond, withdraw, response windows (R6–R10)
# --------------------------------------------------------------------------------------------


@dataclass
class SentInMail:
    inmail: InMail
    warnings: list[dict[str, str]] = field(default_factory=list)


def _teammates_since(now: datetime) -> datetime:
    """R8's warning looks back 30 days."""
    return schedule.add_days(now, -TEAMMATE_WARNING_DAYS)


def _teammates_inmails(
    team_id: Any, seat_id: Any, holder_id: Any, recipient_key: str, since: datetime
) -> QuerySet[InMail]:
    """A teammate's InMails to the recipient since `since` (`_teammates_since`), newest first
    (R8's warning): another seat of the team, held by someone else. The ids may be
    expressions (`OuterRef`)."""
    return (
        InMail.objects.filter(
            recipient_key=recipient_key, sent_at__gte=since, seat__team_id=team_id
        )
        .exclude(seat_id=seat_id)
        .exclude(seat__holder_id=holder_id)
        .order_by("-sent_at")
    )


def _teammate_warning(teammate: InMail | None) -> list[dict[str, str]]:
    if teammate is None:
        return []
    return [
        {
            "code": WARNING_TEAMMATE,
            "detail": (
                f"{teammate.seat.holder} sent an InMail to this recipient on "
                f"{schedule.local_date(teammate.sent_at):%Y-%m-%d}."
            ),
        }
    ]


def _teammate_warnings(seat: Seat, recipient_key: str, now: datetime) -> list[dict[str, str]]:
    teammates = _teammates_inmails(
        seat.team_id, seat.pk, seat.holder_id, recipient_key, _teammates_since(now)
    )
    return _teammate_warning(teammates.select_related("seat__holder").first())


def inmail_recipient_warnings(*, seat: Seat, recipient: str) -> list[dict[str, str]]:
    """What a send from `seat` to `recipient` would warn about now (R8's teammate warning), for
    a form to show while the recipient is typed; a recipient that is neither a profile URL nor
    a member id is refused as a send refuses it (`LedgerValidationError`). Reads only."""
    validate_recipient(recipient)
    return _teammate_warnings(seat, normalise_recipient(recipient), timezone.now())


def _pending_to(seat_id: Any, recipient_key: str) -> QuerySet[InMail]:
    """The seat's pending InMails to the recipient (R8: at most one)."""
    return InMail.objects.filter(
        seat_id=seat_id, recipient_key=recipient_key, status=InMailStatus.PENDING
    )


def _sent_in_month(seat_id: Any, month_start: datetime) -> QuerySet[InMail]:
    """What counts against the plan's monthly send limit: logged (not imported) since the
    month's start (`schedule.month_start`)."""
    return InMail.objects.filter(seat_id=seat_id, imported=False, sent_at__gte=month_start)


def _windows_cutoff(until: datetime) -> datetime:
    """InMails sent by this instant may have reached the end of their 90-day window by `until`
    (R10). A day of slack covers the wall-clock arithmetic; the exact deadline is checked per
    row."""
    return schedule.add_days(until, -RESPONSE_WINDOW_DAYS + 1)


def _windows_to_close(cutoff: datetime) -> QuerySet[InMail]:
    """Pending InMails sent by `cutoff` (`_windows_cutoff`): their window may have ended."""
    return InMail.objects.filter(status=InMailStatus.PENDING, sent_at__lte=cutoff)


@dataclass
class _SendState:
    """What a send reads under its locks, in one statement (`_read_for_send`)."""

    seat: Seat
    duplicate: bool
    sent_this_month: int
    windows_to_close: bool
    own_lot: int | None
    pool_lot: int | None
    teammate: int | None
    webhooks: bool
    newest_in_group: int | None


def _send_read(
    *,
    seat_id: int,
    account_id: int,
    pool_id: int | None,
    recipient_key: str,
    now: datetime,
    month_start: datetime,
    windows_cutoff: datetime,
    teammates_since: datetime,
) -> QuerySet[Seat]:
    """The seat (read after the lock, so its status and settings are current) and everything
    a send decides on, as subqueries of one statement."""

    def count(queryset: QuerySet[InMail]) -> Coalesce:
        counted = queryset.order_by().values("seat_id").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted), 0)

    seat_ref = OuterRef("pk")
    no_lot = Value(None, output_field=IntegerField())
    return (
        Seat.objects.select_related("plan", "holder")
        .filter(pk=seat_id)
        .annotate(
            _duplicate=Exists(_pending_to(seat_ref, recipient_key)),
            _sent_this_month=count(_sent_in_month(seat_ref, month_start)),
            _windows_to_close=Exists(_windows_to_close(windows_cutoff).filter(seat_id=seat_ref)),
            _own_lot=Subquery(spendable_lots(account_id, now).values("pk")[:1]),
            _pool_lot=no_lot
            if pool_id is None
            else Subquery(spendable_lots(pool_id, now).values("pk")[:1]),
            _teammate=Subquery(
                _teammates_inmails(
                    OuterRef("team_id"),
                    seat_ref,
                    OuterRef("holder_id"),
                    recipient_key,
                    teammates_since,
                ).values("pk")[:1]
            ),
            _webhooks=webhooks.any_active_endpoint(),
            _newest=no_lot if pool_id is None else _seat_group_newest(seat_id),
        )
    )


# Built and compiled once per process and shape (with or without a pool).
_SEND_READ = Prepared(_send_read)


def _read_for_send(
    seat_id: int, account: Account, pool: Account | None, recipient_key: str, now: datetime
) -> _SendState:
    """`_send_read` for this send."""
    shape: dict[str, Hashable] = {"pool_id": None} if pool is None else {}
    values: dict[str, Any] = {} if pool is None else {"pool_id": pool.pk}
    (row,) = _SEND_READ.rows(
        shape,
        seat_id=seat_id,
        account_id=account.pk,
        recipient_key=recipient_key,
        now=now,
        month_start=schedule.month_start(now),
        windows_cutoff=_windows_cutoff(now),
        teammates_since=_teammates_since(now),
        **values,
    )
    return _SendState(
        seat=row,
        duplicate=row._duplicate,
        sent_this_month=row._sent_this_month,
        windows_to_close=row._windows_to_close,
        own_lot=row._own_lot,
        pool_lot=row._pool_lot,
        teammate=row._teammate,
        webhooks=row._webhooks,
        newest_in_group=row._newest,
    )


def inmail_send(
    *,
    seat: Seat | int,
    recipient: str,
    subject: str,
    body: str,
    cause: Cause,
    open_profile: bool = False,
    template: str | None = None,
    tags: list[str] | None = None,
) -> SentInMail:
    """Log an InMail and charge it (R6–R8); every refusal charges nothing.

    `seat` is the seat or its id: it is read again under the group's lock either way.

    R22: `template` and `tags` are normalised (ledger.rules) and refused on their fields.

    The common send is four statements on PostgreSQL: the group's lock, one read of everything the
    rules decide on (`_read_for_send`), the lot's take with the InMail, the operation and the
    entry (`_spend_from`, one statement), and the account. Work that is rarely there (windows to
    close, due expiries or refreshes, a teammate's InMail, a usage limit, webhook endpoints)
    costs its reads only when it is.
    """
    _validate_message(recipient, subject, body)
    # --- R22 outreach tags ---
    template = normalise_template(template)
    tags = normalise_tags(tags)
    # --- end R22 ---
    recipient = recipient.strip()
    recipient_key = normalise_recipient(recipient)
    now = timezone.now()
    seat_id = seat if isinstance(seat, int) else seat.pk
    with service_atomic():
        group = _lock_seat_group(seat_id)
        account = next((a for a in group.values() if a.seat_id == seat_id), None)
        if account is None:
            raise SeatInactive(f"Seat #{seat_id} has no ledger account.")
        if any(a.next_due_at is not None and a.next_due_at <= now for a in group.values()):
            group.load_seats()
            _bring_up_to_date(group, now)
        pool = group.pool_of_team(account.team_id)
        state = _read_for_send(seat_id, account, pool, recipient_key, now)
        lock_newcomers(group, seat_id, state.newest_in_group)
        seat = state.seat
        account.seat = seat
        _require_active(seat)
        if not state.webhooks:
            webhooks.no_active_endpoint()
        if state.windows_to_close:
            # Closed first, so a late job never turns a send into `duplicate_pending` (R17).
            inmails_close_response_windows(until=now, seat=seat)
            state = _read_for_send(seat.pk, account, pool, recipient_key, now)
        if state.duplicate:
            raise DuplicatePending(
                "This seat already has a pending InMail to this recipient; wait for an answer "
                "or withdraw it first."
            )
        limit = seat.plan.monthly_send_limit
        if state.sent_this_month >= limit:
            raise SendLimitReached(
                ngettext(
                    "This seat has sent its %(n)s InMail for this month.",
                    "This seat has sent its %(n)s InMails for this month.",
                    limit,
                )
                % {"n": limit}
            )
        if not open_profile:  # R20: Open Profile InMails are not counted against the limit
            check_usage_limit(seat, account, pool, now)
        payer, lot_id = (None, None) if open_profile else _payer(seat, account, pool, state)
        inmail = InMail(
            seat=seat,
            recipient=recipient,
            recipient_key=recipient_key,
            subject=subject,
            body=body,
            open_profile=open_profile,
            sent_at=now,
            credit_cost=0 if payer is None else 1,
            paid_from=None
            if payer is None
            else (PaidFrom.POOL if payer.kind == AccountKind.POOL else PaidFrom.SEAT),
            paid_account=payer,
            created_by=cause.actor,
            # R19: the holder when it was sent, for good (the seat was read under its lock).
            sender=seat.holder,
            template=template,
        )
        if payer is not None and lot_id is not None:
            # The InMail is inserted by the take's statement, one round trip under the lock.
            lot, _ = _spend_from(
                payer,
                lot_id,
                1,
                at=now,
                kind=EntryKind.SPEND,
                operation=OpenOperation(OperationKind.INMAIL_SEND, cause),
                inmail=inmail,
            )
            group.spent_from(payer, lot, 1)
        else:
            _insert(inmail)
        _save_tags([(inmail, tags)])  # R22
        _bring_up_to_date(group, now)
        teammate = None
        if state.teammate is not None:
            teammate = InMail.objects.select_related("seat__holder").get(pk=state.teammate)
        warnings = _teammate_warning(teammate)
        webhooks.announce_inmail("inmail.sent", inmail)  # R23
        if payer is not None:
            # The balance went down: tell the holder now, not at the next scheduled run (one
            # pass per seat waiting in the queue covers every send before it starts).
            enqueue_alert_pass(seat.pk)
    return SentInMail(inmail=inmail, warnings=warnings)


def _payer(
    seat: Seat, account: Account, pool: Account | None, state: _SendState
) -> tuple[Account, int]:
    """The lot to spend: the seat's own credits first, then its team pool if it may (R6)."""
    if state.own_lot is not None:
        return account, state.own_lot
    if seat.pool_access and pool is not None and state.pool_lot is not None:
        return pool, state.pool_lot
    raise InsufficientCredits("No InMail credit is available for this seat.")


def inmail_record_response(
    *,
    inmail: InMail,
    outcome: str,
    cause: Cause,
    responded_at: datetime | None = None,
) -> InMail:
    """Record an answer; a paid InMail answered within 90 days gets its credit back (R9).

    The credit returns, once, to the account that paid, as a new lot that lives the plan's
    credit lifetime from the response. Later answers count for analytics only.
    """
    if outcome not in RESPONSE_STATUSES:
        raise LedgerValidationError("outcome", "Use accepted, declined or replied.")
    now = timezone.now()
    responded_at = responded_at or now
    if responded_at > now:
        raise LedgerValidationError("responded_at", "A response can't be in the future.")
    with transaction.atomic():
        # Accounts before the InMail row: the order a send takes them in, so the two never
        # wait on each other in a cycle.
        payer_id = InMail.objects.filter(pk=inmail.pk).values_list("paid_account", flat=True).get()
        group = _lock_groups(Account.objects.get(pk=payer_id)) if payer_id else None
        inmail = InMail.objects.select_for_update().get(pk=inmail.pk)
        if responded_at < inmail.sent_at:
            raise LedgerValidationError("responded_at", "A response can't come before the InMail.")
        if inmail.status in RESPONSE_STATUSES:
            raise AlreadyAnswered(f"This InMail was already answered ({inmail.status}).")
        if inmail.status == InMailStatus.WITHDRAWN:
            raise AlreadyAnswered("This InMail was withdrawn and can't be answered.")
        inmail.status = outcome
        inmail.responded_at = responded_at
        inmail.closed_at = inmail.closed_at or responded_at
        window_end = schedule.add_days(inmail.sent_at, RESPONSE_WINDOW_DAYS)
        if group is not None and payer_id is not None and responded_at <= window_end:
            payer = group[payer_id]
            # A cancelled seat forfeited everything; a credit returned to it would be lost.
            if payer.is_open:
                _bring_up_to_date(group, now)
                seat = Seat.objects.select_related("plan").get(pk=inmail.seat_id)
                _new_lot(
                    payer,
                    source=LotSource.REFUND,
                    credits=1,
                    granted_at=responded_at,
                    lifetime_days=seat.plan.credit_lifetime_days,
                    kind=EntryKind.REFUND,
                    at=now,
                    operation=OpenOperation(OperationKind.INMAIL_RESPONSE, cause),
                    memo=f"Answered ({outcome}) within {RESPONSE_WINDOW_DAYS} days",
                    inmail=inmail,
                    refund_of=inmail,
                )
                inmail.refunded = True
                _bring_up_to_date(group, now)
        inmail.save(update_fields=["status", "responded_at", "closed_at", "refunded"])
        webhooks.announce_inmail("inmail.responded", inmail)  # R23
    return inmail


def inmail_withdraw(*, inmail: InMail, cause: Cause) -> InMail:
    """Withdraw a pending InMail; its credit is not given back (R9)."""
    now = timezone.now()
    with transaction.atomic():
        # A window that ended is closed first, so the answer doesn't depend on whether the
        # closing job has run yet (R17).
        inmails_close_response_windows(until=now, seat=inmail.seat)
        inmail = InMail.objects.select_for_update().get(pk=inmail.pk)
        if inmail.status in RESPONSE_STATUSES:
            raise AlreadyAnswered(f"This InMail was already answered ({inmail.status}).")
        if inmail.status == InMailStatus.WITHDRAWN:
            raise AlreadyAnswered("This InMail was already withdrawn.")
        if inmail.status == InMailStatus.NO_RESPONSE:
            raise AlreadyAnswered("This InMail's response window is already closed.")
        inmail.status = InMailStatus.WITHDRAWN
        inmail.closed_at = now
        inmail.save(update_fields=["status", "closed_at"])
        webhooks.announce_inmail("inmail.closed", inmail)  # R23
    return inmail


_Row = TypeVar("_Row")


def inmails_close_response_windows(
    *, until: datetime | None = None, seat: Seat | None = None
) -> int:
    """Close pending InMails unanswered for 90 days as `no_response`, dated when due (R10).

    With `seat`, only that seat's: a send closes them first, so a late job never turns a send
    into `duplicate_pending` (R17).
    """
    until = until or timezone.now()
    candidates = _windows_to_close(_windows_cutoff(until))
    if seat is not None:
        candidates = candidates.filter(seat=seat)
    closed = 0
    for chunk in _chunks(candidates.values_list("pk", "sent_at").iterator(_CHUNK), _CHUNK):
        due: dict[int, datetime] = {}
        for pk, sent_at in chunk:
            deadline = schedule.add_days(sent_at, RESPONSE_WINDOW_DAYS)
            if deadline <= until:
                due[pk] = deadline
        if not due:
            continue
        # Under row locks: a concurrent response or a second job run wins or loses cleanly,
        # never both, and only the InMails closed here are announced.
        with transaction.atomic():
            still_pending = list(
                InMail.objects.select_for_update()
                .filter(pk__in=list(due), status=InMailStatus.PENDING)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if still_pending:
                InMail.objects.filter(pk__in=still_pending).update(
                    status=InMailStatus.NO_RESPONSE,
                    closed_at=_per_row(due, still_pending),
                )
            for pk in still_pending:
                webhooks.announce_inmail_closed(pk)  # R23
        closed += len(still_pending)
    return closed


_CHUNK = 1000


def _chunks(rows: Iterable[_Row], size: int) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _per_row(values: dict[int, datetime], ids: Iterable[int]) -> Case:
    """Each row's own value, by id; rows sharing a value share one WHEN."""
    by_value: dict[datetime, list[int]] = {}
    for pk in ids:
        by_value.setdefault(values[pk], []).append(pk)
    return Case(
        *(When(pk__in=pks, then=Value(value)) for value, pks in by_value.items()),
        output_field=DateTimeField(),
    )


def inmails_record_reminders(*, until: datetime | None = None) -> int:
    """Record the reminder 3 days after sending on InMails still pending then (R10).

    "Then" is the reminder's due instant, not the job's run: a late job still records the
    reminder of an InMail answered after day 3 (R17).
    """
    until = until or timezone.now()
    # A day of slack covers the wall-clock arithmetic; the exact instants are checked per row.
    slack = timedelta(days=REMINDER_AFTER_DAYS - 1)
    candidates = (
        InMail.objects.filter(
            reminder_at__isnull=True,
            sent_at__lte=schedule.add_days(until, -REMINDER_AFTER_DAYS + 1),
        )
        .filter(Q(status=InMailStatus.PENDING) | Q(closed_at__gt=F("sent_at") + slack))
        .values_list("pk", "sent_at", "status", "closed_at")
    )
    recorded = 0
    for chunk in _chunks(candidates.iterator(_CHUNK), _CHUNK):
        due: dict[int, datetime] = {}
        for pk, sent_at, status, closed_at in chunk:
            at = schedule.add_days(sent_at, REMINDER_AFTER_DAYS)
            pending_then = status == InMailStatus.PENDING or (
                closed_at is not None and closed_at > at
            )
            if at <= until and pending_then:
                due[pk] = at
        if due:
            # Conditional: a second job run records nothing twice.
            recorded += InMail.objects.filter(pk__in=list(due), reminder_at__isnull=True).update(
                reminder_at=_per_row(due, due)
            )
    return recorded
