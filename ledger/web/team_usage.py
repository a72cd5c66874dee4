"""Saving a team's usage limits from its team page (R20); the panel is `usage_limits`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ledger.exceptions import LedgerError, LedgerRuleError
from ledger.forms import add_ledger_error
from ledger.services import seats_set_usage_limit
from ledger.web.common import _cause, _user
from ledger.web.team_analytics import analytics_view_of, team_analytics_context
from ledger.web.teams import _team_ledger_context
from ledger.web.usage_limits import EVERY_SEAT, TeamUsageLimitForm, team_usage_context
from teams.selectors import teams_led_by


@require_POST
@login_required
def team_usage_limits(request: HttpRequest, pk: int) -> HttpResponse:
    """A lead (or an admin) sets a usage limit on the team's seats (R20)."""
    user = _user(request)
    team = get_object_or_404(teams_led_by(user), pk=pk)
    form = TeamUsageLimitForm(request.POST, team=team, auto_id="id_usage_%s")
    status = 400
    if form.is_valid():
        limit = form.cleaned_data["monthly_usage_limit"]
        chosen = None if form.cleaned_data["scope"] == EVERY_SEAT else form.cleaned_data["seats"]
        try:
            changed = seats_set_usage_limit(
                team=team, limit=limit, seats=chosen, cause=_cause(request)
            )
        except LedgerError as refusal:
            add_ledger_error(form, refusal)
            status = 409 if isinstance(refusal, LedgerRuleError) else 400
        else:
            what = "no usage limit" if limit is None else f"a limit of {limit} paid InMails"
            messages.success(
                request,
                ngettext(
                    "%(count)d seat now has %(what)s.",
                    "%(count)d seats now have %(what)s.",
                    len(changed),
                )
                % {"count": len(changed), "what": what},
            )
            return HttpResponseRedirect(reverse("team_detail", args=[team.pk]) + "#usage-limits")
    view_form, view = analytics_view_of(QueryDict())
    context = {
        "nav_section": "teams",
        **_team_ledger_context(team, can_manage=True),
        **team_analytics_context(user, team, form=view_form, view=view, can_manage=True),
        **team_usage_context(team, can_manage=True, form=form),
    }
    return render(request, "ledger/team_detail.html", context, status=status)
