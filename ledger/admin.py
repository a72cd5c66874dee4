"""Django admin over the ledger: read-only ledger tables, and seats changed through services.

The ledger is append-only and every write goes through `ledger.services` (R1), so its tables
are read-only here: nothing can be added, changed or deleted. Corrections are adjustments,
posted through the services.

A seat's credits live in the ledger, so a seat is born, cancelled and re-planned only through
`ledger.services`. The add form calls `seat_activate`, the change form only edits pool access
and the monthly allocation (`seat_update_settings`), and cancellation and plan changes are
admin actions. A ledger refusal becomes an error message on the page, never a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import ngettext

from ledger.exceptions import LedgerError, LedgerValidationError
from ledger.forms import ChangePlanForm, refusal_message
from ledger.models import (
    Account,
    Entry,
    InMail,
    Lot,
    Notification,
    NotificationPreference,
    Operation,
    Purchase,
    Refresh,
)
from ledger.schedule import today
from ledger.selectors import seat_balance
from ledger.services import (
    Cause,
    ledger_bring_all_up_to_date,
    seat_activate,
    seat_cancel,
    seat_change_plan,
    seat_update_settings,
)
from ledger.templatetags.money import money
from teams.admin import PlanAdmin
from teams.models import Plan, Seat, Team, User

if TYPE_CHECKING:
    from typing import TypeAlias, TypedDict

    from django.contrib.admin.options import _FieldsetSpec
    from django_stubs_ext import WithAnnotations

    class TeamCounts(TypedDict):
        member_count: int
        active_seat_count: int

    TeamWithCounts: TypeAlias = WithAnnotations[Team, TeamCounts]


M = TypeVar("M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    # Ledger tables grow without bound: an exact count on every page would scan them.
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin[Account]):
    list_display = [
        "id",
        "kind",
        "team",
        "seat",
        "balance",
        "refresh",
        "anchor_on",
        "next_due_at",
        "is_open",
    ]
    list_filter = ["kind", "refresh", "is_open", "team"]
    search_fields = ["team__name", "seat__holder__username", "seat__holder__last_name"]
    list_select_related = ["team", "seat__holder", "seat__plan", "seat__team"]


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin[Lot]):
    list_display = [
        "id",
        "account",
        "source",
        "granted_at",
        "expires_at",
        "initial",
        "remaining",
        "moved_from",
    ]
    list_filter = ["source", "account__kind", "account__team"]
    search_fields = ["account__team__name", "account__seat__holder__username"]
    list_select_related = ["account"]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin[Entry]):
    list_display = [
        "at",
        "account",
        "kind",
        "amount",
        "balance_after",
        "lot",
        "inmail",
        "actor",
        "cause",
        "memo",
        "operation",
    ]
    list_filter = ["kind", "cause", "account__kind", "account__team"]
    search_fields = [
        "memo",
        "account__team__name",
        "account__seat__holder__username",
        "actor__username",
    ]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    list_select_related = ["account", "lot", "inmail", "actor", "operation"]


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin[Operation]):
    list_display = ["id", "at", "kind", "actor", "via", "memo", "created_at"]
    list_filter = ["kind", "via"]
    search_fields = ["memo", "actor__username"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    list_select_related = ["actor"]


@admin.register(Refresh)
class RefreshAdmin(ReadOnlyAdmin[Refresh]):
    list_display = [
        "period_on",
        "account",
        "kind",
        "monthly",
        "cap",
        "capped_before",
        "granted",
        "lost_to_cap",
        "due_at",
    ]
    list_filter = ["kind", "account__kind", "account__team"]
    search_fields = ["account__team__name", "account__seat__holder__username"]
    ordering = ["-due_at", "-id"]
    list_select_related = ["account"]


@admin.register(InMail)
class InMailAdmin(ReadOnlyAdmin[InMail]):
    list_display = [
        "id",
        "seat",
        "recipient",
        "subject",
        "status",
        "sent_at",
        "responded_at",
        "open_profile",
        "credit_cost",
        "paid_from",
        "refunded",
    ]
    list_filter = ["status", "open_profile", "paid_from", "refunded", "imported", "seat__team"]
    search_fields = ["recipient", "subject", "seat__holder__username", "seat__holder__last_name"]
    date_hierarchy = "sent_at"
    list_select_related = ["seat__holder", "seat__plan", "seat__team"]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin[Purchase]):
    list_display = ["at", "seat", "credits", "price_per_credit", "price_in_all", "actor"]
    # Read-only: the page of one purchase shows these, its amounts with their currency.
    fields = ["at", "seat", "lot", "credits", "price_per_credit", "price_in_all", "actor"]
    readonly_fields = ["price_per_credit", "price_in_all"]
    list_filter = ["seat__team", "seat__plan"]
    search_fields = ["seat__holder__username", "seat__holder__last_name", "seat__team__name"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    list_select_related = ["seat__holder", "seat__plan", "seat__team", "actor"]

    @admin.display(description="unit price", ordering="unit_price")
    def price_per_credit(self, purchase: Purchase) -> str:
        return money(purchase.unit_price)

    @admin.display(description="total", ordering="total")
    def price_in_all(self, purchase: Purchase) -> str:
        return money(purchase.total)


PLAN_PRICE_COLUMNS = ("monthly_price", "purchase_price")


class PlanWithCurrencyAdmin(PlanAdmin):
    """The plan catalog's admin (`teams.admin.PlanAdmin`), its prices shown with the currency.

    Every amount the site shows carries the `CURRENCY` code through one formatter,
    `ledger.templatetags.money`; `teams` can't import the ledger, so the ledger registers the
    catalog's admin again with its two price columns formatted. Editing is unchanged: the form
    still takes plain decimals, and its labels name the currency.
    """

    list_display = [
        f"{name}_shown" if name in PLAN_PRICE_COLUMNS else name for name in PlanAdmin.list_display
    ]

    @admin.display(description="monthly price", ordering="monthly_price")
    def monthly_price_shown(self, plan: Plan) -> str:
        return money(plan.monthly_price)

    @admin.display(description="purchase price", ordering="purchase_price")
    def purchase_price_shown(self, plan: Plan) -> str:
        return money(plan.purchase_price)

    def get_form(
        self, request: HttpRequest, obj: Plan | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Plan]]:
        form = super().get_form(request, obj, change, **kwargs)
        for name in PLAN_PRICE_COLUMNS:
            field = form.base_fields[name]
            field.label = f"{capfirst(field.label or name)} ({settings.CURRENCY})"
        return form


admin.site.unregister(Plan)
admin.site.register(Plan, PlanWithCurrencyAdmin)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin[Notification]):
    """Alerts raised by the jobs: a record of who was told what, and whether it was emailed."""

    list_display = (
        "created_at",
        "user",
        "kind",
        "title",
        "email_status",
        "email_attempts",
        "email_next_attempt_at",
        "read_at",
    )
    list_filter = ("kind", "email_status")
    search_fields = ("title", "user__username", "user__email")
    date_hierarchy = "created_at"
    list_select_related = ("user",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin[NotificationPreference]):
    """Each person's alert choices; people without a row get the defaults."""

    list_display = (
        "user",
        "email",
        "low_balance_threshold",
        "low_balance",
        "expiring",
        "lost_to_cap",
        "pool_low",
        "quality",
    )
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)


