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
from teams.models import Plan, Seat


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
