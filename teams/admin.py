"""Django admin for the people, teams, memberships and the plan catalog, and the audit trail.

Seats hold credits, so their admin lives with the ledger (`ledger/admin.py`).

Every change made here is a `teams.services` call, never a model's `save()` or `delete()`, so
the admin keeps the rules the API and the console keep and each change leaves its audit row.
The plan and team forms check the services' rules while validating, so a refusal shows on the
field as typed; any other refusal a service raises rolls the whole request back and comes back
as an error message on the page it came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Field, Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from teams.models import (
    PLAN_EDITABLE_FIELDS,
    AuditEvent,
    Membership,
    Plan,
    SeatStatus,
    Team,
    User,
)
from teams.services import (
    TEAM_EDITABLE_FIELDS,
    USER_EDITABLE_FIELDS,
    membership_remove,
    membership_set,
    plan_create,
    plan_update,
    plan_validate,
    team_create,
    team_update,
    team_validate,
    user_create,
    user_password_changed,
    user_update,
)

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
# Every write through a service
# --------------------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _refusal(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{field.replace('_', ' ').capitalize()}: {message}" if field != "__all__" else message
            for field, field_messages in error.message_dict.items()
            for message in field_messages
        )
    return " ".join(error.messages)


def _changed(form: forms.BaseForm, editable: tuple[str, ...]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


class RefusalsAsMessages(admin.ModelAdmin[Any]):
    """A service's refusal raised while saving: rolled back, and shown on the page as a message.

    The admin saves inside one transaction, which the refusal rolls back whole (the object and
    its inlines alike); the admin then shows the change page again with the reason.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, _refusal(error), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, _refusal(error), messages.ERROR)
            return HttpResponseRedirect(request.path)


def _membership_save(request: HttpRequest, membership: Membership, changed: list[str]) -> None:
    """An added or edited membership row: moving it to another team or person is a removal
    and a new membership, so each team's audit trail tells the whole story."""
    actor = _actor(request)
    if membership.pk is not None and ({"team", "user"} & set(changed)):
        membership_remove(actor=actor, membership=Membership.objects.get(pk=membership.pk))
    membership_set(actor=actor, team=membership.team, user=membership.user, role=membership.role)


class MembershipsThroughServices(admin.ModelAdmin[Any]):
    """Membership inlines saved through `membership_set` and `membership_remove`."""

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Any],
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            membership_remove(actor=_actor(request), membership=membership)
        for membership, changed in formset.changed_objects:
            _membership_save(request, membership, changed)
        for membership in formset.new_objects:
            _membership_save(request, membership, [])


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
class UserAdmin(RefusalsAsMessages, MembershipsThroughServices, DjangoUserAdmin[User]):
    list_display = ["username", "full_name", "email", "is_admin", "is_active", "last_login"]
    list_filter = [IsAdminFilter, "is_active", "memberships__team"]
    search_fields = ["username", "first_name", "last_name", "email"]
    inlines = [MembershipInline]
    # Access is the admin flag plus team roles (docs/rules.md, "Who uses it"); Django's superuser,
    # groups and per-user permissions would only be a second, contradicting source of truth.
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

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm[User], change: bool
    ) -> None:
        if change:
            user_update(actor=_actor(request), user=obj, **_changed(form, USER_EDITABLE_FIELDS))
        else:
            data = form.cleaned_data
            user = user_create(
                actor=_actor(request),
                username=data["username"],
                password=data["password1"] if data.get("set_usable_password", True) else None,
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                is_staff=data.get("is_staff", False),
            )
            # The admin goes on with `obj` (history log, redirect), so it becomes the new user.
            obj.pk = user.pk
        obj.refresh_from_db()

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's own form sets the password; the audit row joins its transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=unquote(id))
                user_password_changed(actor=_actor(request), user=user)
        return response

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Seats, ledger entries and the audit trail name people: they are deactivated instead.
        return False

    @admin.display(description="name", ordering="last_name")
    def full_name(self, user: User) -> str:
        return user.get_full_name()

    @admin.display(description="admin", boolean=True, ordering="is_staff")
    def is_admin(self, user: User) -> bool:
        return user.is_staff


