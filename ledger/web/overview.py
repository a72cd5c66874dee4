"""The organisation overview for admins (issue 12, item 6): what every team holds, what it is
about to lose, what this month cost and how outreach is answered, one row per team.

Every figure comes from the read models the team pages use, so a number here is the number the
team page shows when its link is followed: `seats_overview` (balances, what expires, what the
cap takes at the next refresh, when each seat last sent), `analytics.credit_flows` (spend and
cost) and `analytics.response_rates` (response rates and their eligible base). The queries
are set-based: a fixed number for the seats, the rates and the flows (`credit_flows_by_team`:
every team's `credit_flows` in one grouped read).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from ledger import analytics, schedule
from ledger.models import Reconciliation, ReconciliationStatus
from ledger.rules import IDLE_AFTER_DAYS, seat_is_idle
from ledger.selectors import seats_overview
from ledger.web.common import SMALL_SAMPLE_ELIGIBLE, _user
from teams.models import Seat, SeatStatus, Team, User
from teams.selectors import user_is_admin

# The response-rate period: the team page's shortest analytics period (`?months=3`), so the
# rate a row shows is the one its link opens.
RATE_MONTHS = 3


def open_reconciliations_by_team() -> dict[int, int] | None:
    """Open reconciliations (R21) by team id, in one grouped count; a team missing from the
    dict has none. (The page is for admins, who see every reconciliation.)"""
    return dict(
        Reconciliation.objects.filter(status=ReconciliationStatus.OPEN)
        .order_by()
        .values("seat__team")
        .annotate(open=Count("pk"))
        .values_list("seat__team", "open")
    )


@dataclass(frozen=True)
class OverviewLine:
    """One row of the overview: a team, or (`team` None) the whole organisation."""

    team: Team | None
    seats: int
    # Credits held now: the active seats' own credits plus the team pool.
    held: int
    expiring_7d: int
    expiring_30d: int
    lost_to_cap: int
    # This calendar month to date.
    spent: int
    cost: Decimal
    responses: int
    rates: analytics.ResponseRateRow | None
    open_reconciliations: int | None
    idle: int

    @property
    def cost_per_response(self) -> Decimal | None:
        if not self.responses:
            return None
        return (self.cost / self.responses).quantize(analytics.CENT, rounding=ROUND_HALF_UP)

    @property
    def small_sample(self) -> bool:
        # A rate from few eligible InMails says little; no rate at all needs no warning.
        return (
            self.rates is not None
            and self.rates.response_rate is not None
            and self.rates.rate_base < SMALL_SAMPLE_ELIGIBLE
        )


@dataclass(frozen=True)
class Overview:
    as_of: datetime
    month_start: date
    rate_start: date
    total: OverviewLine
    lines: list[OverviewLine]


def _months_back(today: date, months: int) -> date:
    """The first day of the month `months - 1` months before today's: where the team page's
    `months` period starts."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class _Held:
    """Running sums of a team's credits as `seats_overview` gives them."""

    seats: int = 0
    held: int = 0
    expiring_7d: int = 0
    expiring_30d: int = 0
    lost_to_cap: int = 0
    idle: int = 0


def organisation_overview(user: User) -> Overview:
    """Every team's figures and the organisation's totals, as of now (admins only)."""
    now = timezone.now()
    today = schedule.local_date(now)
    month_start = today.replace(day=1)
    rate_start = _months_back(today, RATE_MONTHS)
    teams = list(Team.objects.order_by("name", "pk"))

    # Cancelled seats hold nothing, but a pool whose seats are all cancelled still holds
    # credits until they expire: asking about every seat brings in every team's pool.
    # No usage limits here (R20): the team pages show them.
    balances = seats_overview(Seat.objects.order_by("pk"), with_usage=False)
    held: dict[int, _Held] = defaultdict(_Held)
    for row in balances.seats:
        seat = row.seat
        if seat.status != SeatStatus.ACTIVE:
            continue
        figures = held[seat.team_id]
        figures.seats += 1
        figures.held += row.own
        figures.expiring_7d += row.expiring_7d
        figures.expiring_30d += row.expiring_30d
        # A pooled seat's figure is its pool's (the cap counts the pool and its seats
        # together): counted once, with the pool, below.
        figures.lost_to_cap += 0 if row.in_pool else row.lost_to_cap_next_refresh
        figures.idle += seat_is_idle(
            activated_at=schedule.start_of_day(seat.activated_on),
            last_sent_at=row.last_sent_at,
            as_of=balances.as_of,
        )
    for team_id, pool in balances.pools.items():
        figures = held[team_id]
        figures.held += pool.available
        figures.expiring_7d += pool.expiring_7d
        figures.expiring_30d += pool.expiring_30d
        figures.lost_to_cap += pool.lost_to_cap_next_refresh

    # The flows, the teams' rates and the organisation's in one snapshot: the total row is the
    # sum of the team rows even while InMails are sent and answered.
    with analytics.one_snapshot():
        flows = analytics.credit_flows_by_team(
            user, teams=teams, start=month_start, end=today, now=now
        )
        inmails = analytics.analytics_inmails(user, start=rate_start)
        by_team = analytics.response_rates(inmails, group_by="team", now=now)
        rates_total = analytics.response_totals(inmails, now=now)
    rates = {row.key: row for row in by_team}
    reconciliations = open_reconciliations_by_team()

    lines = [
        OverviewLine(
            team=team,
            seats=held[team.pk].seats,
            held=held[team.pk].held,
            expiring_7d=held[team.pk].expiring_7d,
            expiring_30d=held[team.pk].expiring_30d,
            lost_to_cap=held[team.pk].lost_to_cap,
            spent=flows[team.pk].spent,
            cost=flows[team.pk].cost,
            responses=flows[team.pk].responses,
            # Rows of a breakdown by team are keyed by the team's (unique) name.
            rates=rates.get(team.name),
            open_reconciliations=(
                None if reconciliations is None else reconciliations.get(team.pk, 0)
            ),
            idle=held[team.pk].idle,
        )
        for team in teams
    ]
    total = OverviewLine(
        team=None,
        seats=sum(line.seats for line in lines),
        held=sum(line.held for line in lines),
        expiring_7d=sum(line.expiring_7d for line in lines),
        expiring_30d=sum(line.expiring_30d for line in lines),
        lost_to_cap=sum(line.lost_to_cap for line in lines),
        spent=sum(line.spent for line in lines),
        cost=sum((line.cost for line in lines), Decimal("0.00")),
        responses=sum(line.responses for line in lines),
        rates=rates_total,
        open_reconciliations=(None if reconciliations is None else sum(reconciliations.values())),
        idle=sum(line.idle for line in lines),
    )
    return Overview(
        as_of=balances.as_of,
        month_start=month_start,
        rate_start=rate_start,
        total=total,
        lines=lines,
    )


def _admin(request: HttpRequest) -> User:
    """The signed-in admin; anyone else gets a 404, as in the console."""
    user = _user(request)
    if not user_is_admin(user):
        raise Http404("No such page.")
    return user


def overview_context(user: User) -> dict[str, object]:
    """What `ledger/overview.html` shows (the home page of an admin without a seat too)."""
    return {
        "overview": organisation_overview(user),
        "idle_days": IDLE_AFTER_DAYS,
        "rate_months": RATE_MONTHS,
        "small_sample_eligible": SMALL_SAMPLE_ELIGIBLE,
        "holds_seats": Seat.objects.filter(holder=user, status=SeatStatus.ACTIVE).exists(),
    }


@require_safe
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    return render(
        request, "ledger/overview.html", {"nav_section": "overview", **overview_context(user)}
    )
