"""A team's usage limits on its team page (R20): what each active seat used this period of its
limit, and one form for a lead to set a limit on every active seat or on the seats ticked.

The panel's context and form live here; the view that saves the form (`team_usage`) renders
the whole team page again when the form is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from ledger.services import USAGE_LIMIT_MAX, SeatUsage, seats_usage
from teams.models import Seat, SeatStatus, Team

EVERY_SEAT = "all"
CHOSEN_SEATS = "chosen"


class TeamUsageLimitForm(forms.Form):
    """One limit for many seats of a team: all its active seats, or those ticked."""

    monthly_usage_limit = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=USAGE_LIMIT_MAX,
        label="Paid InMails per usage period",
        help_text="Empty removes the limit; 0 allows Open Profile InMails only.",
    )
    scope = forms.ChoiceField(
        choices=[
            (EVERY_SEAT, "Every active seat of this team"),
            (CHOSEN_SEATS, "The seats ticked"),
        ],
        initial=EVERY_SEAT,
        widget=forms.RadioSelect,
        label="Apply to",
    )
    seats = forms.ModelMultipleChoiceField(
        queryset=Seat.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["seats"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Seat.objects.filter(team=team, status=SeatStatus.ACTIVE)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope") == CHOSEN_SEATS and not cleaned.get("seats"):
            self.add_error("seats", "Tick at least one seat, or apply the limit to every seat.")
        return cleaned


@dataclass(frozen=True)
class UsageLine:
    seat: Seat
    usage: SeatUsage
    ticked: bool


def team_usage_context(
    team: Team,
    *,
    can_manage: bool,
    form: TeamUsageLimitForm | None = None,
    usages: Mapping[int, SeatUsage] | None = None,
) -> dict[str, Any]:
    """The usage-limit panel of a team page; leads and admins only (it names each holder).
    `usages`: the seats' usage by seat id when the page has read it already (with the balances,
    `seats_overview`); else it is read here."""
    if not can_manage:
        return {}
    seats = list(
        Seat.objects.filter(team=team, status=SeatStatus.ACTIVE)
        .select_related("holder", "plan", "team")
        .order_by("holder__username", "pk")
    )
    usage = (
        usages if usages is not None and all(seat.pk in usages for seat in seats) else None
    ) or seats_usage(seats)
    ticked: set[str] = set()
    if form is not None and form.is_bound:
        ticked = {str(value) for value in form["seats"].value() or []}
    return {
        "usage_lines": [UsageLine(seat, usage[seat.pk], str(seat.pk) in ticked) for seat in seats],
        "usage_form": form or TeamUsageLimitForm(team=team, auto_id="id_usage_%s"),
    }
