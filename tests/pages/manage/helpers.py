"""The console's pages and actions, and what the console tests read back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from ledger.models import Account, Entry
from ledger.services import Cause
from teams.models import Seat
from tests.factories import plan
from tests.pages.manage.conftest import Console

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse


SYSTEM = Cause.system("test")


def page_urls(console: Console) -> dict[str, str]:
    seat, team = console.seat.pk, console.org.team.pk
    return {
        "index": reverse("manage:index"),
        "seat_create": reverse("manage:seat_create"),
        "seat_detail": reverse("manage:seat_detail", args=[seat]),
        "seat_cancel": reverse("manage:seat_cancel", args=[seat]),
        "seat_change_plan": reverse("manage:seat_change_plan", args=[seat]),
        "seat_purchase": reverse("manage:seat_purchase", args=[seat]),
        "plans": reverse("manage:plans"),
        "plan_edit": reverse("manage:plan_edit", args=[plan("recruiter_lite").pk]),
        "teams": reverse("manage:teams"),
        "team_create": reverse("manage:team_create"),
        "team_detail": reverse("manage:team_detail", args=[team]),
        "users": reverse("manage:users"),
        "user_create": reverse("manage:user_create"),
    }


def action_urls(console: Console) -> dict[str, str]:
    """Every write of the console, each a POST."""
    seat, team = console.seat.pk, console.org.team.pk
    member = console.membership.pk
    return {
        **page_urls(console),
        "seat_bonus": reverse("manage:seat_bonus", args=[seat]),
        "seat_adjust": reverse("manage:seat_adjust", args=[seat]),
        "seat_settings": reverse("manage:seat_settings", args=[seat]),
        "member_add": reverse("manage:member_add", args=[team]),
        "member_role": reverse("manage:member_role", args=[team, member]),
        "member_remove": reverse("manage:member_remove", args=[team, member]),
    }


PAGES = [
    "index",
    "seat_create",
    "seat_detail",
    "seat_cancel",
    "seat_change_plan",
    "seat_purchase",
    "plans",
    "plan_edit",
    "teams",
    "team_create",
    "team_detail",
    "users",
    "user_create",
]
ACTIONS = [
    *PAGES,
    "seat_bonus",
    "seat_adjust",
    "seat_settings",
    "member_add",
    "member_role",
    "member_remove",
]
NOT_ADMINS = ["lead", "recruiter", "teammate", "outsider", "nobody"]


def html_of(response: TestResponse) -> str:
    return response.content.decode()


def balance_of(seat: Seat) -> int:
    return Account.objects.get(seat=seat).balance


def ledger_snapshot() -> list[tuple[int, str, int, int]]:
    return list(Entry.objects.order_by("pk").values_list("pk", "kind", "amount", "balance_after"))
