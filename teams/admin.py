"""Django admin for the people, teams, plan catalog and seats.

Seats are special: their credits live in the ledger, so a seat is born, cancelled and re-planned
only through `ledger.services`. The add form calls `seat_activate`, the change form only edits
pool access and the monthly allocation (`seat_update_settings`), and cancellation and plan
changes are admin actions. A ledger refusal becomes an error message on the page, never a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count, Field, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from ledger.exceptions import LedgerError, LedgerRuleError, LedgerValidationError
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
from teams.models import PLAN_EDITABLE_FIELDS, Membership, Plan, Seat, SeatStatus, Team, User

if TYPE_CHECKING:
    from typing import TypeAlias, TypedDict

    from django.contrib.admin.options import _FieldsetSpec
    from django_stubs_ext import WithAnnotations

    class TeamCounts(TypedDict):
        member_count: int
        active_seat_count: int

    TeamWithCounts: TypeAlias = WithAnnotations[Team, TeamCounts]

admin.site.site_header = "InMail Ledger administration"
admin.site.site_title = "InMail Ledger admin"
admin.site.index_title = "Organisation"
# Permissions come from the admin flag and team roles, never from Django groups.
admin.site.unregister(Group)


def _admin_cause(request: HttpRequest) -> Cause:
    user = request.user
    return Cause(actor=user if isinstance(user, User) else None, via="admin")


def _ledger_error_message(error: LedgerError) -> str:
    if isinstance(error, LedgerValidationError):
        return f"{error.field.replace('_', ' ').capitalize()}: {error.message}"
    if isinstance(error, LedgerRuleError):
        return error.detail
    return str(error)


# --------------------------------------------------------------------------------------------
# Users, teams, memberships
# --------------------------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "team"]
    fields = ["user", "team", "role"]


class IsAdminFilter(admin.SimpleListFilter):
    title = "admin"
    parameter_name = "admin"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(is_staff=True)
        if self.value() == "no":
            return queryset.filter(is_staff=False)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "email", "is_admin", "is_active", "last_login"]
    list_filter = [IsAdminFilter, "is_active", "memberships__team"]
    search_fields = ["username", "first_name", "last_name", "email"]
    inlines = [MembershipInline]
    # Access is the admin flag plus team roles (SPEC "Who uses it"); Django's superuser, groups
    # and per-user permissions would only be a second, contradicting source of truth.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "is_staff")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_staff",)}),
    )
    readonly_fields = ["last_login", "date_joined"]

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "is_staff":
            kwargs["label"] = "Admin"
            kwargs["help_text"] = (
                "Admins manage users, teams, plans, seats and credits, and see everything."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, user: User) -> str:
        return user.get_full_name()

    @admin.display(description="admin", boolean=True, ordering="is_staff")
    def is_admin(self, user: User) -> bool:
        return user.is_staff


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "share_usage", "member_count", "active_seat_count", "created_at"]
    list_filter = ["share_usage"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships", distinct=True),
                active_seat_count=Count(
                    "seats", filter=Q(seats__status=SeatStatus.ACTIVE), distinct=True
                ),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team: TeamWithCounts) -> int:
        return team.member_count

    @admin.display(description="active seats", ordering="active_seat_count")
    def active_seat_count(self, team: TeamWithCounts) -> int:
        return team.active_seat_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]
    list_select_related = ["user", "team"]


# --------------------------------------------------------------------------------------------
# Plan catalog
# --------------------------------------------------------------------------------------------


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin[Plan]):
    list_display = ["name", "code", *PLAN_EDITABLE_FIELDS[1:]]
    list_filter = ["family", "refresh", "pooled", "purchasable"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> list[str]:
        # The code is how integrations name a plan (API.md `/plans/{code}/`): fixed once made.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # Seats, their history and every cost report refer to plans.
        return False


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


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), label="New plan")


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
        # Balances shown are current (SPEC R17): apply whatever refresh or expiry is due. With
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
                    "can't be given back (SPEC R13)."
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
                    "today on the new plan (SPEC R13)."
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
    return f"{count} seat{'s' if count != 1 else ''}"
