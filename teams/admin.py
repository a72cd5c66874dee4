"""Django admin for the people, teams, memberships and the plan catalog.

Seats hold credits, so their admin lives with the ledger (`ledger/admin.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count, Field, Q, QuerySet
from django.http import HttpRequest

from teams.models import PLAN_EDITABLE_FIELDS, Membership, Plan, SeatStatus, Team, User

if TYPE_CHECKING:
    from typing import TypeAlias, TypedDict

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


# --------------------------------------------------------------------------------------------
# Users, teams, memberships
# --------------------------------------------------------------------------------------------


class MembershipInline(admin.TabularInline[Membership, User]):
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
class UserAdmin(DjangoUserAdmin[User]):
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
