"""R22 outreach tags in the pages (issue 14 item 1): an InMail's template and tags edited on its
row, and the "Compare templates" view of a team."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe

from ledger import analytics
from ledger.analytics.compare import compare_templates
from ledger.analytics.rates import SMALL_SAMPLE_ELIGIBLE
from ledger.exceptions import LedgerValidationError
from ledger.rules import split_tags
from ledger.services import inmail_update_tags
from ledger.web.common import _cause, _user
from ledger.web.forms import InMailTagsForm
from ledger.web.home import _acted_inmail, _inmail_action_response, _InMailLine
from teams.selectors import teams_led_by


@require_POST
@login_required
def inmail_retag(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an InMail's template and tags from its row; whoever may act on it may."""
    inmail = _acted_inmail(request, pk)
    form = InMailTagsForm(request.POST)
    if not form.is_valid():
        problem = str(next(iter(form.errors.values()))[0])
        return _inmail_action_response(request, _InMailLine(inmail, error=problem), status=400)
    try:
        inmail_update_tags(
            inmail=inmail,
            template=form.cleaned_data["template"],
            tags=split_tags(form.cleaned_data["tags"]),
            cause=_cause(request),
        )
    except LedgerValidationError as refusal:
        return _inmail_action_response(
            request, _InMailLine(inmail, error=refusal.message), status=400
        )
    notice = "Template and tags saved."
    return _inmail_action_response(
        request, _InMailLine(_acted_inmail(request, pk), notice=notice), status=200, success=notice
    )


@require_safe
@login_required
def compare_templates_view(request: HttpRequest, pk: int) -> HttpResponse:
    """'Compare templates' for a team's leads and admins: each template's response rate with its
    95% interval, and whether the top two differ by more than chance (R22)."""
    user = _user(request)
    team = get_object_or_404(teams_led_by(user), pk=pk)
    inmails = analytics.breakdown_inmails(user, "template", team=team)
    rows = analytics.response_rates(inmails, group_by="template")
    charted = [row for row in rows if row.response_rate is not None]
    chart = {
        "labels": [row.label for row in charted],
        "rates": [_percent(row.response_rate) for row in charted],
        "lows": [_percent(row.rate_low) for row in charted],
        "highs": [_percent(row.rate_high) for row in charted],
    }
    context = {
        "nav_section": "teams",
        "team": team,
        "lines": [
            (
                row,
                _percent_text(row.response_rate),
                ""
                if row.rate_low is None
                else f"{_percent_text(row.rate_low)}–{_percent_text(row.rate_high)}",
            )
            for row in rows
        ],
        "verdict": compare_templates(rows),
        "chart": chart,
        "small_sample_eligible": SMALL_SAMPLE_ELIGIBLE,
    }
    return render(request, "ledger/compare_templates.html", context)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _percent_text(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"
