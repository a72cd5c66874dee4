"""Read-only admin pages over the ledger tables.

The ledger is append-only and every write goes through `ledger.services` (SPEC R1), so these
pages only let admins look: nothing can be added, changed or deleted here. Corrections are
adjustments, posted through the services.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from ledger.models import (
    Account,
    Entry,
    InMail,
    Lot,
    Notification,
    NotificationPreference,
    Purchase,
    Refresh,
)

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
    list_select_related = ["account", "lot", "inmail", "actor"]


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
    list_display = ["at", "seat", "credits", "unit_price", "total", "actor"]
    list_filter = ["seat__team", "seat__plan"]
    search_fields = ["seat__holder__username", "seat__holder__last_name", "seat__team__name"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    list_select_related = ["seat__holder", "seat__plan", "seat__team", "actor"]


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
