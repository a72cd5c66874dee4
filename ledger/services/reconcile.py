"""Reconciling a seat with the balance LinkedIn shows, and resolving a difference (R21).

Recording writes no ledger entry: it keeps what LinkedIn showed at an instant beside the
ledger's own figure then (the seat's available credits, its own and its pool's if it may draw,
from the entries up to that instant), so a difference is never recomputed differently later.
Only an admin's `adjust` changes the ledger, through the R15 adjustment (`adjustment_post`),
whose rules (a removal can't take the seat's own balance below zero) apply unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ledger import schedule
from ledger.exceptions import AlreadyResolved, LedgerValidationError
from ledger.models import (
    RESOLUTIONS,
    Entry,
    Reconciliation,
    ReconciliationStatus,
)
from ledger.services.catch_up import _bring_up_to_date
from ledger.services.credits import adjustment_post
from ledger.services.locking import Cause
from ledger.services.seats import _locked_seat, _require_active
from ledger.webhooks import announce as webhooks  # R23
from teams.models import Seat
from teams.services import audit_record

# As large as any balance a seat can hold (the API's bound on credits).
LINKEDIN_BALANCE_MAX = 1_000_000
REASON_MAX = 500


def _entries_total(account_id: int, at: datetime) -> int:
    total = Entry.objects.filter(account_id=account_id, at__lte=at).aggregate(sum=Sum("amount"))
    return int(total["sum"] or 0)


def reconciliation_record(
    *,
    seat: Seat,
    linkedin_balance: Any,
    cause: Cause,
    observed_at: datetime | None = None,
) -> Reconciliation:
    """Record what LinkedIn showed for a seat at `observed_at` (default now) (R21).

    `matched` when it equals the ledger's available credits at that instant, `open` otherwise.
    Refused: a balance below 0, an instant in the future or before the seat's activation (400),
    a cancelled seat (409 `seat_inactive`).
    """
    if (
        isinstance(linkedin_balance, bool)
        or not isinstance(linkedin_balance, int)
        or not 0 <= linkedin_balance <= LINKEDIN_BALANCE_MAX
    ):
        raise LedgerValidationError(
            "linkedin_balance", "Give the whole number of credits LinkedIn shows, 0 or more."
        )
    now = timezone.now()
    observed_at = observed_at or now
    if observed_at > now:
        raise LedgerValidationError("observed_at", "What LinkedIn showed can't be in the future.")
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        activated_at = schedule.start_of_day(seat.activated_on)
        if observed_at < activated_at:
            raise LedgerValidationError(
                "observed_at",
                f"The seat was activated on {seat.activated_on:%Y-%m-%d}; give a later instant.",
            )
        # R17: everything due up to now is in the entries before they are summed.
        _bring_up_to_date(group, now)
        ledger_balance = _entries_total(account.pk, observed_at)
        pool = group.pool_of_team(seat.team_id)
        if seat.pool_access and pool is not None:
            ledger_balance += _entries_total(pool.pk, observed_at)
        difference = linkedin_balance - ledger_balance
        reconciliation = Reconciliation.objects.create(
            seat=seat,
            observed_at=observed_at,
            linkedin_balance=linkedin_balance,
            ledger_balance=ledger_balance,
            difference=difference,
            status=ReconciliationStatus.MATCHED if difference == 0 else ReconciliationStatus.OPEN,
            created_by=cause.actor,
            created_at=now,
        )
        if reconciliation.status == ReconciliationStatus.OPEN:
            webhooks.announce_reconciliation_opened(reconciliation)  # R23
        audit_record(
            actor=cause.actor,
            action="reconciliation.create",
            obj=reconciliation,
            changes={
                "observed_at": (None, observed_at),
                "linkedin_balance": (None, linkedin_balance),
                "ledger_balance": (None, ledger_balance),
                "status": (None, reconciliation.status),
            },
            team=seat.team,
            seat=seat,
        )
    return reconciliation


def reconciliation_resolve(
    *, reconciliation: Reconciliation, action: str, reason: str, cause: Cause
) -> Reconciliation:
    """Close an open reconciliation (R21): `adjust` posts the difference to the seat's own
    account now (an R15 adjustment linked to it), `dismiss` leaves the ledger as it is.

    Refused: an unknown action or a blank reason (400); one already matched or resolved
    (409 `already_resolved`); an adjustment that would take the own balance below zero
    (409 `insufficient_credits`).
    """
    if action not in RESOLUTIONS:
        raise LedgerValidationError("action", "Use adjust or dismiss.")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise LedgerValidationError("reason", "Say why the difference is adjusted or dismissed.")
    if len(reason) > REASON_MAX:
        raise LedgerValidationError("reason", f"At most {REASON_MAX} characters.")
    with transaction.atomic():
        # The row lock: two admins resolving at once resolve it once; the second is refused.
        locked = (
            Reconciliation.objects.select_for_update()
            .select_related("seat")
            .get(pk=reconciliation.pk)
        )
        if locked.status != ReconciliationStatus.OPEN:
            raise AlreadyResolved(
                f"Reconciliation #{locked.pk} is {locked.get_status_display().lower()}; "
                "there is nothing left to resolve."
            )
        now = timezone.now()
        if action == "adjust":
            memo = f"Reconciliation #{locked.pk}: {reason}"[:REASON_MAX]
            entries = adjustment_post(
                seat=locked.seat, credits=locked.difference, reason=memo, cause=cause
            )
            locked.adjustment = entries[0]
        locked.status = RESOLUTIONS[action]
        locked.resolved_by = cause.actor
        locked.resolved_at = now
        locked.reason = reason
        locked.save(update_fields=["status", "resolved_by", "resolved_at", "reason", "adjustment"])
        audit_record(
            actor=cause.actor,
            action="reconciliation.resolve",
            obj=locked,
            changes={
                "status": (ReconciliationStatus.OPEN, locked.status),
                "reason": ("", reason),
                "adjustment": (None, locked.adjustment_id),
            },
            team=locked.seat.team,
            seat=locked.seat,
        )
    return locked
