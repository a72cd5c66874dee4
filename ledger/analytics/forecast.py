"""The run-out forecast: the day a seat's own credits, and the team pool it draws on, run out.

docs/rules.md ("Run-out forecast") defines it and docs/analytics.md states how it is read.
The ledger is projected forward day by day for a year with its own rules, in memory: lots
expire when due, refreshes grant under the cap (`rules.grant_under_cap`) on the dates the
schedule gives (`schedule.next_refresh_at`, R3's anchor-day arithmetic) and trim capped credits
above it, a pool refresh grants every active pooled seat's monthly credits and moves the
allocations (R14), and each day takes the account's expected spend. Nothing is written: the
projection copies the lots it starts from.

Each account spends at its own trailing rate: the paid InMails it paid for in the last 30 days,
a day's worth of them, less the share of the last 90 days' paid InMails that were refunded. A
seat's own date counts its own credits spent by its own sends; the pool's counts the pool spent
by the pool-paid sends of all its seats. So a team pool is projected once, with every active
pooled seat of the team (the cap counts their own credits too, and each refresh pays their
allocations), and a seat outside a pool alone.

Cheap for a page of many seats: at most four set-based queries (the seats unless the caller
read them with their accounts and plans, the pools and their pooled seats, lots, trailing
sends) whatever the number of seats, then arithmetic.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from ledger import rules, schedule
from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    EntryKind,
    InMail,
    Lot,
    LotSource,
)
from teams.models import Plan, Seat, SeatStatus

FORECAST_HORIZON_DAYS = 365
SPEND_TRAILING_DAYS = 30
REFUND_TRAILING_DAYS = 90


# --------------------------------------------------------------------------------------------
# What the forecast says
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendRate:
    """An account's paid InMails over the trailing windows, and the daily spend they project."""

    paid_30d: int = 0
    paid_90d: int = 0
    refunded_90d: int = 0

    @property
    def per_day(self) -> Fraction:
        """The 30-day average of paid InMails a day, less the 90-day refunded share."""
        if self.paid_30d == 0 or self.paid_90d == 0:
            return Fraction(0)
        kept = Fraction(self.paid_90d - self.refunded_90d, self.paid_90d)
        return Fraction(self.paid_30d, SPEND_TRAILING_DAYS) * kept


@dataclass(frozen=True)
class SeatForecast:
    """One seat's forecast: its two run-out dates and the balances projected for each day.

    `own[d]` is the seat's own balance projected at the end of `today + d days` (d = 0 … 365),
    `pool[d]` the team pool's when the seat may draw on it, else None. A seat that is not
    active has no dates and no projection.
    """

    seat_id: int
    # The seat's account, and the pool's when the seat may draw on it (the chart reads their
    # past balances).
    account_id: int
    pool_account_id: int | None
    today: date
    run_out_on: date | None
    pool_run_out_on: date | None
    own: tuple[int, ...]
    pool: tuple[int, ...] | None
    own_rate: SpendRate
    pool_rate: SpendRate | None

    @classmethod
    def inactive(cls, seat: Seat, today: date) -> SeatForecast:
        """A seat that is not active: nothing to run out of, nothing projected."""
        return cls(seat.pk, seat.account.pk, None, today, None, None, (), None, SpendRate(), None)

    def available(self, days: int) -> list[int]:
        """The seat's available credits (own + pool it may draw on) at the end of today and
        of each of the next `days` days."""
        own = self.own[: days + 1]
        if self.pool is None:
            return list(own)
        return [mine + pooled for mine, pooled in zip(own, self.pool, strict=False)]


# --------------------------------------------------------------------------------------------
# The projection, in memory
# --------------------------------------------------------------------------------------------

# Lots created by the projection sort after every real lot of the same grant instant, as a
# newer row would.
_projected_ids = itertools.count(2**62)


