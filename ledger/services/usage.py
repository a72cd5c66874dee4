"""A seat's usage limit: paid InMails per usage period (R20).

The limit caps the paid InMails (`credit_cost` 1) a seat sends in a usage period, which starts
at each refresh instant of the schedule that grants the seat its credits (a pooled seat's:
its pool's) and, before the first one, at the seat's activation (`schedule.usage_period`).
Open Profile InMails cost nothing and are neither counted nor refused; a refund gives the
credit back but not the usage (the send still happened). The count is read under the lock a
send takes on the seat's accounts (`inmail_send` calls `check_usage_limit` there), so two sends
at one below the limit can't both pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ledger import schedule
from ledger.exceptions import LedgerValidationError, UsageLimitReached
from ledger.models import Account, AccountKind, AccountRefresh, InMail
from ledger.services.accounts import pool_of
from ledger.services.locking import Cause, _lock_groups
from ledger.services.seats import seat_update_settings, usage_limit_valid
from teams.models import Seat, SeatStatus, Team
from teams.services import audit_record


@dataclass(frozen=True)
class SeatUsage:
    """What a seat used of its limit in the usage period containing `at`."""

    used: int
    limit: int | None
    period_start: datetime
    # When the period ends and the count starts again from zero.
    resets_at: datetime

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def share(self) -> float | None:
        """How much of the limit is used, 0–1 and above; None without a (positive) limit."""
        if not self.limit:
            return None
        return self.used / self.limit


def _schedule_account(seat: Seat, account: Account, pool: Account | None) -> Account:
    """The account whose refreshes start a seat's usage periods: its pool's for a pooled seat."""
    if account.refresh == AccountRefresh.NONE and pool is not None:
        return pool
    return account


def usage_period_of(
    seat: Seat, account: Account, pool: Account | None, at: datetime
) -> tuple[datetime, datetime]:
    """The usage period (start, end) of a seat at `at` (R20)."""
    source = _schedule_account(seat, account, pool)
    rule = seat.plan.refresh if source.refresh == AccountRefresh.NONE else source.refresh
    return schedule.usage_period(
        activated_at=schedule.start_of_day(seat.activated_on),
        anchor_on=source.anchor_on,
        rule=rule,
        at=at,
    )


# What a usage limit counts: paid InMails; imported history was never charged. The columns
# are in `inmail_seat_sent_idx` (INCLUDE), so a count is an index-only scan per seat.
_PAID = Q(credit_cost=1, imported=False)


def paid_sends_since(seat: Seat, start: datetime, until: datetime) -> int:
    """Paid InMails the seat sent in [start, until]."""
    return InMail.objects.filter(_PAID, seat=seat, sent_at__gte=start, sent_at__lte=until).count()


def seat_usage(seat: Seat, *, at: datetime | None = None) -> SeatUsage:
    """A seat's usage of its limit in the period containing `at` (default now)."""
    at = at or timezone.now()
    account = Account.objects.get(seat=seat)
    pool = pool_of(seat.team_id) if account.refresh == AccountRefresh.NONE else None
    return _usage(seat, account, pool, at)


def seats_usage(seats: Iterable[Seat], *, at: datetime | None = None) -> dict[int, SeatUsage]:
    """`seat_usage` for many seats in three queries however many there are: their accounts,
    their pools, and one count grouped by seat."""
    seats = list(seats)
    accounts = {
        a.seat_id: a for a in Account.objects.filter(seat__in=seats) if a.seat_id is not None
    }
    pools = {
        a.team_id: a
        for a in Account.objects.filter(
            kind=AccountKind.POOL, team_id__in={seat.team_id for seat in seats}
        )
    }
    return usage_of_seats(seats, accounts=accounts, pools=pools, at=at or timezone.now())


def usage_of_seats(
    seats: Iterable[Seat],
    *,
    accounts: Mapping[int, Account],
    pools: Mapping[int, Account],
    at: datetime,
) -> dict[int, SeatUsage]:
    """The usage of seats whose accounts (by seat id) and team pools (by team id) the caller
    has read already: one count grouped by seat, each seat from its own period's start (none
    at all without seats)."""
    periods = {
        seat.pk: (seat, usage_period_of(seat, accounts[seat.pk], pools.get(seat.team_id), at))
        for seat in seats
        if seat.pk in accounts
    }
    if not periods:
        return {}
    # Each seat counted from its own period's start, along its own range of
    # `inmail_seat_sent_idx` (a correlated count: an index-only scan per seat, where one
    # condition per period start OR-ed together read every InMail of the period from the
    # table). Seats sharing a billing day share a WHEN: at most a few dozen.
    seats_from: dict[datetime, list[int]] = defaultdict(list)
    for seat_id, (_, (start, _)) in periods.items():
        seats_from[start].append(seat_id)
    period_start = Case(
        *(When(pk__in=seat_ids, then=Value(start)) for start, seat_ids in seats_from.items()),
        output_field=DateTimeField(),
    )
    used = (
        InMail.objects.filter(
            _PAID, seat=OuterRef("pk"), sent_at__gte=OuterRef("period_start"), sent_at__lte=at
        )
        .order_by()
        .values("seat")
        .annotate(n=Count("*"))  # not COUNT(id): the index has no id
        .values("n")
    )
    counts = dict(
        Seat.objects.filter(pk__in=periods)
        .annotate(period_start=period_start)
        .annotate(used=Coalesce(Subquery(used, output_field=IntegerField()), 0))
        .order_by()
        .values_list("pk", "used")
    )
    return {
        seat_id: SeatUsage(
            used=counts.get(seat_id, 0),
            limit=seat.monthly_usage_limit,
            period_start=start,
            resets_at=end,
        )
        for seat_id, (seat, (start, end)) in periods.items()
    }


