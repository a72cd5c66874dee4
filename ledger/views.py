"""The dashboard's pages: the recruiter home, its InMail actions, and the team pages.

Views stay thin. A selector that takes the user says what they may see (anything else is a
404, never a 403); one ledger service does each write; a refusal of the ledger
(`LedgerRuleError`, `LedgerValidationError`) comes back as a form error with its sentence and
status 409 or 400, never a 500. Writes answer htmx with the fragment to swap in, and plain form
posts with a redirect (or the page again, with the error), so the pages work without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from ledger import analytics, schedule
from ledger.exceptions import LedgerRuleError, LedgerValidationError
from ledger.forms import (
    AnalyticsPeriodForm,
    InMailFilterForm,
    InMailResponseForm,
    InMailSendForm,
    PoolMoveForm,
    SeatSettingsForm,
)
from ledger.models import InMail, InMailStatus
from ledger.selectors import PoolRow, SeatRow, seats_overview
from ledger.services import (
    Cause,
    SentInMail,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    pool_transfer,
    seat_update_settings,
)
from teams.models import Seat, SeatStatus, Team, User
from teams.selectors import (
    seats_visible_to,
    teams_led_by,
    teams_with_totals_visible_to,
    user_can_act_on_seat,
    user_can_manage_team,
)

INMAILS_PER_PAGE = 20
IDLE_AFTER_DAYS = 14
# The event htmx fires after a send; the "my InMails" section reloads itself on it.
LEDGER_UPDATED_EVENT = "ledger-updated"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required lets only a signed-in person through
    return user


def _cause(request: HttpRequest) -> Cause:
    return Cause(actor=_user(request), via="web")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _apply_refusal(form: forms.Form, error: LedgerValidationError) -> None:
    """A service's field error on the form field it names (or on the form as a whole)."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


# Under a month's chart: why its latest months may still move. SPEC's rate leaves an InMail out
# until it is answered or 30 days old, so a month with such InMails reads high for now.
OPEN_MONTH_NOTE = (
    "* This month has InMails less than 30 days old and not answered yet: they count once "
    "answered or 30 days old, so its rate may still fall."
)


def _months_still_open(inmails: QuerySet[InMail], now: datetime) -> set[str]:
    """Month keys ("YYYY-MM") with pending InMails younger than the 30-day window."""
    recent = inmails.filter(
        status=InMailStatus.PENDING,
        sent_at__gt=schedule.add_days(now, -analytics.RESPONSE_RATE_WINDOW_DAYS),
    )
    months = recent.datetimes("sent_at", "month", tzinfo=schedule.org_tz())
    return {f"{month:%Y-%m}" for month in months}


def _rate_chart(
    rows: list[analytics.ResponseRateRow], *, kind: str = "bar", open_keys: set[str] | None = None
) -> dict[str, Any]:
    """Chart data for charts.js: labels and one series of response rates in percent.

    Labels of `open_keys` carry a "*" that the page explains (OPEN_MONTH_NOTE).
    """
    marked = open_keys or set()
    return {
        "type": kind,
        "percent": True,
        "labels": [f"{row.label}*" if row.key in marked else row.label for row in rows],
        "datasets": [
            {"label": "Response rate", "data": [_percent(row.response_rate) for row in rows]}
        ],
    }


# --------------------------------------------------------------------------------------------
# Recruiter home
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatCard:
    row: SeatRow
    run_out_on: date | None


def _own_seats(user: User) -> QuerySet[Seat]:
    return seats_visible_to(user).filter(holder=user)


def _own_active_seats(user: User) -> QuerySet[Seat]:
    return _own_seats(user).filter(status=SeatStatus.ACTIVE)


def _seat_cards(seats: QuerySet[Seat]) -> list[SeatCard]:
    overview = seats_overview(seats)
    return [
        SeatCard(
            row=row,
            run_out_on=analytics.seat_run_out_on(
                row.seat, now=overview.as_of, available=row.available
            ),
        )
        for row in overview.seats
    ]


def _my_inmails(user: User) -> QuerySet[InMail]:
    return InMail.objects.filter(seat__in=_own_seats(user).values("pk")).select_related(
        "seat__plan", "seat__team"
    )


