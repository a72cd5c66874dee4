"""Purchases, bonus, adjustments and pool transfers (R11, R12, R14, R15)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ledger import schedule
from ledger.exceptions import (
    InsufficientCredits,
    LedgerValidationError,
    NoPool,
    NotPurchasable,
    PoolInsufficient,
    PurchaseLimitReached,
    credits_text,
)
from ledger.models import (
    AccountRefresh,
    Entry,
    EntryKind,
    LotSource,
    OperationKind,
    Purchase,
)
from ledger.rules import BONUS_LIFETIME_DAYS, MAX_PURCHASE_TOTAL
from ledger.services.accounts import pool_of, spendable_lots
from ledger.services.catch_up import _bring_up_to_date
from ledger.services.locking import Cause
from ledger.services.posting import OpenOperation, _move, _new_lot, _take_in_order
from ledger.services.seats import _locked_seat, _require_active
from teams.models import Seat, Team

# --------------------------------------------------------------------------------------------
# Purchases, bonus, adjustments (R11, R12, R15)
# --------------------------------------------------------------------------------------------


def _positive_credits(credits: int, field_name: str = "credits") -> None:
    if isinstance(credits, bool) or not isinstance(credits, int) or credits < 1:
        raise LedgerValidationError(field_name, "Give a whole number of credits, 1 or more.")


def purchase_record(*, seat: Seat, credits: int, cause: Cause) -> Purchase:
    """Record purchased credits at the plan's price; they never expire and sit outside the cap."""
    _positive_credits(credits)
    now = timezone.now()
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        plan = seat.plan
        if not plan.purchasable:
            raise NotPurchasable(f"{plan.name} doesn't sell extra InMail credits.")
        if plan.purchase_price * credits > MAX_PURCHASE_TOTAL:
            raise LedgerValidationError(
                "credits", f"The total would exceed {MAX_PURCHASE_TOTAL}; buy fewer credits."
            )
        limit = plan.monthly_purchase_limit
        if limit is not None:
            bought = (
                Purchase.objects.filter(seat=seat, at__gte=schedule.month_start(now)).aggregate(
                    total=Sum("credits")
                )["total"]
                or 0
            )
            if bought + credits > limit:
                raise PurchaseLimitReached(
                    f"{plan.name} allows {limit} purchased credits a month; "
                    f"{bought} already bought this month."
                )
        _bring_up_to_date(group, now)
        memo = f"Purchased {credits} at {plan.purchase_price}"
        lot, _ = _new_lot(
            account,
            source=LotSource.PURCHASE,
            credits=credits,
            granted_at=now,
            lifetime_days=None,
            kind=EntryKind.PURCHASE,
            at=now,
            operation=OpenOperation(OperationKind.PURCHASE, cause, memo=memo),
            memo=memo,
        )
        purchase = Purchase.objects.create(
            seat=seat,
            lot=lot,
            credits=credits,
            unit_price=plan.purchase_price,
            total=plan.purchase_price * Decimal(credits),
            at=now,
            actor=cause.actor,
        )
        _bring_up_to_date(group, now)
    return purchase


def bonus_grant(*, seat: Seat, credits: int, memo: str, cause: Cause) -> Entry:
    """Grant bonus credits that expire 30 days later (R12)."""
    _positive_credits(credits)
    memo = memo.strip() or "Bonus credits"
    now = timezone.now()
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        _bring_up_to_date(group, now)
        _, entry = _new_lot(
            account,
            source=LotSource.BONUS,
            credits=credits,
            granted_at=now,
            lifetime_days=BONUS_LIFETIME_DAYS,
            kind=EntryKind.BONUS,
            at=now,
            operation=OpenOperation(OperationKind.BONUS, cause, memo=memo),
            memo=memo,
        )
        _bring_up_to_date(group, now)
    return entry


def adjustment_post(*, seat: Seat, credits: int, reason: str, cause: Cause) -> list[Entry]:
    """Post a signed correction to reconcile with the balance LinkedIn shows (R15).

    Credits added form a lot that lives the plan's credit lifetime; credits removed are taken in
    spend order. Returns the entries written (one per lot touched).
    """
    if isinstance(credits, bool) or not isinstance(credits, int) or credits == 0:
        raise LedgerValidationError("credits", "Give a whole, non-zero number of credits.")
    if not reason.strip():
        raise LedgerValidationError("reason", "Say why the balance is adjusted.")
    reason = reason.strip()
    operation = OpenOperation(OperationKind.ADJUSTMENT, cause, memo=reason)
    now = timezone.now()
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        _bring_up_to_date(group, now)
        if credits > 0:
            _, entry = _new_lot(
                account,
                source=LotSource.ADJUSTMENT,
                credits=credits,
                granted_at=now,
                lifetime_days=seat.plan.credit_lifetime_days,
                kind=EntryKind.ADJUSTMENT,
                at=now,
                operation=operation,
                memo=reason,
            )
            entries = [entry]
        else:
            if account.balance < -credits:
                raise InsufficientCredits(
                    f"The seat holds {credits_text(account.balance)}; it can't lose {-credits}."
                )
            pieces = _take_in_order(
                account,
                spendable_lots(account, now),
                -credits,
                at=now,
                kind=EntryKind.ADJUSTMENT,
                operation=operation,
                memo=reason,
            )
            entries = [entry for _, _, entry in pieces]
        _bring_up_to_date(group, now)
    return entries


# --------------------------------------------------------------------------------------------
# Pools (R14)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferResult:
    pool_available: int
    seat_own: int


def pool_transfer(*, team: Team, seat: Seat, credits: int, cause: Cause) -> TransferResult:
    """Move credits between a team pool and one of its pooled seats (>0 pool→seat)."""
    if isinstance(credits, bool) or not isinstance(credits, int) or credits == 0:
        raise LedgerValidationError("credits", "Give a whole, non-zero number of credits.")
    if seat.team_id != team.pk:
        raise LedgerValidationError("seat", "The seat is not in this team.")
    pool = pool_of(team.pk)
    if pool is None:
        raise NoPool(f"{team.name} has no credit pool (it holds no pooled seat).")
    now = timezone.now()
    with transaction.atomic():
        seat, account, group = _locked_seat(seat)
        _require_active(seat)
        if account.refresh != AccountRefresh.NONE or pool.pk not in group:
            raise LedgerValidationError("seat", "Only seats on a pooled plan share the team pool.")
        pool = group[pool.pk]
        _bring_up_to_date(group, now)
        # Both legs of the move are one operation; its entries sum to zero.
        memo = f"Pool to {seat.holder}" if credits > 0 else f"{seat.holder} to pool"
        operation = OpenOperation(OperationKind.POOL_TRANSFER, cause, memo=memo)
        if credits > 0:
            if pool.balance < credits:
                raise PoolInsufficient(
                    f"The pool holds {credits_text(pool.balance)}; {credits} can't be moved."
                )
            _move(
                pool,
                account,
                credits,
                at=now,
                kind=EntryKind.TRANSFER,
                operation=operation,
                memo=memo,
            )
        else:
            if account.balance < -credits:
                raise InsufficientCredits(
                    f"The seat holds {credits_text(account.balance)}; {-credits} can't be moved."
                )
            _move(
                account,
                pool,
                -credits,
                at=now,
                kind=EntryKind.TRANSFER,
                operation=operation,
                memo=memo,
            )
        _bring_up_to_date(group, now)
        return TransferResult(pool_available=pool.balance, seat_own=account.balance)
