"""Forms of the admin console (`/manage/`).

Forms only check what a person typed; every write is a `ledger.services` or `teams.services`
call made by the view, and a refusal the services raise lands on the form through
`ledger.forms.add_ledger_error` or `add_service_error`, so the page shows it next to the
field it is about and nothing is left half-written. Lengths and choices come from the model
fields. The seat settings and change-plan forms, shared with the team page and the Django
admin, are in `ledger.forms`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from ledger.models import EntryKind
from ledger.schedule import today
from teams.models import PLAN_EDITABLE_FIELDS, Plan, Role, SeatStatus, Team, User

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def add_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a `teams.services` refusal: each message on its field, or on top without one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL)


def _pool_access_field() -> forms.TypedChoiceField:
    # Three states, because the service's default (None) means "as the plan says": pooled
    # plans draw on the team pool, other plans can't.
    return forms.TypedChoiceField(
        choices=[("", "As the plan says"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        label="Pool access",
        help_text="Whether the seat may spend from its team's pool (pooled plans only).",
    )


# --------------------------------------------------------------------------------------------
# Seats
# --------------------------------------------------------------------------------------------


class SeatFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=150, label="Holder")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="Any")
    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), required=False, empty_label="Any")
    status = forms.ChoiceField(
        choices=[("", "Any"), *SeatStatus.choices], required=False, label="Status"
    )
    idle = forms.BooleanField(
        required=False,
        label="Idle only",
        help_text="Active seats older than the idle window that sent nothing in it.",
    )


class SeatActivateForm(forms.Form):
    holder = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username")
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all())
    plan = forms.ModelChoiceField(queryset=Plan.objects.all())
    activated_on = forms.DateField(
        widget=DateInput(),
        label="Activated on",
        help_text=(
            "The seat is granted its monthly credits at 00:00 of this day; a past date is "
            "brought up to date at once."
        ),
    )
    pool_access = _pool_access_field()
    monthly_allocation = forms.IntegerField(
        required=False,
        min_value=0,
        label="Monthly allocation",
        help_text="Pooled plans only: credits moved from the pool to this seat at each refresh.",
    )

    # Asked only when the holder already holds an active seat on this plan in this team
    # (`ledger.services.seats.seat_duplicates`): the page warns, names the seats, and the
    # next submit activates only with the box ticked for the same holder, team and plan.
    confirm_duplicate = forms.BooleanField(
        required=False, label="Yes, activate another seat for this person on this plan"
    )
    duplicate_of = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activated_on"].initial = today()

    def choice_key(self) -> str:
        """Which holder, team and plan the valid form asks for, as the hidden field keeps it."""
        data = self.cleaned_data
        return f"{data['holder'].pk}-{data['team'].pk}-{data['plan'].pk}"

    def duplicate_confirmed(self) -> bool:
        """Whether the admin ticked the box on the warning about these very choices."""
        data = self.cleaned_data
        return bool(data["confirm_duplicate"]) and data["duplicate_of"] == self.choice_key()

    def clean_activated_on(self) -> Any:
        activated_on = self.cleaned_data["activated_on"]
        if activated_on > today():
            raise forms.ValidationError("A seat can't be activated in the future.")
        return activated_on

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        assert cleaned is not None
        plan = cleaned.get("plan")
        if plan is not None and not plan.pooled:
            if cleaned.get("pool_access"):
                self.add_error("pool_access", "Only seats on a pooled plan share the team pool.")
            if cleaned.get("monthly_allocation"):
                self.add_error(
                    "monthly_allocation", "Only seats on a pooled plan get a monthly allocation."
                )
        return cleaned


class PurchaseForm(forms.Form):
    credits = forms.IntegerField(min_value=1, max_value=100_000, label="Credits")

    def __init__(self, *args: Any, unit_price: Decimal, preview_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit_price = unit_price
        # With htmx, the total follows the typing; without it, the GET preview shows it.
        self.fields["credits"].widget.attrs.update(
            {
                "hx-get": preview_url,
                "hx-trigger": "input changed delay:300ms",
                "hx-select": "#purchase-total",
                "hx-target": "#purchase-total",
                "hx-swap": "outerHTML",
            }
        )

    @property
    def total(self) -> Decimal | None:
        """The price of the credits asked for, once they are valid."""
        if not self.is_bound or not self.is_valid():
            return None
        return self.unit_price * Decimal(self.cleaned_data["credits"])


class BonusForm(forms.Form):
    credits = forms.IntegerField(min_value=1, max_value=100_000, label="Credits")
    memo = forms.CharField(
        max_length=500,
        required=False,
        label="Memo",
        help_text="Why the bonus is granted. Bonus credits expire 30 days after the grant.",
    )


class AdjustmentForm(forms.Form):
    """A signed correction, typed directly or worked out from the balance LinkedIn shows."""

    linkedin_shows = forms.IntegerField(
        required=False,
        min_value=0,
        label="LinkedIn shows",
        help_text="The balance LinkedIn shows; the adjustment is this minus the current balance.",
    )
    credits = forms.IntegerField(
        required=False,
        min_value=-100_000,
        max_value=100_000,
        label="Adjustment",
        help_text="Signed: +3 adds three credits, -3 removes three.",
    )
    reason = forms.CharField(max_length=500, label="Reason")

    def __init__(self, *args: Any, balance: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.balance = balance

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        assert cleaned is not None
        shows = cleaned.get("linkedin_shows")
        credits = cleaned.get("credits")
        if self.errors:
            return cleaned
        if shows is None and credits is None:
            raise forms.ValidationError("Give the adjustment, or the balance LinkedIn shows.")
        if shows is not None:
            needed = shows - self.balance
            if credits is not None and credits != needed:
                self.add_error(
                    "credits",
                    f"LinkedIn shows {shows} and the seat holds {self.balance}: the adjustment "
                    f"would be {needed:+d}, not {credits:+d}. Give one or the other.",
                )
                return cleaned
            credits = needed
        if credits == 0:
            self.add_error(
                "linkedin_shows" if shows is not None else "credits",
                "The balance already matches; there is nothing to adjust.",
            )
        cleaned["credits"] = credits
        return cleaned


class LedgerFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any"), *EntryKind.choices], required=False)
    since = forms.DateField(required=False, widget=DateInput(), label="From")
    until = forms.DateField(required=False, widget=DateInput(), label="To")
    as_of = forms.DateTimeField(
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        label="As of",
        help_text="Show the balance and lots at this instant (organisation time).",
    )

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def clean_as_of(self) -> datetime | None:
        as_of: datetime | None = self.cleaned_data["as_of"]
        if as_of is not None and as_of > self.now:
            raise forms.ValidationError("A balance can't be read in the future.")
        return as_of

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        assert cleaned is not None
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is not None and until is not None and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned


# --------------------------------------------------------------------------------------------
# Plans, teams, people
# --------------------------------------------------------------------------------------------


class PlanForm(forms.ModelForm[Plan]):
    """Every number of a plan but its code (the name integrations use, fixed once made)."""

    class Meta:
        model = Plan
        fields = list(PLAN_EDITABLE_FIELDS)
        labels = {"max_balance": "Cap (max balance)"}
        help_texts = {
            "credit_lifetime_days": "Days a granted credit lives; empty means never by age.",
            "monthly_purchase_limit": "Credits a seat may buy a month; empty means unlimited.",
            "refresh": "Applies to seats activated after the change.",
        }


class TeamForm(forms.Form):
    """A team's name and visibility; `teams.services` checks the name is free in any case."""

    name = forms.CharField(max_length=Team._meta.get_field("name").max_length, label="Name")
    share_usage = forms.BooleanField(required=False, label="Recruiters see the team's totals")


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RECRUITER)

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = users_not_in(team)


def users_not_in(team: Team) -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(memberships__team=team).order_by("username")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class UserCreateForm(UserCreationForm[User]):
    """A new person; the password goes through the project's password validators."""

    is_admin = forms.BooleanField(
        required=False,
        label="Admin",
        help_text="Admins manage users, teams, plans, seats and credits, and see everything.",
    )

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")
        field_classes = {"username": UsernameField}


class AuditFilterForm(forms.Form):
    """The console's filters of the audit trail, as `GET /api/v1/audit/` takes them."""

    seat = forms.IntegerField(required=False, min_value=1, label="Seat #")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="Any")
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"), required=False, empty_label="Anyone", label="By"
    )
    since = forms.DateField(required=False, widget=DateInput(), label="From")
    until = forms.DateField(required=False, widget=DateInput(), label="To")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        assert cleaned is not None
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is not None and until is not None and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned
