"""The tick's catch-up over many accounts at once (R17, R18; issue 15 goal 3).

`ledger_bring_all_up_to_date` in `catch_up` applies one group of accounts at a time, some twenty
statements each: an hour for 100,000 seats. This module does the same work a batch of groups at
a time, on PostgreSQL, and writes exactly the ledger the per-group path writes:

1. the due accounts, a batch at a time in `(next_due_at, id)` order, with their groups (a team
   pool and its open pooled seats form one, as in `locking._group_ids`);
2. their row locks, `FOR UPDATE SKIP LOCKED` so the tick never waits on a send; a group with an
   account someone else holds (or that grew meanwhile) is left for the per-group path, which
   waits for its locks, at the end of the run;
3. their state in three reads (accounts, their lots with credits left, their last refresh);
4. the catch-up itself, in Python, on that state: `_Simulation` repeats `catch_up`'s steps
   (`_bring_up_to_date`, `_expire`, `_refresh_seat`, `_refresh_pool`, `_trim_above_cap`,
   `_move`) statement for statement, in the same order, so every entry, lot, refresh and
   operation is the one the per-group path would have written, in the same id order;
5. the writes in a few statements: ids drawn from the sequences, then `COPY` for operations,
   refreshes, lots and entries (all entries go through `insert_entries`), and one `UPDATE … FROM
   unnest(…)` each for the lots drawn on and the accounts that changed.

Each batch is one short transaction, so a run killed half-way leaves whole batches done, and
two runs at once never apply anything twice (the second skips the locked accounts or finds them
done). `catch_up` keeps the per-group path for everything else (a send brings its own account
up to date) and for SQLite, which has neither row locks nor `COPY`.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import ngettext

from ledger import schedule
from ledger.exceptions import InsufficientCredits, credits_text
from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    EntryKind,
    Lot,
    LotSource,
    Operation,
    OperationKind,
    Refresh,
    RefreshKind,
)
from ledger.rules import grant_under_cap
from ledger.services.catch_up import _bring_up_to_date
from ledger.services.locking import _lock_groups
from ledger.webhooks import announce as webhooks  # R23
from ledger.webhooks import events
from ledger.webhooks.outbox import wanted

# Accounts a batch starts from (groups bring their other members along). A batch holds its
# locks for a fraction of a second: a send that wants one of them waits that long.
BATCH_SIZE = 500
# New lots sort after every existing one (their ids will be higher): their place in spend
# order before they have an id.
_NEW_LOT = 1 << 62
_SYSTEM = "system"


# --------------------------------------------------------------------------------------------
# The state a batch works on
# --------------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Lot:
    order: int  # the id, or _NEW_LOT + n until the lot is written
    account_id: int
    source: str
    granted_at: datetime
    expires_at: datetime | None
    initial: int
    remaining: int
    new: bool = False
    moved_from: _Lot | None = None
    taken: int = 0  # credits taken from an existing lot
    id: int = 0

    def spend_key(self) -> tuple[bool, datetime, datetime, int]:
        # SPEND_ORDER: soonest expiry first (never last), then oldest, then id.
        return (
            self.expires_at is None,
            self.expires_at or self.granted_at,
            self.granted_at,
            self.order,
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    monthly_credits: int
    max_balance: int
    credit_lifetime_days: int | None


@dataclass(frozen=True, slots=True)
class _Seat:
    activation_at: datetime
    cancelled_at: datetime | None
    monthly_allocation: int | None
    plan: _Plan


@dataclass(eq=False, slots=True)
class _Account:
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
    last_period: date | None
    seat: _Seat | None = None
    lots: list[_Lot] = field(default_factory=list)

    def state(self) -> tuple[object, ...]:
        return (self.balance, self.synced_until, self.next_due_at, self.is_open)

    def holding(self) -> tuple[object, ...]:
        return (self.balance, self.is_open)

    def live_lots(self) -> list[_Lot]:
        return [lot for lot in self.lots if lot.remaining > 0]

    def capped_balance(self) -> int:
        return sum(lot.remaining for lot in self.live_lots() if lot.source != LotSource.PURCHASE)


@dataclass(eq=False, slots=True)
class _Operation:
    at: datetime | None = None
    id: int = 0


@dataclass(eq=False, slots=True)
class _Refresh:
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
class _Entry:
    account: _Account
    at: datetime
    kind: str
    amount: int
    balance_after: int
    lot: _Lot
    refresh: _Refresh | None
    cause: str
    memo: str
    operation: _Operation


# --------------------------------------------------------------------------------------------
# The catch-up, on that state (mirrors ledger/services/catch_up.py step by step)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _next_refresh_at(anchor_on: date, rule: str, last: date | None) -> datetime:
    # catch_up: refresh_due_at(account), with last_refresh_at read from `last`.
    return schedule.next_refresh_at(anchor_on, rule, schedule.start_of_day(last or anchor_on))


def _refresh_due_at(account: _Account) -> datetime | None:
    if not account.is_open or account.refresh == AccountRefresh.NONE:
        return None
    return _next_refresh_at(account.anchor_on, account.refresh, account.last_period)


def _next_due(account: _Account) -> datetime | None:
    # accounts._update_next_due
    expiries = [lot.expires_at for lot in account.live_lots() if lot.expires_at is not None]
    candidates = [t for t in (min(expiries, default=None), _refresh_due_at(account)) if t]
    return min(candidates) if candidates else None


class _Simulation:
    """What a batch writes: operations, refreshes, new lots and entries in the order the
    per-group path would create them, plus the lots drawn on and the accounts that changed."""

    def __init__(self) -> None:
        self.operations: list[_Operation] = []
        self.refreshes: list[_Refresh] = []
        self.new_lots: list[_Lot] = []
        self.entries: list[_Entry] = []
        self.changed: list[_Account] = []

    # posting._post, _new_lot, _take, _move ------------------------------------------------

    def _post(
        self,
        account: _Account,
        *,
        at: datetime,
        kind: str,
        amount: int,
        lot: _Lot,
        operation: _Operation,
        cause: str,
        memo: str,
        refresh: _Refresh | None = None,
    ) -> None:
        account.balance += amount
        account.synced_until = max(at, account.synced_until)
        if operation.at is None:
            operation.at = account.synced_until
            self.operations.append(operation)
        self.entries.append(
            _Entry(
                account=account,
                at=account.synced_until,
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

    def _new_lot(
        self,
        account: _Account,
        *,
        source: str,
        credits: int,
        granted_at: datetime,
        expires_at: datetime | None,
        moved_from: _Lot | None = None,
    ) -> _Lot:
        lot = _Lot(
            order=_NEW_LOT + len(self.new_lots),
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
        return lot

    @staticmethod
    def _take(lot: _Lot, credits: int) -> None:
        if lot.remaining < credits:
            raise InsufficientCredits("The credits were taken by another operation; try again.")
        lot.remaining -= credits
        if not lot.new:
            lot.taken += credits

    def _move(
        self,
        source: _Account,
        target: _Account,
        credits: int,
        *,
        at: datetime,
        operation: _Operation,
        memo: str,
    ) -> None:
        spendable = sorted(
            (lot for lot in source.live_lots() if lot.expires_at is None or lot.expires_at > at),
            key=_Lot.spend_key,
        )
        pieces: list[tuple[_Lot, int]] = []
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
            moved = self._new_lot(
                target,
                source=lot.source,
                credits=piece,
                granted_at=lot.granted_at,
                expires_at=lot.expires_at,
                moved_from=lot,
            )
            self._post(
                target,
                at=at,
                kind=EntryKind.ALLOCATION,
                amount=piece,
                lot=moved,
                operation=operation,
                cause="refresh",
                memo=memo,
            )

    # catch_up._expire, _trim_above_cap, _grant, _refresh_seat, _refresh_pool ---------------

    def _expire(self, account: _Account, at: datetime, operation: _Operation) -> None:
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
                memo=ngettext(
                    "%(count)d credit reached the end of its life",
                    "%(count)d credits reached the end of their life",
                    credits,
                )
                % {"count": credits},
            )

    def _trim_above_cap(
        self,
        accounts: Sequence[_Account],
        excess: int,
        *,
        at: datetime,
        refresh: _Refresh,
        operation: _Operation,
    ) -> None:
        by_id = {account.id: account for account in accounts}
        lots = sorted(
            (
                lot
                for account in accounts
                for lot in account.live_lots()
                if lot.source != LotSource.PURCHASE
            ),
            key=_Lot.spend_key,
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
                memo=f"Above the cap of {refresh.cap} at the refresh",
                refresh=refresh,
            )
            left -= piece

    def _grant(
        self,
        account: _Account,
        *,
        at: datetime,
        monthly: int,
        cap: int,
        capped_before: int,
        lifetime_days: int | None,
        operation: _Operation,
    ) -> _Refresh:
        granted = grant_under_cap(monthly=monthly, cap=cap, capped=capped_before)
        refresh = _Refresh(
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
            memo = f"Monthly refresh: {granted} of {monthly}"
            if granted < monthly:
                memo += f" ({monthly - granted} lost to the cap of {cap})"
            expires_at = None if lifetime_days is None else schedule.add_days(at, lifetime_days)
            lot = self._new_lot(
                account,
                source=LotSource.GRANT,
                credits=granted,
                granted_at=at,
                expires_at=expires_at,
            )
            self._post(
                account,
                at=at,
                kind=EntryKind.GRANT,
                amount=granted,
                lot=lot,
                operation=operation,
                cause="refresh",
                memo=memo,
                refresh=refresh,
            )
        return refresh

    def _refresh_seat(self, account: _Account, at: datetime, operation: _Operation) -> None:
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

    def _refresh_pool(
        self, pool: _Account, group: Sequence[_Account], at: datetime, operation: _Operation
    ) -> None:
        # catch_up._pooled_seats_active_at: activated strictly before `at`, not cancelled by it.
        seats = sorted(
            (
                account
                for account in group
                if account.kind == AccountKind.SEAT
                and account.refresh == AccountRefresh.NONE
                and account.team_id == pool.team_id
                and account.seat is not None
                and account.seat.activation_at < at
                and not (account.seat.cancelled_at is not None and account.seat.cancelled_at <= at)
            ),
            key=lambda account: account.seat_id or 0,
        )
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
                    memo=f"Monthly allocation: {credits} of {allocation}",
                )

    # catch_up._bring_up_to_date, LockedGroup.update_next_due and save -----------------------

    def bring_up_to_date(self, accounts: Sequence[_Account], until: datetime) -> None:
        """One group (its accounts in id order, as `LockedGroup.values()` gives them)."""
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
            operation = _Operation()
            for account in due_now:
                self._expire(account, at, operation)
            for account in due_now:
                if _refresh_due_at(account) == at:
                    if account.kind == AccountKind.POOL:
                        self._refresh_pool(account, accounts, at, operation)
                    else:
                        self._refresh_seat(account, at, operation)
            due_ids = {a.id for a in due_now}
            for account in accounts:
                if account.id in due_ids or account.balance != balances[account.id]:
                    account.next_due_at = _next_due(account)
                    due_computed[account.id] = account.holding()
                    account.synced_until = max(account.synced_until, at)
                    eventful.add(account.id)
        for account in accounts:
            if account.id in eventful:
                account.synced_until = max(account.synced_until, until)
            if account.holding() != due_computed[account.id]:
                account.next_due_at = _next_due(account)
            if account.state() != loaded[account.id]:
                self.changed.append(account)


# --------------------------------------------------------------------------------------------
# Reading a batch under its locks
# --------------------------------------------------------------------------------------------


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    # Raw SQL with arrays (`= ANY(%s)`): an IN list of a thousand ids costs more to build and
    # bind, in Django and psycopg, than the query takes on the server.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _pool_group_members(team_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each team's pool and open pooled seats: the accounts of its pool group."""
    members: dict[int, set[int]] = defaultdict(set)
    rows = _rows(
        "SELECT id, team_id FROM ledger_account WHERE team_id = ANY(%s) "
        "AND (kind = %s OR (kind = %s AND refresh = %s AND is_open))",
        [list(team_ids), AccountKind.POOL, AccountKind.SEAT, AccountRefresh.NONE],
    )
    for pk, team_id in rows:
        members[team_id].add(pk)
    return members