@dataclass(frozen=True)
class _InMailLine:
    """An InMail row with the forms of its actions (a bound form when it was just refused)."""

    inmail: InMail
    response_form: InMailResponseForm | None = None
    error: str = ""
    notice: str = ""

    @property
    def form(self) -> InMailResponseForm:
        return self.response_form or InMailResponseForm(auto_id=f"id_%s_{self.inmail.pk}")


def _inmail_list_context(request: HttpRequest, user: User) -> dict[str, Any]:
    """My InMails, filtered by the GET parameters and paginated."""
    own_seats = _own_seats(user)
    filters = InMailFilterForm(request.GET or None, seats=own_seats, auto_id="id_filter_%s")
    inmails = _my_inmails(user)
    if filters.is_bound and filters.is_valid():
        wanted = filters.cleaned_data
        if wanted["status"]:
            inmails = inmails.filter(status=wanted["status"])
        if wanted["seat"]:
            inmails = inmails.filter(seat=wanted["seat"])
        if wanted["sent_from"]:
            inmails = inmails.filter(sent_at__gte=schedule.start_of_day(wanted["sent_from"]))
        if wanted["sent_to"]:
            inmails = inmails.filter(
                sent_at__lt=schedule.start_of_day(wanted["sent_to"] + timedelta(days=1))
            )
    page: Page[InMail] = Paginator(inmails, INMAILS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filters": filters,
        "page": page,
        "inmail_rows": [_InMailLine(inmail) for inmail in page.object_list],
        "filter_query": query.urlencode(),
        # A seat column only for people with more than one seat.
        "show_seat": own_seats.count() > 1,
    }


def _response_rates_context(user: User) -> dict[str, Any]:
    mine = analytics.analytics_inmails(user).filter(seat__holder=user)
    now = timezone.now()
    by_month = analytics.response_rates(mine, group_by="month", now=now)
    open_months = _months_still_open(mine, now)
    return {
        "rates_by_month": by_month,
        "rates_total": analytics.response_totals(mine, now=now),
        "rates_chart": _rate_chart(by_month, kind="line", open_keys=open_months),
        "rates_note": OPEN_MONTH_NOTE if open_months else "",
    }


def _home_context(request: HttpRequest, user: User, **overrides: Any) -> dict[str, Any]:
    seats = _own_active_seats(user)
    context: dict[str, Any] = {
        "nav_section": "home",
        "cards": _seat_cards(seats),
        "send_form": InMailSendForm(seats=seats),
        **_inmail_list_context(request, user),
        **_response_rates_context(user),
    }
    context.update(overrides)
    return context


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not _own_active_seats(user).exists():
        return render(
            request,
            "ledger/home_without_seat.html",
            {
                "nav_section": "home",
                "teams": teams_with_totals_visible_to(user),
                "led_team_ids": set(teams_led_by(user).values_list("pk", flat=True)),
            },
        )
    return render(request, "ledger/home.html", _home_context(request, user))


@require_safe
@login_required
def inmail_list(request: HttpRequest) -> HttpResponse:
    """The "my InMails" section alone, for htmx filters and page links."""
    user = _user(request)
    response = render(request, "ledger/_inmail_list.html", _inmail_list_context(request, user))
    query = request.GET.urlencode()
    response["HX-Push-Url"] = reverse("home") + (f"?{query}" if query else "")
    return response


