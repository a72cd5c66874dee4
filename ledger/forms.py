"""What the dashboard's pages, the console and the Django admin share about forms: how a
ledger refusal reads on a form, and the forms of the seat writes more than one of them offers.

Forms only check what a person typed; the ledger services check the rules and refuse with a
`LedgerError`, which `add_ledger_error` puts next to the field it is about.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from ledger.exceptions import LedgerError, LedgerRuleError, LedgerValidationError
from ledger.models import InMail
from ledger.services import LINKEDIN_BALANCE_MAX, USAGE_LIMIT_MAX
from teams.models import Plan, Seat, User


def _column_length(name: str) -> int:
    field = InMail._meta.get_field(name)
    assert isinstance(field, models.CharField | models.TextField)
    assert field.max_length is not None
    return field.max_length


# An InMail's limits, as its columns hold them; the services check the same numbers
# (`ledger.rules`, R8), and a test keeps the two equal.
RECIPIENT_MAX_LENGTH = _column_length("recipient")
SUBJECT_MAX_LENGTH = _column_length("subject")
BODY_MAX_LENGTH = _column_length("body")


def refusal_message(error: LedgerError) -> str:
    """The sentence a ledger refusal shows a person."""
    if isinstance(error, LedgerValidationError):
        return error.message
    if isinstance(error, LedgerRuleError):
        return error.detail
    return str(error)


def add_ledger_error(form: forms.BaseForm, error: LedgerError) -> None:
    """Show a ledger refusal on the form: on its field when the form has it, else on top."""
    field = error.field if isinstance(error, LedgerValidationError) else None
    form.add_error(field if field in form.fields else None, refusal_message(error))


class SeatSettingsForm(forms.Form):
    """A pooled seat's pool access and monthly allocation (`seat_update_settings`)."""

    pool_access = forms.BooleanField(required=False, label="May spend from the team pool")
    monthly_allocation = forms.IntegerField(
        required=False,
        min_value=0,
        label="Monthly allocation",
        help_text="Credits moved from the pool to this seat at each pool refresh; empty for none.",
    )


class ChangePlanForm(forms.Form):
    """The plan a seat moves to (`seat_change_plan`); for one seat, any plan but its own."""

    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), label="New plan")

    def __init__(self, *args: Any, seat: Seat | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if seat is not None:
            field = self.fields["plan"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Plan.objects.exclude(pk=seat.plan_id)


# --- issue 13: reassignment (R19), usage limits (R20), reconciliations (R21) ------------------


class ReassignForm(forms.Form):
    """Who a seat goes to (`seat_reassign`): someone who has an account, or a new person."""

    holder = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        label="Give the seat to",
        empty_label="— a new person (below) —",
    )
    username = forms.CharField(required=False, max_length=150, label="New person's username")
    first_name = forms.CharField(required=False, max_length=150, label="First name")
    last_name = forms.CharField(required=False, max_length=150, label="Last name")
    email = forms.EmailField(required=False, label="Email")
    memo = forms.CharField(
        required=False,
        max_length=500,
        label="Why (optional)",
        help_text="Kept in the holding history, e.g. “Ann moved to sales”.",
    )

    def __init__(self, *args: Any, seat: Seat | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if seat is not None:
            field = self.fields["holder"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = (
                User.objects.filter(is_active=True).exclude(pk=seat.holder_id).order_by("username")
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        picked, username = cleaned.get("holder"), (cleaned.get("username") or "").strip()
        if picked is None and not username and not self.has_error("holder"):
            self.add_error("holder", "Pick a person, or give a username to create one.")
        if picked is not None and username:
            self.add_error("username", "Pick a person or create one, not both.")
        cleaned["username"] = username
        return cleaned


class UsageLimitForm(forms.Form):
    """One seat's usage limit (R20): paid InMails per usage period, or none."""

    monthly_usage_limit = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=USAGE_LIMIT_MAX,
        label="Paid InMails per usage period",
        help_text="Empty for no limit; 0 allows Open Profile InMails only.",
    )


class ReconcileForm(forms.Form):
    """What LinkedIn shows for a seat, and when (R21)."""

    linkedin_balance = forms.IntegerField(
        min_value=0,
        max_value=LINKEDIN_BALANCE_MAX,
        label="LinkedIn shows",
        help_text="InMail credits, as LinkedIn shows them for this seat.",
    )
    observed_at = forms.DateTimeField(
        required=False,
        label="When",
        help_text="Empty for now; an earlier moment if you noted it then.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )


class ResolveForm(forms.Form):
    """How an admin closes an open reconciliation (R21): the button pressed is the action."""

    action = forms.ChoiceField(choices=[("adjust", "Adjust"), ("dismiss", "Dismiss")])
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        help_text="Kept with the reconciliation and, when adjusting, on the adjustment entry.",
    )
