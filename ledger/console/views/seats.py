"""The console's seats: create, cancel, change plan, purchases, bonus, adjustments, settings,
and a seat's ledger as of any instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ledger import schedule
from ledger.console.forms import (
    AdjustmentForm,
    BonusForm,
    LedgerFilterForm,
    PurchaseForm,
    SeatActivateForm,
    SeatFilterForm,
)
from ledger.console.lifecycle import seat_lifecycle_context
from ledger.console.views.common import (
    ENTRIES_PER_PAGE,
    SEATS_PER_PAGE,
    _actor,
    _cause,
    admin_only,
)
from ledger.exceptions import LedgerError
from ledger.forms import ChangePlanForm, SeatSettingsForm, add_ledger_error, refusal_message
from ledger.models import Entry, EntryKind, InMail, LotSource, Purchase
from ledger.rules import seat_is_idle
from ledger.selectors import LotBalance, seat_balance, seat_entries, seats_overview
from ledger.services import (
    adjustment_post,
    bonus_grant,
    purchase_record,
    seat_activate,
    seat_cancel,
    seat_change_plan,
    seat_update_settings,
)
from ledger.services.seats import duplicate_seat_warnings, seat_duplicates
from ledger.templatetags.money import money
from teams.models import Seat, SeatStatus
from teams.selectors import seats_visible_to, user_is_admin

# --------------------------------------------------------------------------------------------
# Seats
# --------------------------------------------------------------------------------------------


# The seat page shows this many lots open; more are collapsed below the forms (a seat that
# earns refunds holds dozens, and the forms are what an admin comes for).
LOTS_SHOWN_OPEN = 5


@dataclass(frozen=True)
class LotRow:
    lot: LotBalance
    source: str  # how the lot's source reads on a page


def _lot_rows(lots: list[LotBalance]) -> list[LotRow]:
    return [LotRow(lot=lot, source=LotSource(lot.source).label) for lot in lots]


def _filtered_seats(form: SeatFilterForm) -> QuerySet[Seat]:
    seats = Seat.objects.select_related("holder", "team", "plan").order_by(
        "team__name", "holder__username", "id"
    )
    if not form.is_valid():
        return seats
    data = form.cleaned_data
    if data["team"] is not None:
        seats = seats.filter(team=data["team"])
    if data["plan"] is not None:
        seats = seats.filter(plan=data["plan"])
    if data["status"]:
        seats = seats.filter(status=data["status"])
    if query := data["q"].strip():
        seats = seats.filter(
            Q(holder__username__icontains=query)
            | Q(holder__first_name__icontains=query)
            | Q(holder__last_name__icontains=query)
            | Q(holder__email__icontains=query)
        )
    if data["idle"]:
        seats = seats.filter(pk__in=_idle_seat_ids(seats))
    return seats


def _idle_seat_ids(seats: QuerySet[Seat]) -> list[int]:
    """The active seats among `seats` that are idle now (`ledger.rules.seat_is_idle`, the
    rule the team page and the overview apply), read in one query."""
    now = timezone.now()
    last_sent = InMail.objects.filter(seat=OuterRef("pk")).order_by("-sent_at").values("sent_at")
    candidates = (
        seats.filter(status=SeatStatus.ACTIVE)
        .annotate(last_sent_at=Subquery(last_sent[:1]))
        .values_list("pk", "activated_on", "last_sent_at")
    )
    return [
        pk
        for pk, activated_on, last_sent_at in candidates
        if seat_is_idle(
            activated_at=schedule.start_of_day(activated_on),
            last_sent_at=last_sent_at,
            as_of=now,
        )
    ]


@admin_only
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    form = SeatFilterForm(request.GET)
    page = Paginator(_filtered_seats(form), SEATS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "manage/index.html",
        {"form": form, "page": page, "rows": seats_overview(list(page.object_list)).seats},
    )


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def seat_create(request: HttpRequest) -> HttpResponse:
    form = SeatActivateForm(request.POST if request.method == "POST" else None)
    duplicates: list[Seat] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = seat_duplicates(holder=data["holder"], team=data["team"], plan=data["plan"])
        if duplicates and not form.duplicate_confirmed():
            # Ask first: the same choices again, the box unticked, remembering what it is about.
            asked = request.POST.copy()
            asked["duplicate_of"] = form.choice_key()
            asked.pop("confirm_duplicate", None)
            return _seat_create_page(request, SeatActivateForm(asked), duplicates)
        try:
            seat = seat_activate(
                holder=data["holder"],
                team=data["team"],
                plan=data["plan"],
                activated_on=data["activated_on"],
                pool_access=data["pool_access"],
                monthly_allocation=data["monthly_allocation"],
                cause=_cause(request),
            )
        except LedgerError as error:
            add_ledger_error(form, error)
        else:
            messages.success(request, f"Activated seat #{seat.pk}: {seat}.")
            if duplicates:
                messages.warning(
                    request,
                    ngettext(
                        "%(holder)s now holds %(count)d other active seat on this plan in "
                        "this team.",
                        "%(holder)s now holds %(count)d other active seats on this plan in "
                        "this team.",
                        len(duplicates),
                    )
                    % {"holder": seat.holder, "count": len(duplicates)},
                )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    # A refusal after a confirmed duplicate keeps the warning, and the box ticked.
    return _seat_create_page(request, form, duplicates)


def _seat_create_page(
    request: HttpRequest, form: SeatActivateForm, duplicates: list[Seat]
) -> HttpResponse:
    context = {
        "form": form,
        "duplicates": duplicates,
        "duplicate_warnings": duplicate_seat_warnings(duplicates),
    }
    return render(request, "manage/seat_create.html", context)


def _seat_or_404(seat_id: int) -> Seat:
    return get_object_or_404(
        Seat.objects.select_related("holder", "team", "plan", "replaced_by"), pk=seat_id
    )


def _purchased_this_month(seat: Seat) -> int:
    start = schedule.month_start(timezone.now())
    total = Purchase.objects.filter(seat=seat, at__gte=start).aggregate(total=Sum("credits"))
    return int(total["total"] or 0)


def _render_seat_detail(
    request: HttpRequest,
    seat: Seat,
    *,
    bonus_form: BonusForm | None = None,
    adjustment_form: AdjustmentForm | None = None,
    settings_form: SeatSettingsForm | None = None,
    lifecycle: dict[str, Any] | None = None,
) -> HttpResponse:
    balance = seat_balance(seat)
    seat = balance.seat
    context = {
        "seat": seat,
        "balance": balance,
        "lots": _lot_rows(balance.lots),
        "replaces": Seat.objects.filter(replaced_by=seat).first(),
        "purchased_this_month": _purchased_this_month(seat),
        "bonus_form": bonus_form or BonusForm(),
        "adjustment_form": adjustment_form or AdjustmentForm(balance=balance.own),
        "settings_form": settings_form
        or SeatSettingsForm(
            initial={
                "pool_access": seat.pool_access,
                "monthly_allocation": seat.monthly_allocation,
            }
        ),
        "recent_entries": seat_entries(seat).order_by("-at", "-id")[:10],
        "lots_open_up_to": LOTS_SHOWN_OPEN,
        # Issue 13: holdings and reassignment, usage limit, reconciliations.
        **seat_lifecycle_context(seat, balance, _actor(request), **(lifecycle or {})),
    }
    return render(request, "manage/seat_detail.html", context)


@admin_only
@require_safe
def seat_detail(request: HttpRequest, seat_id: int) -> HttpResponse:
    return _render_seat_detail(request, _seat_or_404(seat_id))


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def seat_cancel_confirm(request: HttpRequest, seat_id: int) -> HttpResponse:
    seat = _seat_or_404(seat_id)
    errors: list[str] = []
    if request.method == "POST":
        try:
            seat = seat_cancel(seat=seat, cause=_cause(request))
        except LedgerError as error:
            errors.append(refusal_message(error))
        else:
            forfeited = -(
                Entry.objects.filter(account__seat=seat, kind=EntryKind.FORFEIT).aggregate(
                    total=Sum("amount")
                )["total"]
                or 0
            )
            messages.success(
                request,
                ngettext(
                    "Cancelled seat #%(seat)d; %(count)d credit was forfeited.",
                    "Cancelled seat #%(seat)d; %(count)d credits were forfeited.",
                    forfeited,
                )
                % {"seat": seat.pk, "count": forfeited},
            )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    balance = seat_balance(seat)
    return render(
        request,
        "manage/seat_cancel.html",
        {"seat": balance.seat, "balance": balance, "errors": errors},
    )


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def seat_change_plan_confirm(request: HttpRequest, seat_id: int) -> HttpResponse:
    seat = _seat_or_404(seat_id)
    form = ChangePlanForm(request.POST if request.method == "POST" else None, seat=seat)
    if request.method == "POST" and form.is_valid():
        plan = form.cleaned_data["plan"]
        try:
            new = seat_change_plan(seat=seat, plan=plan, cause=_cause(request))
        except LedgerError as error:
            add_ledger_error(form, error)
        else:
            messages.success(
                request,
                f"Seat #{seat.pk} was cancelled and its credits forfeited; "
                f"seat #{new.pk} is active on {plan.name}.",
            )
            return redirect("manage:seat_detail", seat_id=new.pk)
    balance = seat_balance(seat)
    return render(
        request,
        "manage/seat_change_plan.html",
        {"seat": balance.seat, "balance": balance, "form": form},
    )


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def seat_purchase(request: HttpRequest, seat_id: int) -> HttpResponse:
    """GET previews the total of `?credits=N`; POST records the purchase (R11)."""
    seat = _seat_or_404(seat_id)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = PurchaseForm(
        data,
        unit_price=seat.plan.purchase_price,
        preview_url=reverse("manage:seat_purchase", args=[seat.pk]),
    )
    if request.method == "POST" and form.is_valid():
        try:
            purchase = purchase_record(
                seat=seat, credits=form.cleaned_data["credits"], cause=_cause(request)
            )
        except LedgerError as error:
            add_ledger_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "Recorded %(count)d purchased credit at %(price)s: %(total)s in all.",
                    "Recorded %(count)d purchased credits at %(price)s each: %(total)s in all.",
                    purchase.credits,
                )
                % {
                    "count": purchase.credits,
                    "price": money(purchase.unit_price),
                    "total": money(purchase.total),
                },
            )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    return render(
        request,
        "manage/seat_purchase.html",
        {"seat": seat, "form": form, "purchased_this_month": _purchased_this_month(seat)},
    )


@admin_only
@require_POST
def seat_bonus(request: HttpRequest, seat_id: int) -> HttpResponse:
    seat = _seat_or_404(seat_id)
    form = BonusForm(request.POST)
    if form.is_valid():
        try:
            entry = bonus_grant(
                seat=seat,
                credits=form.cleaned_data["credits"],
                memo=form.cleaned_data["memo"],
                cause=_cause(request),
            )
        except LedgerError as error:
            add_ledger_error(form, error)
        else:
            expires_at = entry.lot.expires_at
            assert expires_at is not None
            messages.success(
                request,
                f"Granted {entry.amount} bonus credits; they expire "
                f"{timezone.localtime(expires_at):%Y-%m-%d %H:%M}.",
            )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    return _render_seat_detail(request, seat, bonus_form=form)


@admin_only
@require_POST
def seat_adjust(request: HttpRequest, seat_id: int) -> HttpResponse:
    seat = _seat_or_404(seat_id)
    # The balance "LinkedIn shows N" is compared with: the current one, brought up to date.
    form = AdjustmentForm(request.POST, balance=seat_balance(seat).own)
    if form.is_valid():
        credits = form.cleaned_data["credits"]
        try:
            adjustment_post(
                seat=seat,
                credits=credits,
                reason=form.cleaned_data["reason"],
                cause=_cause(request),
            )
        except LedgerError as error:
            add_ledger_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "Posted an adjustment of %(credits)+d credit.",
                    "Posted an adjustment of %(credits)+d credits.",
                    abs(credits),
                )
                % {"credits": credits},
            )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    return _render_seat_detail(request, seat, adjustment_form=form)


@admin_only
@require_POST
def seat_settings(request: HttpRequest, seat_id: int) -> HttpResponse:
    seat = _seat_or_404(seat_id)
    form = SeatSettingsForm(request.POST)
    if form.is_valid():
        try:
            seat_update_settings(
                seat=seat,
                cause=_cause(request),
                pool_access=form.cleaned_data["pool_access"],
                monthly_allocation=form.cleaned_data["monthly_allocation"],
            )
        except LedgerError as error:
            add_ledger_error(form, error)
        else:
            messages.success(request, "Saved the seat's pool settings.")
            return redirect("manage:seat_detail", seat_id=seat.pk)
    return _render_seat_detail(request, seat, settings_form=form)


# --------------------------------------------------------------------------------------------
# A seat's ledger: the audit view
# --------------------------------------------------------------------------------------------


def _day_bounds(filters: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The date range as instants: from 00:00 of the first day to the end of the last."""
    since = filters.get("since")
    until = filters.get("until")
    return (
        schedule.start_of_day(since) if since else None,
        schedule.start_of_day(until + timedelta(days=1)) - timedelta(microseconds=1)
        if until
        else None,
    )


@require_safe
@login_required
def seat_ledger(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Every entry of a seat's account, and its balance and lots at any past instant.

    Admins, the leads of the seat's team and its holder may read it; anyone else gets a 404.
    """
    seat = get_object_or_404(seats_visible_to(request.user), pk=seat_id)
    form = LedgerFilterForm(request.GET or None, now=timezone.now())
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    as_of: datetime | None = filters.get("as_of")
    since, until = _day_bounds(filters)
    entries = seat_entries(
        seat, since=since, until=until, kind=filters.get("kind") or None
    ).order_by("-at", "-id")
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    past = seat_balance(seat, as_of=as_of) if as_of is not None else None
    return render(
        request,
        "manage/seat_ledger.html",
        {
            "seat": seat,
            "form": form,
            "page": page,
            "balance": seat_balance(seat),
            "as_of": as_of,
            "past": past,
            "past_lots": _lot_rows(past.lots) if past is not None else [],
            "is_admin": user_is_admin(request.user),
        },
    )