@require_POST
@login_required
def inmail_send_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    seats = _own_active_seats(user)
    form = InMailSendForm(request.POST, seats=seats)
    sent: SentInMail | None = None
    status = 400
    if form.is_valid():
        seat: Seat = form.cleaned_data["seat"]
        if not user_can_act_on_seat(user, seat):
            raise Http404
        try:
            sent = inmail_send(
                seat=seat,
                recipient=form.cleaned_data["recipient"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                open_profile=form.cleaned_data["open_profile"],
                cause=_cause(request),
            )
        except LedgerRuleError as refusal:
            form.add_error(None, refusal.detail)
            status = 409
        except LedgerValidationError as refusal:
            _apply_refusal(form, refusal)
    if sent is not None:
        notice = _sent_notice(sent)
        warnings = [warning["detail"] for warning in sent.warnings]
        if not _is_htmx(request):
            messages.success(request, notice)
            for warning in warnings:
                messages.warning(request, warning)
            return redirect("home")
        response = render(
            request,
            "ledger/_send_result.html",
            {
                "send_form": InMailSendForm(seats=seats),
                "notice": notice,
                "warnings": warnings,
                "cards": _seat_cards(seats.filter(pk=sent.inmail.seat_id)),
            },
        )
        response["HX-Trigger"] = LEDGER_UPDATED_EVENT
        return response
    if _is_htmx(request):
        return render(request, "ledger/_send_form.html", {"send_form": form}, status=status)
    return render(
        request, "ledger/home.html", _home_context(request, user, send_form=form), status=status
    )


def _sent_notice(sent: SentInMail) -> str:
    inmail = sent.inmail
    if inmail.credit_cost == 0:
        return f"Logged the InMail to {inmail.recipient}: Open Profile, no credit spent."
    source = "the team pool" if inmail.paid_from == "pool" else "the seat's own credits"
    return f"Logged the InMail to {inmail.recipient}: 1 credit spent from {source}."


def _acted_inmail(request: HttpRequest, pk: int) -> InMail:
    """An InMail the user may act on; anything outside their scope is a 404."""
    user = _user(request)
    inmail = get_object_or_404(
        InMail.objects.filter(seat__in=seats_visible_to(user).values("pk")).select_related(
            "seat__plan", "seat__team"
        ),
        pk=pk,
    )
    if not user_can_act_on_seat(user, inmail.seat):
        raise Http404
    return inmail


def _inmail_action_response(
    request: HttpRequest, line: _InMailLine, *, status: int, success: str = ""
) -> HttpResponse:
    """The answer to a row action: the row (and the seat's balance card) for htmx; the home
    page otherwise."""
    user = _user(request)
    if _is_htmx(request):
        seat = line.inmail.seat
        own_card = seat.holder_id == user.pk and seat.status == SeatStatus.ACTIVE
        cards = _seat_cards(_own_active_seats(user).filter(pk=seat.pk)) if own_card else []
        context = {"line": line, "cards": cards, "show_seat": _own_seats(user).count() > 1}
        return render(request, "ledger/_inmail_row_update.html", context, status=status)
    if status < 300:
        messages.success(request, success)
        return redirect("home")
    messages.error(request, line.error or "The form has errors; see the InMail's row.")
    if not _own_active_seats(user).exists():
        return redirect("home")
    return render(request, "ledger/home.html", _home_context(request, user), status=status)


@require_POST
@login_required
def inmail_respond(request: HttpRequest, pk: int) -> HttpResponse:
    inmail = _acted_inmail(request, pk)
    form = InMailResponseForm(request.POST, auto_id=f"id_%s_{inmail.pk}")
    if not form.is_valid():
        return _inmail_action_response(request, _InMailLine(inmail, response_form=form), status=400)
    try:
        inmail = inmail_record_response(
            inmail=inmail,
            outcome=form.cleaned_data["outcome"],
            responded_at=form.cleaned_data["responded_at"],
            cause=_cause(request),
        )
    except LedgerRuleError as refusal:
        return _inmail_action_response(
            request, _InMailLine(inmail, response_form=form, error=refusal.detail), status=409
        )
    except LedgerValidationError as refusal:
        _apply_refusal(form, refusal)
        return _inmail_action_response(request, _InMailLine(inmail, response_form=form), status=400)
    inmail = _acted_inmail(request, pk)
    notice = f"Recorded: {inmail.get_status_display()}." + (
        " 1 credit refunded." if inmail.refunded else ""
    )
    return _inmail_action_response(
        request, _InMailLine(inmail, notice=notice), status=200, success=notice
    )


@require_POST
@login_required
def inmail_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    inmail = _acted_inmail(request, pk)
    try:
        inmail_withdraw(inmail=inmail, cause=_cause(request))
    except LedgerRuleError as refusal:
        return _inmail_action_response(
            request, _InMailLine(_acted_inmail(request, pk), error=refusal.detail), status=409
        )
    notice = "Withdrawn. The credit is not given back."
    return _inmail_action_response(
        request, _InMailLine(_acted_inmail(request, pk), notice=notice), status=200, success=notice
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

    row: SeatRow
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
    idle_since = overview.as_of - timedelta(days=IDLE_AFTER_DAYS)
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
                idle=active and (row.last_sent_at is None or row.last_sent_at < idle_since),
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


@dataclass(frozen=True)
class FlowLine:
    flows: analytics.CreditFlows
    label: str


def _team_analytics_context(
    user: User, team: Team, *, months: int, can_manage: bool
) -> dict[str, Any]:
    now = timezone.now()
    monthly = analytics.monthly_credit_flows(user, team=team, months=months, now=now)
    start = monthly[0].start
    inmails = analytics.analytics_inmails(user, team=team, start=start)
    breakdowns = [
        ("recruiter", "Response rate by recruiter", "bar"),
        ("month", "Response rate by month", "line"),
        ("weekday", "Response rate by weekday", "bar"),
        ("body_length", "Response rate by body length", "bar"),
        ("subject_length", "Response rate by subject length", "bar"),
    ]
    rate_sections = []
    for group_by, title, kind in breakdowns:
        if group_by in analytics.PERSON_BREAKDOWNS and not can_manage:
            # The team page of a recruiter shows team totals only; their own figures are on
            # their home page.
            continue
        rows = analytics.response_rates(
            analytics.breakdown_inmails(user, group_by, team=team, start=start),
            group_by=group_by,
            now=now,
        )
        open_keys = _months_still_open(inmails, now) if group_by == "month" else set()
        rate_sections.append(
            {
                "key": group_by,
                "title": title,
                "rows": rows,
                "chart": _rate_chart(rows, kind=kind, open_keys=open_keys),
                "note": OPEN_MONTH_NOTE if open_keys else "",
                "chart_id": f"chart-rate-{group_by}",
            }
        )
    flow_lines = [
        FlowLine(
            flows=flows, label=f"{analytics.MONTH_ABBR[flows.start.month - 1]} {flows.start.year}"
        )
        for flows in monthly
    ]
    flow_series = [
        ("Granted", "granted"),
        ("Spent", "spent"),
        ("Refunded", "refunded"),
        ("Expired", "expired"),
        ("Lost to cap", "lost_to_cap"),
    ]
    period = analytics.credit_flows(user, team=team, start=start, now=now)
    return {
        "months": months,
        "rates_total": analytics.response_totals(inmails, now=now),
        "rate_sections": rate_sections,
        "flow_lines": flow_lines,
        "flow_period": period,
        "flow_chart": {
            "type": "bar",
            "labels": [line.label for line in flow_lines],
            "datasets": [
                {"label": label, "data": [getattr(line.flows, name) for line in flow_lines]}
                for label, name in flow_series
            ],
        },
        "cost_chart": {
            "type": "bar",
            "labels": [line.label for line in flow_lines],
            "datasets": [
                {
                    "label": "Cost per response",
                    "data": [
                        None
                        if line.flows.cost_per_response is None
                        else float(line.flows.cost_per_response)
                        for line in flow_lines
                    ],
                }
            ],
        },
    }


def _team_for_viewing(user: User, pk: int) -> Team:
    return get_object_or_404(teams_with_totals_visible_to(user), pk=pk)


@require_safe
@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    team = _team_for_viewing(user, pk)
    can_manage = user_can_manage_team(user, team)
    period = AnalyticsPeriodForm(request.GET or None, auto_id="id_period_%s")
    context = {
        "nav_section": "teams",
        "period_form": period,
        **_team_ledger_context(team, can_manage=can_manage),
        **_team_analytics_context(
            user, team, months=period.months_or_default(), can_manage=can_manage
        ),
    }
    return render(request, "ledger/team_detail.html", context)


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
    period = AnalyticsPeriodForm(auto_id="id_period_%s")
    context = {
        "nav_section": "teams",
        "period_form": period,
        **ledger,
        **_team_analytics_context(user, team, months=period.months_or_default(), can_manage=True),
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
        _apply_refusal(form, refusal)
        return _team_write_response(
            request, team, seat, status=400, forms_of_seat={"move_form": form}
        )
    direction = "from the pool to" if credits > 0 else "to the pool from"
    notice = (
        f"Moved {abs(credits)} credit{'s' if abs(credits) != 1 else ''} {direction} "
        f"{seat.holder}: the seat holds {result.seat_own}, the pool {result.pool_available}."
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
        _apply_refusal(form, refusal)
        return _team_write_response(
            request, team, seat, status=400, forms_of_seat={"settings_form": form}
        )
    allocation = seat.monthly_allocation or 0
    access = "may draw from the pool" if seat.pool_access else "may not draw from the pool"
    notice = (
        f"{seat.holder}: {allocation} credit{'s' if allocation != 1 else ''} a month "
        f"from the pool; {access}."
    )
    return _team_write_response(request, team, seat, status=200, forms_of_seat={"notice": notice})
