"""Who caused a write, and the one lock order of the ledger (R17, R18)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
)
from ledger.services.accounts import _update_next_due, pool_of
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