def _admin_cause(request: HttpRequest) -> Cause:
    user = request.user
    return Cause(actor=user if isinstance(user, User) else None, via="admin")


def _ledger_error_message(error: LedgerError) -> str:
    """A ledger refusal as a message above the page: a field's refusal names the field."""
    if isinstance(error, LedgerValidationError):
        return f"{error.field.replace('_', ' ').capitalize()}: {refusal_message(error)}"
    return refusal_message(error)


# --------------------------------------------------------------------------------------------
# Seats: every change goes through the ledger services
# --------------------------------------------------------------------------------------------

ACTIVATION_FIELDS = ("holder", "team", "plan", "activated_on", "pool_access", "monthly_allocation")
SETTINGS_FIELDS = ("pool_access", "monthly_allocation")
RECORD_FIELDS = (
    "holder",
    "team",
    "plan",
    "status",
    "activated_on",
    "anchor_day",
    "credits_now",
    "cancelled_at",
    "replaced_by",
    "created_at",
)


class SeatActivationForm(forms.ModelForm[Seat]):
    """What `seat_activate` needs; the admin saves it by calling the service, not `save()`."""

    # Three states, because the service's default (None) means "as the plan says": pooled
    # plans draw on the team pool, other plans can't.
    pool_access = forms.TypedChoiceField(
        choices=[("", "As the plan says"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        help_text="Whether the seat may spend from its team's pool (pooled plans only).",
    )

    class Meta:
        model = Seat
        fields = ACTIVATION_FIELDS
        help_texts = {
            "activated_on": (
                "The seat is granted its monthly credits at 00:00 of this day; a past date is "
                "brought up to date at once. It can't be in the future."
            ),
            "monthly_allocation": (
                "Pooled plans only: credits moved from the pool to this seat at each refresh."
            ),
        }


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin[Seat]):
    list_display = [
        "id",
        "holder",
        "team",
        "plan",
        "status",
        "activated_on",
        "pool_access",
        "monthly_allocation",
        "balance",
    ]
    list_display_links = ["id", "holder"]
    list_filter = ["status", "team", "plan__family", "plan"]
    search_fields = [
        "holder__username",
        "holder__first_name",
        "holder__last_name",
        "team__name",
        "plan__name",
    ]
    list_select_related = ["holder", "team", "plan", "account"]
    autocomplete_fields = ["holder", "team"]
    actions = ["cancel_seats", "change_plan"]

    # --- pages ------------------------------------------------------------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Balances shown are current (R17): apply whatever refresh or expiry is due. With
        # the beat running this is one indexed query that finds nothing.
        ledger_bring_all_up_to_date()
        return super().changelist_view(request, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The admin runs a POST in one transaction; a ledger refusal raised by `save_model`
        # rolls all of it back, and is then shown as a message on the form it came from.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except LedgerError as error:
            self.message_user(request, _ledger_error_message(error), messages.ERROR)
            if object_id is None:
                # Back to the add form with what was typed (the admin reads initial values
                # from the query string), so nothing needs typing again.
                typed = {name: request.POST.get(name, "") for name in ACTIVATION_FIELDS}
                return HttpResponseRedirect(f"{request.path}?{urlencode(typed)}")
            return HttpResponseRedirect(request.path)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"activated_on": today(), **super().get_changeform_initial_data(request)}

    def get_fieldsets(self, request: HttpRequest, obj: Seat | None = None) -> _FieldsetSpec:
        if obj is None:
            return [(None, {"fields": ACTIVATION_FIELDS})]
        return [
            (
                "Seat",
                {"fields": ["holder", "team", "plan", "status", "activated_on", "anchor_day"]},
            ),
            ("Team pool", {"fields": SETTINGS_FIELDS}),
            ("Credits", {"fields": ["credits_now"]}),
            ("History", {"fields": ["cancelled_at", "replaced_by", "created_at"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Seat | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        if obj.is_active and obj.plan.pooled:
            return RECORD_FIELDS
        # Pool settings mean nothing on a cancelled seat or a plan without a pool.
        return RECORD_FIELDS + SETTINGS_FIELDS

    def get_form(
        self, request: HttpRequest, obj: Seat | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Seat]]:
        if obj is None:
            kwargs["form"] = SeatActivationForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Seat, form: forms.ModelForm[Seat], change: bool
    ) -> None:
        cause = _admin_cause(request)
        if change:
            changed = {
                name: form.cleaned_data[name]
                for name in SETTINGS_FIELDS
                if name in form.cleaned_data
            }
            if changed:
                seat_update_settings(seat=obj, cause=cause, **changed)
        else:
            data = form.cleaned_data
            seat = seat_activate(
                holder=data["holder"],
                team=data["team"],
                plan=data["plan"],
                activated_on=data["activated_on"],
                pool_access=data["pool_access"],
                monthly_allocation=data["monthly_allocation"],
                cause=cause,
            )
            # The admin goes on with `obj` (history log, redirect), so it becomes the new seat.
            obj.pk = seat.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Seat | None = None) -> bool:
        # A seat's ledger history refers to it; seats are cancelled, never deleted.
        return False

    @admin.display(description="balance")
    def balance(self, seat: Seat) -> int:
        # `changelist_view` brought every account up to date before the rows were read.
        return seat.account.balance

    @admin.display(description="credits now")
    def credits_now(self, seat: Seat) -> str:
        balance = seat_balance(seat)
        parts = [f"{balance.own} own"]
        if balance.pool_available:
            parts.append(f"{balance.pool_available} in the team pool")
        parts += [
            f"{balance.available} available",
            f"{balance.expiring_7d} expire within 7 days",
            f"{balance.expiring_30d} within 30 days",
        ]
        if balance.next_refresh_on is not None:
            parts.append(
                f"next refresh {balance.next_refresh_on:%Y-%m-%d}: +{balance.next_refresh_credits}"
            )
        return " · ".join(parts)

    # --- actions ----------------------------------------------------------------------------

    @admin.action(description="Cancel selected seats (their credits are forfeited)")
    def cancel_seats(self, request: HttpRequest, queryset: QuerySet[Seat]) -> HttpResponse | None:
        if "confirm" not in request.POST:
            return self._confirm_action(
                request,
                queryset,
                action="cancel_seats",
                title="Cancel seats",
                question=(
                    "Cancel these seats? Each seat's whole balance is forfeited at once and "
                    "can't be given back (R13)."
                ),
                form=None,
            )
        cause = _admin_cause(request)
        done = 0
        for seat in queryset:
            try:
                seat_cancel(seat=seat, cause=cause)
            except LedgerError as error:
                self.message_user(
                    request, f"{seat}: {_ledger_error_message(error)}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(
                request,
                f"Cancelled {_seats(done)}; their credits were forfeited.",
                messages.SUCCESS,
            )
        return None

    @admin.action(description="Change the plan of selected seats")
    def change_plan(self, request: HttpRequest, queryset: QuerySet[Seat]) -> HttpResponse | None:
        form = ChangePlanForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            return self._confirm_action(
                request,
                queryset,
                action="change_plan",
                title="Change plan",
                question=(
                    "Move these seats to another plan? Each old seat is cancelled, its credits "
                    "are forfeited (they are not transferable), and a new seat is activated "
                    "today on the new plan (R13)."
                ),
                form=form,
            )
        plan = form.cleaned_data["plan"]
        cause = _admin_cause(request)
        done = 0
        for seat in queryset:
            try:
                seat_change_plan(seat=seat, plan=plan, cause=cause)
            except LedgerError as error:
                self.message_user(
                    request, f"{seat}: {_ledger_error_message(error)}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"Moved {_seats(done)} to {plan.name}.", messages.SUCCESS)
        return None

    def _confirm_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Seat],
        *,
        action: str,
        title: str,
        question: str,
        form: forms.Form | None,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "question": question,
            "action": action,
            "form": form,
            "seats": queryset.select_related("holder", "team", "plan", "account"),
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/teams/seat/confirm_action.html", context)


def _seats(count: int) -> str:
    return ngettext("%(count)d seat", "%(count)d seats", count) % {"count": count}
