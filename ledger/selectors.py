"""Reads of the ledger: balances now and at any past instant, lots, entries, what is at risk.

Balances shown "now" first bring the accounts up to date (R17: a balance shown is never
wrong because a job ran late), which is the one write a read does. A balance at a past instant
is the sum of the account's entries up to that instant; expired credits never count because
their expiry entry is dated at the instant they expired.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from ledger import rules, schedule
from ledger.exceptions import LedgerValidationError
from ledger.models import (
    MOVE_KINDS,
    SPEND_ORDER,
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    EntryDay,
    EntryDayZone,
    InMail,
    Lot,
    LotSource,
    Operation,
    Reconciliation,
    ReconciliationStatus,
    ResponseDay,
)
from ledger.services import (
    SeatUsage,
    accounts_bring_up_to_date,
    seat_usage,
    seats_bring_up_to_date,
    usage_of_seats,
)
from ledger.services.accounts import (
    active_pooled_seat_accounts,
    active_pooled_seat_accounts_by_team,
    capped_balances,
    pool_of,
    refreshes_due_at,
    spendable_lots,
)
from ledger.services.flow_days import entry_days_from_entries, response_days_from_inmails
from teams.models import Seat, SeatStatus, Team, User
from teams.selectors import seats_visible_to

# --------------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotBalance:
    id: int
    source: str
    granted_at: datetime
    expires_at: datetime | None
    remaining: int


@dataclass(frozen=True)
class SeatBalance:
    """A seat and its credits: the one read model of "a seat's balance".

    `seat_balance` reads it for one seat (now, or at a past instant), `seats_overview` for many
    seats at once; the pages, the console and the API only format it.
    """

    seat: Seat
    as_of: datetime
    own: int
    # Whether the seat's monthly credits go to its team pool (a pooled plan).
    in_pool: bool
    # Whether the seat may draw on its team pool: in a pool, active, with pool access.
    draws_on_pool: bool
    # What the seat may also draw from its team pool; 0 when it can't draw on one.
    pool_available: int
    lots: list[LotBalance]
    next_refresh_on: date | None
    next_refresh_credits: int
    expiring_7d: int
    expiring_30d: int
    # For a seat in a pool this is the pool's: the cap counts the pool and its seats together.
    lost_to_cap_next_refresh: int
    last_sent_at: datetime | None
    # R20: the paid InMails of the usage period containing `as_of`, and the seat's limit.
    usage: SeatUsage | None = None

    @property
    def available(self) -> int:
        return self.own + self.pool_available


@dataclass(frozen=True)
class PoolSeat:
    seat: Seat
    monthly_allocation: int | None
    own: int


@dataclass(frozen=True)
class PoolBalance:
    team: Team
    as_of: datetime
    available: int
    cap: int
    lots: list[LotBalance]
    seats: list[PoolSeat]
    next_refresh_on: date | None
    next_refresh_credits: int
    lost_to_cap_next_refresh: int


def _resolve_as_of(accounts: list[Account], as_of: datetime | None) -> datetime:
    """Bring the accounts up to now (R17) and check the instant asked about is not ahead."""
    now = timezone.now()
    if as_of is not None and as_of > now:
        raise LedgerValidationError("as_of", "A balance can't be read in the future.")
    accounts_bring_up_to_date(accounts, until=now)
    for account in accounts:
        account.refresh_from_db()
    return now if as_of is None else as_of


def account_balance_as_of(account: Account, at: datetime) -> int:
    """The balance at `at`, from the entries alone."""
    total = Entry.objects.filter(account=account, at__lte=at).aggregate(total=Sum("amount"))
    return int(total["total"] or 0)


def account_lots_as_of(account: Account, at: datetime, *, current: bool) -> list[LotBalance]:
    """Lots holding credits at `at`, in spend order. `current` reads `remaining` directly."""
    if current:
        lots = spendable_lots(account, at)
        return [
            LotBalance(lot.pk, lot.source, lot.granted_at, lot.expires_at, lot.remaining)
            for lot in lots
        ]
    held = dict(
        Entry.objects.filter(account=account, at__lte=at)
        .values("lot")
        .annotate(held=Sum("amount"))
        .filter(held__gt=0)
        .values_list("lot", "held")
    )
    lots = Lot.objects.filter(pk__in=held).order_by(*SPEND_ORDER)
    return [
        LotBalance(lot.pk, lot.source, lot.granted_at, lot.expires_at, int(held[lot.pk]))
        for lot in lots
    ]


def _expiring(lots: list[LotBalance], start: datetime, days: int) -> int:
    end = schedule.add_days(start, days)
    return sum(lot.remaining for lot in lots if lot.expires_at and start < lot.expires_at <= end)


@dataclass(frozen=True)
class NextRefresh:
    on: date | None
    credits: int
    lost_to_cap: int


NO_REFRESH = NextRefresh(None, 0, 0)


def _refresh_under_cap(due: datetime | None, *, monthly: int, cap: int, capped: int) -> NextRefresh:
    """What a refresh due at `due` grants, and what the cap takes (R4)."""
    if due is None:
        return NO_REFRESH
    return NextRefresh(
        schedule.local_date(due),
        rules.grant_under_cap(monthly=monthly, cap=cap, capped=capped),
        rules.lost_to_cap(monthly=monthly, cap=cap, capped=capped),
    )


def _next_refresh_of_seat(
    seat: Seat, *, in_pool: bool, of_pool: NextRefresh, of_own: NextRefresh
) -> NextRefresh:
    """A seat's next refresh: none once cancelled; in a pool, the pool's, which moves the
    seat's allocation to it; otherwise its own account's."""
    if seat.status != SeatStatus.ACTIVE:
        return NO_REFRESH
    if in_pool:
        return NextRefresh(of_pool.on, seat.monthly_allocation or 0, of_pool.lost_to_cap)
    return of_own


def next_refresh_of_seat_account(account: Account) -> NextRefresh:
    """What the next refresh of a non-pooled seat grants, and what the cap will keep back.

    Credits that expire by the refresh don't count: they will be gone when it happens.
    """
    return next_refreshes_of_seat_accounts([account])[account.pk]


def next_refreshes_of_seat_accounts(accounts: Iterable[Account]) -> dict[int, NextRefresh]:
    """`next_refresh_of_seat_account` of many accounts (their seats' plans read) in two
    queries, whatever their number: the org-wide alert pass asks it of every seat near its cap."""
    accounts = list(accounts)
    dues = refreshes_due_at(accounts)
    counted = {a.pk: due for a in accounts if (due := dues[a.pk]) is not None and a.seat}
    capped = capped_balances(counted)
    found: dict[int, NextRefresh] = {}
    for account in accounts:
        if account.pk not in counted or account.seat is None:
            found[account.pk] = NO_REFRESH
            continue
        plan = account.seat.plan
        found[account.pk] = _refresh_under_cap(
            counted[account.pk],
            monthly=plan.monthly_credits,
            cap=plan.max_balance,
            capped=capped[account.pk],
        )
    return found


def next_refresh_of_pool(pool: Account) -> NextRefresh:
    return next_refreshes_of_pools([pool])[pool.pk]


def next_refreshes_of_pools(pools: Iterable[Account]) -> dict[int, NextRefresh]:
    """What each pool's next refresh grants (its active pooled seats' plans summed) and what
    the cap, shared by the pool and those seats, keeps back: three queries for any number."""
    pools = list(pools)
    dues = refreshes_due_at(pools)
    live = [pool for pool in pools if dues[pool.pk] is not None]
    seats = active_pooled_seat_accounts_by_team({pool.team_id for pool in live})
    counted: dict[int, datetime | None] = {}
    for pool in live:
        for account in [pool, *seats.get(pool.team_id, [])]:
            counted[account.pk] = dues[pool.pk]
    capped = capped_balances(counted)
    found = {pool.pk: NO_REFRESH for pool in pools}
    for pool in live:
        members = seats.get(pool.team_id, [])
        plans = [account.seat.plan for account in members if account.seat is not None]
        found[pool.pk] = _refresh_under_cap(
            dues[pool.pk],
            monthly=sum(plan.monthly_credits for plan in plans),
            cap=sum(plan.max_balance for plan in plans),
            capped=sum(capped[account.pk] for account in [pool, *members]),
        )
    return found


def seat_balance(seat: Seat, *, as_of: datetime | None = None) -> SeatBalance:
    """A seat's credits: its own, what it may draw from its pool, and what is at risk."""
    account = Account.objects.select_related("seat__plan").get(seat=seat)
    at = _resolve_as_of([account], as_of)
    # The caller's object may predate a settings change or a cancellation: read it afresh.
    seat = Seat.objects.select_related("plan", "team", "holder").get(pk=seat.pk)
    # Read the pool only now: bringing the seat up to date may have refreshed it.
    pool = pool_of(seat.team_id) if account.refresh == AccountRefresh.NONE else None
    current = as_of is None
    if current:
        own = account.balance
        pool_balance_now = pool.balance if pool is not None else 0
    else:
        own = account_balance_as_of(account, at)
        pool_balance_now = account_balance_as_of(pool, at) if pool is not None else 0
    draws_on_pool = seat.pool_access and seat.status == SeatStatus.ACTIVE and pool is not None
    lots = account_lots_as_of(account, at, current=current)
    active = seat.status == SeatStatus.ACTIVE
    upcoming = _next_refresh_of_seat(
        seat,
        in_pool=pool is not None,
        of_pool=next_refresh_of_pool(pool) if active and pool is not None else NO_REFRESH,
        of_own=next_refresh_of_seat_account(account) if active and pool is None else NO_REFRESH,
    )
    return SeatBalance(
        seat=seat,
        as_of=at,
        own=own,
        in_pool=pool is not None,
        draws_on_pool=draws_on_pool,
        pool_available=pool_balance_now if draws_on_pool else 0,
        lots=lots,
        next_refresh_on=upcoming.on,
        next_refresh_credits=upcoming.credits,
        expiring_7d=_expiring(lots, at, 7),
        expiring_30d=_expiring(lots, at, 30),
        lost_to_cap_next_refresh=upcoming.lost_to_cap,
        last_sent_at=InMail.objects.filter(seat=seat, sent_at__lte=at)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first(),
        usage=seat_usage(seat, at=at),
    )


def pool_balance(team: Team, *, as_of: datetime | None = None) -> PoolBalance | None:
    """A team pool's credits, its cap and its pooled seats; None when the team has no pool."""
    pool = pool_of(team.pk)
    if pool is None:
        return None
    at = _resolve_as_of([pool], as_of)
    current = as_of is None
    seats = active_pooled_seat_accounts(team.pk)
    pool_seats = [
        PoolSeat(
            seat=account.seat,
            monthly_allocation=account.seat.monthly_allocation,
            own=account.balance if current else account_balance_as_of(account, at),
        )
        for account in seats
        if account.seat is not None
    ]
    upcoming = next_refresh_of_pool(pool)
    return PoolBalance(
        team=team,
        as_of=at,
        available=pool.balance if current else account_balance_as_of(pool, at),
        cap=sum(account.seat.plan.max_balance for account in seats if account.seat is not None),
        lots=account_lots_as_of(pool, at, current=current),
        seats=pool_seats,
        next_refresh_on=upcoming.on,
        next_refresh_credits=upcoming.credits,
        lost_to_cap_next_refresh=upcoming.lost_to_cap,
    )


# --------------------------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------------------------


def seat_entries(
    seat: Seat,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
) -> QuerySet[Entry]:
    """A seat's own ledger, oldest first: every movement of its account."""
    entries = Entry.objects.filter(account__seat=seat).select_related("actor", "lot", "operation")
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lte=until)
    if kind:
        entries = entries.filter(kind=kind)
    return entries.order_by("at", "id")