@dataclass
class _Lot:
    granted_at: datetime
    expires_at: datetime | None
    capped: bool
    remaining: int
    order: int

    @property
    def spend_key(self) -> tuple[bool, datetime, datetime, int]:
        # `ledger.models.SPEND_ORDER` (R6): soonest expiry first, then oldest; never last.
        return (
            self.expires_at is None,
            self.expires_at or self.granted_at,
            self.granted_at,
            self.order,
        )


@dataclass
class _Account:
    """An account's lots, in spend order, and its expected spend."""

    lots: list[_Lot]
    rate: Fraction = Fraction(0)
    # Spent but not yet taken, in 1/rate.denominator of a credit: it carries over to the next
    # day (whole numbers, so a year of days adds up exactly and fast).
    owed: int = 0
    daily: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lots.sort(key=lambda lot: lot.spend_key)

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    @property
    def capped(self) -> int:
        return sum(lot.remaining for lot in self.lots if lot.capped)

    def next_expiry(self) -> datetime | None:
        # In spend order the soonest-expiring lot is first (never-expiring ones are last).
        return self.lots[0].expires_at if self.lots else None

    def expire(self, at: datetime) -> None:
        self.lots = [lot for lot in self.lots if lot.expires_at is None or lot.expires_at > at]

    def add(self, lot: _Lot) -> None:
        bisect.insort(self.lots, lot, key=lambda held: held.spend_key)

    def take(self, credits: int) -> list[tuple[_Lot, int]]:
        """Take up to `credits` in spend order; returns the pieces taken."""
        pieces = []
        left = credits
        for lot in self.lots:
            if left == 0:
                break
            piece = min(lot.remaining, left)
            lot.remaining -= piece
            left -= piece
            pieces.append((lot, piece))
        self.lots = [lot for lot in self.lots if lot.remaining > 0]
        return pieces

    def spend_a_day(self) -> None:
        """Take this day's expected spend, whole credits only; the fraction waits for the next
        day. Credits wanted beyond the balance are not sent, so they are not owed later."""
        if not self.rate:
            return
        whole, self.owed = divmod(self.owed + self.rate.numerator, self.rate.denominator)
        if whole:
            self.take(whole)


def _granted_lot(at: datetime, credits: int, lifetime_days: int | None) -> _Lot:
    expires = None if lifetime_days is None else schedule.add_days(at, lifetime_days)
    return _Lot(at, expires, True, credits, next(_projected_ids))


def _trim_above_cap(accounts: Sequence[_Account], excess: int) -> None:
    """Capped credits above the cap go, earliest-expiring first across the accounts (R4)."""
    if excess <= 0:
        return
    held = sorted(
        (lot for account in accounts for lot in account.lots if lot.capped),
        key=lambda lot: lot.spend_key,
    )
    for lot in held:
        if excess == 0:
            break
        piece = min(lot.remaining, excess)
        lot.remaining -= piece
        excess -= piece
    for account in accounts:
        account.lots = [lot for lot in account.lots if lot.remaining > 0]


@dataclass
class _SeatRefresh:
    """A seat outside a pool refreshing its own account (R3, R4)."""

    account: _Account
    plan: Plan

    def apply(self, at: datetime) -> None:
        capped = self.account.capped
        granted = rules.grant_under_cap(
            monthly=self.plan.monthly_credits, cap=self.plan.max_balance, capped=capped
        )
        if granted:
            self.account.add(_granted_lot(at, granted, self.plan.credit_lifetime_days))
        _trim_above_cap([self.account], capped - self.plan.max_balance)


@dataclass
class _PooledSeat:
    seat_id: int
    account: _Account
    plan: Plan
    allocation: int


