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
4. the catch-up itself on that state: `catch_up_rules.CatchUp`, the one the per-group path
   runs too, so every entry, lot, refresh and operation is the one the per-group path would
   have written, in the same id order;
5. the writes in a few statements: ids drawn from the sequences, then `COPY` for operations,
   refreshes, lots and entries (all entries go through `insert_entries`), and one `UPDATE … FROM
   unnest(…)` each for the lots drawn on and the accounts that changed.

Each batch is one short transaction, so a run killed half-way leaves whole batches done, and
two runs at once never apply anything twice (the second skips the locked accounts or finds them
done). `catch_up` keeps the per-group path for everything else (a send brings its own account
up to date) and for SQLite, which has neither row locks nor `COPY`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from ledger import schedule
from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    Lot,
    Operation,
    OperationKind,
    Refresh,
    RefreshKind,
)
from ledger.services.catch_up import _bring_up_to_date
from ledger.services.catch_up_rules import AccountState, CatchUp, LotState, PlanState, SeatState
from ledger.services.locking import _lock_groups
from ledger.services.posting import _take_many
from ledger.services.prepared import update_rows
from ledger.webhooks import announce as webhooks  # R23
from ledger.webhooks import events
from ledger.webhooks.outbox import wanted

# Accounts a batch starts from (groups bring their other members along). A batch holds its
# locks for a fraction of a second: a send that wants one of them waits that long.
BATCH_SIZE = 500
_SYSTEM = "system"


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


def _read_state(rows: list[tuple[Any, ...]]) -> dict[int, AccountState]:
    """The locked accounts with their seats, lots with credits left and last refresh."""
    accounts: dict[int, AccountState] = {}
    for pk, kind, seat_id, team_id, anchor_on, refresh, balance, synced, due, is_open in rows:
        accounts[pk] = AccountState(
            pk, kind, seat_id, team_id, anchor_on, refresh, balance, synced, due, is_open, None
        )
    seat_ids = [a.seat_id for a in accounts.values() if a.seat_id is not None]
    plans: dict[tuple[int, int, int | None], PlanState] = {}
    seats: dict[int, SeatState] = {}
    for pk, activated_on, cancelled_at, allocation, monthly, cap, lifetime in _rows(
        "SELECT seat.id, seat.activated_on, seat.cancelled_at, seat.monthly_allocation, "
        "plan.monthly_credits, plan.max_balance, plan.credit_lifetime_days "
        "FROM teams_seat AS seat JOIN teams_plan AS plan ON plan.id = seat.plan_id "
        "WHERE seat.id = ANY(%s)",
        [seat_ids],
    ):
        plan = plans.setdefault((monthly, cap, lifetime), PlanState(monthly, cap, lifetime))
        seats[pk] = SeatState(schedule.start_of_day(activated_on), cancelled_at, allocation, plan)
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
            LotState(pk, account_id, source, granted_at, expires_at, initial, remaining, id=pk)
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
    groups: list[list[AccountState]]
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
    groups: list[list[AccountState]] = []
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


def _write(simulation: CatchUp, now: datetime) -> None:
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


def _take_from_lots(simulation: CatchUp) -> None:
    # posting._take_many: the database has the last word on whether the credits are there.
    _take_many({e.lot.id: e.lot.taken for e in simulation.entries if not e.lot.new and e.lot.taken})


def _save_accounts(accounts: list[AccountState]) -> None:
    if accounts:
        update_rows(
            Account,
            ("balance", "synced_until", "next_due_at"),
            [a.id for a in accounts],
            [
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
            simulation = CatchUp()
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
