"""What the console's seat page shows of a seat's life beside its credits (issue 13): who held
it and what moves with it when it changes hands (R19), its usage limit (R20), and its
reconciliations with LinkedIn and their drift (R21)."""

from __future__ import annotations

from typing import Any

from ledger.forms import ReassignForm, ReconcileForm, UsageLimitForm
from ledger.models import InMail, InMailStatus
from ledger.selectors import SeatBalance, reconciliations_visible_to, seat_drift
from teams.models import Seat, SeatHolding, User

# The seat page shows this many of the latest reconciliations; the list has the rest.
RECONCILIATIONS_SHOWN = 10


def seat_lifecycle_context(
    seat: Seat,
    balance: SeatBalance,
    user: User,
    *,
    reassign_form: ReassignForm | None = None,
    usage_form: UsageLimitForm | None = None,
) -> dict[str, Any]:
    drift = seat_drift(seat)
    reconciliations = reconciliations_visible_to(user, seat=seat)
    return {
        "holdings": list(
            SeatHolding.objects.filter(seat=seat)
            .select_related("holder", "by")
            .order_by("since", "pk")
        ),
        "pending_inmails": InMail.objects.filter(seat=seat, status=InMailStatus.PENDING).count(),
        "reassign_form": reassign_form or ReassignForm(seat=seat, auto_id="id_reassign_%s"),
        "usage": balance.usage,
        "usage_form": usage_form
        or UsageLimitForm(
            initial={"monthly_usage_limit": seat.monthly_usage_limit}, auto_id="id_usage_%s"
        ),
        "reconcile_form": ReconcileForm(auto_id=f"id_reconcile_%s_{seat.pk}"),
        "reconciliation_rows": list(reconciliations[:RECONCILIATIONS_SHOWN]),
        "reconciliation_count": reconciliations.count(),
        "drift_chart": drift.chart() if len(drift.points) > 1 else None,
        "drift_chart_id": f"drift-chart-{seat.pk}",
        "can_resolve": True,
    }