@dataclass
class _PoolRefresh:
    """A team pool refreshing for its active pooled seats and paying their allocations (R14)."""

    pool: _Account
    seats: list[_PooledSeat]

    def apply(self, at: datetime) -> None:
        if not self.seats:
            return
        members = [self.pool, *(seat.account for seat in self.seats)]
        cap = sum(seat.plan.max_balance for seat in self.seats)
        capped = sum(account.capped for account in members)
        granted = rules.grant_under_cap(
            monthly=sum(seat.plan.monthly_credits for seat in self.seats), cap=cap, capped=capped
        )
        if granted:
            lifetime = self.seats[0].plan.credit_lifetime_days
            self.pool.add(_granted_lot(at, granted, lifetime))
        _trim_above_cap(members, capped - cap)
        for seat in self.seats:
            credits = min(seat.allocation, self.pool.balance)
            # Moved credits keep their lot's grant and expiry.
            for lot, piece in self.pool.take(credits):
                seat.account.add(
                    _Lot(lot.granted_at, lot.expires_at, lot.capped, piece, next(_projected_ids))
                )


_Refresh = _SeatRefresh | _PoolRefresh


def _refresh_instants(
    anchor_on: date, rule: str, *, after: datetime, until: datetime
) -> list[datetime]:
    """The refresh instants of a schedule after `after` and before `until` (R3)."""
    if rule == AccountRefresh.NONE:
        return []
    instants = []
    at = schedule.next_refresh_at(anchor_on, rule, after)
    while at < until:
        instants.append(at)
        at = schedule.next_refresh_at(anchor_on, rule, at)
    return instants


def _project(
    accounts: Sequence[_Account],
    refreshes: Iterable[tuple[datetime, _Refresh]],
    *,
    day_ends: Sequence[datetime],
) -> None:
    """Fill each account's `daily` end-of-day balances, one for each day whose end (the next
    day's 00:00) `day_ends` lists: today, then each following day.

    Day 0 is what is left of today: only its remaining expiries. Every following day applies
    its expiries and refreshes in time order (at one instant, expiries first, R17), then that
    day's spend.
    """
    due = sorted(refreshes, key=lambda row: row[0])
    upcoming = 0
    for day, day_end in enumerate(day_ends):
        while True:
            instants = [account.next_expiry() for account in accounts]
            if upcoming < len(due):
                instants.append(due[upcoming][0])
            at = min((t for t in instants if t is not None and t < day_end), default=None)
            if at is None:
                break
            for account in accounts:
                account.expire(at)
            while upcoming < len(due) and due[upcoming][0] == at:
                due[upcoming][1].apply(at)
                upcoming += 1
        if day > 0:
            for account in accounts:
                account.spend_a_day()
        for account in accounts:
            account.daily.append(account.balance)


def _run_out_on(daily: Sequence[int], today: date, rate: SpendRate) -> date | None:
    """The first day that ends with nothing left; None for an account nobody spends from."""
    if rate.paid_30d == 0:
        return None
    for day, balance in enumerate(daily):
        if balance <= 0:
            return today + timedelta(days=day)
    return None


# --------------------------------------------------------------------------------------------
# Reading the ledger
# --------------------------------------------------------------------------------------------


def _active_at(seat: Seat, at: datetime) -> bool:
    if schedule.start_of_day(seat.activated_on) > at:
        return False
    if seat.status == SeatStatus.ACTIVE:
        return True
    return seat.cancelled_at is not None and seat.cancelled_at > at


def _lots_at(account_ids: Iterable[int], at: datetime, *, current: bool) -> dict[int, list[_Lot]]:
    """The lots holding spendable credits at `at`, by account.

    Now, their `remaining` (the caller brought the accounts up to date); at a past instant,
    the sum of their entries up to it.
    """
    lots = Lot.objects.filter(account_id__in=account_ids).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    )
    if current:
        rows = lots.filter(remaining__gt=0).values_list(
            "pk", "account_id", "source", "granted_at", "expires_at", "remaining"
        )
    else:
        rows = (
            lots.annotate(held=Sum("entries__amount", filter=Q(entries__at__lte=at)))
            .filter(held__gt=0)
            .values_list("pk", "account_id", "source", "granted_at", "expires_at", "held")
        )
    by_account: dict[int, list[_Lot]] = defaultdict(list)
    for pk, account_id, source, granted_at, expires_at, held in rows:
        by_account[account_id].append(
            _Lot(granted_at, expires_at, source != LotSource.PURCHASE, int(held), pk)
        )
    return by_account


