"""The recruiter home: seat cards, logging an InMail, recording a response, withdrawing,
my InMails and my rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_POST, require_safe

from ledger import analytics, schedule
from ledger.exceptions import LedgerRuleError, LedgerValidationError
from ledger.forms import add_ledger_error
from ledger.models import InMail
from ledger.rules import split_tags  # R22
from ledger.selectors import SeatBalance, seats_overview
from ledger.services import (
    SentInMail,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
)
from ledger.web.common import (
    INMAILS_PER_PAGE,
    LEDGER_UPDATED_EVENT,
    OPEN_MONTH_NOTE,
    SMALL_SAMPLE_ELIGIBLE,
    _cause,
    _is_htmx,
    _months_still_open,
    _rate_lines,
    _user,
)
from ledger.web.forms import (
    InMailFilterForm,
    InMailResponseForm,
    InMailSendForm,
)
from ledger.web.overview import overview_context
from ledger.web.rate_tables import time_chart
from teams.models import Seat, SeatStatus, User
from teams.selectors import (
    seats_visible_to,
    teams_led_by,
    teams_with_totals_visible_to,
    user_can_act_on_seat,
    user_is_admin,
)

# --------------------------------------------------------------------------------------------
# Recruiter home
# --------------------------------------------------------------------------------------------


# The burn-down chart of a seat card: this many days of actual balance, and as many projected.
BURNDOWN_DAYS = 90


@dataclass(frozen=True)
class SeatCard:
    """A seat's balance, its run-out forecast and the burn-down chart drawn from both."""

    row: SeatBalance
    forecast: analytics.SeatForecast
    # For static/js/burndown.js, through json_script: labels, actual, projected, today.
    burndown: dict[str, Any]
    # The chart's text alternative: what it shows, in numbers.
    burndown_summary: str

    @property
    def run_out_on(self) -> date | None:
        return self.forecast.run_out_on

    @property
    def pool_run_out_on(self) -> date | None:
        return self.forecast.pool_run_out_on

    @property
    def shows_pool(self) -> bool:
        return self.forecast.pool is not None

    @property
    def burndown_id(self) -> str:
        return f"burndown-data-{self.forecast.seat_id}"


def _own_seats(user: User) -> QuerySet[Seat]:
    return seats_visible_to(user).filter(holder=user)


def _own_active_seats(user: User) -> QuerySet[Seat]:
    return _own_seats(user).filter(status=SeatStatus.ACTIVE)


def _seat_cards(seats: QuerySet[Seat]) -> list[SeatCard]:
    """The seats' cards: balances, forecasts and past balances, each read for all at once."""
    overview = seats_overview(seats)
    forecasts = analytics.seat_forecasts([row.seat for row in overview.seats])
    balances = {}
    for row in overview.seats:
        forecast = forecasts[row.seat.pk]
        balances[forecast.account_id] = row.own
        if forecast.pool_account_id is not None:
            balances[forecast.pool_account_id] = overview.pools[row.seat.team_id].available
    history = analytics.daily_balances(balances, days=BURNDOWN_DAYS, now=overview.as_of)
    cards = []
    for row in overview.seats:
        forecast = forecasts[row.seat.pk]
        actual = history.get(forecast.account_id, [0] * (BURNDOWN_DAYS + 1))
        if forecast.pool_account_id is not None:
            pool = history.get(forecast.pool_account_id, [0] * (BURNDOWN_DAYS + 1))
            actual = [own + pooled for own, pooled in zip(actual, pool, strict=True)]
        # The projection starts from the balance now; each later point is a day's end.
        projected = [actual[-1], *forecast.available(BURNDOWN_DAYS)[1:]]
        cards.append(
            SeatCard(
                row=row,
                forecast=forecast,
                burndown=_burndown_chart(forecast.today, actual, projected),
                burndown_summary=_burndown_summary(forecast.today, actual, projected),
            )
        )
    return cards


def _burndown_chart(today: date, actual: list[int], projected: list[int]) -> dict[str, Any]:
    days = range(-BURNDOWN_DAYS, BURNDOWN_DAYS + 1)
    return {
        "labels": [date_format(today + timedelta(days=day), "M j") for day in days],
        "today": BURNDOWN_DAYS,
        "actual": [*actual, *([None] * BURNDOWN_DAYS)],
        "projected": [*([None] * BURNDOWN_DAYS), *projected],
    }


def _burndown_summary(today: date, actual: list[int], projected: list[int]) -> str:
    start = today - timedelta(days=BURNDOWN_DAYS)
    end = today + timedelta(days=len(projected) - 1)
    return (
        f"Available credits: {actual[0]} on {date_format(start, 'M j, Y')}, "
        f"{min(actual)} at the lowest in the last {BURNDOWN_DAYS} days, {actual[-1]} now; "
        f"projected {min(projected)} at the lowest and {projected[-1]} "
        f"on {date_format(end, 'M j, Y')}."
    )


def _my_inmails(user: User) -> QuerySet[InMail]:
    return (
        InMail.objects.filter(seat__in=_own_seats(user).values("pk"))
        .select_related("seat__plan", "seat__team")
        .prefetch_related("tags")  # R22: each row shows its tags
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
    # R19: what the user sent, whoever holds the seat now.
    mine = analytics.analytics_inmails(user, sender=user)
    now = timezone.now()
    # One snapshot: the months add up to the total even while InMails are sent and answered.
    with analytics.one_snapshot():
        by_month = analytics.response_rates(mine, group_by="month", now=now)
        open_months = _months_still_open(mine, now)
        total = analytics.response_totals(mine, now=now)
    return {
        "rates_by_month": by_month,
        "rate_lines": _rate_lines(by_month, open_months),
        "rates_total": total,
        # Every month from the first to the last on the axis: months a year apart stay apart.
        "rates_chart": time_chart(by_month, "month", open_months),
        "rates_note": OPEN_MONTH_NOTE if open_months else "",
        "small_sample_eligible": SMALL_SAMPLE_ELIGIBLE,
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
        if user_is_admin(user):
            # An admin without a seat has nothing of their own to show: the organisation.
            return render(
                request,
                "ledger/overview.html",
                {"nav_section": "home", **overview_context(user)},
            )
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
    """The "my InMails" section alone, for htmx filters and page links.

    Opened directly (a bookmark, a link opened in a new tab: no HX-Request header) it is the
    whole home page with the same filters and page, never a bare fragment. The answer depends
    on that header, so it says so (Vary), and a cache never hands the fragment to a browser.
    """
    if not _is_htmx(request):
        response = home(request)
    else:
        user = _user(request)
        response = render(request, "ledger/_inmail_list.html", _inmail_list_context(request, user))
        query = request.GET.urlencode()
        response["HX-Push-Url"] = reverse("home") + (f"?{query}" if query else "")
    patch_vary_headers(response, ["HX-Request"])
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
                # R22 outreach tags
                template=form.cleaned_data["template"],
                tags=split_tags(form.cleaned_data["tags"]),
            )
        except LedgerRuleError as refusal:
            add_ledger_error(form, refusal)
            status = 409
        except LedgerValidationError as refusal:
            add_ledger_error(form, refusal)
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
        add_ledger_error(form, refusal)
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
    withdrawn = _acted_inmail(request, pk)
    # An Open Profile InMail cost nothing (R7), so there is no credit to speak of (R9).
    notice = "Withdrawn. The credit is not given back." if withdrawn.credit_cost else "Withdrawn."
    return _inmail_action_response(
        request, _InMailLine(withdrawn, notice=notice), status=200, success=notice
    )
