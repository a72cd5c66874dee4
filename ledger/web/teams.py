"""Team pages: the seats, the pool, what is at risk, moves and allocations, and the team's
analytics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from ledger import schedule
from ledger.exceptions import LedgerRuleError, LedgerValidationError
from ledger.forms import SeatSettingsForm, add_ledger_error
from ledger.rules import IDLE_AFTER_DAYS, seat_is_idle
from ledger.selectors import PoolRow, SeatBalance, seats_overview
from ledger.services import (
    pool_transfer,
    seat_update_settings,
)
from ledger.web.common import (
    _cause,
    _is_htmx,
    _user,
)
from ledger.web.forms import (
    PoolMoveForm,
)
from ledger.web.team_analytics import (
    analytics_view_of,
    team_analytics_context,
    team_analytics_export,
)
from ledger.web.usage_limits import team_usage_context
from teams.models import Seat, SeatStatus, Team, User
from teams.selectors import (
    seats_visible_to,
    teams_led_by,
    teams_with_totals_visible_to,
    user_can_manage_team,
)

# --------------------------------------------------------------------------------------------
# Team pages
# --------------------------------------------------------------------------------------------


@require_safe
@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """The teams whose page the user may open; one team goes straight to its page."""
    user = _user(request)
    teams = list(teams_with_totals_visible_to(user))
    if len(teams) == 1:
        return redirect("team_detail", pk=teams[0].pk)
    led = set(teams_led_by(user).values_list("pk", flat=True))
    return render(
        request,
        "ledger/team_list.html",
        {"nav_section": "teams", "teams": teams, "led_team_ids": led},
    )


@dataclass(frozen=True)
class TeamSeatLine:
    """A seat of the team page, with its lead forms (bound when just refused)."""

    row: SeatBalance
    idle: bool
    move_form: PoolMoveForm | None
    settings_form: SeatSettingsForm | None
    error: str = ""
    notice: str = ""


def _messages_of(forms_of_seat: dict[str, Any]) -> list[str]:
    """Every sentence of a seat's refused write: the ledger's, and each form error."""
    found = [forms_of_seat["error"]] if forms_of_seat.get("error") else []
    for key in ("move_form", "settings_form"):
        form = forms_of_seat.get(key)
        if form is not None:
            found.extend(str(error) for errors in form.errors.values() for error in errors)
    return found


@dataclass(frozen=True)
class AtRiskLine:
    name: str
    expiring_7d: int
    expiring_30d: int
    lost_to_cap: int


def _team_ledger_context(
    team: Team,
    *,
    can_manage: bool,
    bound: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Seats, pool and the at-risk panel of a team, with the lead's forms."""
    bound = bound or {}
    # What a refused write on a seat without pool forms says, shown above the seats.
    unplaced: list[str] = []
    overview = seats_overview(
        Seat.objects.filter(team=team).order_by("status", "holder__username", "pk")
    )
    pool: PoolRow | None = overview.pools.get(team.pk)
    lines = []
    for row in overview.seats:
        seat = row.seat
        active = seat.status == SeatStatus.ACTIVE
        movable = can_manage and active and row.in_pool
        extra = bound.get(seat.pk, {})
        if extra and not movable:
            unplaced.extend(_messages_of(extra))
            extra = {}
        lines.append(
            TeamSeatLine(
                row=row,
                idle=active
                and seat_is_idle(
                    activated_at=schedule.start_of_day(seat.activated_on),
                    last_sent_at=row.last_sent_at,
                    as_of=overview.as_of,
                ),
                move_form=extra.get("move_form")
                or (PoolMoveForm(auto_id=f"id_move_%s_{seat.pk}") if movable else None),
                settings_form=extra.get("settings_form")
                or (
                    SeatSettingsForm(
                        auto_id=f"id_settings_%s_{seat.pk}",
                        initial={
                            "monthly_allocation": seat.monthly_allocation,
                            "pool_access": seat.pool_access,
                        },
                    )
                    if movable
                    else None
                ),
                error=extra.get("error", ""),
                notice=extra.get("notice", ""),
            )
        )
    at_risk = [
        AtRiskLine(
            name=str(line.row.seat.holder),
            expiring_7d=line.row.expiring_7d,
            expiring_30d=line.row.expiring_30d,
            # A pooled seat's cap is the pool's: counted once, on the pool's line.
            lost_to_cap=0 if line.row.in_pool else line.row.lost_to_cap_next_refresh,
        )
        for line in lines
        if line.row.seat.status == SeatStatus.ACTIVE
    ]
    if pool is not None:
        at_risk.insert(
            0,
            AtRiskLine(
                name="Team pool",
                expiring_7d=pool.expiring_7d,
                expiring_30d=pool.expiring_30d,
                lost_to_cap=pool.lost_to_cap_next_refresh,
            ),
        )
    active_rows = [line.row for line in lines if line.row.seat.status == SeatStatus.ACTIVE]
    # Seat by seat (each names its holder) is for leads and admins; anyone else reading the page
    # gets the team's totals only, so no teammate's figures reach the page at all.
    return {
        "team": team,
        "can_manage": can_manage,
        "as_of": overview.as_of,
        # R20: each seat's usage as of `as_of`, read with the balances: the usage panel's too.
        "seat_usages": {row.seat.pk: row.usage for row in overview.seats if row.usage},
        "lines": lines if can_manage else [],
        "pool": pool,
        "at_risk": [
            line
            for line in at_risk
            if can_manage and (line.expiring_30d or line.expiring_7d or line.lost_to_cap)
        ],
        "at_risk_totals": {
            "expiring_7d": sum(line.expiring_7d for line in at_risk),
            "expiring_30d": sum(line.expiring_30d for line in at_risk),
            "lost_to_cap": sum(line.lost_to_cap for line in at_risk),
        },
        "idle_lines": [line for line in lines if can_manage and line.idle],
        "unplaced_errors": unplaced,
        "idle_days": IDLE_AFTER_DAYS,
        "team_totals": {
            "seats": len(active_rows),
            "own": sum(row.own for row in active_rows),
            "available": sum(row.own for row in active_rows) + (pool.available if pool else 0),
        },
    }


