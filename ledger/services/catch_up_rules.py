"""The catch-up rule itself (R3, R4, R5, R14, R17), on plain state: no database here.

Given an account group's state (its accounts with their lots holding credits, cached balances,
schedule anchors and last refresh periods, the seats' plans and allocations) and the instant to
bring it up to, `CatchUp.bring_up_to_date` applies everything due in time order and returns,
in the order they were created, what that wrote: operations, refreshes, new lots, entries, the
existing lots drawn on (`LotState.taken`) and the accounts whose cached state changed. The state
objects are advanced in place.

Its callers only read state and write the effects:

- `catch_up._bring_up_to_date`, one locked group through the ORM (sends, seats, the per-group
  tick, SQLite);
- `batch_catch_up`, many groups a transaction with `COPY` and `UPDATE … FROM unnest` (the tick
  on PostgreSQL).

Both draw ids in creation order, so the ledger reads the same whichever wrote it. The run-out
forecast (`analytics.forecast`) still has its own projection of the refresh steps; projecting
with `CatchUp.expire`, `refresh_seat` and `refresh_pool` instead is drafted in commit 8afba49
but not verified yet.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from ledger import schedule
from ledger.exceptions import InsufficientCredits, credits_text
from ledger.models import AccountKind, AccountRefresh, EntryKind, LotSource, RefreshKind
from ledger.rules import grant_under_cap

# New lots sort after every existing one (their ids will be higher): their place in spend
# order before they have an id.
NEW_LOT = 1 << 62


# --------------------------------------------------------------------------------------------
# The state a catch-up works on
# --------------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class LotState:
    order: int  # the id, or NEW_LOT + n until the lot is written
    account_id: int
    source: str
    granted_at: datetime
    expires_at: datetime | None
    initial: int
    remaining: int
    new: bool = False
    moved_from: LotState | None = None
    taken: int = 0  # credits taken from an existing lot
    id: int = 0

    def spend_key(self) -> tuple[bool, datetime, datetime, int]:
        # models.SPEND_ORDER: soonest expiry first (never last), then oldest, then id.
        return (
            self.expires_at is None,
            self.expires_at or self.granted_at,
            self.granted_at,
            self.order,
        )


@dataclass(frozen=True, slots=True)
class PlanState:
    monthly_credits: int
    max_balance: int
    credit_lifetime_days: int | None


@dataclass(frozen=True, slots=True)
class SeatState:
    activation_at: datetime
    cancelled_at: datetime | None
    monthly_allocation: int | None
    plan: PlanState


@dataclass(eq=False, slots=True)
class AccountState:
    id: int
    kind: str
    seat_id: int | None
    team_id: int
    anchor_on: date
    refresh: str
    balance: int
    synced_until: datetime
    next_due_at: datetime | None
    is_open: bool
    last_period: date | None  # the period of its last monthly refresh
    seat: SeatState | None = None
    lots: list[LotState] = field(default_factory=list)  # those holding credits, by id

    def state(self) -> tuple[object, ...]:
        return (self.balance, self.synced_until, self.next_due_at, self.is_open)

    def holding(self) -> tuple[object, ...]:
        return (self.balance, self.is_open)

    def live_lots(self) -> list[LotState]:
        return [lot for lot in self.lots if lot.remaining > 0]

    def capped_balance(self) -> int:
        return sum(lot.remaining for lot in self.live_lots() if lot.source != LotSource.PURCHASE)


@dataclass(eq=False, slots=True)
class NewOperation:
    """A `catch_up` operation of the system, dated at its first entry."""

    at: datetime | None = None
    id: int = 0


@dataclass(eq=False, slots=True)
class NewRefresh:
    account_id: int
    kind: str
    period_on: date
    due_at: datetime
    monthly: int
    cap: int
    capped_before: int
    granted: int
    lost_to_cap: int
    id: int = 0


@dataclass(eq=False, slots=True)
class NewEntry:
    account: AccountState
    at: datetime
    kind: str
    amount: int
    balance_after: int
    lot: LotState
    refresh: NewRefresh | None
    cause: str  # the entry's `cause` (via); the actor is the system
    memo: str
    operation: NewOperation


# --------------------------------------------------------------------------------------------
# Rules shared with the writes outside the catch-up (a seat's activation grant)
# --------------------------------------------------------------------------------------------


def seat_active_at(
    activation_at: datetime,
    cancelled_at: datetime | None,
    at: datetime,
    *,
    activated_at_instant: bool = False,
) -> bool:
    """Whether a pooled seat counts at a pool grant at `at` (R14).

    A refresh counts seats activated strictly before it (a seat activated at that very instant
    got its credits from its own activation); an activation's cap also counts the seats
    activated at the same instant. A seat cancelled by `at` doesn't count.
    """
    if activation_at > at or (activation_at == at and not activated_at_instant):
        return False
    return cancelled_at is None or cancelled_at > at


def grant_memo(kind: str, *, granted: int, monthly: int, cap: int) -> str:
    """The memo of a grant's entry: what was granted of the monthly credits, and what the cap
    kept back (R4)."""
    label = "Activation grant" if kind == RefreshKind.ACTIVATION else "Monthly refresh"
    memo = f"{label}: {granted} of {monthly}"
    if granted < monthly:
        memo += f" ({monthly - granted} lost to the cap of {cap})"
    return memo


def expiry_memo(credits: int) -> str:
    """The memo of an expiry's entry: stored text, written as the other memos are, without
    the translation machinery (which cost a tick at 100,000 seats 1.5 s of CPU for 129,600
    expiries, asking for the request's language each time)."""
    if credits == 1:
        return "1 credit reached the end of its life"
    return f"{credits} credits reached the end of their life"


def trim_memo(cap: int) -> str:
    return f"Above the cap of {cap} at the refresh"


def allocation_memo(credits: int, allocation: int) -> str:
    return f"Monthly allocation: {credits} of {allocation}"


def pooled_seats_active_at(
    group: Sequence[AccountState], pool: AccountState, at: datetime
) -> list[AccountState]:
    """The pool's seat accounts in the group whose seat counts at a refresh at `at`, in seat
    order (the order allocations are paid in). A group may hold several teams' accounts, so
    membership is checked, not assumed."""
    return sorted(
        (
            account
            for account in group
            if account.kind == AccountKind.SEAT
            and account.refresh == AccountRefresh.NONE
            and account.team_id == pool.team_id
            and account.seat is not None
            and seat_active_at(account.seat.activation_at, account.seat.cancelled_at, at)
        ),
        key=lambda account: account.seat_id or 0,
    )


class _Held(Protocol):
    balance: int
    synced_until: datetime


def post_to(account: _Held, at: datetime, amount: int) -> datetime:
    """Move an account's cached balance by an entry of `amount` due at `at`; returns the
    entry's instant.

    An entry is never dated before the account's last entry or the instant it was last brought
    up to (a refund lot that was already past its life expires when recorded, not in the past),
    so the entries of an account are always in time order and `balance_after` is a running
    balance.
    """
    account.balance += amount
    account.synced_until = max(at, account.synced_until)
    return account.synced_until


# --------------------------------------------------------------------------------------------
# Due instants
# --------------------------------------------------------------------------------------------


def next_refresh_at(anchor_on: date, rule: str, last: date | None) -> datetime:
    """The refresh due after the one of period `last` (None: none yet) on this schedule (R3)."""
    return _next_refresh_at(anchor_on, rule, last, schedule.org_tz())


@functools.lru_cache(maxsize=65536)
def _next_refresh_at(anchor_on: date, rule: str, last: date | None, zone: object) -> datetime:
    # Many accounts share a schedule; the organisation's time zone is part of the key (a
    # setting, which tests change).
    return schedule.next_refresh_at(anchor_on, rule, schedule.start_of_day(last or anchor_on))


def refresh_due_at(account: AccountState) -> datetime | None:
    if not account.is_open or account.refresh == AccountRefresh.NONE:
        return None
    return next_refresh_at(account.anchor_on, account.refresh, account.last_period)


def next_due(account: AccountState) -> datetime | None:
    """The account's next expiry or refresh, whichever comes first."""
    expiries = [lot.expires_at for lot in account.live_lots() if lot.expires_at is not None]
    candidates = [t for t in (min(expiries, default=None), refresh_due_at(account)) if t]
    return min(candidates) if candidates else None


# --------------------------------------------------------------------------------------------
# The catch-up
# --------------------------------------------------------------------------------------------


class CatchUp:
    """What a catch-up writes: operations, refreshes, new lots and entries in the order they
    are created, plus the existing lots drawn on (their `taken`) and the accounts whose cached
    state changed. One `CatchUp` may bring several groups up to date, one after the other."""

    def __init__(self) -> None:
        self.operations: list[NewOperation] = []
        self.refreshes: list[NewRefresh] = []
        self.new_lots: list[LotState] = []
        self.entries: list[NewEntry] = []
        self.changed: list[AccountState] = []

    # Posting: entries, new lots, taking credits, moving them -------------------------------

    def _post(
        self,
        account: AccountState,
        *,
        at: datetime,
        kind: str,
        amount: int,
        lot: LotState,
        operation: NewOperation,
        cause: str,
        memo: str,
        refresh: NewRefresh | None = None,
    ) -> None:
        at = post_to(account, at, amount)
        if operation.at is None:
            operation.at = at
            self.operations.append(operation)
        self.entries.append(
            NewEntry(
                account=account,
                at=at,
                kind=kind,
                amount=amount,
                balance_after=account.balance,
                lot=lot,
                refresh=refresh,
                cause=cause,
                memo=memo[:500],
                operation=operation,
            )
        )

    def _credit(
        self,
        account: AccountState,
        *,
        source: str,
        credits: int,
        granted_at: datetime,
        expires_at: datetime | None,
        moved_from: LotState | None = None,
        at: datetime,
        kind: str,
        operation: NewOperation,
        memo: str,
        refresh: NewRefresh | None = None,
    ) -> None:
        """A new lot of `credits` on the account, and its entry."""
        lot = LotState(
            order=NEW_LOT + len(self.new_lots),
            account_id=account.id,
            source=source,
            granted_at=granted_at,
            expires_at=expires_at,
            initial=credits,
            remaining=credits,
            new=True,
            moved_from=moved_from,
        )
        self.new_lots.append(lot)
        account.lots.append(lot)
        self._post(
            account,
            at=at,
            kind=kind,
            amount=credits,
            lot=lot,
            operation=operation,
            cause="refresh",
            memo=memo,
            refresh=refresh,
        )

    @staticmethod
    def _take(lot: LotState, credits: int) -> None:
        if lot.remaining < credits:
            raise InsufficientCredits("The credits were taken by another operation; try again.")
        lot.remaining -= credits
        if not lot.new:
            lot.taken += credits

    def _move(
        self,
        source: AccountState,
        target: AccountState,
        credits: int,
        *,
        at: datetime,
        operation: NewOperation,
        memo: str,
    ) -> None:
        spendable = sorted(
            (lot for lot in source.live_lots() if lot.expires_at is None or lot.expires_at > at),
            key=LotState.spend_key,
        )
        pieces: list[tuple[LotState, int]] = []
        left = credits
        for lot in spendable:
            if left == 0:
                break
            piece = min(lot.remaining, left)
            self._take(lot, piece)
            self._post(
                source,
                at=at,
                kind=EntryKind.ALLOCATION,
                amount=-piece,
                lot=lot,
                operation=operation,
                cause="refresh",
                memo=memo,
            )
            pieces.append((lot, piece))
            left -= piece
        if left:
            raise InsufficientCredits(
                f"Only {credits - left} of {credits_text(credits)} are available."
            )
        for lot, piece in pieces:
            self._credit(
                target,
                source=lot.source,
                credits=piece,
                granted_at=lot.granted_at,
                expires_at=lot.expires_at,
                moved_from=lot,
                at=at,
                kind=EntryKind.ALLOCATION,
                operation=operation,
                memo=memo,
            )

    # The steps: expiry (R5), refresh under the cap (R4), pool refresh and allocations (R14) --

    def expire(self, account: AccountState, at: datetime, operation: NewOperation) -> None:
        due = sorted(
            (
                lot
                for lot in account.live_lots()
                if lot.expires_at is not None and lot.expires_at <= at
            ),
            key=lambda lot: (lot.expires_at, lot.order),
        )
        for lot in due:
            credits = lot.remaining
            self._take(lot, credits)
            self._post(
                account,
                at=lot.expires_at or at,
                kind=EntryKind.EXPIRY,
                amount=-credits,
                lot=lot,
                operation=operation,
                cause="expiry",
                memo=expiry_memo(credits),
            )

    def _trim_above_cap(
        self,
        accounts: Sequence[AccountState],
        excess: int,
        *,
        at: datetime,
        refresh: NewRefresh,
        operation: NewOperation,
    ) -> None:
        by_id = {account.id: account for account in accounts}
        lots = sorted(
            (
                lot
                for account in accounts
                for lot in account.live_lots()
                if lot.source != LotSource.PURCHASE
            ),
            key=LotState.spend_key,
        )
        left = excess
        for lot in lots:
            if left == 0:
                break
            piece = min(lot.remaining, left)
            self._take(lot, piece)
            self._post(
                by_id[lot.account_id],
                at=at,
                kind=EntryKind.LOST_TO_CAP,
                amount=-piece,
                lot=lot,
                operation=operation,
                cause="refresh",
                memo=trim_memo(refresh.cap),
                refresh=refresh,
            )
            left -= piece

    def _grant(
        self,
        account: AccountState,
        *,
        at: datetime,
        monthly: int,
        cap: int,
        capped_before: int,
        lifetime_days: int | None,
        operation: NewOperation,
    ) -> NewRefresh:
        granted = grant_under_cap(monthly=monthly, cap=cap, capped=capped_before)
        refresh = NewRefresh(
            account_id=account.id,
            kind=RefreshKind.REFRESH,
            period_on=schedule.local_date(at),
            due_at=at,
            monthly=monthly,
            cap=cap,
            capped_before=capped_before,
            granted=granted,
            lost_to_cap=monthly - granted,
        )
        self.refreshes.append(refresh)
        account.last_period = refresh.period_on
        if granted:
            memo = grant_memo(RefreshKind.REFRESH, granted=granted, monthly=monthly, cap=cap)
            expires_at = None if lifetime_days is None else schedule.add_days(at, lifetime_days)
            self._credit(
                account,
                source=LotSource.GRANT,
                credits=granted,
                granted_at=at,
                expires_at=expires_at,
                at=at,
                kind=EntryKind.GRANT,
                operation=operation,
                memo=memo,
                refresh=refresh,
            )
        return refresh

    def refresh_seat(self, account: AccountState, at: datetime, operation: NewOperation) -> None:
        assert account.seat is not None
        plan = account.seat.plan
        capped = account.capped_balance()
        refresh = self._grant(
            account,
            at=at,
            monthly=plan.monthly_credits,
            cap=plan.max_balance,
            capped_before=capped,
            lifetime_days=plan.credit_lifetime_days,
            operation=operation,
        )
        excess = capped - plan.max_balance
        if excess > 0:
            self._trim_above_cap([account], excess, at=at, refresh=refresh, operation=operation)
            refresh.lost_to_cap += excess

    def refresh_pool(
        self,
        pool: AccountState,
        group: Sequence[AccountState],
        at: datetime,
        operation: NewOperation,
    ) -> None:
        seats = pooled_seats_active_at(group, pool, at)
        members = [pool, *seats]
        plans = [account.seat.plan for account in seats if account.seat is not None]
        cap = sum(plan.max_balance for plan in plans)
        capped = sum(account.capped_balance() for account in members)
        refresh = self._grant(
            pool,
            at=at,
            monthly=sum(plan.monthly_credits for plan in plans),
            cap=cap,
            capped_before=capped,
            lifetime_days=plans[0].credit_lifetime_days if plans else None,
            operation=operation,
        )
        if plans and capped > cap:
            self._trim_above_cap(members, capped - cap, at=at, refresh=refresh, operation=operation)
            refresh.lost_to_cap += capped - cap
        for account in seats:
            assert account.seat is not None
            allocation = account.seat.monthly_allocation or 0
            credits = min(allocation, pool.balance)
            if credits > 0:
                self._move(
                    pool,
                    account,
                    credits,
                    at=at,
                    operation=operation,
                    memo=allocation_memo(credits, allocation),
                )

    # A group, in time order (R17) ---------------------------------------------------------

    def bring_up_to_date(self, accounts: Sequence[AccountState], until: datetime) -> None:
        """Apply every expiry and refresh due up to `until` on one group (its accounts in id
        order), in time order (R17).

        At one instant, expiries apply before refreshes, so a refresh never counts credits that
        expire at the very moment it happens. Each entry is dated at the instant it was due, and
        what one instant applies is one `catch_up` operation of the system, whoever brought the
        accounts up to date (the ledger reads the same whether the job ran on time or a send
        ran late). Accounts with nothing due keep their state as it was.

        The accounts' `next_due_at` must be current for their holding when called.
        """
        loaded = {account.id: account.state() for account in accounts}
        due_computed = {account.id: account.holding() for account in accounts}
        eventful: set[int] = set()
        while True:
            due = [a.next_due_at for a in accounts if a.next_due_at and a.next_due_at <= until]
            if not due:
                break
            at = min(due)
            due_now = [a for a in accounts if a.next_due_at is not None and a.next_due_at <= at]
            balances = {a.id: a.balance for a in accounts}
            operation = NewOperation()
            for account in due_now:
                self.expire(account, at, operation)
            for account in due_now:
                if refresh_due_at(account) == at:
                    if account.kind == AccountKind.POOL:
                        self.refresh_pool(account, accounts, at, operation)
                    else:
                        self.refresh_seat(account, at, operation)
            due_ids = {a.id for a in due_now}
            for account in accounts:
                if account.id in due_ids or account.balance != balances[account.id]:
                    account.next_due_at = next_due(account)
                    due_computed[account.id] = account.holding()
                    account.synced_until = max(account.synced_until, at)
                    eventful.add(account.id)
        for account in accounts:
            if account.id in eventful:
                account.synced_until = max(account.synced_until, until)
            if account.holding() != due_computed[account.id]:
                account.next_due_at = next_due(account)
            if account.state() != loaded[account.id]:
                self.changed.append(account)
