"""The console's seat writes of issue 13: reassigning a seat to someone else, or to a new person
(R19), and its usage limit (R20). Reconciliations are recorded and resolved through the pages'
views (`ledger.web.reconcile`), which the seat page's forms post to."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ledger.console.views.common import _cause, admin_only
from ledger.console.views.seats import _render_seat_detail, _seat_or_404
from ledger.exceptions import LedgerError, LedgerRuleError
from ledger.forms import ReassignForm, UsageLimitForm, add_ledger_error
from ledger.services import seat_reassign, seat_set_usage_limit
from teams.models import User
from teams.services import user_create


@admin_only
@require_POST
def seat_reassign_view(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Give the seat to someone with an account, or to a new person made here (R19)."""
    seat = _seat_or_404(seat_id)
    form = ReassignForm(request.POST, seat=seat, auto_id="id_reassign_%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        cause = _cause(request)
        try:
            # A new person and the seat given to them are one change: a refused reassignment
            # leaves no account behind.
            with transaction.atomic():
                holder: User = data["holder"] or user_create(
                    actor=cause.actor,
                    username=data["username"],
                    password=None,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
                seat = seat_reassign(seat=seat, holder=holder, memo=data["memo"], cause=cause)
        except ValidationError as refusal:
            for field, errors in refusal.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except LedgerError as refusal:
            add_ledger_error(form, refusal)
            status = 409 if isinstance(refusal, LedgerRuleError) else 400
        else:
            messages.success(
                request,
                f"Seat #{seat.pk} is now held by {seat.holder}; its credits, pending InMails "
                "and settings went with it.",
            )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    response = _render_seat_detail(request, seat, lifecycle={"reassign_form": form})
    response.status_code = status
    return response


@admin_only
@require_POST
def seat_usage_limit_view(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Set or remove the seat's usage limit (R20); it applies at once to this period."""
    seat = _seat_or_404(seat_id)
    form = UsageLimitForm(request.POST, auto_id="id_usage_%s")
    status = 400
    if form.is_valid():
        limit = form.cleaned_data["monthly_usage_limit"]
        try:
            seat = seat_set_usage_limit(seat=seat, limit=limit, cause=_cause(request))
        except LedgerError as refusal:
            add_ledger_error(form, refusal)
            status = 409 if isinstance(refusal, LedgerRuleError) else 400
        else:
            messages.success(
                request,
                "The seat has no usage limit now."
                if limit is None
                else f"The seat may send {limit} paid InMails per usage period.",
            )
            return redirect("manage:seat_detail", seat_id=seat.pk)
    response = _render_seat_detail(request, seat, lifecycle={"usage_form": form})
    response.status_code = status
    return response
