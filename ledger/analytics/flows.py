"""Credit flows over a period and cost per response.

Flows are sums of ledger entries dated within the period; moves between a pool and its seats
(allocations, transfers) are not flows. Credits lost to the cap are the credits a refresh did not
grant (its `Refresh` row) plus the credits trimmed above the cap (`lost_to_cap` entries).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from ledger import schedule
from ledger.analytics.scope import (
    Viewer,
    analytics_accounts,
    analytics_inmails,
    analytics_seats,
)
from ledger.models import (
    RESPONSE_STATUSES,
    Entry,
    EntryDay,
    EntryDayZone,
    EntryKind,
    Purchase,
    Refresh,
    ResponseDay,
)
from teams.models import Seat, Team

DEFAULT_PERIOD_DAYS = 30
CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------
# Credit flows and cost
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditFlows:
    """Credits that moved in a period (local dates, inclusive), and what the period cost."""

    start: date
    end: date
    granted: int
    spent: int
    refunded: int
    expired: int
    lost_to_cap: int
    forfeited: int
    purchased: int
    adjusted: int
    bonus: int
    utilisation: float | None
    responses: int
    cost: Decimal
    cost_per_response: Decimal | None
    subscription_cost: Decimal = Decimal("0.00")
    purchase_cost: Decimal = Decimal("0.00")


def billing_dates(seat: Seat, start: date, end: date, *, now: datetime) -> Iterator[date]:
    """The dates in [start, end] on which the seat was charged its monthly price.

    Charged at activation and on each monthly anniversary of it (anchor-day rule, R3: anchor
    31 is charged on Feb 28/29, Apr 30), for every plan: a price is per subscription month,
    even where credits refresh on the 1st. Only charges already made (their 00:00 not after
    `now`), and none after the seat was cancelled.
    """
    activated = seat.activated_on
    first_k = max(1, (start.year - activated.year) * 12 + start.month - activated.month)
    candidates = [activated] if start <= activated <= end else []
    k = first_k
    while (day := schedule.refresh_date(activated, schedule.BILLING_DAY, k)) <= end:
        if day >= start:
            candidates.append(day)
        k += 1
    for day in candidates:
        charged_at = schedule.start_of_day(day)
        if charged_at > now:
            return
        if day != activated and seat.cancelled_at is not None and charged_at > seat.cancelled_at:
            return
        yield day


def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return schedule.start_of_day(start), schedule.start_of_day(end + timedelta(days=1))


_FLOW_KINDS = {
    "granted": EntryKind.GRANT,
    "spent": EntryKind.SPEND,
    "refunded": EntryKind.REFUND,
    "expired": EntryKind.EXPIRY,
    "trimmed": EntryKind.LOST_TO_CAP,
    "forfeited": EntryKind.FORFEIT,
    "purchased": EntryKind.PURCHASE,
    "adjusted": EntryKind.ADJUSTMENT,
    "bonus": EntryKind.BONUS,
}


def _flows(
    user: Viewer,
    *,
    team: Team | None,
    seat: Seat | None,
    periods: list[tuple[date, date]],
    now: datetime,
) -> list[CreditFlows]:
    """The flows of each period, in a fixed number of queries however many periods there are.

    Each sum is computed per period from one query, so a year of months costs what one month
    does. Credits moved and responses come from the daily rollups (`EntryDay`, `ResponseDay`),
    which don't grow with the volume of history, only with its days.
    """
    return _grouped_flows(user, team=team, seat=seat, periods=periods, now=now, by_team=False)[None]


def credit_flows_by_team(
    user: Viewer,
    *,
    teams: list[Team],
    start: date,
    end: date,
    now: datetime | None = None,
) -> dict[int, CreditFlows]:
    """`credit_flows(user, team=team, start=start, end=end)` of each of `teams`, by team id,
    read for all of them at once (a fixed number of queries however many teams)."""
    now = now or timezone.now()
    found = _grouped_flows(
        user, team=None, seat=None, periods=[(start, end)], now=now, by_team=True
    )
    nothing = _period_flows(
        start,
        end,
        moved=dict.fromkeys(_FLOW_KINDS, 0),
        not_granted=0,
        responses=0,
        subscription=Decimal("0.00"),
        purchases=Decimal("0.00"),
    )
    return {team.pk: found[team.pk][0] if team.pk in found else nothing for team in teams}


def _grouped_flows(
    user: Viewer,
    *,
    team: Team | None,
    seat: Seat | None,
    periods: list[tuple[date, date]],
    now: datetime,
    by_team: bool,
) -> dict[int | None, list[CreditFlows]]:
    """`_flows`, per team of the accounts when `by_team` (keyed by team id: a team with no
    account in scope is missing), else of them all (keyed by None)."""
    for start, end in periods:
        if start > end:
            raise ValueError(f"The period starts ({start}) after it ends ({end}).")
    bounds = [_period_bounds(start, end) for start, end in periods]
    earliest, latest = min(since for since, _ in bounds), max(until for _, until in bounds)
    accounts = analytics_accounts(user, team=team, seat=seat)
    account_ids = accounts.values("pk")
    group = "account__team" if by_team else None

    def within(field: str, index: int) -> Q:
        since, until = bounds[index]
        return Q(**{f"{field}__gte": since, f"{field}__lt": until})

    # The rollups are read while their days are the organisation's (`EntryDayZone`).
    days_kept = EntryDayZone.objects.filter(time_zone=schedule.org_tz().key).exists()
    moved = _moved(
        account_ids, periods, earliest=earliest, latest=latest, days_kept=days_kept, group=group
    )
    # Credits a refresh did not grant are no movement, so no entry: only its Refresh row knows
    # them. Its `lost_to_cap` also counts the trimmed credits, but those are entries (on the
    # account that lost them, which may be a pooled seat), so they are taken from there.
    refreshes = Refresh.objects.filter(
        account__in=account_ids, due_at__gte=earliest, due_at__lt=latest
    )
    not_granted_sums = {
        f"period_{index}": Coalesce(
            Sum(F("monthly") - F("granted"), filter=within("due_at", index)), 0
        )
        for index in range(len(periods))
    }
    not_granted: dict[int | None, dict[str, Any]] = (
        {
            row["account__team"]: row
            for row in refreshes.values("account__team").annotate(**not_granted_sums).order_by()
        }
        if by_team
        else {None: refreshes.aggregate(**not_granted_sums)}
    )
    responses = _responses(
        user,
        team=team,
        seat=seat,
        periods=periods,
        bounds=bounds,
        days_kept=days_kept,
        by_team=by_team,
    )
    seats = list(
        Seat.objects.filter(
            pk__in=accounts.filter(seat__isnull=False).values("seat")
        ).select_related("plan")
    )
    # A seat's charges and purchases are its account's team's, as `analytics_accounts` narrows.
    team_of_seat: dict[int, int | None] = (
        dict(accounts.filter(seat__isnull=False).values_list("seat", "team"))
        if by_team
        else dict.fromkeys((seat_in_scope.pk for seat_in_scope in seats), None)
    )
    charges = [
        (team_of_seat[seat_in_scope.pk], day, seat_in_scope.plan.monthly_price)
        for seat_in_scope in seats
        for day in billing_dates(
            seat_in_scope,
            min(start for start, _ in periods),
            max(end for _, end in periods),
            now=now,
        )
    ]
    # Summed here, not in SQL: SQLite keeps decimals as floats, and money must be exact.
    purchases = [
        (team_of_seat[seat_id], at, total)
        for seat_id, at, total in Purchase.objects.filter(
            seat__in=[seat_in_scope.pk for seat_in_scope in seats],
            at__gte=earliest,
            at__lt=latest,
        ).values_list("seat", "at", "total")
    ]
    keys: set[int | None] = (
        {*moved, *not_granted, *responses}
        | {key for key, _, _ in charges}
        | {key for key, _, _ in purchases}
        if by_team
        else {None}
    )
    no_moves = [dict.fromkeys(_FLOW_KINDS, 0) for _ in periods]
    return {
        key: [
            _period_flows(
                start,
                end,
                moved=moved.get(key, no_moves)[index],
                not_granted=int(not_granted.get(key, {}).get(f"period_{index}") or 0),
                responses=responses.get(key, [0] * len(periods))[index],
                subscription=sum(
                    (
                        price
                        for owner, day, price in charges
                        if owner == key and start <= day <= end
                    ),
                    Decimal("0.00"),
                ),
                purchases=sum(
                    (
                        total
                        for owner, at, total in purchases
                        if owner == key and bounds[index][0] <= at < bounds[index][1]
                    ),
                    Decimal("0.00"),
                ),
            )
            for index, (start, end) in enumerate(periods)
        ]
        for key in keys
    }


def _moved(
    account_ids: QuerySet[Any, Any],
    periods: list[tuple[date, date]],
    *,
    earliest: datetime,
    latest: datetime,
    days_kept: bool,
    group: str | None = None,
) -> dict[int | None, list[dict[str, int]]]:
    """The credits the accounts' entries moved in each period, per flow (`_FLOW_KINDS`), keyed
    by the value of `group` (an account's team, say), or None when not grouped.

    Read from the entries' days (`EntryDay`) while they are counted in the organisation's time
    zone (`days_kept`), else from the entries themselves. A period is whole local days, so
    both give the same sums; the rows are at most kinds x days (about 3,000 for a year),
    summed here per period.
    """
    zone = schedule.org_tz()
    kinds = list(_FLOW_KINDS.values())
    first, last = min(start for start, _ in periods), max(end for _, end in periods)
    grouped = (group,) if group else ()
    from_days = (
        EntryDay.objects.filter(
            account__in=account_ids,
            kind__in=kinds,
            day__gte=first,
            day__lte=last,
        )
        .values("kind", "day", *grouped)
        .annotate(total=Sum("amount"))
        .order_by()
    )
    from_entries = (
        Entry.objects.filter(
            account__in=account_ids,
            kind__in=kinds,
            at__gte=earliest,
            at__lt=latest,
        )
        .annotate(day=TruncDate("at", tzinfo=zone))
        .values("kind", "day", *grouped)
        .annotate(total=Sum("amount"))
        .order_by()
    )
    names = {kind: name for name, kind in _FLOW_KINDS.items()}
    moved: dict[int | None, list[dict[str, int]]] = {}
    within = _periods_of_days(periods)
    for row in from_days if days_kept else from_entries:
        name = names[row["kind"]]
        key = row[group] if group else None
        sums = moved.setdefault(key, [dict.fromkeys(_FLOW_KINDS, 0) for _ in periods])
        for index in within.get(row["day"], ()):
            sums[index][name] += int(row["total"])
    if not group:
        moved.setdefault(None, [dict.fromkeys(_FLOW_KINDS, 0) for _ in periods])
    return moved


def _periods_of_days(periods: list[tuple[date, date]]) -> dict[date, list[int]]:
    """Each day of the periods -> the indexes of the periods it is in."""
    within: dict[date, list[int]] = {}
    for index, (start, end) in enumerate(periods):
        for offset in range((end - start).days + 1):
            within.setdefault(start + timedelta(days=offset), []).append(index)
    return within


def _responses(
    user: Viewer,
    *,
    team: Team | None,
    seat: Seat | None,
    periods: list[tuple[date, date]],
    bounds: list[tuple[datetime, datetime]],
    days_kept: bool,
    by_team: bool = False,
) -> dict[int | None, list[int]]:
    """The responses in each period (by local `responded_at` date) to the InMails in scope,
    per team of their seat when `by_team` (keyed by team id), else keyed by None.

    Read like `_moved`: from the responses' days (`ResponseDay`) while they are counted in the
    organisation's zone (`days_kept`), else from the InMails.
    """
    zone = schedule.org_tz()
    first, last = min(start for start, _ in periods), max(end for _, end in periods)
    earliest, latest = min(since for since, _ in bounds), max(until for _, until in bounds)
    grouped = ("seat__team",) if by_team else ()
    from_days = (
        ResponseDay.objects.filter(
            seat__in=analytics_seats(user, team=team, seat=seat).values("pk"),
            day__gte=first,
            day__lte=last,
        )
        .values("day", *grouped)
        .annotate(total=Sum("responses"))
        .order_by()
    )
    from_inmails = (
        analytics_inmails(user, team=team, seat=seat)
        .filter(
            status__in=RESPONSE_STATUSES,
            responded_at__gte=earliest,
            responded_at__lt=latest,
        )
        .annotate(day=TruncDate("responded_at", tzinfo=zone))
        .values("day", *grouped)
        .annotate(total=Count("pk"))
        .order_by()
    )
    responses: dict[int | None, list[int]] = {} if by_team else {None: [0] * len(periods)}
    within = _periods_of_days(periods)
    for row in from_days if days_kept else from_inmails:
        key = row["seat__team"] if by_team else None
        counts = responses.setdefault(key, [0] * len(periods))
        for index in within.get(row["day"], ()):
            counts[index] += int(row["total"])
    return responses


def _period_flows(
    start: date,
    end: date,
    *,
    moved: dict[str, int],
    not_granted: int,
    responses: int,
    subscription: Decimal,
    purchases: Decimal,
) -> CreditFlows:
    cost = (subscription + purchases).quantize(CENT)
    granted = moved["granted"]
    spent = -moved["spent"]
    return CreditFlows(
        start=start,
        end=end,
        granted=granted,
        spent=spent,
        refunded=moved["refunded"],
        expired=-moved["expired"],
        lost_to_cap=not_granted - moved["trimmed"],
        forfeited=-moved["forfeited"],
        purchased=moved["purchased"],
        adjusted=moved["adjusted"],
        bonus=moved["bonus"],
        utilisation=spent / granted if granted else None,
        responses=responses,
        cost=cost,
        cost_per_response=(
            (cost / responses).quantize(CENT, rounding=ROUND_HALF_UP) if responses else None
        ),
        subscription_cost=subscription.quantize(CENT),
        purchase_cost=purchases.quantize(CENT),
    )


def credit_flows(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> CreditFlows:
    """Credit flows and cost over [start, end] (local dates); by default the last 30 days."""
    now = now or timezone.now()
    end = end or schedule.local_date(now)
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return _flows(user, team=team, seat=seat, periods=[(start, end)], now=now)[0]


def monthly_credit_flows(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    months: int = 6,
    now: datetime | None = None,
) -> list[CreditFlows]:
    """Credit flows per calendar month, oldest first, ending with the current month to date."""
    if months < 1:
        raise ValueError("Ask for at least one month.")
    now = now or timezone.now()
    today = schedule.local_date(now)
    periods = []
    for back in range(months - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        first = date(index // 12, index % 12 + 1, 1)
        following = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        periods.append((first, min(following - timedelta(days=1), today)))
    return _flows(user, team=team, seat=seat, periods=periods, now=now)
