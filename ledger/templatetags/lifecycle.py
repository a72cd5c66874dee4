"""Template tags of issue 13: a fresh reconcile form for a seat (R21), where a page lists seats
(the home page's cards) and each needs its own."""

from __future__ import annotations

from django import template

from ledger.forms import ReconcileForm
from teams.models import Seat

register = template.Library()


@register.simple_tag
def reconcile_form_for(seat: Seat) -> ReconcileForm:
    """`{% reconcile_form_for seat as reconcile_form %}`: an empty form, ids unique per seat."""
    return ReconcileForm(auto_id=f"id_reconcile_%s_{seat.pk}")