class TeamAdminForm(forms.ModelForm[Team]):
    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        assert cleaned is not None
        values = {name: cleaned[name] for name in TEAM_EDITABLE_FIELDS if name in cleaned}
        cleaned.update(team_validate(team=self.instance, values=values))
        return cleaned


@admin.register(Team)
class TeamAdmin(RefusalsAsMessages, MembershipsThroughServices, admin.ModelAdmin[Team]):
    form = TeamAdminForm
    list_display = ["name", "share_usage", "member_count", "active_seat_count", "created_at"]
    list_filter = ["share_usage"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def save_model(
        self, request: HttpRequest, obj: Team, form: forms.ModelForm[Team], change: bool
    ) -> None:
        if change:
            team_update(actor=_actor(request), team=obj, **_changed(form, TEAM_EDITABLE_FIELDS))
        else:
            team = team_create(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                share_usage=form.cleaned_data["share_usage"],
            )
            obj.pk = team.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Seats and the audit trail refer to teams, whose history must stay readable.
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        teams: QuerySet[Team] = super().get_queryset(request)
        return teams.annotate(
            member_count=Count("memberships", distinct=True),
            active_seat_count=Count(
                "seats", filter=Q(seats__status=SeatStatus.ACTIVE), distinct=True
            ),
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team: TeamWithCounts) -> int:
        return team.member_count

    @admin.display(description="active seats", ordering="active_seat_count")
    def active_seat_count(self, team: TeamWithCounts) -> int:
        return team.active_seat_count


@admin.register(Membership)
class MembershipAdmin(RefusalsAsMessages, admin.ModelAdmin[Membership]):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]
    list_select_related = ["user", "team"]

    def save_model(
        self,
        request: HttpRequest,
        obj: Membership,
        form: forms.ModelForm[Membership],
        change: bool,
    ) -> None:
        _membership_save(request, obj, form.changed_data if change else [])
        saved = Membership.objects.get(team=obj.team, user=obj.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_remove(actor=_actor(request), membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        # Django's bulk delete action; one service call per row, all in the admin's transaction
        # (a row the rules refuse rolls every one back).
        for membership in queryset.select_related("user", "team"):
            membership_remove(actor=_actor(request), membership=membership)


# --------------------------------------------------------------------------------------------
# Plan catalog
# --------------------------------------------------------------------------------------------


class PlanAdminForm(forms.ModelForm[Plan]):
    def clean(self) -> dict[str, Any] | None:
        # The rules of `plan_update` (one place), so a refusal shows on its field as typed.
        cleaned = super().clean()
        assert cleaned is not None
        names = ("code", *PLAN_EDITABLE_FIELDS)
        values = {name: cleaned[name] for name in names if name in cleaned}
        if len(values) == len([name for name in names if name in self.fields]):
            plan_validate(plan=self.instance, values=values)
        return cleaned


@admin.register(Plan)
class PlanAdmin(RefusalsAsMessages, admin.ModelAdmin[Plan]):
    form = PlanAdminForm
    list_display = ["name", "code", *PLAN_EDITABLE_FIELDS[1:]]
    list_filter = ["family", "refresh", "pooled", "purchasable"]
    search_fields = ["code", "name"]

    def save_model(
        self, request: HttpRequest, obj: Plan, form: forms.ModelForm[Plan], change: bool
    ) -> None:
        if change:
            plan_update(actor=_actor(request), plan=obj, **_changed(form, PLAN_EDITABLE_FIELDS))
        else:
            fields = {name: form.cleaned_data[name] for name in PLAN_EDITABLE_FIELDS}
            plan = plan_create(actor=_actor(request), code=form.cleaned_data["code"], **fields)
            obj.pk = plan.pk
        obj.refresh_from_db()

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> list[str]:
        # The code is how integrations name a plan (docs/api.md `/plans/{code}/`): fixed once made.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # Seats, their history and every cost report refer to plans.
        return False


# --------------------------------------------------------------------------------------------
# The audit trail: read-only, as the services wrote it
# --------------------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["at", "actor", "action", "object_type", "object_id", "team", "seat"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "actor__username"]
    list_select_related = ["actor", "team", "seat"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
