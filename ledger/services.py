"""Every write to the ledger (SPEC R1–R16, R18), one function per operation.

Each service runs in one transaction: it locks the accounts it touches (all at once, in
ascending id order, so writers never deadlock), brings them up to date (R17: everything due up
to now is applied first, in time order), checks the rules, then writes lots and entries. A rule
that says no raises a `LedgerRuleError` before anything is kept. See `ledger/models.py` for the
design and the invariants.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from ledger import schedule
from ledger.exceptions import (
    AlreadyAnswered,
    DuplicatePending,
    IdempotencyKeyReused,
    InsufficientCredits,
    LedgerValidationError,
    NoPool,
    NotPurchasable,
    PoolInsufficient,
    PurchaseLimitReached,
    SeatInactive,
    SendLimitReached,
)
from ledger.models import (
    RESPONSE_STATUSES,
    SPEND_ORDER,
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    EntryKind,
    IdempotencyRecord,
    InMail,
    InMailStatus,
    Lot,
    LotSource,
    PaidFrom,
    Purchase,
    Refresh,
    RefreshKind,
)
from ledger.selectors import capped_balance, pool_of, refresh_due_at, spendable_lots
from teams.models import Membership, Plan, Role, Seat, SeatStatus, Team, User
from teams.selectors import seats_visible_to

SUBJECT_MAX = 200
BODY_MAX = 1900
RECIPIENT_MAX = 255
RESPONSE_WINDOW_DAYS = 90
REMINDER_AFTER_DAYS = 3
TEAMMATE_WARNING_DAYS = 90
BONUS_LIFETIME_DAYS = 30
WARNING_TEAMMATE = "recipient_contacted_by_teammate"
# Read once: `InMailStatus.values` builds a new list on every access, and an import checks
# every row.
_INMAIL_STATUSES = frozenset(InMailStatus.values)
# What a purchase's total (`Purchase.total`, 12 digits with 2 decimals) can hold.
MAX_PURCHASE_TOTAL = Decimal("9999999999.99")


@dataclass(frozen=True)
class Cause:
    """Who or what caused a write; every entry records it (SPEC R15)."""

    actor: User | None
    via: str

    @classmethod
    def system(cls, via: str = "system") -> Cause:
        return cls(actor=None, via=via)


# --------------------------------------------------------------------------------------------
# Accounts: locking and bringing up to date (R17)
# --------------------------------------------------------------------------------------------


def _group_ids(account: Account) -> list[int]:
    """The accounts whose due work must be applied together, in one time order.

    A pool refresh reads every pooled seat's balance (the pool cap counts them) and moves
    allocations into them, so a team pool and its open pooled seats form one group; any other
    seat is a group of its own.
    """
    if account.kind == AccountKind.SEAT and account.refresh != AccountRefresh.NONE:
        return [account.pk]
    ids = set(
        Account.objects.filter(
            team_id=account.team_id, kind=AccountKind.SEAT, refresh=AccountRefresh.NONE
        )
        .filter(Q(is_open=True) | Q(pk=account.pk))
        .values_list("pk", flat=True)
    )
    pool = pool_of(account.team_id)
    if pool is not None:
        ids.add(pool.pk)
    ids.add(account.pk)
    return sorted(ids)


class LockedGroup:
    """Accounts a service holds row locks on, with what they looked like when locked.

    Only accounts whose cached state changed are written back, so the common case (a send on
    a seat in a twenty-seat pool) writes two accounts, not twenty-one.
    """

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts = {account.pk: account for account in accounts}
        self._loaded = {pk: self._state(account) for pk, account in self.accounts.items()}
        # What each account held when its next due instant was last worked out: every write
        # moves the balance (entries are never zero), so an unchanged holding needs no redo.
        self._due_computed = {pk: self._holding(a) for pk, a in self.accounts.items()}
        self.eventful: set[int] = set()

    @staticmethod
    def _state(account: Account) -> tuple[object, ...]:
        return (account.balance, account.synced_until, account.next_due_at, account.is_open)

    def __getitem__(self, pk: int) -> Account:
        return self.accounts[pk]

    def __contains__(self, pk: object) -> bool:
        return pk in self.accounts

    def values(self) -> list[Account]:
        return list(self.accounts.values())

    def pool_of_team(self, team_id: int) -> Account | None:
        return next(
            (
                a
                for a in self.accounts.values()
                if a.kind == AccountKind.POOL and a.team_id == team_id
            ),
            None,
        )

    @property
    def has_pool(self) -> bool:
        return any(a.kind == AccountKind.POOL for a in self.accounts.values())

    @staticmethod
    def _holding(account: Account) -> tuple[object, ...]:
        return (account.balance, account.is_open)

    def update_next_due(self, account: Account | None = None) -> None:
        """Work out again when accounts that changed since it was last worked out (or just
        `account`) next have something due."""
        for candidate in [account] if account is not None else self.accounts.values():
            if self._holding(candidate) != self._due_computed[candidate.pk] or account:
                _update_next_due(candidate)
                self._due_computed[candidate.pk] = self._holding(candidate)

    def save(self) -> None:
        self.update_next_due()
        for pk, account in self.accounts.items():
            if self._state(account) != self._loaded[pk]:
                account.save(update_fields=["balance", "synced_until", "next_due_at", "is_open"])
                self._loaded[pk] = self._state(account)
        self.eventful.clear()

    def add(self, other: LockedGroup) -> None:
        self.accounts.update(other.accounts)
        self._loaded.update(other._loaded)
        self._due_computed.update(other._due_computed)


def _lock(ids: Iterable[int]) -> LockedGroup:
    """Lock accounts in ascending id order (the one order every writer uses).

    Their seats are read after the lock (so a seat's status and settings are current) by
    primary key: a join here would let the planner scan the seats table on every send.
    """
    accounts = list(
        Account.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    )
    seats = Seat.objects.select_related("plan", "holder").in_bulk(
        [account.seat_id for account in accounts if account.seat_id is not None]
    )
    for account in accounts:
        if account.seat_id is not None:
            account.seat = seats[account.seat_id]
    return LockedGroup(accounts)


def _lock_groups(*accounts: Account) -> LockedGroup:
    """Lock the groups of these accounts.

    A pool is created before any of its pooled seats' accounts, so it has the lowest id of its
    group and is locked first; a pooled seat's account is only created while its activation
    holds the pool's lock. So once the pool is locked the group can't change, but it may have
    grown between reading its ids and taking the locks: take the newcomers too (their ids are
    higher than any we hold, so the ascending order is kept).
    """
    ids: set[int] = set()
    for account in accounts:
        ids.update(_group_ids(account))
    group = _lock(ids)
    if group.has_pool:
        fresh: set[int] = set()
        for account in accounts:
            fresh.update(_group_ids(account))
        if fresh - ids:
            group.add(_lock(fresh - ids))
    return group


def _post(
    account: Account,
    *,
    at: datetime,
    kind: str,
    amount: int,
    lot: Lot,
    cause: Cause,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
) -> Entry:
    """Append one entry and move the account's cached balance with it.

    An entry is never dated before the account's last entry or the instant it was last brought
    up to (a refund lot that was already past its life expires when recorded, not in the past),
    so the entries of an account are always in time order and `balance_after` is a running
    balance.
    """
    account.balance += amount
    account.synced_until = max(at, account.synced_until)
    return Entry.objects.create(
        account=account,
        at=account.synced_until,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        lot=lot,
        inmail=inmail,
        refresh=refresh,
        actor=cause.actor,
        cause=cause.via,
        memo=memo[:500],
    )


def _new_lot(
    account: Account,
    *,
    source: str,
    credits: int,
    granted_at: datetime,
    lifetime_days: int | None,
    kind: str,
    at: datetime,
    cause: Cause,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
    refund_of: InMail | None = None,
) -> tuple[Lot, Entry]:
    expires_at = None if lifetime_days is None else schedule.add_days(granted_at, lifetime_days)
    lot = Lot.objects.create(
        account=account,
        source=source,
        granted_at=granted_at,
        expires_at=expires_at,
        initial=credits,
        remaining=credits,
        refund_of=refund_of,
    )
    entry = _post(
        account,
        at=at,
        kind=kind,
        amount=credits,
        lot=lot,
        cause=cause,
        memo=memo,
        inmail=inmail,
        refresh=refresh,
    )
    return lot, entry


def _take(lot: Lot, credits: int) -> None:
    # The account is locked, so this cannot race; the condition still makes the database,
    # not this process's view of the row, the last word on whether the credits are there.
    taken = Lot.objects.filter(pk=lot.pk, remaining__gte=credits).update(
        remaining=F("remaining") - credits
    )
    if taken != 1:
        raise InsufficientCredits("The credits were taken by another operation; try again.")
    lot.remaining -= credits


def _take_in_order(
    account: Account,
    lots: Iterable[Lot],
    credits: int,
    *,
    at: datetime,
    kind: str,
    cause: Cause,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
) -> list[tuple[Lot, int, Entry]]:
    """Take `credits` from `lots` in the order given; the caller checked there are enough."""
    pieces: list[tuple[Lot, int, Entry]] = []
    left = credits
    for lot in lots:
        if left == 0:
            break
        piece = min(lot.remaining, left)
        _take(lot, piece)
        entry = _post(
            account,
            at=at,
            kind=kind,
            amount=-piece,
            lot=lot,
            cause=cause,
            memo=memo,
            inmail=inmail,
            refresh=refresh,
        )
        pieces.append((lot, piece, entry))
        left -= piece
    if left:
        raise InsufficientCredits(f"Only {credits - left} of {credits} credits are available.")
    return pieces


def _move(
    source: Account,
    target: Account,
    credits: int,
    *,
    at: datetime,
    kind: str,
    cause: Cause,
    memo: str = "",
) -> None:
    """Move credits in spend order; each moved piece keeps its lot's source and expiry (R14)."""
    for lot, piece, _ in _take_in_order(
        source, spendable_lots(source, at), credits, at=at, kind=kind, cause=cause, memo=memo
    ):
        moved = Lot.objects.create(
            account=target,
            source=lot.source,
            granted_at=lot.granted_at,
            expires_at=lot.expires_at,
            initial=piece,
            remaining=piece,
            moved_from=lot,
        )
        _post(target, at=at, kind=kind, amount=piece, lot=moved, cause=cause, memo=memo)


def _open_account(**fields: Any) -> Account:
    account = Account.objects.create(**fields)
    account.next_due_at = refresh_due_at(account)
    account.save(update_fields=["next_due_at"])
    return account


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


def _expire(account: Account, at: datetime) -> None:
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
            cause=Cause.system("expiry"),
            memo=f"{credits} credit{'s' if credits != 1 else ''} reached the end of their life",
        )