def _spend_rates(account_ids: Iterable[int], at: datetime) -> dict[int, SpendRate]:
    """Each account's paid InMails sent in the trailing windows ending at `at`, by payer."""
    since_30 = schedule.add_days(at, -SPEND_TRAILING_DAYS)
    since_90 = schedule.add_days(at, -REFUND_TRAILING_DAYS)
    refunded = Entry.objects.filter(inmail=OuterRef("pk"), kind=EntryKind.REFUND, at__lte=at)
    rows = (
        InMail.objects.filter(
            paid_account_id__in=account_ids,
            credit_cost=1,
            sent_at__gt=since_90,
            sent_at__lte=at,
        )
        .annotate(refunded_then=Exists(refunded))
        .values("paid_account_id")
        .annotate(
            paid_30d=Count("pk", filter=Q(sent_at__gt=since_30)),
            paid_90d=Count("pk"),
            refunded_90d=Count("pk", filter=Q(refunded_then=True)),
        )
        .values_list("paid_account_id", "paid_30d", "paid_90d", "refunded_90d")
    )
    return {
        account_id: SpendRate(paid_30d, paid_90d, refunded_90d)
        for account_id, paid_30d, paid_90d, refunded_90d in rows
    }


def _seats_read(seats: Iterable[Seat]) -> list[Seat]:
    """The seats with their accounts and plans: as the caller read them (a page passes the
    seats it has just read with them), or read here."""
    if isinstance(seats, QuerySet):
        seats = seats.select_related("account", "plan")
    seat_list = list(seats)
    if all(Seat.account.is_cached(seat) and Seat.plan.is_cached(seat) for seat in seat_list):
        return seat_list
    return list(
        Seat.objects.filter(pk__in=[seat.pk for seat in seat_list])
        .select_related("account", "plan")
        .order_by("pk")
    )


def _team_pools(
    team_ids: set[int], at: datetime
) -> tuple[dict[int, Account], dict[int, list[Account]]]:
    """The teams' pools, and the accounts of their pooled seats active at `at` (R14), by team,
    in seat order (the order a pool refresh pays allocations in)."""
    pools: dict[int, Account] = {}
    pooled: dict[int, list[Account]] = defaultdict(list)
    for account in (
        Account.objects.filter(team_id__in=team_ids)
        .filter(Q(kind=AccountKind.POOL) | Q(kind=AccountKind.SEAT, refresh=AccountRefresh.NONE))
        .select_related("seat__plan")
        .order_by("seat_id")
    ):
        if account.kind == AccountKind.POOL:
            pools[account.team_id] = account
        elif account.seat is not None and _active_at(account.seat, at):
            pooled[account.team_id].append(account)
    return pools, pooled


@dataclass
class _Projection:
    """The projection's starting point, read once for every account it needs."""

    now: datetime
    days: int
    lots: dict[int, list[_Lot]]
    rates: dict[int, SpendRate]

    @property
    def today(self) -> date:
        return schedule.local_date(self.now)

    def start(self, account: Account) -> _Account:
        # Copies: the projection spends and expires its own lots, never the ones read.
        lots = [replace(lot) for lot in self.lots[account.pk]]
        return _Account(lots, rate=self.rate(account).per_day)

    def rate(self, account: Account) -> SpendRate:
        return self.rates.get(account.pk, SpendRate())

    @cached_property
    def day_ends(self) -> list[datetime]:
        """00:00 after today and after each following day of the horizon."""
        return [
            schedule.start_of_day(self.today + timedelta(days=day + 1))
            for day in range(self.days + 1)
        ]

    def run(self, accounts: Sequence[_Account], refresh: _Refresh, schedule_of: Account) -> None:
        instants = _refresh_instants(
            schedule_of.anchor_on, schedule_of.refresh, after=self.now, until=self.day_ends[-1]
        )
        _project(accounts, [(at, refresh) for at in instants], day_ends=self.day_ends)

    def pool(self, pool: Account, members: list[Account]) -> tuple[_Account, dict[int, _Account]]:
        """A team pool projected with its pooled seats; returns it and the seats' accounts."""
        seats = [
            _PooledSeat(
                seat_id=account.seat.pk,
                account=self.start(account),
                plan=account.seat.plan,
                allocation=account.seat.monthly_allocation or 0,
            )
            for account in members
            if account.seat is not None
        ]
        projected = self.start(pool)
        self.run(
            [projected, *(seat.account for seat in seats)], _PoolRefresh(projected, seats), pool
        )
        return projected, {seat.seat_id: seat.account for seat in seats}

    def seat(self, seat: Seat) -> _Account:
        """A seat outside a pool, projected alone."""
        projected = self.start(seat.account)
        self.run([projected], _SeatRefresh(projected, seat.plan), seat.account)
        return projected