def _read_state(rows: list[tuple[Any, ...]]) -> dict[int, _Account]:
    """The locked accounts with their seats, lots with credits left and last refresh."""
    accounts: dict[int, _Account] = {}
    for pk, kind, seat_id, team_id, anchor_on, refresh, balance, synced, due, is_open in rows:
        accounts[pk] = _Account(
            pk, kind, seat_id, team_id, anchor_on, refresh, balance, synced, due, is_open, None
        )
    seat_ids = [a.seat_id for a in accounts.values() if a.seat_id is not None]
    plans: dict[tuple[int, int, int | None], _Plan] = {}
    seats: dict[int, _Seat] = {}
    for pk, activated_on, cancelled_at, allocation, monthly, cap, lifetime in _rows(
        "SELECT seat.id, seat.activated_on, seat.cancelled_at, seat.monthly_allocation, "
        "plan.monthly_credits, plan.max_balance, plan.credit_lifetime_days "
        "FROM teams_seat AS seat JOIN teams_plan AS plan ON plan.id = seat.plan_id "
        "WHERE seat.id = ANY(%s)",
        [seat_ids],
    ):
        plan = plans.setdefault((monthly, cap, lifetime), _Plan(monthly, cap, lifetime))
        seats[pk] = _Seat(schedule.start_of_day(activated_on), cancelled_at, allocation, plan)
    for account in accounts.values():
        if account.seat_id is not None:
            account.seat = seats[account.seat_id]
    lots = _rows(
        "SELECT id, account_id, source, granted_at, expires_at, initial, remaining "
        "FROM ledger_lot WHERE account_id = ANY(%s) AND remaining > 0 ORDER BY id",
        [list(accounts)],
    )
    for pk, account_id, source, granted_at, expires_at, initial, remaining in lots:
        accounts[account_id].lots.append(
            _Lot(pk, account_id, source, granted_at, expires_at, initial, remaining, id=pk)
        )
    refreshing = [a.id for a in accounts.values() if a.refresh != AccountRefresh.NONE]
    last_periods = _rows(
        "SELECT account_id, MAX(period_on) FROM ledger_refresh "
        "WHERE account_id = ANY(%s) AND kind = %s GROUP BY account_id",
        [refreshing, RefreshKind.REFRESH],
    )
    for account_id, last in last_periods:
        accounts[account_id].last_period = last
    return accounts


