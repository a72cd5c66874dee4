"""InMails: send, respond, withdraw, response windows and reminders (R6–R10)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import ngettext

from ledger import schedule
from ledger.exceptions import (
    AlreadyAnswered,
    DuplicatePending,
    InsufficientCredits,
    LedgerValidationError,
    SendLimitReached,
)
from ledger.models import (
    RESPONSE_STATUSES,
    Account,
    AccountKind,
    EntryKind,
    InMail,
    InMailStatus,
    Lot,
    LotSource,
    OperationKind,
    PaidFrom,
)
from ledger.queue import SEND_ALERTS, enqueue_after_commit
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
from ledger.services.locking import Cause, LockedGroup, _lock_groups
from ledger.services.posting import OpenOperation, _new_lot, _take_in_order
from ledger.services.seats import _locked_seat, _require_active
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


def _teammate_warnings(seat: Seat, recipient_key: str, now: datetime) -> list[dict[str, str]]:
    since = schedule.add_days(now, -TEAMMATE_WARNING_DAYS)
    teammate = (
        InMail.objects.filter(
            recipient_key=recipient_key, sent_at__gte=since, seat__team_id=seat.team_id
        )
        .exclude(seat_id=seat.pk)
        .exclude(seat__holder_id=seat.holder_id)
        .select_related("seat__holder")
        .order_by("-sent_at")
        .first()
    )
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


def inmail_recipient_warnings(*, seat: Seat, recipient: str) -> list[dict[str, str]]:
    """What a send from `seat` to `recipient` would warn about now (R8's teammate warning), for
    a form to show while the recipient is typed; a recipient that is neither a profile URL nor
    a member id is refused as a send refuses it (`LedgerValidationError`). Reads only."""
    validate_recipient(recipient)
    return _teammate_warnings(seat, normalise_recipient(recipient), timezone.now())


def inmail_send(
    *,
    seat: Seat,
    recipient: str,
    subject: str,
    body: str,
    cause: Cause,
    open_profile: bool = False,
    template: str | None = None,
    tags: list[str] | None = None,
) -> SentInMail:
    """Log an InMail and charge it (R6–R8); every refusal charges nothing.

    R22: `template` and `tags` are normalised (ledger.rules) and refused on their fields."""
    _validate_message(recipient, subject, body)
    # --- R22 outreach tags ---
    template = normalise_template(template)
    tags = normalise_tags(tags)
    # --- end R22 ---
    recipient = recipient.strip()
    recipient_key = normalise_recipient(recipient)
    now = timezone.now()
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        _bring_up_to_date(group, now)
        inmails_close_response_windows(until=now, seat=seat)
        if InMail.objects.filter(
            seat=seat, recipient_key=recipient_key, status=InMailStatus.PENDING
        ).exists():
            raise DuplicatePending(
                "This seat already has a pending InMail to this recipient; wait for an answer "
                "or withdraw it first."
            )
        limit = seat.plan.monthly_send_limit
        sent_this_month = InMail.objects.filter(
            seat=seat, imported=False, sent_at__gte=schedule.month_start(now)
        ).count()
        if sent_this_month >= limit:
            raise SendLimitReached(
                ngettext(
                    "This seat has sent its %(n)s InMail for this month.",
                    "This seat has sent its %(n)s InMails for this month.",
                    limit,
                )
                % {"n": limit}
            )
        if not open_profile:  # R20: Open Profile InMails are not counted against the limit
            check_usage_limit(seat, account, group.pool_of_team(seat.team_id), now)
        payer, lot = (None, None) if open_profile else _payer(seat, account, group, now)
        inmail = InMail.objects.create(
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
        _save_tags([(inmail, tags)])  # R22
        if payer is not None and lot is not None:
            _take_in_order(
                payer,
                [lot],
                1,
                at=now,
                kind=EntryKind.SPEND,
                operation=OpenOperation(OperationKind.INMAIL_SEND, cause),
                inmail=inmail,
            )
        _bring_up_to_date(group, now)
        warnings = _teammate_warnings(seat, recipient_key, now)
        webhooks.announce_inmail("inmail.sent", inmail)  # R23
        if payer is not None:
            # The balance went down: tell the holder now, not at the next scheduled run.
            enqueue_after_commit(SEND_ALERTS, seat_id=seat.pk)
    return SentInMail(inmail=inmail, warnings=warnings)


def _payer(seat: Seat, account: Account, group: LockedGroup, now: datetime) -> tuple[Account, Lot]:
    """The lot to spend: the seat's own credits first, then its team pool if it may (R6)."""
    lot = spendable_lots(account, now).first()
    if lot is not None:
        return account, lot
    pool = group.pool_of_team(seat.team_id)
    if seat.pool_access and pool is not None:
        lot = spendable_lots(pool, now).first()
        if lot is not None:
            return pool, lot
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
    # A day of slack covers the wall-clock arithmetic; the exact deadline is checked per row.
    candidates = InMail.objects.filter(
        status=InMailStatus.PENDING,
        sent_at__lte=schedule.add_days(until, -RESPONSE_WINDOW_DAYS + 1),
    )
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