def seat_forecasts(
    seats: Iterable[Seat], *, as_of: datetime | None = None, days: int = FORECAST_HORIZON_DAYS
) -> dict[int, SeatForecast]:
    """The forecast of each seat, by seat id, made at `as_of` (default now).

    `seats` as just read (a queryset is read here), with their accounts and plans where the
    caller has them (`seats_overview` does): their status, settings and plans are used as
    they are. The ledger is read as it stands: callers show the forecast beside a balance
    they have just brought up to date (R17), which this read never does. At a past instant
    the lots and the trailing sends are those of that instant; the seats' settings
    (allocation, pool access) and the plans are today's.
    """
    now = timezone.now() if as_of is None else as_of
    seat_list = _seats_read(seats)
    active = [seat for seat in seat_list if _active_at(seat, now)]
    today = schedule.local_date(now)
    forecasts = {seat.pk: SeatForecast.inactive(seat, today) for seat in seat_list}
    if not active:
        return forecasts
    pools, pooled = _team_pools(
        {seat.team_id for seat in active if seat.account.refresh == AccountRefresh.NONE}, now
    )
    account_ids = {seat.account.pk for seat in active} | {a.pk for a in pools.values()}
    account_ids |= {account.pk for members in pooled.values() for account in members}
    projection = _Projection(
        now=now,
        days=days,
        lots=_lots_at(account_ids, now, current=as_of is None),
        rates=_spend_rates(account_ids, now),
    )
    # Each team pool is projected once, with all its pooled seats.
    pool_projections: dict[int, _Account] = {}
    seat_projections: dict[int, _Account] = {}
    for team_id, pool in pools.items():
        pool_projections[team_id], members = projection.pool(pool, pooled[team_id])
        seat_projections.update(members)
    for seat in active:
        own = seat_projections.get(seat.pk) or projection.seat(seat)
        own_rate = projection.rate(seat.account)
        team_pool = pools.get(seat.team_id)
        drawn = pool_projections.get(seat.team_id) if seat.pool_access else None
        pool_rate = projection.rate(team_pool) if drawn and team_pool else None
        pool_daily = tuple(drawn.daily) if drawn else None
        forecasts[seat.pk] = SeatForecast(
            seat_id=seat.pk,
            account_id=seat.account.pk,
            pool_account_id=team_pool.pk if drawn and team_pool else None,
            today=today,
            run_out_on=_run_out_on(own.daily, today, own_rate),
            pool_run_out_on=(
                _run_out_on(pool_daily, today, pool_rate) if pool_daily and pool_rate else None
            ),
            own=tuple(own.daily),
            pool=pool_daily,
            own_rate=own_rate,
            pool_rate=pool_rate,
        )
    return forecasts


def seat_forecast(seat: Seat, *, as_of: datetime | None = None) -> SeatForecast:
    """One seat's forecast; the seat, its account and plan are read afresh."""
    fresh = Seat.objects.filter(pk=seat.pk).select_related("account", "plan")
    return seat_forecasts(fresh, as_of=as_of)[seat.pk]
