"""Seats: activation, cancellation, plan change, settings (R2, R13, R14)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ledger import schedule
from ledger.exceptions import (
    LedgerValidationError,
    SeatInactive,
)
from ledger.models import (
    SPEND_ORDER,
    Account,
    AccountKind,
    AccountRefresh,
    EntryKind,
    Lot,
    OperationKind,
    Refresh,
    RefreshKind,
)
from ledger.services.accounts import capped_balance, refresh_due_at
from ledger.services.catch_up import _bring_up_to_date, _grant, _pooled_seats_active_at
from ledger.services.locking import Cause, LockedGroup, _lock_groups
from ledger.services.posting import OpenOperation, _open_account, _take_in_order
from ledger.webhooks import announce as webhooks  # R23
from teams.models import Plan, Seat, SeatHolding, SeatStatus, Team, User
from teams.services import audit_record, membership_ensure

# A seat's settings that leads and admins change; each change is in the audit trail.
SEAT_SETTINGS = ("pool_access", "monthly_allocation", "monthly_usage_limit")
# R20: the largest usage limit a seat may be given (LinkedIn's send limits are in the hundreds).
USAGE_LIMIT_MAX = 1_000_000

# --------------------------------------------------------------------------------------------
# Seats: activation, cancellation, plan change, settings (R2, R13, R14)
# --------------------------------------------------------------------------------------------


def _validate_activation_date(activated_on: date | None) -> date:
    today = schedule.today()
    if activated_on is None:
        return today
    if activated_on > today:
        raise LedgerValidationError("activated_on", "A seat can't be activated in the future.")
    return activated_on


def _check_allocation_within_grant(seat: Seat) -> None:
    """A pooled seat's allocation can't exceed what the pool is granted a month (R14).

    The pool's monthly grant is the monthly credits of the team's active pooled seats, this
    seat included (it is saved, or being saved, in the caller's transaction).
    """
    allocation = seat.monthly_allocation
    if not allocation or not seat.plan.pooled:
        return
    grant = sum(
        Seat.objects.filter(
            team_id=seat.team_id, status=SeatStatus.ACTIVE, plan__pooled=True
        ).values_list("plan__monthly_credits", flat=True)
    )
    if allocation > grant:
        raise LedgerValidationError(
            "monthly_allocation",
            f"An allocation of {allocation:,} credits a month is more than the team pool "
            f"receives: its monthly grant is {grant:,} credits (the monthly credits of the "
            f"team's active pooled seats).",
        )


WARNING_DUPLICATE_SEAT = "duplicate_seat"


def seat_duplicates(*, holder: User, team: Team, plan: Plan) -> list[Seat]:
    """The seats a new seat for `holder` on `plan` in `team` would duplicate: their active
    seats on that plan in that team (issue 12, item 6).

    A second such seat is allowed (someone may need two), so a duplicate is a warning, never
    a refusal: the console asks before it activates; the API activates and answers with
    `duplicate_seat_warnings`, as a send answers with a teammate's contact (R8).
    """
    return list(
        Seat.objects.filter(holder=holder, team=team, plan=plan, status=SeatStatus.ACTIVE)
        .select_related("holder", "team", "plan")
        .order_by("pk")
    )


def duplicate_seat_warnings(duplicates: list[Seat]) -> list[dict[str, str]]:
    """The `duplicate_seat` warning about `seat_duplicates`' answer; none when it is empty."""
    if not duplicates:
        return []
    first = duplicates[0]
    listed = ", ".join(
        f"#{seat.pk} (activated {seat.activated_on:%Y-%m-%d})" for seat in duplicates
    )
    return [
        {
            "code": WARNING_DUPLICATE_SEAT,
            "detail": (
                f"{first.holder} already holds an active {first.plan.name} seat in "
                f"{first.team.name}: {listed}. The new seat is another one, with credits and "
                "a price of its own."
            ),
        }
    ]


def seat_activate(
    *,
    holder: User,
    team: Team,
    plan: Plan,
    cause: Cause,
    activated_on: date | None = None,
    pool_access: bool | None = None,
    monthly_allocation: int | None = None,
) -> Seat:
    """Activate a seat and grant its monthly credits at 00:00 of `activated_on` (R2).

    A pooled seat's credits go to the team pool (created with the first pooled seat); a seat
    activated on a past date is brought up to date at once.
    """
    return _activate(
        holder=holder,
        team=team,
        plan=plan,
        operation=OpenOperation(OperationKind.SEAT_ACTIVATE, cause, memo=f"{plan.name} seat"),
        activated_on=activated_on,
        pool_access=pool_access,
        monthly_allocation=monthly_allocation,
    )


def _activate(
    *,
    holder: User,
    team: Team,
    plan: Plan,
    operation: OpenOperation,
    activated_on: date | None,
    pool_access: bool | None,
    monthly_allocation: int | None,
) -> Seat:
    activated_on = _validate_activation_date(activated_on)
    if not plan.pooled and (pool_access or monthly_allocation):
        raise LedgerValidationError(
            "pool_access", "Only seats on a pooled plan share the team pool."
        )
    if monthly_allocation is not None and monthly_allocation < 0:
        raise LedgerValidationError("monthly_allocation", "An allocation can't be negative.")
    now = timezone.now()
    activation_at = schedule.start_of_day(activated_on)
    with transaction.atomic():
        try:
            membership_ensure(actor=operation.cause.actor, team=team, user=holder)
        except ValidationError as refusal:
            raise LedgerValidationError(
                "holder", " ".join(refusal.messages) or "This person can't join the team."
            ) from refusal
        seat = Seat.objects.create(
            holder=holder,
            team=team,
            plan=plan,
            activated_on=activated_on,
            anchor_day=activated_on.day,
            pool_access=plan.pooled if pool_access is None else pool_access,
            monthly_allocation=monthly_allocation if plan.pooled else None,
        )
        # R19: the first holding starts at the activation, by whoever activated the seat.
        SeatHolding.objects.create(
            seat=seat, holder=holder, since=activation_at, by=operation.cause.actor
        )
        _check_allocation_within_grant(seat)
        if plan.pooled:
            _activate_pooled(seat, activation_at=activation_at, now=now, operation=operation)
        else:
            account = _open_account(
                kind=AccountKind.SEAT,
                seat=seat,
                team=team,
                anchor_on=activated_on,
                refresh=plan.refresh,
                synced_until=activation_at,
            )
            group = LockedGroup([account])
            _grant(
                account,
                kind=RefreshKind.ACTIVATION,
                period_on=activated_on,
                at=activation_at,
                monthly=plan.monthly_credits,
                cap=plan.max_balance,
                capped_before=0,
                lifetime_days=plan.credit_lifetime_days,
                operation=operation,
                seat=seat,
            )
            _bring_up_to_date(group, now)
        webhooks.announce_seat(seat)  # R23
    return seat


def _activate_pooled(
    seat: Seat, *, activation_at: datetime, now: datetime, operation: OpenOperation
) -> None:
    # Two first pooled seats activated at once both try to create the pool: the unique
    # constraint makes the second wait for the first and then use its pool.
    pool, created = Account.objects.get_or_create(
        kind=AccountKind.POOL,
        team=seat.team,
        defaults={
            "anchor_on": seat.activated_on,
            "refresh": seat.plan.refresh,
            "synced_until": activation_at,
        },
    )
    if created:
        pool.next_due_at = refresh_due_at(pool)
        pool.save(update_fields=["next_due_at"])
    # Hold the pool's lock before this seat's account exists (see `_lock_groups`).
    list(Account.objects.select_for_update().filter(pk=pool.pk))
    account = _open_account(
        kind=AccountKind.SEAT,
        seat=seat,
        team=seat.team,
        anchor_on=seat.activated_on,
        refresh=AccountRefresh.NONE,
        synced_until=activation_at,
    )
    group = _lock_groups(account)
    pool = group[pool.pk]
    # A refresh at the activation instant itself doesn't count the seat (it counts seats
    # activated strictly before), so only a later one would have had to include it.
    if Refresh.objects.filter(
        account=pool, kind=RefreshKind.REFRESH, due_at__gt=activation_at
    ).exists():
        raise LedgerValidationError(
            "activated_on",
            "The team pool already refreshed after this date; a pooled seat can't be "
            "activated before the pool's last refresh.",
        )
    # Everything due before the activation happens without this seat.
    _bring_up_to_date(group, activation_at)
    others = _pooled_seats_active_at(group, pool, activation_at, activated_at_instant=True)
    members = [pool, *(other for other in others if other.pk != account.pk), account]
    plans = [member.seat.plan for member in members if member.seat is not None]
    _grant(
        pool,
        kind=RefreshKind.ACTIVATION,
        period_on=seat.activated_on,
        at=activation_at,
        monthly=seat.plan.monthly_credits,
        cap=sum(plan.max_balance for plan in plans),
        capped_before=sum(capped_balance(member) for member in members),
        lifetime_days=seat.plan.credit_lifetime_days,
        operation=operation,
        seat=seat,
    )
    _bring_up_to_date(group, now)


def _locked_seat(seat: Seat) -> tuple[Seat, Account, LockedGroup]:
    """Lock a seat's account group; the seat is read after the lock, so its status is current."""
    group = _lock_groups(Account.objects.get(seat_id=seat.pk))
    account = next(a for a in group.values() if a.seat_id == seat.pk)
    assert account.seat is not None
    return account.seat, account, group


def _require_active(seat: Seat) -> None:
    if seat.status != SeatStatus.ACTIVE:
        raise SeatInactive(f"Seat #{seat.pk} is cancelled.")


def seat_cancel(*, seat: Seat, cause: Cause) -> Seat:
    """Cancel a seat: its whole balance is forfeited at once (R13)."""
    return _cancel(seat, OpenOperation(OperationKind.SEAT_CANCEL, cause, memo="Seat cancelled"))


def _cancel(seat: Seat, operation: OpenOperation) -> Seat:
    now = timezone.now()
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        _bring_up_to_date(group, now)
        _take_in_order(
            account,
            Lot.objects.filter(account=account, remaining__gt=0).order_by(*SPEND_ORDER),
            account.balance,
            at=now,
            kind=EntryKind.FORFEIT,
            operation=operation,
            memo="Seat cancelled: credits are forfeited",
        )
        seat.status = SeatStatus.CANCELLED
        seat.cancelled_at = now
        seat.save(update_fields=["status", "cancelled_at"])
        account.is_open = False
        _bring_up_to_date(group, now)
        webhooks.announce_seat(seat)  # R23
    return seat


def seat_change_plan(*, seat: Seat, plan: Plan, cause: Cause) -> Seat:
    """Change plan: the old seat is cancelled (its credits forfeited, R13), a new one activated.

    One operation holds both: the old seat's forfeits and the new seat's grant.
    """
    if seat.plan_id == plan.pk:
        raise LedgerValidationError("plan", f"The seat is already on {plan.name}.")
    operation = OpenOperation(
        OperationKind.SEAT_CHANGE_PLAN, cause, memo=f"{seat.plan.name} to {plan.name}"
    )
    with transaction.atomic():
        old = _cancel(seat, operation)
        new = _activate(
            holder=old.holder,
            team=old.team,
            plan=plan,
            operation=operation,
            activated_on=None,
            pool_access=None,
            monthly_allocation=old.monthly_allocation if plan.pooled else None,
        )
        old.replaced_by = new
        old.save(update_fields=["replaced_by"])
    return new


_UNSET: Any = object()


def usage_limit_valid(limit: object) -> int | None:
    """A usage limit as R20 takes it: a whole number from 0, or None for no limit."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise LedgerValidationError(
            "monthly_usage_limit", "Give a whole number of InMails, 0 or more, or no limit."
        )
    if limit > USAGE_LIMIT_MAX:
        raise LedgerValidationError(
            "monthly_usage_limit", f"At most {USAGE_LIMIT_MAX:,} InMails a period."
        )
    return limit


def seat_update_settings(
    *,
    seat: Seat,
    cause: Cause,
    pool_access: Any = _UNSET,
    monthly_allocation: Any = _UNSET,
    monthly_usage_limit: Any = _UNSET,
) -> Seat:
    """Set a pooled seat's pool access and monthly allocation (R14), and any seat's usage
    limit (R20, which applies at once to the current period).

    A refresh already due is applied first, with the allocation that was in force then (R17).
    """
    if monthly_usage_limit is not _UNSET:
        monthly_usage_limit = usage_limit_valid(monthly_usage_limit)
    now = timezone.now()
    with transaction.atomic():
        # The accounts' locks (taken before the seat row, as every writer does) also keep a
        # concurrent refresh from reading the allocation half-way.
        seat, _, group = _locked_seat(seat)
        _require_active(seat)
        _bring_up_to_date(group, now)
        before = {field: getattr(seat, field) for field in SEAT_SETTINGS}
        if not seat.plan.pooled and (
            pool_access is True or monthly_allocation not in (_UNSET, None, 0)
        ):
            raise LedgerValidationError(
                "pool_access" if pool_access is True else "monthly_allocation",
                "Only seats on a pooled plan share the team pool.",
            )
        if pool_access is not _UNSET:
            seat.pool_access = bool(pool_access) and seat.plan.pooled
        if monthly_allocation is not _UNSET:
            if monthly_allocation is not None and monthly_allocation < 0:
                raise LedgerValidationError(
                    "monthly_allocation", "An allocation can't be negative."
                )
            seat.monthly_allocation = monthly_allocation if seat.plan.pooled else None
            # An allocation kept as it was stays allowed (a pooled seat cancelled since may
            # have lowered the grant); only a new one is checked.
            if seat.monthly_allocation != before["monthly_allocation"]:
                _check_allocation_within_grant(seat)
        if monthly_usage_limit is not _UNSET:
            seat.monthly_usage_limit = monthly_usage_limit
        changed = {
            field: (before[field], getattr(seat, field))
            for field in SEAT_SETTINGS
            if before[field] != getattr(seat, field)
        }
        if changed:
            seat.save(update_fields=list(changed))
            audit_record(
                actor=cause.actor,
                action="seat.update",
                obj=seat,
                changes=changed,
                team=seat.team,
                seat=seat,
            )
            webhooks.announce_seat(seat)  # R23
    return seat
