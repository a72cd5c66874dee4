"""Who caused a write, and the one lock order of the ledger (R17, R18)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet, Subquery

from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
    Lot,
)
from ledger.services.accounts import _update_next_due, pool_of
from ledger.services.prepared import Prepared, save_fields_many
from teams.models import Seat, User


@dataclass(frozen=True)
class Cause:
    """Who or what caused a write; every entry records it (R15)."""

    actor: User | None
    via: str

    @classmethod
    def system(cls, via: str = "system") -> Cause:
        return cls(actor=None, via=via)


# --------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------

_ALL_OR_NOTHING: ContextVar[bool] = ContextVar("ledger_all_or_nothing", default=False)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """Within it, the caller undoes its whole transaction on any exception (the API's
    idempotent requests do), so a service inside needs no savepoint of its own."""
    reset = _ALL_OR_NOTHING.set(True)
    try:
        yield
    finally:
        _ALL_OR_NOTHING.reset(reset)


def service_atomic() -> transaction.Atomic:
    """A service's transaction: a savepoint when nested, unless the caller is
    `all_or_nothing` (a savepoint is two statements more)."""
    return transaction.atomic(savepoint=not _ALL_OR_NOTHING.get())


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


def _seat_group(seat_id: int) -> Q:
    """`_group_ids` of a seat's account as one condition: the account, and if it is a pooled
    seat's, its team's pool and open pooled seats."""
    # A scalar subquery (not IN): its value is known before the scan, so both halves of the
    # OR are index lookups.
    pooled_team = Subquery(
        Account.objects.filter(seat_id=seat_id, refresh=AccountRefresh.NONE).values("team_id")
    )
    return Q(seat_id=seat_id) | (
        Q(team_id=pooled_team)
        & (
            Q(kind=AccountKind.POOL)
            | Q(kind=AccountKind.SEAT, refresh=AccountRefresh.NONE, is_open=True)
        )
    )


def _seat_group_newest(seat_id: int) -> Subquery:
    """The highest id in the seat's group now, for a read after `_lock_seat_group`: one
    above what was locked means the group grew while the locks were awaited."""
    return Subquery(Account.objects.filter(_seat_group(seat_id)).order_by("-pk").values("pk")[:1])


# An account's state that its locks' holder caches and writes back (`LockedGroup.save`).
_CACHED_STATE = ("balance", "synced_until", "next_due_at", "is_open")


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

    def due_worked_out(self) -> None:
        """Every account's next due instant was just worked out for what it now holds (the
        catch-up does it in memory)."""
        for pk, account in self.accounts.items():
            self._due_computed[pk] = self._holding(account)

    def spent_from(self, account: Account, lot: Lot, credits: int) -> None:
        """`credits` were just taken from `lot`: if it still holds some, no due instant moved
        (the next expiry is one of the lots holding credits, and the next refresh does not
        depend on the balance), so the account's next due instant needs no reading again."""
        if lot.remaining > 0 and self._due_computed[account.pk] == (
            account.balance + credits,
            account.is_open,
        ):
            self._due_computed[account.pk] = self._holding(account)

    def load_seats(self) -> None:
        """Read the seats of accounts locked without them (`_lock_seat_group`), by pk."""
        missing = [
            a for a in self.accounts.values() if a.seat_id is not None and not _seat_cached(a)
        ]
        if missing:
            seats = Seat.objects.select_related("plan", "holder").in_bulk(
                [a.seat_id for a in missing]
            )
            for account in missing:
                account.seat = seats[account.seat_id]

    def save(self) -> None:
        self.update_next_due()
        changed = [
            account
            for pk, account in self.accounts.items()
            if self._state(account) != self._loaded[pk]
        ]
        save_fields_many(changed, _CACHED_STATE)
        for account in changed:
            self._loaded[account.pk] = self._state(account)

    def add(self, other: LockedGroup) -> None:
        self.accounts.update(other.accounts)
        self._loaded.update(other._loaded)
        self._due_computed.update(other._due_computed)


def _seat_cached(account: Account) -> bool:
    return bool(Account.seat.is_cached(account))


def _lock_seat_group(seat_id: int) -> LockedGroup:
    """Lock a seat's group (`_group_ids` of its account) in one statement, in ascending id
    order, without reading the seats: the caller reads the one it needs after the lock, and
    `load_seats` the others if it must.

    The rows are locked in the order the statement sorts them. A group with a pool may grow
    while the pool's lock is awaited (see `_lock_groups`); the caller compares
    `_seat_group_newest` read after the lock with the newest account locked, and takes the
    newcomers with `lock_newcomers`.
    """
    return LockedGroup(_SEAT_GROUP_LOCK.rows({}, seat_id=seat_id))


def _seat_group_for_update(*, seat_id: int) -> QuerySet[Account]:
    return Account.objects.select_for_update().filter(_seat_group(seat_id)).order_by("pk")


# Compiled once per process (`Prepared`): every send takes this lock first.
_SEAT_GROUP_LOCK = Prepared(_seat_group_for_update)


def lock_newcomers(group: LockedGroup, seat_id: int, newest: int | None) -> None:
    """Lock the accounts that joined the seat's group while `_lock_seat_group` waited."""
    if newest is not None and newest > max(group.accounts):
        fresh = set(
            Account.objects.filter(_seat_group(seat_id), pk__gt=max(group.accounts)).values_list(
                "pk", flat=True
            )
        )
        group.add(_lock(fresh))


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