def _trim_above_cap(
    accounts: list[Account], excess: int, *, at: datetime, refresh: Refresh
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
    cause: Cause,
    seat: Seat | None = None,
) -> Refresh:
    """Grant monthly credits subject to the cap (R4) and record what the cap kept back."""
    granted = min(monthly, max(0, cap - capped_before))
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
            cause=cause,
            memo=memo,
            refresh=refresh,
        )
    return refresh


def _refresh_seat(account: Account, at: datetime) -> None:
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
        cause=Cause.system("refresh"),
    )
    excess = capped - plan.max_balance
    if excess > 0:
        _trim_above_cap([account], excess, at=at, refresh=refresh)
        Refresh.objects.filter(pk=refresh.pk).update(lost_to_cap=F("lost_to_cap") + excess)


def _refresh_pool(pool: Account, group: LockedGroup, at: datetime) -> None:
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
        cause=Cause.system("refresh"),
    )
    if plans and capped > cap:
        _trim_above_cap(members, capped - cap, at=at, refresh=refresh)
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
                cause=Cause.system("refresh"),
                memo=f"Monthly allocation: {credits} of {allocation}",
            )


def _update_next_due(account: Account) -> None:
    next_expiry = (
        Lot.objects.filter(account=account, remaining__gt=0, expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    candidates = [t for t in (next_expiry, refresh_due_at(account)) if t is not None]
    account.next_due_at = min(candidates) if candidates else None


def _bring_up_to_date(group: LockedGroup, until: datetime) -> None:
    """Apply every expiry and refresh due up to `until`, in time order (R17), and save.

    At one instant, expiries apply before refreshes, so a refresh never counts credits that
    expire at the very moment it happens. Each entry is dated at the instant it was due.
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
        for account in due_now:
            _expire(account, at)
        for account in due_now:
            if refresh_due_at(account) == at:
                if account.kind == AccountKind.POOL:
                    _refresh_pool(account, group, at)
                else:
                    _refresh_seat(account, at)
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
        Membership.objects.get_or_create(user=holder, team=team, defaults={"role": Role.RECRUITER})
        seat = Seat.objects.create(
            holder=holder,
            team=team,
            plan=plan,
            activated_on=activated_on,
            anchor_day=activated_on.day,
            pool_access=plan.pooled if pool_access is None else pool_access,
            monthly_allocation=monthly_allocation if plan.pooled else None,
        )
        if plan.pooled:
            _activate_pooled(seat, activation_at=activation_at, now=now, cause=cause)
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
                cause=cause,
                seat=seat,
            )
            _bring_up_to_date(group, now)
    return seat


def _activate_pooled(seat: Seat, *, activation_at: datetime, now: datetime, cause: Cause) -> None:
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
        cause=cause,
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
            cause=cause,
            memo="Seat cancelled: credits are forfeited",
        )
        seat.status = SeatStatus.CANCELLED
        seat.cancelled_at = now
        seat.save(update_fields=["status", "cancelled_at"])
        account.is_open = False
        _bring_up_to_date(group, now)
    return seat


def seat_change_plan(*, seat: Seat, plan: Plan, cause: Cause) -> Seat:
    """Change plan: the old seat is cancelled (its credits forfeited, R13), a new one activated."""
    if seat.plan_id == plan.pk:
        raise LedgerValidationError("plan", f"The seat is already on {plan.name}.")
    with transaction.atomic():
        old = seat_cancel(seat=seat, cause=cause)
        new = seat_activate(
            holder=old.holder,
            team=old.team,
            plan=plan,
            cause=cause,
            pool_access=None,
            monthly_allocation=old.monthly_allocation if plan.pooled else None,
        )
        old.replaced_by = new
        old.save(update_fields=["replaced_by"])
    return new


_UNSET: Any = object()


def seat_update_settings(
    *, seat: Seat, cause: Cause, pool_access: Any = _UNSET, monthly_allocation: Any = _UNSET
) -> Seat:
    """Set a pooled seat's pool access and monthly allocation (R14).

    A refresh already due is applied first, with the allocation that was in force then (R17).
    """
    now = timezone.now()
    with transaction.atomic():
        # The accounts' locks (taken before the seat row, as every writer does) also keep a
        # concurrent refresh from reading the allocation half-way.
        seat, _, group = _locked_seat(seat)
        _require_active(seat)
        _bring_up_to_date(group, now)
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
        seat.save(update_fields=["pool_access", "monthly_allocation"])
    return seat


# --------------------------------------------------------------------------------------------
# InMails: send, respond, withdraw, response windows (R6–R10)
# --------------------------------------------------------------------------------------------

_LINKEDIN_PATH = re.compile(r"^/(in|pub|sales/lead|sales/people|talent/profile)/([^/?#]+)", re.I)


def normalise_recipient(recipient: str) -> str:
    """The key that identifies a recipient however the profile URL was pasted.

    `https://www.linkedin.com/in/Jane-Doe/?trk=x` and `linkedin.com/in/jane-doe` are the same
    person; anything that is not a LinkedIn profile URL (a member id) is compared as given,
    ignoring case and surrounding spaces.
    """
    text = recipient.strip()
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:  # not a URL at all (an unbalanced "[" reads as a broken IPv6 host)
        return text.lower()
    if host == "linkedin.com" or host.endswith(".linkedin.com"):
        match = _LINKEDIN_PATH.match(parts.path)
        if match:
            return f"linkedin:{match.group(1).lower()}/{match.group(2).lower()}"
    return text.lower()


def _validate_message(recipient: str, subject: str, body: str) -> None:
    if not recipient.strip():
        raise LedgerValidationError("recipient", "Give the recipient's profile URL or member id.")
    if len(recipient.strip()) > RECIPIENT_MAX:
        raise LedgerValidationError("recipient", f"At most {RECIPIENT_MAX} characters.")
    text = recipient.strip()
    try:
        urlsplit(text if "://" in text else f"https://{text}")
    except ValueError as error:  # an unbalanced "[" reads as a broken IPv6 address
        raise LedgerValidationError(
            "recipient", "This is neither a profile URL nor a member id; paste it again."
        ) from error
    if not subject.strip():
        raise LedgerValidationError("subject", "An InMail needs a subject.")
    if len(subject) > SUBJECT_MAX:
        raise LedgerValidationError(
            "subject", f"At most {SUBJECT_MAX} characters (this one has {len(subject)})."
        )
    if not body.strip():
        raise LedgerValidationError("body", "An InMail needs a body.")
    if len(body) > BODY_MAX:
        raise LedgerValidationError(
            "body", f"At most {BODY_MAX} characters (this one has {len(body)})."
        )


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


def inmail_send(
    *,
    seat: Seat,
    recipient: str,
    subject: str,
    body: str,
    cause: Cause,
    open_profile: bool = False,
) -> SentInMail:
    """Log an InMail and charge it (R6–R8); every refusal charges nothing."""
    _validate_message(recipient, subject, body)
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
            raise SendLimitReached(f"This seat has sent its {limit} InMails for this month.")
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
        )
        if payer is not None and lot is not None:
            _take_in_order(
                payer, [lot], 1, at=now, kind=EntryKind.SPEND, cause=cause, inmail=inmail
            )
        _bring_up_to_date(group, now)
        warnings = _teammate_warnings(seat, recipient_key, now)
        if payer is not None:
            # The balance went down: tell the holder now, not at the next scheduled run.
            from ledger.tasks import enqueue_after_commit, send_alerts

            enqueue_after_commit(send_alerts, seat_id=seat.pk)
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
                    cause=cause,
                    memo=f"Answered ({outcome}) within {RESPONSE_WINDOW_DAYS} days",
                    inmail=inmail,
                    refund_of=inmail,
                )
                inmail.refunded = True
                _bring_up_to_date(group, now)
        inmail.save(update_fields=["status", "responded_at", "closed_at", "refunded"])
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
    return inmail


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
    for pk, sent_at in candidates.values_list("pk", "sent_at").iterator():
        deadline = schedule.add_days(sent_at, RESPONSE_WINDOW_DAYS)
        if deadline <= until:
            # Conditional update: a concurrent response or a second job run wins or loses
            # cleanly, never both.
            closed += InMail.objects.filter(pk=pk, status=InMailStatus.PENDING).update(
                status=InMailStatus.NO_RESPONSE, closed_at=deadline
            )
    return closed


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
    for pk, sent_at, status, closed_at in candidates.iterator():
        due = schedule.add_days(sent_at, REMINDER_AFTER_DAYS)
        pending_then = status == InMailStatus.PENDING or (closed_at is not None and closed_at > due)
        if due <= until and pending_then:
            recorded += InMail.objects.filter(pk=pk, reminder_at__isnull=True).update(
                reminder_at=due
            )
    return recorded


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
        lot, _ = _new_lot(
            account,
            source=LotSource.PURCHASE,
            credits=credits,
            granted_at=now,
            lifetime_days=None,
            kind=EntryKind.PURCHASE,
            at=now,
            cause=cause,
            memo=f"Purchased {credits} at {plan.purchase_price}",
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
            cause=cause,
            memo=memo.strip() or "Bonus credits",
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
                cause=cause,
                memo=reason.strip(),
            )
            entries = [entry]
        else:
            if account.balance < -credits:
                raise InsufficientCredits(
                    f"The seat holds {account.balance} credits; it can't lose {-credits}."
                )
            pieces = _take_in_order(
                account,
                spendable_lots(account, now),
                -credits,
                at=now,
                kind=EntryKind.ADJUSTMENT,
                cause=cause,
                memo=reason.strip(),
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
        if credits > 0:
            if pool.balance < credits:
                raise PoolInsufficient(
                    f"The pool holds {pool.balance} credits; {credits} can't be moved."
                )
            _move(
                pool,
                account,
                credits,
                at=now,
                kind=EntryKind.TRANSFER,
                cause=cause,
                memo=f"Pool to {seat.holder}",
            )
        else:
            if account.balance < -credits:
                raise InsufficientCredits(
                    f"The seat holds {account.balance} credits; {-credits} can't be moved."
                )
            _move(
                account,
                pool,
                -credits,
                at=now,
                kind=EntryKind.TRANSFER,
                cause=cause,
                memo=f"{seat.holder} to pool",
            )
        _bring_up_to_date(group, now)
        return TransferResult(pool_available=pool.balance, seat_own=account.balance)


# --------------------------------------------------------------------------------------------
# Idempotency (R16)
# --------------------------------------------------------------------------------------------


def request_fingerprint(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotentAnswer:
    status_code: int
    body: Any
    replayed: bool


def idempotent_call(
    *,
    scope: str,
    key: str,
    fingerprint: str,
    operation: Callable[[], tuple[int, Any]],
) -> IdempotentAnswer:
    """Run `operation` once per (scope, key); replay its answer to every retry.

    The record is inserted in the same transaction as the operation's writes. A concurrent
    request with the same key blocks on the record's unique index until the first commits, then
    replays its answer; if the first rolls back, the second runs the operation itself. The same
    key with a different fingerprint raises `IdempotencyKeyReused`.
    """
    if not 1 <= len(key) <= 255:
        raise LedgerValidationError("Idempotency-Key", "Use a key of 1 to 255 characters.")
    with transaction.atomic():
        try:
            record, created = IdempotencyRecord.objects.get_or_create(
                scope=scope,
                key=key,
                defaults={"fingerprint": fingerprint, "created_at": timezone.now()},
            )
        except IntegrityError:  # pragma: no cover - get_or_create already retries the read
            record, created = IdempotencyRecord.objects.get(scope=scope, key=key), False
        if not created:
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if record.status_code is not None:
                return IdempotentAnswer(record.status_code, record.response, replayed=True)
        status_code, body = operation()
        record.status_code = status_code
        record.response = body
        record.save(update_fields=["status_code", "response"])
    return IdempotentAnswer(status_code, body, replayed=False)


def idempotency_records_purge(*, older_than_hours: int = 48) -> int:
    """Forget keys older than the retention (API.md promises at least 24 hours)."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --------------------------------------------------------------------------------------------
# The periodic job (R17, R18)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickReport:
    until: datetime
    groups: int
    closed: int
    reminders: int


def ledger_tick(*, until: datetime | None = None) -> TickReport:
    """Apply every refresh, expiry, reminder and response-window closure due up to `until`.

    Safe to run late (everything is dated when it was due), twice, or on two workers at once
    (each step is claimed under a lock or by a conditional update).
    """
    now = timezone.now()
    until = until or now
    if until > now:
        raise LedgerValidationError("until", "The ledger can't be moved into the future.")
    groups = ledger_bring_all_up_to_date(until=until)
    reminders = inmails_record_reminders(until=until)
    closed = inmails_close_response_windows(until=until)
    return TickReport(until=until, groups=groups, closed=closed, reminders=reminders)


# --------------------------------------------------------------------------------------------
# Import (analytics only)
# --------------------------------------------------------------------------------------------

IMPORT_MAX_ROWS = 20_000


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
        super().__init__("rows", f"{len(problems)} problem(s) in the rows to import.")
        self.problems = problems


def _historic_problems(row: HistoricInMail, now: datetime) -> list[ImportProblem]:
    """What is wrong with one row on its own: the message rules of a send, and times."""
    problems: list[ImportProblem] = []
    try:
        _validate_message(row.recipient, row.subject, row.body)
    except LedgerValidationError as error:
        problems.append(ImportProblem(row.line, error.field, error.message))
    if row.sent_at > now:
        problems.append(ImportProblem(row.line, "sent_at", "It is in the future."))
        return problems
    if row.status not in _INMAIL_STATUSES:
        problems.append(ImportProblem(row.line, "status", f"Unknown status {row.status!r}."))
    elif row.status in RESPONSE_STATUSES:
        if row.responded_at is None:
            problems.append(
                ImportProblem(
                    row.line, "responded_at", f"A {row.status} InMail needs the response time."
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
                f"A {row.status} InMail has no response; leave responded_at empty "
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
                )
            )
        try:
            InMail.objects.bulk_create(inmails, batch_size=1000)
        except IntegrityError as error:
            raise ImportRejected(
                [ImportProblem(0, "file", "The InMails changed meanwhile; preview the file again.")]
            ) from error
    return len(inmails)
