"""R22 outreach tags in the pages (issue 14 item 1): an InMail's template and tags edited on its
row, and the "Compare templates" view of a team."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from ledger.exceptions import LedgerValidationError
from ledger.rules import split_tags
from ledger.services import inmail_update_tags
from ledger.web.common import _cause
from ledger.web.forms import InMailTagsForm
from ledger.web.home import _acted_inmail, _inmail_action_response, _InMailLine


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
