"""Reconciling a seat with LinkedIn (R21), in the pages: recording what LinkedIn shows (the
holder on their home page, a lead, an admin on the seat page), reading what happened since the
last match, and an admin resolving an open difference.

Every reconciliation is looked up through `reconciliations_visible_to`, so one of a seat the
user can't see is a 404; only an admin resolves (others who see it get 403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ledger.exceptions import LedgerError, LedgerRuleError
from ledger.forms import ReconcileForm, ResolveForm, add_ledger_error
from ledger.models import Reconciliation, ReconciliationStatus
from ledger.selectors import (
    reconciliation_review,
    reconciliations_visible_to,
    seat_drift,
)
from ledger.services import reconciliation_record, reconciliation_resolve
from ledger.web.common import _cause, _is_htmx, _user
from teams.models import Seat
from teams.selectors import seats_visible_to, user_can_act_on_seat, user_is_admin

RECONCILIATIONS_PER_PAGE = 25
# A seat's page shows this many of its latest reconciliations; the list has the rest.
SEAT_HISTORY_SHOWN = 10


def seat_reconciliations(seat: Seat, user: Any) -> dict[str, Any]:
    """A seat's reconciliation history and drift chart, as the seat pages show them."""
    drift = seat_drift(seat)
    rows = list(reconciliations_visible_to(user, seat=seat)[:SEAT_HISTORY_SHOWN])
    return {
        "reconciliation_rows": rows,
        "reconciliation_count": reconciliations_visible_to(user, seat=seat).count(),
        "drift_chart": drift.chart() if len(drift.points) > 1 else None,
        "drift_chart_id": f"drift-chart-{seat.pk}",
        "can_resolve": user_is_admin(user),
    }


def _seat_to_reconcile(request: HttpRequest, seat_pk: int) -> Seat:
    """A seat the user may reconcile: its holder, a lead of its team, an admin (else 404)."""
    user = _user(request)
    seat = get_object_or_404(seats_visible_to(user), pk=seat_pk)
    if not user_can_act_on_seat(user, seat):
        raise Http404
    return seat


def _next_url(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def seat_reconcile(request: HttpRequest, seat_pk: int) -> HttpResponse:
    """GET: the form on a page of its own; POST: record it (R21).

    From a seat card (htmx) the answer is the card's reconcile block, with the result; a plain
    post goes on to the reconciliation's page, which lists the entries since the last match.
    """
    seat = _seat_to_reconcile(request, seat_pk)
    form = ReconcileForm(
        request.POST if request.method == "POST" else None, auto_id=f"id_reconcile_%s_{seat.pk}"
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                reconciliation = reconciliation_record(
                    seat=seat,
                    linkedin_balance=form.cleaned_data["linkedin_balance"],
                    observed_at=form.cleaned_data["observed_at"],
                    cause=_cause(request),
                )
            except LedgerError as refusal:
                add_ledger_error(form, refusal)
                status = 409 if isinstance(refusal, LedgerRuleError) else 400
            else:
                if _is_htmx(request):
                    return render(
                        request,
                        "ledger/_reconcile_form.html",
                        {
                            "seat": seat,
                            "reconcile_form": ReconcileForm(auto_id=f"id_reconcile_%s_{seat.pk}"),
                            "result": reconciliation,
                            "review": reconciliation_review(reconciliation),
                        },
                    )
                messages.success(request, _recorded_message(reconciliation))
                return redirect("reconciliation_detail", pk=reconciliation.pk)
    if _is_htmx(request):
        return render(
            request,
            "ledger/_reconcile_form.html",
            {"seat": seat, "reconcile_form": form},
            status=status,
        )
    return render(
        request,
        "ledger/reconcile.html",
        {
            "nav_section": "home",
            "seat": seat,
            "reconcile_form": form,
            **seat_reconciliations(seat, _user(request)),
        },
        status=status,
    )


def _recorded_message(reconciliation: Reconciliation) -> str:
    if reconciliation.status == ReconciliationStatus.MATCHED:
        return f"Matched: LinkedIn and the ledger both show {reconciliation.ledger_balance}."
    return (
        f"LinkedIn shows {reconciliation.linkedin_balance}, the ledger "
        f"{reconciliation.ledger_balance}: a difference of {reconciliation.difference:+d}, "
        "open until an admin resolves it."
    )


def _visible_reconciliation(request: HttpRequest, pk: int) -> Reconciliation:
    return get_object_or_404(reconciliations_visible_to(_user(request)), pk=pk)


def _detail_page(
    request: HttpRequest,
    reconciliation: Reconciliation,
    *,
    form: ResolveForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    user = _user(request)
    review = reconciliation_review(reconciliation)
    context = {
        "nav_section": "home",
        "reconciliation": reconciliation,
        "seat": reconciliation.seat,
        "review": review,
        "resolve_form": form or ResolveForm(auto_id=f"id_resolve_%s_{reconciliation.pk}"),
        "can_resolve": user_is_admin(user),
        "error": error,
        **seat_reconciliations(reconciliation.seat, user),
    }
    return render(request, "ledger/reconciliation_detail.html", context, status=status)


@require_safe
@login_required
def reconciliation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _visible_reconciliation(request, pk))


@require_POST
@login_required
def reconciliation_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An admin adjusts or dismisses an open reconciliation, with a reason (R21)."""
    reconciliation = _visible_reconciliation(request, pk)
    if not user_is_admin(_user(request)):
        return _detail_page(
            request, reconciliation, status=403, error="Only an admin resolves a difference."
        )
    form = ResolveForm(request.POST, auto_id=f"id_resolve_%s_{reconciliation.pk}")
    if not form.is_valid():
        return _detail_page(request, reconciliation, form=form, status=400)
    try:
        resolved = reconciliation_resolve(
            reconciliation=reconciliation,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
            cause=_cause(request),
        )
    except LedgerRuleError as refusal:
        return _detail_page(request, reconciliation, form=form, status=409, error=refusal.detail)
    except LedgerError as refusal:
        add_ledger_error(form, refusal)
        return _detail_page(request, reconciliation, form=form, status=400)
    if resolved.status == ReconciliationStatus.ADJUSTED:
        messages.success(
            request,
            f"Reconciliation #{resolved.pk} adjusted: {resolved.difference:+d} "
            f"posted to seat #{resolved.seat_id}.",
        )
    else:
        messages.success(request, f"Reconciliation #{resolved.pk} dismissed.")
    target = _next_url(request) or reverse("reconciliation_detail", args=[resolved.pk])
    return HttpResponseRedirect(target)


@require_safe
@login_required
def reconciliation_list(request: HttpRequest) -> HttpResponse:
    """The reconciliations of the seats the user sees, newest first; `?status=open` for the
    ones awaiting an admin (the overview links there)."""
    user = _user(request)
    status = request.GET.get("status", "")
    if status not in ReconciliationStatus.values:
        status = ""
    rows = reconciliations_visible_to(user, status=status or None)
    page = Paginator(rows, RECONCILIATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/reconciliation_list.html",
        {
            "nav_section": "home",
            "page": page,
            "status": status,
            "statuses": ReconciliationStatus.choices,
            "can_resolve": user_is_admin(user),
        },
    )
