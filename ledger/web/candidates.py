"""Finding a candidate (issue 12, item 4): InMails searched by recipient and subject, one
candidate's page, and the check the send form runs while a recipient is typed.

What a page shows of a candidate is what the viewer may see (docs/rules.md, "Recipients"):
every InMail of the seats `seats_visible_to` gives them (an admin's all, a lead's teams, a
recruiter's own seats) in full; of a teammate's InMail a recruiter learns only what R8's
warning would tell them if they wrote now (who, and on which day, within 90 days), from the
same service code, never its subject, seat or outcome.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ledger.exceptions import LedgerValidationError
from ledger.forms import RECIPIENT_MAX_LENGTH
from ledger.models import InMail
from ledger.rules import inmail_search, normalise_recipient, recipient_key, recipient_problem
from ledger.services.inmails import inmail_recipient_warnings
from ledger.web.common import INMAILS_PER_PAGE, _user
from teams.models import Seat, SeatStatus, User
from teams.selectors import seats_visible_to, teams_led_by

SEARCH_MAX_LENGTH = 200


def _visible_inmails(user: User) -> QuerySet[InMail]:
    return InMail.objects.filter(seat__in=seats_visible_to(user).values("pk")).select_related(
        "seat__plan", "seat__team", "sender"
    )


def _own_active_seats(user: User) -> QuerySet[Seat]:
    return seats_visible_to(user).filter(holder=user, status=SeatStatus.ACTIVE)


def _teammate_contacts(user: User, recipient: str) -> list[str]:
    """The teammate warnings a send from each of the user's own active seats would give now,
    in teams whose InMails the user can't see in full (a lead's or admin's show as rows)."""
    led = teams_led_by(user).values("pk")
    seats = _own_active_seats(user).exclude(team_id__in=led)
    details: list[str] = []
    for seat in seats.order_by("team__name", "pk"):
        try:
            warnings = inmail_recipient_warnings(seat=seat, recipient=recipient)
        except LedgerValidationError:
            return []  # not a profile: no send to it would be allowed, so nothing to warn of
        for warning in warnings:
            if warning["detail"] not in details:
                details.append(warning["detail"])
    return details


class CandidateSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        label="Find a candidate",
        help_text="A profile URL or member id, or words from a recipient or a subject.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class CandidateForm(forms.Form):
    recipient = forms.CharField(max_length=RECIPIENT_MAX_LENGTH)


def _candidate_page(request: HttpRequest, user: User) -> HttpResponse:
    form = CandidateForm(request.GET)
    if not form.is_valid():
        refused: dict[str, Any] = {
            "nav_section": "candidates",
            "errors": form.errors.get("recipient", []),
            "search_form": CandidateSearchForm(auto_id="id_candidate_%s"),
        }
        return render(request, "ledger/candidate.html", refused, status=400)
    recipient: str = form.cleaned_data["recipient"]
    inmails = list(_visible_inmails(user).filter(recipient_key=normalise_recipient(recipient)))
    context: dict[str, Any] = {
        "nav_section": "candidates",
        "recipient": recipient,
        "problem": recipient_problem(recipient),
        "inmails": inmails,
        "teammate_contacts": _teammate_contacts(user, recipient),
        "search_form": CandidateSearchForm(auto_id="id_candidate_%s"),
    }
    return render(request, "ledger/candidate.html", context)


def _search_page(request: HttpRequest, user: User) -> HttpResponse:
    form = CandidateSearchForm(request.GET or None, auto_id="id_candidate_%s")
    page: Page[InMail] | None = None
    text = ""
    if form.is_bound and form.is_valid():
        text = form.cleaned_data["q"]
    if text:
        found = _visible_inmails(user).filter(inmail_search(text=text))
        page = Paginator(found.order_by("-sent_at", "-pk"), INMAILS_PER_PAGE).get_page(
            request.GET.get("page")
        )
    context = {
        "nav_section": "candidates",
        "search_form": form,
        "text": text,
        # A search that reads as one person also offers that person's page.
        "as_recipient": text if recipient_key(text) is not None else "",
        "page": page,
        "sees_only_own": not teams_led_by(user).exists(),
    }
    return render(
        request, "ledger/candidate_search.html", context, status=400 if form.errors else 200
    )


@require_safe
@login_required
def candidates(request: HttpRequest) -> HttpResponse:
    """`?recipient=` one candidate's page (any spelling); otherwise the search, `?q=`."""
    user = _user(request)
    if "recipient" in request.GET:
        return _candidate_page(request, user)
    return _search_page(request, user)


@require_safe
@login_required
def recipient_check(request: HttpRequest) -> HttpResponse:
    """What the send form says under the recipient as it is typed: why it can't be sent to,
    or R8's teammate warning for the chosen seat (the one a send would give), or nothing."""
    user = _user(request)
    recipient = request.GET.get("recipient", "")
    problem: str | None = None
    warnings: list[str] = []
    if recipient.strip():
        seats = _own_active_seats(user)
        seat_id = request.GET.get("seat", "")
        # Ids are 64-bit: a longer number names no seat (and the database would refuse it).
        readable = seat_id.isdecimal() and len(seat_id) < 19
        seat = seats.filter(pk=int(seat_id)).first() if readable else None
        if seat is None:
            problem = recipient_problem(recipient)
        else:
            try:
                details = inmail_recipient_warnings(seat=seat, recipient=recipient)
            except LedgerValidationError as refusal:
                problem = refusal.message
            else:
                warnings = [warning["detail"] for warning in details]
    return render(
        request, "ledger/_recipient_check.html", {"problem": problem, "warnings": warnings}
    )