def _team_for_viewing(user: User, pk: int) -> Team:
    return get_object_or_404(teams_with_totals_visible_to(user), pk=pk)


@require_safe
@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    team = _team_for_viewing(user, pk)
    can_manage = user_can_manage_team(user, team)
    # The analytics' period, grouping, sort and the person looked at are all in the URL; a
    # range the form refuses shows the default period beside its errors (400).
    form, view = analytics_view_of(request.GET)
    refused = form.is_bound and not form.is_valid()
    table = request.GET.get("export")
    if table and not refused:
        return team_analytics_export(user, team, view=view, can_manage=can_manage, table=table)
    ledger = _team_ledger_context(team, can_manage=can_manage)
    context = {
        "nav_section": "teams",
        **ledger,
        **team_analytics_context(user, team, form=form, view=view, can_manage=can_manage),
        # issue 13: usage limits (R20), from the usage the seats' balances read
        **team_usage_context(team, can_manage=can_manage, usages=ledger["seat_usages"]),
    }
    return render(request, "ledger/team_detail.html", context, status=400 if refused else 200)


def _managed_seat(request: HttpRequest, team_pk: int, seat_pk: int) -> tuple[Team, Seat]:
    """A team the user manages and one of its seats; anything else is a 404."""
    user = _user(request)
    team = get_object_or_404(teams_led_by(user), pk=team_pk)
    seat = get_object_or_404(seats_visible_to(user).filter(team=team), pk=seat_pk)
    return team, seat


