"""Bringing accounts up to date (R17): expiries, refreshes under the cap, allocations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from ledger import schedule
from ledger.models import (
    SPEND_ORDER,
    Account,
    AccountKind,
    AccountRefresh,
    EntryKind,
    Lot,
    LotSource,
    OperationKind,
    Refresh,
    RefreshKind,
)
from ledger.rules import grant_under_cap
from ledger.services.accounts import capped_balance, refresh_due_at
from ledger.services.locking import Cause, LockedGroup, _lock_groups
from ledger.services.posting import OpenOperation, _move, _new_lot, _post, _take
from teams.models import Seat


def _seat_activation_at(seat: Seat) -> datetime:
    return schedule.start_of_day(seat.activated_on)


def _pooled_seats_active_at(
    group: LockedGroup, pool: Account, at: datetime, *, activated_at_instant: bool = False
) -> list[Account]:
    """The pool's seat accounts whose seat was active at `at`.

    A refresh counts seats activated strictly before it (a seat activated at that very instant
    got its credits from its own activation); an activation's cap also counts the seats
    activated at the same instant. A locked group may hold several teams' accounts, so
    membership is checked, not assumed.
    """
    active = []
    for account in group.values():
        if (
            account.kind != AccountKind.SEAT
            or account.refresh != AccountRefresh.NONE
            or account.team_id != pool.team_id
            or account.seat is None
        ):
            continue
        seat = account.seat
        activation = _seat_activation_at(seat)
        if activation > at or (activation == at and not activated_at_instant):
            continue
        if seat.cancelled_at is not None and seat.cancelled_at <= at:
            continue
        active.append(account)
    return sorted(active, key=lambda account: account.seat_id or 0)


def _expire(account: Account, at: datetime, operation: OpenOperation) -> None:
    lots = Lot.objects.filter(account=account, remaining__gt=0, expires_at__lte=at).order_by(
        "expires_at", "id"
    )
    for lot in lots:
        credits = lot.remaining
        _take(lot, credits)
        _post(
            account,
            at=lot.expires_at or at,
            kind=EntryKind.EXPIRY,
            amount=-credits,
            lot=lot,
            operation=operation,
            cause=Cause.system("expiry"),
            memo=ngettext(
                "%(count)d credit reached the end of its life",
                "%(count)d credits reached the end of their life",
                credits,
            )
            % {"count": credits},
        )


def _trim_above_cap(
    accounts: list[Account],
    excess: int,
    *,
    at: datetime,
    refresh: Refresh,
    operation: OpenOperation,
) -> None:
    """Capped credits above the cap expire, earliest-expiring first (R4)."""
    by_id = {account.pk: account for account in accounts}
    lots = (
        Lot.objects.filter(account_id__in=by_id, remaining__gt=0)
        .exclude(source=LotSource.PURCHASE)
        .order_by(*SPEND_ORDER)
    )
    left = excess
    for lot in lots:
        if left == 0:
            break
        piece = min(lot.remaining, left)
        _take(lot, piece)
        _post(
            by_id[lot.account_id],
            at=at,
            kind=EntryKind.LOST_TO_CAP,
            amount=-piece,
            lot=lot,
            operation=operation,
            cause=Cause.system("refresh"),
            memo=f"Above the cap of {refresh.cap} at the refresh",
            refresh=refresh,
        )
        left -= piece


def _grant(
    account: Account,
    *,
    kind: str,
    period_on: date,
    at: datetime,
    monthly: int,
    cap: int,
    capped_before: int,
    lifetime_days: int | None,
    operation: OpenOperation,
    cause: Cause | None = None,
    seat: Seat | None = None,
) -> Refresh:
    """Grant monthly credits subject to the cap (R4) and record what the cap kept back."""
    granted = grant_under_cap(monthly=monthly, cap=cap, capped=capped_before)
    refresh = Refresh.objects.create(
        account=account,
        kind=kind,
        period_on=period_on,
        due_at=at,
        seat=seat,
        monthly=monthly,
        cap=cap,
        capped_before=capped_before,
        granted=granted,
        lost_to_cap=monthly - granted,
    )
    if granted:
        label = "Activation grant" if kind == RefreshKind.ACTIVATION else "Monthly refresh"
        memo = f"{label}: {granted} of {monthly}"
        if granted < monthly:
            memo += f" ({monthly - granted} lost to the cap of {cap})"
        _new_lot(
            account,
            source=LotSource.GRANT,
            credits=granted,
            granted_at=at,
            lifetime_days=lifetime_days,
            kind=EntryKind.GRANT,
            at=at,
            operation=operation,
            cause=cause,
            memo=memo,
            refresh=refresh,
        )
    return refresh


def _refresh_seat(account: Account, at: datetime, operation: OpenOperation) -> None:
    assert account.seat is not None
    plan = account.seat.plan
    capped = capped_balance(account)
    refresh = _grant(
        account,
        kind=RefreshKind.REFRESH,
        period_on=schedule.local_date(at),
        at=at,
        monthly=plan.monthly_credits,
        cap=plan.max_balance,
        capped_before=capped,
        lifetime_days=plan.credit_lifetime_days,
        operation=operation,
        cause=Cause.system("refresh"),
    )
    excess = capped - plan.max_balance
    if excess > 0:
        _trim_above_cap([account], excess, at=at, refresh=refresh, operation=operation)
        Refresh.objects.filter(pk=refresh.pk).update(lost_to_cap=F("lost_to_cap") + excess)


def _refresh_pool(
    pool: Account, group: LockedGroup, at: datetime, operation: OpenOperation
) -> None:
    """The pool grants every active pooled seat's monthly credits, then pays allocations (R14).

    The cap is the sum of the active pooled seats' caps, counted over the pool and those seats'
    own balances; credits above it are trimmed across all of them, earliest-expiring first.
    """
    seats = _pooled_seats_active_at(group, pool, at)
    members = [pool, *seats]
    plans = [account.seat.plan for account in seats if account.seat is not None]
    cap = sum(plan.max_balance for plan in plans)
    capped = sum(capped_balance(account) for account in members)
    # With no active pooled seat the refresh is still recorded (granting nothing), so the
    # schedule moves on; there is no cap to enforce then.
    refresh = _grant(
        pool,
        kind=RefreshKind.REFRESH,
        period_on=schedule.local_date(at),
        at=at,
        monthly=sum(plan.monthly_credits for plan in plans),
        cap=cap,
        capped_before=capped,
        lifetime_days=plans[0].credit_lifetime_days if plans else None,
        operation=operation,
        cause=Cause.system("refresh"),
    )
    if plans and capped > cap:
        _trim_above_cap(members, capped - cap, at=at, refresh=refresh, operation=operation)
        Refresh.objects.filter(pk=refresh.pk).update(lost_to_cap=F("lost_to_cap") + capped - cap)
    for account in seats:
        assert account.seat is not None
        allocation = account.seat.monthly_allocation or 0
        credits = min(allocation, pool.balance)
        if credits > 0:
            _move(
                pool,
                account,
                credits,
                at=at,
                kind=EntryKind.ALLOCATION,
                operation=operation,
                cause=Cause.system("refresh"),
                memo=f"Monthly allocation: {credits} of {allocation}",
            )


def _bring_up_to_date(group: LockedGroup, until: datetime) -> None:
    """Apply every expiry and refresh due up to `until`, in time order (R17), and save.

    At one instant, expiries apply before refreshes, so a refresh never counts credits that
    expire at the very moment it happens. Each entry is dated at the instant it was due, and
    what one instant applies is one `catch_up` operation of the system, whoever brought the
    accounts up to date (the ledger reads the same whether the job ran on time or a send ran
    late).
    """
    accounts = group.values()
    # A write since the lock (a new lot, say) may have brought a due instant forward.
    group.update_next_due()
    while True:
        due = [a.next_due_at for a in accounts if a.next_due_at and a.next_due_at <= until]
        if not due:
            break
        at = min(due)
        # Only accounts with something due at this instant have work; a pool refresh may also
        # move credits into (or trim) its seats, whose balances then change.
        due_now = [a for a in accounts if a.next_due_at is not None and a.next_due_at <= at]
        balances = {a.pk: a.balance for a in accounts}
        operation = OpenOperation(OperationKind.CATCH_UP, Cause.system())
        for account in due_now:
            _expire(account, at, operation)
        for account in due_now:
            if refresh_due_at(account) == at:
                if account.kind == AccountKind.POOL:
                    _refresh_pool(account, group, at, operation)
                else:
                    _refresh_seat(account, at, operation)
        for account in accounts:
            if account in due_now or account.balance != balances[account.pk]:
                group.update_next_due(account)
                account.synced_until = max(account.synced_until, at)
                group.eventful.add(account.pk)
    # Accounts that had nothing due keep their row as it was: nothing about them changed.
    for account in accounts:
        if account.pk in group.eventful:
            account.synced_until = max(account.synced_until, until)
    group.save()


def accounts_bring_up_to_date(
    accounts: Iterable[Account], *, until: datetime | None = None
) -> None:
    """Apply everything due up to `until` (default now) on these accounts and their groups."""
    until = until or timezone.now()
    with transaction.atomic():
        _bring_up_to_date(_lock_groups(*accounts), until)


def seats_bring_up_to_date(
    seat_ids: Iterable[int] | QuerySet[Any], *, until: datetime | None = None
) -> None:
    """Apply whatever is due on these seats' accounts and their teams' pools (R17).

    For pages and lists that then read many balances at once. Usually nothing is due, which
    costs one indexed query. The pools come too because a pool refresh moves allocations into
    its pooled seats.
    """
    until = until or timezone.now()
    teams = Seat.objects.filter(pk__in=seat_ids).values("team")
    due = list(
        Account.objects.filter(is_open=True, next_due_at__lte=until).filter(
            Q(seat_id__in=seat_ids) | Q(kind=AccountKind.POOL, team_id__in=teams)
        )
    )
    if due:
        accounts_bring_up_to_date(due, until=until)


def seat_bring_up_to_date(seat: Seat, *, until: datetime | None = None) -> None:
    accounts_bring_up_to_date([Account.objects.get(seat=seat)], until=until)


def ledger_bring_all_up_to_date(*, until: datetime | None = None, batch_size: int = 500) -> int:
    """Apply everything due up to `until` on every open account; returns the groups applied.

    Each group is applied in its own short transaction under its row locks, so a run killed
    half-way leaves whole groups done and the rest for the next run, and two runs at once never
    apply anything twice: the second finds the work done when it gets the locks (R18).
    """
    until = until or timezone.now()
    applied = 0
    # Accounts brought up to date with an earlier group of this run (a pool's seats).
    done: set[int] = set()
    after: tuple[datetime, int] | None = None
    while True:
        due = Account.objects.filter(is_open=True, next_due_at__lte=until)
        if after is not None:
            due = due.filter(Q(next_due_at__gt=after[0]) | Q(next_due_at=after[0], pk__gt=after[1]))
        batch = list(
            due.order_by("next_due_at", "pk").values_list("next_due_at", "pk")[:batch_size]
        )
        if not batch:
            return applied
        for _, account_id in batch:
            if account_id in done:
                continue
            account = Account.objects.get(pk=account_id)
            with transaction.atomic():
                group = _lock_groups(account)
                _bring_up_to_date(group, until)
            done.update(group.accounts)
            applied += 1
        last_due, last_pk = batch[-1]
        after = (last_due or until, last_pk)