@dataclass
class _Batch:
    groups: list[list[_Account]]
    # Due accounts whose group could not be locked without waiting.
    deferred: list[int]


def _lock_batch(candidates: list[tuple[int, str, str, int]]) -> _Batch:
    solo = [
        pk
        for pk, kind, refresh, _ in candidates
        if kind == AccountKind.SEAT and refresh != AccountRefresh.NONE
    ]
    pooled: dict[int, list[int]] = defaultdict(list)
    for pk, kind, refresh, team_id in candidates:
        if not (kind == AccountKind.SEAT and refresh != AccountRefresh.NONE):
            pooled[team_id].append(pk)
    wanted_ids = set(solo)
    for ids in _pool_group_members(pooled).values():
        wanted_ids |= ids
    rows = _rows(
        "SELECT id, kind, seat_id, team_id, anchor_on, refresh, balance, synced_until, "
        "next_due_at, is_open FROM ledger_account "
        "WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED",
        [sorted(wanted_ids)],
    )
    accounts = _read_state(rows)
    groups: list[list[_Account]] = []
    deferred: list[int] = []
    for pk in solo:
        if pk in accounts:
            groups.append([accounts[pk]])
        else:
            deferred.append(pk)
    # Read again under the locks: a pooled seat activated meanwhile joined its group.
    members = _pool_group_members(pooled)
    for team_id, due in pooled.items():
        ids = members[team_id] | set(due)
        if ids <= accounts.keys():
            groups.append([accounts[pk] for pk in sorted(ids)])
        else:
            deferred.extend(due)
    return _Batch(groups, deferred)