def _team_write_response(
    request: HttpRequest,
    team: Team,
    seat: Seat,
    *,
    status: int,
    forms_of_seat: dict[str, Any],
) -> HttpResponse:
    """The team's ledger section for htmx; the team page otherwise."""
    user = _user(request)
    notice = forms_of_seat.get("notice", "")
    if not _is_htmx(request) and status < 300:
        messages.success(request, notice)
        return HttpResponseRedirect(reverse("team_detail", args=[team.pk]))
    ledger = _team_ledger_context(team, can_manage=True, bound={seat.pk: forms_of_seat})
    if _is_htmx(request):
        return render(request, "ledger/_team_ledger.html", ledger, status=status)
    form, view = analytics_view_of(QueryDict())
    context = {
        "nav_section": "teams",
        **ledger,
        **team_analytics_context(user, team, form=form, view=view, can_manage=True),
        **team_usage_context(team, can_manage=True),
    }
    return render(request, "ledger/team_detail.html", context, status=status)


@require_POST
@login_required
def team_seat_move(request: HttpRequest, pk: int, seat_pk: int) -> HttpResponse:
    """Move credits between the team pool and a seat: positive pool → seat."""
    team, seat = _managed_seat(request, pk, seat_pk)
    form = PoolMoveForm(request.POST, auto_id=f"id_move_%s_{seat.pk}")
    if not form.is_valid():
        return _team_write_response(
            request, team, seat, status=400, forms_of_seat={"move_form": form}
        )
    credits: int = form.cleaned_data["credits"]
    try:
        result = pool_transfer(team=team, seat=seat, credits=credits, cause=_cause(request))
    except LedgerRuleError as refusal:
        return _team_write_response(
            request,
            team,
            seat,
            status=409,
            forms_of_seat={"move_form": form, "error": refusal.detail},
        )
    except LedgerValidationError as refusal:
        add_ledger_error(form, refusal)
        return _team_write_response(
            request, team, seat, status=400, forms_of_seat={"move_form": form}
        )
    direction = "from the pool to" if credits > 0 else "to the pool from"
    notice = (
        ngettext("Moved %(count)d credit", "Moved %(count)d credits", abs(credits))
        % {"count": abs(credits)}
        + f" {direction} {seat.holder}: the seat holds {result.seat_own}, "
        f"the pool {result.pool_available}."
    )
    return _team_write_response(request, team, seat, status=200, forms_of_seat={"notice": notice})


@require_POST
@login_required
def team_seat_settings(request: HttpRequest, pk: int, seat_pk: int) -> HttpResponse:
    """Set a pooled seat's monthly allocation and pool access."""
    team, seat = _managed_seat(request, pk, seat_pk)
    form = SeatSettingsForm(request.POST, auto_id=f"id_settings_%s_{seat.pk}")
    if not form.is_valid():
        return _team_write_response(
            request, team, seat, status=400, forms_of_seat={"settings_form": form}
        )
    try:
        seat = seat_update_settings(
            seat=seat,
            monthly_allocation=form.cleaned_data["monthly_allocation"],
            pool_access=form.cleaned_data["pool_access"],
            cause=_cause(request),
        )
    except LedgerRuleError as refusal:
        return _team_write_response(
            request,
            team,
            seat,
            status=409,
            forms_of_seat={"settings_form": form, "error": refusal.detail},
        )
    except LedgerValidationError as refusal:
        add_ledger_error(form, refusal)
        return _team_write_response(
            request, team, seat, status=400, forms_of_seat={"settings_form": form}
        )
    allocation = seat.monthly_allocation or 0
    access = "may draw from the pool" if seat.pool_access else "may not draw from the pool"
    notice = (
        f"{seat.holder}: "
        + ngettext("%(count)d credit a month", "%(count)d credits a month", allocation)
        % {"count": allocation}
        + f" from the pool; {access}."
    )
    return _team_write_response(request, team, seat, status=200, forms_of_seat={"notice": notice})
