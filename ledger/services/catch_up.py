"""Bringing accounts up to date (R17): expiries, refreshes under the cap, allocations.

The rule is `catch_up_rules` (plain state in, what it writes out); this module reads a locked
group's state for it and writes the result through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from ledger import schedule
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
from ledger.services import catch_up_rules
from ledger.services.locking import Cause, LockedGroup, _lock_groups
from ledger.services.posting import OpenOperation, _new_lot, _take_many
from ledger.webhooks import announce as webhooks  # R23
from teams.models import Seat


def _pooled_seats_active_at(
    group: LockedGroup, pool: Account, at: datetime, *, activated_at_instant: bool = False
) -> list[Account]:
    """The pool's seat accounts in the group whose seat counts at a pool grant at `at`
    (`catch_up_rules.seat_active_at`), in seat order: for an activation's cap, which also
    counts the seats activated at the same instant."""
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
        if catch_up_rules.seat_active_at(
            schedule.start_of_day(seat.activated_on),
            seat.cancelled_at,
            at,
            activated_at_instant=activated_at_instant,
        ):
            active.append(account)
    return sorted(active, key=lambda account: account.seat_id or 0)


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
    """A seat's activation grant: its monthly credits subject to the cap (R4), and what the cap
    kept back. (The monthly refreshes are `catch_up_rules.CatchUp`'s.)"""
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
            memo=catch_up_rules.grant_memo(kind, granted=granted, monthly=monthly, cap=cap),
            refresh=refresh,
        )
    return refresh


# --------------------------------------------------------------------------------------------
# One locked group: read its state, apply the rule, write what it wrote
# --------------------------------------------------------------------------------------------


def _read_state(group: LockedGroup) -> list[catch_up_rules.AccountState]:
    """The group's accounts as `catch_up_rules` takes them: their cached state as locked (and
    changed since), their lots holding credits, and their last refresh."""
    group.load_seats()
    accounts = group.values()
    plans: dict[int, catch_up_rules.PlanState] = {}
    states: dict[int, catch_up_rules.AccountState] = {}
    for account in accounts:
        state = catch_up_rules.AccountState(
            account.pk,
            account.kind,
            account.seat_id,
            account.team_id,
            account.anchor_on,
            account.refresh,
            account.balance,
            account.synced_until,
            account.next_due_at,
            account.is_open,
            None,
        )
        if account.seat is not None:
            seat = account.seat
            plan = seat.plan
            if plan.pk not in plans:
                plans[plan.pk] = catch_up_rules.PlanState(
                    plan.monthly_credits, plan.max_balance, plan.credit_lifetime_days
                )
            state.seat = catch_up_rules.SeatState(
                schedule.start_of_day(seat.activated_on),
                seat.cancelled_at,
                seat.monthly_allocation,
                plans[plan.pk],
            )
        states[account.pk] = state
    for pk, account_id, source, granted_at, expires_at, initial, remaining in (
        Lot.objects.filter(account_id__in=states, remaining__gt=0)
        .order_by("pk")
        .values_list(
            "pk", "account_id", "source", "granted_at", "expires_at", "initial", "remaining"
        )
    ):
        states[account_id].lots.append(
            catch_up_rules.LotState(
                pk, account_id, source, granted_at, expires_at, initial, remaining, id=pk
            )
        )
    refreshing = [a.pk for a in accounts if a.refresh != AccountRefresh.NONE]
    if refreshing:
        for account_id, last in (
            Refresh.objects.filter(account_id__in=refreshing, kind=RefreshKind.REFRESH)
            .values("account_id")
            .annotate(last=Max("period_on"))
            .values_list("account_id", "last")
        ):
            states[account_id].last_period = last
    return list(states.values())


def _write(done: catch_up_rules.CatchUp, group: LockedGroup) -> None:
    """Write what the catch-up wrote, in the order it was created (ids in that order)."""
    operations = Operation.objects.bulk_create(
        OpenOperation(OperationKind.CATCH_UP, Cause.system()).unsaved_row(op.at or timezone.now())
        for op in done.operations
    )
    for operation, operation_row in zip(done.operations, operations, strict=True):
        operation.id = operation_row.pk
    refreshes = Refresh.objects.bulk_create(
        Refresh(
            account_id=r.account_id,
            kind=r.kind,
            period_on=r.period_on,
            due_at=r.due_at,
            monthly=r.monthly,
            cap=r.cap,
            capped_before=r.capped_before,
            granted=r.granted,
            lost_to_cap=r.lost_to_cap,
        )
        for r in done.refreshes
    )
    for refresh, refresh_row in zip(done.refreshes, refreshes, strict=True):
        refresh.id = refresh_row.pk
    _create_lots(done.new_lots)
    entries = Entry.objects.bulk_create(
        Entry(
            account_id=e.account.id,
            at=e.at,
            kind=e.kind,
            amount=e.amount,
            balance_after=e.balance_after,
            lot_id=e.lot.id,
            refresh_id=e.refresh.id if e.refresh is not None else None,
            actor=None,
            cause=e.cause,
            memo=e.memo,
            operation_id=e.operation.id,
        )
        for e in done.entries
    )
    # posting._take_many: the database has the last word on whether the credits are there.
    _take_many({e.lot.id: e.lot.taken for e in done.entries if not e.lot.new and e.lot.taken})
    for state in done.changed:
        account = group[state.id]
        account.balance = state.balance
        account.synced_until = state.synced_until
        account.next_due_at = state.next_due_at
    for entry, e in zip(entries, done.entries, strict=True):
        webhooks.announce_entry(entry, e.account.seat_id)  # R23


def _create_lots(lots: list[catch_up_rules.LotState]) -> None:
    """Insert the new lots in the order they were created; a lot moved from one created in the
    same catch-up (a pool grant's, allocated) waits for that one's id."""
    pending: list[catch_up_rules.LotState] = []

    def insert() -> None:
        rows = Lot.objects.bulk_create(
            Lot(
                account_id=lot.account_id,
                source=lot.source,
                granted_at=lot.granted_at,
                expires_at=lot.expires_at,
                initial=lot.initial,
                remaining=lot.remaining,
                moved_from_id=lot.moved_from.id if lot.moved_from is not None else None,
            )
            for lot in pending
        )
        for lot, row in zip(pending, rows, strict=True):
            lot.id = row.pk
        pending.clear()

    for lot in lots:
        if lot.moved_from is not None and lot.moved_from.new and not lot.moved_from.id:
            insert()
        pending.append(lot)
    insert()


def _bring_up_to_date(group: LockedGroup, until: datetime) -> None:
    """Apply every expiry and refresh due up to `until` on a locked group, in time order
    (R17; the rule is `catch_up_rules.CatchUp.bring_up_to_date`), and save the group.

    Usually nothing is due: that costs no read beyond the accounts the caller locked.
    """
    # A write since the lock (a new lot, say) may have brought a due instant forward.
    group.update_next_due()
    if any(a.next_due_at is not None and a.next_due_at <= until for a in group.values()):
        done = catch_up_rules.CatchUp()
        done.bring_up_to_date(_read_state(group), until)
        _write(done, group)
        # The rule worked out every account's next due instant for what it now holds.
        group.due_worked_out()
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