# --------------------------------------------------------------------------------------------
# Audit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    what: str
    expected: int
    found: int

    def __str__(self) -> str:
        return f"{self.what}: the entries say {self.expected}, the cache says {self.found}"


def ledger_discrepancies() -> list[Discrepancy]:
    """Recompute every balance from the entries and list each place the cache disagrees.

    Checks, in SQL so it scales with the table: each account's cached balance against the sum
    of its entries and of its lots; each lot's remaining against the sum of its entries; each
    entry's balance_after against the running sum of its account in (at, id) order; that
    an entry never books credits against another account's lot; that every entry belongs to an
    operation; and that the move legs (transfers, allocations) of each operation sum to zero.
    """
    found: list[Discrepancy] = []
    entry_sums = dict(
        Entry.objects.values("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )
    lot_sums = dict(
        Lot.objects.values("account")
        .annotate(total=Sum("remaining"))
        .values_list("account", "total")
    )
    for account_id, balance in Account.objects.values_list("pk", "balance").iterator():
        from_entries = int(entry_sums.get(account_id) or 0)
        from_lots = int(lot_sums.get(account_id) or 0)
        if balance != from_entries:
            found.append(Discrepancy(f"account #{account_id} balance", from_entries, balance))
        if from_lots != from_entries:
            found.append(Discrepancy(f"account #{account_id} lots", from_entries, from_lots))
    lot_entry_sums = (
        Lot.objects.annotate(booked=Sum("entries__amount"))
        .exclude(remaining=Coalesce(F("booked"), 0))
        .values_list("pk", "booked", "remaining")
    )
    for lot_id, booked, remaining in lot_entry_sums.iterator():
        found.append(Discrepancy(f"lot #{lot_id} remaining", int(booked or 0), remaining))
    running = Entry.objects.annotate(
        running=Window(
            Sum("amount"), partition_by=[F("account_id")], order_by=[F("at").asc(), F("id").asc()]
        )
    ).values_list("pk", "running", "balance_after")
    for entry_id, total, balance_after in running.iterator():
        if total != balance_after:
            found.append(Discrepancy(f"entry #{entry_id} balance_after", int(total), balance_after))
    misbooked = Entry.objects.exclude(account_id=F("lot__account_id")).values_list("pk", flat=True)
    for entry_id in misbooked:
        found.append(Discrepancy(f"entry #{entry_id} is booked on another account's lot", 0, 1))
    # The column is NOT NULL and a foreign key; this also catches a row the key was switched off
    # for, which the join-free `operation__isnull` would not.
    orphans = Entry.objects.filter(
        ~Exists(Operation.objects.filter(pk=OuterRef("operation_id")))
    ).values_list("pk", flat=True)
    for entry_id in orphans:
        found.append(Discrepancy(f"entry #{entry_id} belongs to no operation", 0, 1))
    unbalanced = (
        Entry.objects.filter(kind__in=MOVE_KINDS)
        .values("operation")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .values_list("operation", "total")
    )
    for operation_id, total in unbalanced:
        found.append(Discrepancy(f"operation #{operation_id} move legs", 0, int(total)))
    return found


def flow_days_zone() -> str | None:
    """The zone the entries' days are counted in; None when they are not kept."""
    return EntryDayZone.objects.values_list("time_zone", flat=True).first()


def flow_day_discrepancies() -> list[Discrepancy]:
    """Recompute the entries' days (`EntryDay`) from the entries and the responses' days
    (`ResponseDay`) from the InMails, and list each difference.

    The days are counted in the rollup's own zone (`flow_days_zone`). That it is no longer the
    organisation's zone is no difference: credit flows then read the entries, and
    `ledger_flows_check --rebuild` counts the days again.
    """
    zone = flow_days_zone()
    if zone is None:
        return []
    found: list[Discrepancy] = []
    expected = entry_days_from_entries(ZoneInfo(zone))
    kept = {
        (account_id, day, kind): (int(amount), int(count))
        for account_id, day, kind, amount, count in EntryDay.objects.values_list(
            "account_id", "day", "kind", "amount", "entries"
        ).iterator()
    }
    expected_responses = response_days_from_inmails(ZoneInfo(zone))
    kept_responses = {
        (seat_id, day): responses
        for seat_id, day, responses in ResponseDay.objects.values_list(
            "seat_id", "day", "responses"
        ).iterator()
    }
    for seat_id, day in sorted(expected_responses.keys() | kept_responses.keys(), key=str):
        should_count = expected_responses.get((seat_id, day), 0)
        has_count = kept_responses.get((seat_id, day), 0)
        if should_count != has_count:
            found.append(
                Discrepancy(f"seat #{seat_id} responses on {day}", should_count, has_count)
            )
    for key in sorted(expected.keys() | kept.keys(), key=str):
        account_id, day, kind = key
        should, has = expected.get(key, (0, 0)), kept.get(key, (0, 0))
        if should[0] != has[0]:
            found.append(
                Discrepancy(f"account #{account_id} {kind} on {day} credits", should[0], has[0])
            )
        if should[1] != has[1]:
            found.append(
                Discrepancy(f"account #{account_id} {kind} on {day} entries", should[1], has[1])
            )
    return found


# --------------------------------------------------------------------------------------------
# Many seats at once (the pages, the console's seat list, the API's seat list)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolRow:
    team_id: int
    available: int
    cap: int
    lots: list[LotBalance]
    next_refresh_on: date | None
    next_refresh_credits: int
    lost_to_cap_next_refresh: int
    expiring_7d: int
    expiring_30d: int
    # What the cap is counted over (R14): the pool and its active pooled seats' own credits,
    # purchased ones aside (R4). `available` is the pool alone, so it is never compared with
    # `cap`; this is.
    capped: int


@dataclass(frozen=True)
class SeatsOverview:
    as_of: datetime
    # In the order of the seats asked about.
    seats: list[SeatBalance]
    # The pools of the seats' teams, by team id.
    pools: dict[int, PoolRow]

    def by_seat(self) -> dict[int, SeatBalance]:
        return {row.seat.pk: row for row in self.seats}


def seats_overview(
    seats: QuerySet[Seat] | Sequence[Seat], *, with_usage: bool = True
) -> SeatsOverview:
    """`seat_balance` for many seats, and their team pools, as of now, in a fixed number of
    queries however many seats there are.

    `with_usage=False` leaves each row's `usage` (R20) unread, for a caller that shows none:
    counting every seat's paid InMails of its period is the one read here that grows with the
    seats' sending (about 60 ms for 200 seats at a million InMails).

    Whatever is due on the seats' accounts and their pools is applied first (R17; a pool
    refresh moves allocations into pooled seats). Then every account is up to date, so its
    next refresh is the first one of its schedule after now, and the lots read in bulk give
    what the cap will keep back.
    """
    now = timezone.now()
    if isinstance(seats, QuerySet):
        seat_ids: QuerySet[Any] | list[int] = seats.values("pk")
        wanted = seats
    else:
        seat_ids = [seat.pk for seat in seats]
        wanted = Seat.objects.filter(pk__in=seat_ids)
    seats_bring_up_to_date(seat_ids, until=now)
    last_sent = InMail.objects.filter(seat=OuterRef("pk")).order_by("-sent_at").values("sent_at")
    seat_list = list(
        wanted.select_related("account", "plan", "holder", "team").annotate(
            last_sent_at=Subquery(last_sent[:1])
        )
    )
    if not isinstance(seats, QuerySet):
        position = {pk: index for index, pk in enumerate(seat_ids)}
        seat_list.sort(key=lambda seat: position[seat.pk])
    # The seats' team pools, and the active pooled seats whose plans make up their caps.
    pools: dict[int, Account] = {}
    pooled: list[Account] = []
    for account in (
        Account.objects.filter(team_id__in={seat.team_id for seat in seat_list})
        .filter(
            Q(kind=AccountKind.POOL)
            | Q(
                kind=AccountKind.SEAT,
                refresh=AccountRefresh.NONE,
                is_open=True,
                seat__status=SeatStatus.ACTIVE,
            )
        )
        .select_related("seat__plan")
    ):
        if account.kind == AccountKind.POOL:
            pools[account.team_id] = account
        else:
            pooled.append(account)
    pooled = [account for account in pooled if account.team_id in pools]
    accounts = [seat.account for seat in seat_list] + list(pools.values())
    lots: dict[int, list[LotBalance]] = defaultdict(list)
    # Tuples, not models: an organisation's live lots are thousands.
    for account_id, lot_id, source, granted_at, expires_at, remaining in (
        Lot.objects.filter(
            account_id__in={account.pk for account in accounts + pooled}, remaining__gt=0
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(*SPEND_ORDER)
        .values_list("account_id", "pk", "source", "granted_at", "expires_at", "remaining")
    ):
        lots[account_id].append(LotBalance(lot_id, source, granted_at, expires_at, remaining))

    def due_at(account: Account) -> datetime | None:
        # `refresh_due_at`, for an account brought up to date just now.
        if not account.is_open or account.refresh == AccountRefresh.NONE:
            return None
        return schedule.next_refresh_at(account.anchor_on, account.refresh, now)

    def capped(account_id: int, surviving_past: datetime | None) -> int:
        return sum(
            lot.remaining
            for lot in lots[account_id]
            if lot.source != LotSource.PURCHASE
            and (
                lot.expires_at is None or surviving_past is None or lot.expires_at > surviving_past
            )
        )

    pool_rows: dict[int, PoolRow] = {}
    pool_refreshes: dict[int, NextRefresh] = {}
    for team_id, pool in pools.items():
        members = [a for a in pooled if a.team_id == team_id]
        plans = [a.seat.plan for a in members if a.seat is not None]
        cap = sum(plan.max_balance for plan in plans)
        pool_due = due_at(pool)
        upcoming = _refresh_under_cap(
            pool_due,
            monthly=sum(plan.monthly_credits for plan in plans),
            cap=cap,
            capped=sum(capped(a.pk, pool_due) for a in [pool, *members]),
        )
        pool_refreshes[team_id] = upcoming
        pool_rows[team_id] = PoolRow(
            team_id=team_id,
            available=pool.balance,
            cap=cap,
            lots=lots[pool.pk],
            next_refresh_on=upcoming.on,
            next_refresh_credits=upcoming.credits,
            lost_to_cap_next_refresh=upcoming.lost_to_cap,
            expiring_7d=_expiring(lots[pool.pk], now, 7),
            expiring_30d=_expiring(lots[pool.pk], now, 30),
            capped=sum(capped(a.pk, None) for a in [pool, *members]),
        )

    rows = []
    # R20: every seat's paid InMails of its usage period, in one query.
    usage = (
        usage_of_seats(
            seat_list,
            accounts={seat.pk: seat.account for seat in seat_list},
            pools=pools,
            at=now,
        )
        if with_usage
        else {}
    )
    for seat in seat_list:
        account = seat.account
        in_pool = account.refresh == AccountRefresh.NONE and seat.team_id in pools
        draws_on_pool = in_pool and seat.status == SeatStatus.ACTIVE and seat.pool_access
        seat_due = due_at(account)
        upcoming = _next_refresh_of_seat(
            seat,
            in_pool=in_pool,
            of_pool=pool_refreshes.get(seat.team_id, NO_REFRESH),
            of_own=_refresh_under_cap(
                seat_due,
                monthly=seat.plan.monthly_credits,
                cap=seat.plan.max_balance,
                capped=capped(account.pk, seat_due),
            ),
        )
        seat_lots = lots[account.pk]
        rows.append(
            SeatBalance(
                seat=seat,
                as_of=now,
                own=account.balance,
                in_pool=in_pool,
                draws_on_pool=draws_on_pool,
                pool_available=pools[seat.team_id].balance if draws_on_pool else 0,
                lots=seat_lots,
                next_refresh_on=upcoming.on,
                next_refresh_credits=upcoming.credits,
                expiring_7d=_expiring(seat_lots, now, 7),
                expiring_30d=_expiring(seat_lots, now, 30),
                lost_to_cap_next_refresh=upcoming.lost_to_cap,
                last_sent_at=getattr(seat, "last_sent_at", None),
                usage=usage.get(seat.pk),
            )
        )
    return SeatsOverview(as_of=now, seats=rows, pools=pool_rows)


# --------------------------------------------------------------------------------------------
# Reconciliations with LinkedIn (R21)
# --------------------------------------------------------------------------------------------


def reconciliations_visible_to(
    user: User | AnonymousUser,
    *,
    seat: Seat | None = None,
    team: Team | None = None,
    status: str | None = None,
) -> QuerySet[Reconciliation]:
    """The reconciliations of the seats the user may see, newest observation first.

    A seat's reconciliations go with the seat (R19): its current holder sees them all, the
    previous holder none.
    """
    rows = Reconciliation.objects.filter(seat__in=seats_visible_to(user).values("pk"))
    if seat is not None:
        rows = rows.filter(seat=seat)
    if team is not None:
        rows = rows.filter(seat__team=team)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related(
        "seat__holder", "seat__team", "seat__plan", "created_by", "resolved_by", "adjustment"
    ).order_by("-observed_at", "-pk")


@dataclass(frozen=True)
class ReconciliationReview:
    """A reconciliation and what happened on the seat since the last one that matched: the
    entries to read when looking for an InMail that LinkedIn counted and the ledger didn't."""

    reconciliation: Reconciliation
    # The last matched reconciliation observed before this one; None if there was none.
    last_matched_at: datetime | None
    # The seat's own entries, and its pool's entries for its InMails, in
    # (last_matched_at, observed_at], oldest first.
    entries: list[Entry]


# Enough entries to read through by eye; an older history is the seat's ledger page.
REVIEW_ENTRIES_MAX = 200


def reconciliation_review(reconciliation: Reconciliation) -> ReconciliationReview:
    seat = reconciliation.seat
    last_matched = (
        Reconciliation.objects.filter(
            seat=seat,
            status=ReconciliationStatus.MATCHED,
            observed_at__lt=reconciliation.observed_at,
        )
        .order_by("-observed_at", "-pk")
        .values_list("observed_at", flat=True)
        .first()
    )
    entries = Entry.objects.filter(
        Q(account__seat=seat) | Q(account__kind=AccountKind.POOL, inmail__seat=seat),
        at__lte=reconciliation.observed_at,
    )
    if last_matched is not None:
        entries = entries.filter(at__gt=last_matched)
    newest = entries.select_related("inmail", "account").order_by("-at", "-id")
    return ReconciliationReview(
        reconciliation=reconciliation,
        last_matched_at=last_matched,
        entries=list(reversed(newest[:REVIEW_ENTRIES_MAX])),
    )


@dataclass(frozen=True)
class DriftPoint:
    observed_at: datetime
    difference: int
    status: str


@dataclass(frozen=True)
class SeatDrift:
    """A seat's reconciliations as a drift over time (LinkedIn minus the ledger), oldest first:
    the points of its drift chart."""

    points: list[DriftPoint]

    def chart(self) -> dict[str, Any]:
        """The chart for static/js/charts.js (through json_script): one line of differences."""
        return {
            "type": "line",
            "labels": [
                f"{timezone.localtime(point.observed_at):%Y-%m-%d %H:%M}" for point in self.points
            ],
            "datasets": [
                {
                    "label": "LinkedIn minus the ledger",
                    "data": [point.difference for point in self.points],
                }
            ],
        }


# Enough points for a small chart; older ones are in the history.
DRIFT_POINTS_MAX = 100


def seat_drift(seat: Seat) -> SeatDrift:
    newest = Reconciliation.objects.filter(seat=seat).order_by("-observed_at", "-pk")
    points = [
        DriftPoint(observed_at, difference, status)
        for observed_at, difference, status in newest.values_list(
            "observed_at", "difference", "status"
        )[:DRIFT_POINTS_MAX]
    ]
    return SeatDrift(points=points[::-1])