# --------------------------------------------------------------------------------------------
# Writing a batch
# --------------------------------------------------------------------------------------------


def _draw_ids(model: type[Model], count: int) -> list[int]:
    """`count` ids from the table's sequence, ascending: rows written with them sort in the
    order they were created, as if each had been inserted in turn."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _copy(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write rows with COPY (their ids drawn beforehand)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


ENTRY_COLUMNS = (
    "id",
    "account_id",
    "at",
    "kind",
    "amount",
    "balance_after",
    "lot_id",
    "inmail_id",
    "refresh_id",
    "actor_id",
    "cause",
    "memo",
    "operation_id",
    "created_at",
)


def insert_entries(rows: Sequence[Sequence[Any]]) -> None:
    """Insert entries (tuples of ENTRY_COLUMNS, ids drawn from the sequence) in one COPY.

    The one place the batched catch-up writes entries: whatever must happen in the same
    transaction as an entry insert (rollups, say) belongs here.
    """
    _copy(Entry, ENTRY_COLUMNS, rows)


def _write(simulation: _Simulation, now: datetime) -> None:
    for operation, pk in zip(
        simulation.operations, _draw_ids(Operation, len(simulation.operations)), strict=True
    ):
        operation.id = pk
    for refresh, pk in zip(
        simulation.refreshes, _draw_ids(Refresh, len(simulation.refreshes)), strict=True
    ):
        refresh.id = pk
    for lot, pk in zip(simulation.new_lots, _draw_ids(Lot, len(simulation.new_lots)), strict=True):
        lot.id = pk
    entry_ids = _draw_ids(Entry, len(simulation.entries))

    _copy(
        Operation,
        ("id", "at", "kind", "actor_id", "via", "memo", "created_at"),
        (
            (op.id, op.at, OperationKind.CATCH_UP, None, _SYSTEM, "", now)
            for op in simulation.operations
        ),
    )
    _copy(
        Refresh,
        (
            "id",
            "account_id",
            "kind",
            "period_on",
            "due_at",
            "seat_id",
            "monthly",
            "cap",
            "capped_before",
            "granted",
            "lost_to_cap",
            "created_at",
        ),
        (
            (
                r.id,
                r.account_id,
                r.kind,
                r.period_on,
                r.due_at,
                None,
                r.monthly,
                r.cap,
                r.capped_before,
                r.granted,
                r.lost_to_cap,
                now,
            )
            for r in simulation.refreshes
        ),
    )
    _copy(
        Lot,
        (
            "id",
            "account_id",
            "source",
            "granted_at",
            "expires_at",
            "initial",
            "remaining",
            "moved_from_id",
            "refund_of_id",
            "created_at",
        ),
        (
            (
                lot.id,
                lot.account_id,
                lot.source,
                lot.granted_at,
                lot.expires_at,
                lot.initial,
                lot.remaining,
                lot.moved_from.id if lot.moved_from is not None else None,
                None,
                now,
            )
            for lot in simulation.new_lots
        ),
    )
    entry_rows = [
        (
            pk,
            e.account.id,
            e.at,
            e.kind,
            e.amount,
            e.balance_after,
            e.lot.id,
            None,
            e.refresh.id if e.refresh is not None else None,
            None,
            e.cause,
            e.memo,
            e.operation.id,
            now,
        )
        for pk, e in zip(entry_ids, simulation.entries, strict=True)
    ]
    insert_entries(entry_rows)
    _take_from_lots(simulation)
    _save_accounts(simulation.changed)
    if entry_rows and wanted(events.ENTRY_CREATED):
        for row, e in zip(entry_rows, simulation.entries, strict=True):
            entry = Entry(**dict(zip(ENTRY_COLUMNS, row, strict=True)))
            webhooks.announce_entry(entry, e.account.seat_id)  # R23


def _take_from_lots(simulation: _Simulation) -> None:
    drawn: dict[int, int] = {}
    for entry in simulation.entries:
        lot = entry.lot
        if not lot.new and lot.taken:
            drawn[lot.id] = lot.taken
    if not drawn:
        return
    with connection.cursor() as cursor:
        # The accounts are locked; the condition still makes the database, not this
        # process's view of the rows, the last word on whether the credits are there.
        cursor.execute(
            "UPDATE ledger_lot AS lot SET remaining = lot.remaining - v.taken "
            "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, taken) "
            "WHERE lot.id = v.id AND lot.remaining >= v.taken",
            [list(drawn), list(drawn.values())],
        )
        if cursor.rowcount != len(drawn):
            raise InsufficientCredits("The credits were taken by another operation; try again.")


def _save_accounts(accounts: list[_Account]) -> None:
    if not accounts:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account AS account SET balance = v.balance, "
            "synced_until = v.synced_until, next_due_at = v.next_due_at "
            "FROM unnest(%s::bigint[], %s::integer[], %s::timestamptz[], %s::timestamptz[]) "
            "AS v(id, balance, synced_until, next_due_at) WHERE account.id = v.id",
            [
                [a.id for a in accounts],
                [a.balance for a in accounts],
                [a.synced_until for a in accounts],
                [a.next_due_at for a in accounts],
            ],
        )


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def ledger_bring_all_up_to_date_batched(
    *, until: datetime | None = None, batch_size: int | None = None
) -> int:
    """Apply everything due up to `until` on every open account, a batch of groups per
    transaction; returns the groups applied. PostgreSQL only (see the module's docstring)."""
    until = until or timezone.now()
    batch_size = batch_size or BATCH_SIZE
    applied = 0
    deferred: list[int] = []
    after: tuple[datetime, int] | None = None
    while True:
        due = Account.objects.filter(is_open=True, next_due_at__lte=until)
        if after is not None:
            due = due.filter(Q(next_due_at__gt=after[0]) | Q(next_due_at=after[0], pk__gt=after[1]))
        candidates = list(
            due.order_by("next_due_at", "pk").values_list(
                "next_due_at", "pk", "kind", "refresh", "team_id"
            )[:batch_size]
        )
        if not candidates:
            break
        with transaction.atomic():
            batch = _lock_batch(
                [(pk, kind, refresh, team) for _, pk, kind, refresh, team in candidates]
            )
            simulation = _Simulation()
            for group in batch.groups:
                simulation.bring_up_to_date(group, until)
            _write(simulation, timezone.now())
        applied += len(batch.groups)
        deferred.extend(batch.deferred)
        last_due, last_pk = candidates[-1][:2]
        after = (last_due or until, last_pk)
    # What someone else held: wait for it now, one group at a time (the per-group path).
    done: set[int] = set()
    for pk in deferred:
        if pk in done:
            continue
        with transaction.atomic():
            locked = _lock_groups(Account.objects.get(pk=pk))
            _bring_up_to_date(locked, until)
        done.update(locked.accounts)
        applied += 1
    return applied