def _usage(seat: Seat, account: Account, pool: Account | None, at: datetime) -> SeatUsage:
    start, end = usage_period_of(seat, account, pool, at)
    return SeatUsage(
        used=paid_sends_since(seat, start, at),
        limit=seat.monthly_usage_limit,
        period_start=start,
        resets_at=end,
    )


def resets_on_text(usage: SeatUsage) -> str:
    """ "Dec 14": the local day the usage count starts again."""
    day = schedule.local_date(usage.resets_at)
    return f"{day:%b} {day.day}"


def check_usage_limit(seat: Seat, account: Account, pool: Account | None, at: datetime) -> None:
    """Refuse a paid send beyond the seat's usage limit (R20). Call it under the send's locks."""
    if seat.monthly_usage_limit is None:
        return
    usage = _usage(seat, account, pool, at)
    if usage.reached:
        raise UsageLimitReached(
            f"This seat has used its limit of {usage.limit} paid InMails for this period; "
            f"it resets on {resets_on_text(usage)} "
            f"({schedule.local_date(usage.resets_at):%Y-%m-%d}). Open Profile InMails are "
            "still allowed."
        )


# --------------------------------------------------------------------------------------------
# Setting the limit: one seat, or many at once
# --------------------------------------------------------------------------------------------


def seat_set_usage_limit(*, seat: Seat, limit: int | None, cause: Cause) -> Seat:
    """Give a seat a usage limit, or none (R20); it applies at once to the current period.

    One of the seat's settings (`seat_update_settings` writes it under the lock a send takes,
    so a send in flight counts against the limit it read and the next one against the new).
    """
    return seat_update_settings(seat=seat, cause=cause, monthly_usage_limit=limit)


def seats_set_usage_limit(
    *, team: Team, limit: int | None, cause: Cause, seats: Iterable[Seat] | None = None
) -> list[Seat]:
    """Set one usage limit on many seats of a team: every active seat, or the ones given.

    All or nothing: a seat outside the team or cancelled refuses the whole change (400), so a
    lead never half-applies a limit.
    """
    limit = usage_limit_valid(limit)
    with transaction.atomic():
        if seats is None:
            chosen = list(Seat.objects.filter(team=team, status=SeatStatus.ACTIVE).order_by("pk"))
        else:
            chosen = sorted({seat.pk: seat for seat in seats}.values(), key=lambda s: s.pk)
            if not chosen:
                raise LedgerValidationError("seats", "Choose at least one seat.")
        for candidate in chosen:
            if candidate.team_id != team.pk:
                raise LedgerValidationError("seats", f"Seat #{candidate.pk} is not in {team}.")
        # Every chosen seat's accounts at once, in the one ascending order (`_lock_groups`):
        # taken group by group, they could cross an import's locks.
        group = _lock_groups(*Account.objects.filter(seat__in=[seat.pk for seat in chosen]))
        locked = {a.seat_id: a.seat for a in group.values() if a.seat is not None}
        changed = []
        for candidate in chosen:
            seat = locked[candidate.pk]
            if seat.status != SeatStatus.ACTIVE:
                raise LedgerValidationError(
                    "seats", f"Seat #{seat.pk} ({seat.holder}) is cancelled; leave it out."
                )
            changed.append(seat)
        for seat in changed:
            _record_limit(seat, limit, cause)
    return changed


def _record_limit(seat: Seat, limit: int | None, cause: Cause) -> None:
    before = seat.monthly_usage_limit
    if before == limit:
        return
    seat.monthly_usage_limit = limit
    seat.save(update_fields=["monthly_usage_limit"])
    audit_record(
        actor=cause.actor,
        action="seat.update",
        obj=seat,
        changes={"monthly_usage_limit": (before, limit)},
        team=seat.team,
        seat=seat,
    )
