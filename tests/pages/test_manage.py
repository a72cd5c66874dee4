"""The admin console under /manage/: who may see it, and each action's exact ledger effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import Account, Entry, EntryKind, LotSource, Purchase
from ledger.schedule import add_days, start_of_day, today
from ledger.services import Cause, adjustment_post, bonus_grant, seat_cancel
from teams.models import Membership, Plan, Role, Seat, SeatStatus, Team, User
from tests.conftest import Org
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_seat, plan

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

SYSTEM = Cause.system("test")


@dataclass
class Console:
    """The `org` fixture plus what the console pages are about."""

    org: Org
    seat: Seat  # the recruiter's Recruiter Lite seat in `org.team`: 30 credits
    other_seat: Seat  # the outsider's seat in `org.other_team`
    membership: Membership  # the teammate's membership of `org.team`


@pytest.fixture
def console(org: Org) -> Console:
    return Console(
        org=org,
        seat=make_seat(holder=org.recruiter, team=org.team),
        other_seat=make_seat(holder=org.outsider, team=org.other_team),
        membership=Membership.objects.get(user=org.teammate, team=org.team),
    )


@pytest.fixture
def admin_client(client: Client, org: Org) -> Client:
    client.force_login(org.admin)
    return client


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


# --- who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_admin_sees_every_console_page(admin_client: Client, console: Console, page: str) -> None:
    response = admin_client.get(page_urls(console)[page])

    assert response.status_code == 200
    assert 'aria-label="Admin console"' in html_of(response)


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("page", PAGES)
def test_console_pages_are_404_for_everyone_but_admins(
    client: Client, console: Console, role: str, page: str
) -> None:
    client.force_login(getattr(console.org, role))

    assert client.get(page_urls(console)[page]).status_code == 404


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("action", ACTIONS)
def test_console_writes_are_404_for_everyone_but_admins_and_change_nothing(
    client: Client, console: Console, role: str, action: str
) -> None:
    client.force_login(getattr(console.org, role))
    before = ledger_snapshot()
    memberships = Membership.objects.count()

    response = client.post(
        action_urls(console)[action], {"credits": "5", "reason": "x", "role": "lead"}
    )

    assert response.status_code == 404
    assert ledger_snapshot() == before
    assert Membership.objects.count() == memberships


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, console: Console, action: str
) -> None:
    url = action_urls(console)[action]

    for response in (client.get(url), client.post(url, {"credits": "5"})):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("role", ["admin", "recruiter", "lead"])
def test_seat_ledger_is_readable_by_admins_its_holder_and_its_team_leads(
    client: Client, console: Console, role: str
) -> None:
    client.force_login(getattr(console.org, role))

    response = client.get(reverse("manage:seat_ledger", args=[console.seat.pk]))

    assert response.status_code == 200
    html = html_of(response)
    assert "Balance now: <span data-balance-now>30</span>" in html
    # Only admins get the console's navigation and its link to manage the seat.
    assert ('aria-label="Admin console"' in html) == (role == "admin")


@pytest.mark.parametrize("role", ["teammate", "outsider", "nobody"])
def test_seat_ledger_is_404_for_anyone_else(client: Client, console: Console, role: str) -> None:
    client.force_login(getattr(console.org, role))

    assert client.get(reverse("manage:seat_ledger", args=[console.seat.pk])).status_code == 404


def test_a_lead_of_another_team_can_not_read_this_teams_ledger(
    client: Client, console: Console
) -> None:
    other_lead = UserFactory.create(username="southlead")
    MembershipFactory.create(user=other_lead, team=console.org.other_team, role=Role.LEAD)
    client.force_login(other_lead)

    assert client.get(reverse("manage:seat_ledger", args=[console.seat.pk])).status_code == 404
    other = reverse("manage:seat_ledger", args=[console.other_seat.pk])
    assert client.get(other).status_code == 200


def test_seat_ledger_of_a_missing_seat_is_404(admin_client: Client, console: Console) -> None:
    assert admin_client.get(reverse("manage:seat_ledger", args=[99999])).status_code == 404
    assert admin_client.get(reverse("manage:seat_detail", args=[99999])).status_code == 404


# --- the seat list ----------------------------------------------------------------------------


def listed(html: str) -> set[int]:
    import re

    return {int(pk) for pk in re.findall(r'data-seat-id="(\d+)"', html)}


def row_of(html: str, seat: Seat) -> str:
    return html[html.index(f'data-seat-id="{seat.pk}"') :].split("</tr>")[0]


def test_seat_list_shows_every_seat_with_its_balance(
    admin_client: Client, console: Console
) -> None:
    html = html_of(admin_client.get(reverse("manage:index")))

    assert listed(html) == {console.seat.pk, console.other_seat.pk}
    row = row_of(html, console.seat)
    assert "Recruiter Lite" in row
    assert "Talent North" in row
    assert '<td class="num">30</td>' in row


def test_seat_list_filters_by_team_plan_status_and_holder(
    admin_client: Client, console: Console
) -> None:
    corporate = make_seat(
        holder=console.org.lead, team=console.org.team, plan_code="recruiter_corporate"
    )
    seat_cancel(seat=console.other_seat, cause=SYSTEM)
    url = reverse("manage:index")

    def seats_for(**query: str | int) -> set[int]:
        return listed(html_of(admin_client.get(url, query)))

    assert seats_for(team=console.org.team.pk) == {console.seat.pk, corporate.pk}
    assert seats_for(plan=plan("recruiter_corporate").pk) == {corporate.pk}
    assert seats_for(status="cancelled") == {console.other_seat.pk}
    assert seats_for(status="active") == {console.seat.pk, corporate.pk}
    assert seats_for(q="recruit") == {console.seat.pk}
    assert seats_for(q=console.org.outsider.last_name) == {console.other_seat.pk}


def test_seat_list_ignores_filters_it_cannot_read_and_says_so(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.get(reverse("manage:index"), {"team": "abc", "status": "gone"})

    assert response.status_code == 200
    html = html_of(response)
    assert "were not understood" in html
    assert listed(html) == {console.seat.pk, console.other_seat.pk}


def test_seat_list_takes_the_same_number_of_queries_for_two_or_twenty_seats(
    admin_client: Client, console: Console
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("manage:index")).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(18):
        make_seat(holder=UserFactory.create(password=None), team=console.org.team)
    make_seat(holder=console.org.lead, team=console.org.team, plan_code="recruiter_corporate")

    assert queries() == few
    assert few <= 12


# --- activating a seat ------------------------------------------------------------------------


def activation(org: Org, **fields: object) -> dict[str, object]:
    return {
        "holder": org.teammate.pk,
        "team": org.team.pk,
        "plan": plan("recruiter_lite").pk,
        "activated_on": today().isoformat(),
        "pool_access": "",
        "monthly_allocation": "",
        **fields,
    }


def test_new_seat_form_starts_on_today(admin_client: Client, console: Console) -> None:
    response = admin_client.get(reverse("manage:seat_create"))

    assert f'value="{today().isoformat()}"' in html_of(response)


def test_activating_a_seat_grants_its_monthly_credits_at_midnight(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(reverse("manage:seat_create"), activation(console.org))

    seat = Seat.objects.get(holder=console.org.teammate)
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:seat_detail", args=[seat.pk])
    grant = Entry.objects.get(account__seat=seat)
    assert (grant.kind, grant.amount, grant.balance_after) == (EntryKind.GRANT, 30, 30)
    assert grant.at == start_of_day(today())
    assert grant.actor == console.org.admin
    assert grant.cause == "web"


def test_activating_a_seat_on_a_past_date_brings_it_up_to_date(
    admin_client: Client, console: Console
) -> None:
    with time_machine.travel(datetime(2025, 3, 20, 9, tzinfo=UTC), tick=False):
        admin_client.post(
            reverse("manage:seat_create"), activation(console.org, activated_on="2025-01-15")
        )

        seat = Seat.objects.get(holder=console.org.teammate)
        # Recruiter Lite: 30 at activation, 30 at each refresh on Feb 15 and Mar 15 (cap 120).
        assert balance_of(seat) == 90


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"activated_on": "2999-01-01"}, "activated_on", "can&#x27;t be activated in the future"),
        ({"activated_on": "yesterday"}, "activated_on", "Enter a valid date"),
        ({"pool_access": "yes"}, "pool_access", "Only seats on a pooled plan"),
        ({"monthly_allocation": "5"}, "monthly_allocation", "Only seats on a pooled plan"),
        ({"monthly_allocation": "-1"}, "monthly_allocation", "greater than or equal to 0"),
        ({"holder": "99999"}, "holder", "Select a valid choice"),
        ({"plan": ""}, "plan", "This field is required"),
    ],
)
def test_bad_activation_is_a_form_error_and_writes_nothing(
    admin_client: Client, console: Console, fields: dict[str, str], field: str, message: str
) -> None:
    before = ledger_snapshot()
    seats = Seat.objects.count()

    response = admin_client.post(reverse("manage:seat_create"), activation(console.org, **fields))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in html_of(response)
    assert ledger_snapshot() == before
    assert Seat.objects.count() == seats


def test_a_pooled_seat_activated_before_the_pools_last_refresh_is_a_form_error(
    admin_client: Client, console: Console
) -> None:
    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=UTC), tick=False):
        make_seat(holder=console.org.lead, team=console.org.team, plan_code="recruiter_corporate")
    with time_machine.travel(datetime(2025, 3, 1, 9, tzinfo=UTC), tick=False):
        admin_client.get(reverse("manage:index"))  # brings the pool through its refreshes
        before = ledger_snapshot()

        response = admin_client.post(
            reverse("manage:seat_create"),
            activation(console.org, plan=plan("recruiter_corporate").pk, activated_on="2025-01-20"),
        )

    assert response.status_code == 200
    assert "already refreshed after this date" in html_of(response)
    assert ledger_snapshot() == before


# --- the seat page and its actions ------------------------------------------------------------


def detail(client: Client, seat: Seat) -> str:
    response = client.get(reverse("manage:seat_detail", args=[seat.pk]))
    assert response.status_code == 200
    return html_of(response)


def test_seat_page_shows_balance_lots_and_next_refresh(
    admin_client: Client, console: Console
) -> None:
    html = detail(admin_client, console.seat)

    assert "<dd data-balance-own>30</dd>" in html
    assert "<td>Monthly grant</td>" in html
    assert "Next refresh" in html
    assert reverse("manage:seat_ledger", args=[console.seat.pk]) in html


def test_purchase_preview_shows_unit_price_and_total(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.get(
        reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "7"}
    )

    html = html_of(response)
    assert "<strong data-unit-price>10.00</strong>" in html
    assert "<strong data-total>70.00</strong>" in html
    assert not Purchase.objects.exists()


def test_purchase_records_credits_at_the_plan_price_that_never_expire(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(
        reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "5"}, follow=True
    )

    purchase = Purchase.objects.get(seat=console.seat)
    assert (purchase.credits, purchase.unit_price, purchase.total) == (
        5,
        Decimal("10.00"),
        Decimal("50.00"),
    )
    assert purchase.lot.source == LotSource.PURCHASE
    assert purchase.lot.expires_at is None
    assert purchase.actor == console.org.admin
    entry = Entry.objects.get(account__seat=console.seat, kind=EntryKind.PURCHASE)
    assert (entry.amount, entry.balance_after) == (5, 35)
    assert "Recorded 5 purchased credits at 10.00 each: 50.00 in all." in html_of(response)


def test_purchase_on_a_plan_that_sells_no_credits_is_a_form_error(
    admin_client: Client, console: Console
) -> None:
    seat = make_seat(
        holder=console.org.lead, team=console.org.team, plan_code="sales_navigator_core"
    )
    before = ledger_snapshot()

    response = admin_client.post(reverse("manage:seat_purchase", args=[seat.pk]), {"credits": "5"})

    assert response.status_code == 200
    assert "Sales Navigator Core doesn&#x27;t sell extra InMail credits." in html_of(response)
    assert response.context["form"].non_field_errors()
    assert ledger_snapshot() == before
    assert not Purchase.objects.exists()


def test_purchase_beyond_the_monthly_limit_is_a_form_error(
    admin_client: Client, console: Console
) -> None:
    Plan.objects.filter(code="recruiter_lite").update(monthly_purchase_limit=8)
    url = reverse("manage:seat_purchase", args=[console.seat.pk])
    admin_client.post(url, {"credits": "5"})
    before = ledger_snapshot()

    response = admin_client.post(url, {"credits": "4"})

    assert response.status_code == 200
    assert "allows 8 purchased credits a month; 5 already bought this month." in html_of(response)
    assert ledger_snapshot() == before
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("credits", ["0", "-3", "2.5", "many", ""])
def test_purchase_of_a_bad_number_of_credits_is_a_form_error(
    admin_client: Client, console: Console, credits: str
) -> None:
    before = ledger_snapshot()

    response = admin_client.post(
        reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": credits}
    )

    assert response.status_code == 200
    assert "credits" in response.context["form"].errors
    assert ledger_snapshot() == before


def test_bonus_is_granted_with_its_memo_and_expires_30_days_later(
    admin_client: Client, console: Console
) -> None:
    now = datetime(2025, 5, 6, 14, 30, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        seat = make_seat(holder=console.org.teammate, team=console.org.team)
        response = admin_client.post(
            reverse("manage:seat_bonus", args=[seat.pk]),
            {"credits": "7", "memo": "Hiring sprint"},
            follow=True,
        )

    entry = Entry.objects.get(account__seat=seat, kind=EntryKind.BONUS)
    assert (entry.amount, entry.balance_after, entry.memo) == (7, 37, "Hiring sprint")
    assert entry.lot.source == LotSource.BONUS
    assert entry.lot.expires_at == datetime(2025, 6, 5, 14, 30, tzinfo=UTC)
    assert entry.actor == console.org.admin
    assert "Granted 7 bonus credits; they expire 2025-06-05 14:30." in html_of(response)


@pytest.mark.parametrize("credits", ["0", "-2", "x"])
def test_bad_bonus_is_a_form_error_on_the_seat_page(
    admin_client: Client, console: Console, credits: str
) -> None:
    before = ledger_snapshot()

    response = admin_client.post(
        reverse("manage:seat_bonus", args=[console.seat.pk]), {"credits": credits, "memo": "m"}
    )

    assert response.status_code == 200
    assert "credits" in response.context["bonus_form"].errors
    assert "<dd data-balance-own>30</dd>" in html_of(response)
    assert ledger_snapshot() == before


def test_negative_adjustment_removes_credits_with_its_reason(
    admin_client: Client, console: Console
) -> None:
    admin_client.post(
        reverse("manage:seat_adjust", args=[console.seat.pk]),
        {"credits": "-4", "reason": "LinkedIn shows 26"},
    )

    entries = Entry.objects.filter(account__seat=console.seat, kind=EntryKind.ADJUSTMENT)
    assert [(e.amount, e.balance_after, e.memo) for e in entries] == [(-4, 26, "LinkedIn shows 26")]
    assert balance_of(console.seat) == 26


def test_positive_adjustment_adds_a_lot_that_lives_the_plan_lifetime(
    admin_client: Client, console: Console
) -> None:
    now = datetime(2025, 5, 6, 10, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        seat = make_seat(holder=console.org.teammate, team=console.org.team)
        admin_client.post(
            reverse("manage:seat_adjust", args=[seat.pk]), {"credits": "+3", "reason": "Missed"}
        )

    entry = Entry.objects.get(account__seat=seat, kind=EntryKind.ADJUSTMENT)
    assert (entry.amount, entry.balance_after) == (3, 33)
    assert entry.lot.source == LotSource.ADJUSTMENT
    assert entry.lot.expires_at == add_days(now, 90)


@pytest.mark.parametrize(("shows", "expected"), [("25", -5), ("41", 11)])
def test_linkedin_shows_n_posts_the_difference_from_the_current_balance(
    admin_client: Client, console: Console, shows: str, expected: int
) -> None:
    response = admin_client.post(
        reverse("manage:seat_adjust", args=[console.seat.pk]),
        {"linkedin_shows": shows, "reason": "Reconciled"},
        follow=True,
    )

    adjusted = Entry.objects.filter(account__seat=console.seat, kind=EntryKind.ADJUSTMENT)
    assert sum(entry.amount for entry in adjusted) == expected
    assert balance_of(console.seat) == int(shows)
    assert f"Posted an adjustment of {expected:+d} credits." in html_of(response)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"credits": "0", "reason": "r"}, "credits", "already matches"),
        ({"linkedin_shows": "30", "reason": "r"}, "linkedin_shows", "already matches"),
        ({"linkedin_shows": "25", "credits": "-3", "reason": "r"}, "credits", "would be -5"),
        ({"reason": "r"}, None, "Give the adjustment, or the balance LinkedIn shows."),
        ({"credits": "2"}, "reason", "This field is required"),
        ({"credits": "2", "reason": "   "}, "reason", "This field is required"),
        ({"credits": "1.5", "reason": "r"}, "credits", "Enter a whole number"),
        ({"linkedin_shows": "-1", "reason": "r"}, "linkedin_shows", "greater than or equal to 0"),
    ],
)
def test_bad_adjustment_is_a_form_error_and_writes_nothing(
    admin_client: Client,
    console: Console,
    fields: dict[str, str],
    field: str | None,
    message: str,
) -> None:
    before = ledger_snapshot()

    response = admin_client.post(reverse("manage:seat_adjust", args=[console.seat.pk]), fields)

    assert response.status_code == 200
    form = response.context["adjustment_form"]
    assert (field or "__all__") in form.errors
    assert message in html_of(response)
    assert ledger_snapshot() == before


def test_removing_more_than_the_balance_is_a_form_error(
    admin_client: Client, console: Console
) -> None:
    before = ledger_snapshot()

    response = admin_client.post(
        reverse("manage:seat_adjust", args=[console.seat.pk]), {"credits": "-31", "reason": "r"}
    )

    assert response.status_code == 200
    assert "The seat holds 30 credits; it can&#x27;t lose 31." in html_of(response)
    assert ledger_snapshot() == before


def test_cancel_asks_first_and_says_how_many_credits_are_forfeited(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.get(reverse("manage:seat_cancel", args=[console.seat.pk]))

    assert "<strong data-forfeit>30 credits will be forfeited.</strong>" in html_of(response)
    assert Seat.objects.get(pk=console.seat.pk).status == SeatStatus.ACTIVE


def test_cancel_forfeits_the_whole_balance(admin_client: Client, console: Console) -> None:
    bonus_grant(seat=console.seat, credits=4, memo="", cause=SYSTEM)

    response = admin_client.post(reverse("manage:seat_cancel", args=[console.seat.pk]), follow=True)

    seat = Seat.objects.get(pk=console.seat.pk)
    assert seat.status == SeatStatus.CANCELLED
    forfeits = Entry.objects.filter(account__seat=seat, kind=EntryKind.FORFEIT)
    assert sum(entry.amount for entry in forfeits) == -34
    assert {entry.actor for entry in forfeits} == {console.org.admin}
    assert balance_of(seat) == 0
    assert "Cancelled seat" in html_of(response)
    assert "34 credits were forfeited." in html_of(response)


def test_cancelling_a_cancelled_seat_is_an_error_in_the_page(
    admin_client: Client, console: Console
) -> None:
    seat_cancel(seat=console.seat, cause=SYSTEM)
    before = ledger_snapshot()

    response = admin_client.post(reverse("manage:seat_cancel", args=[console.seat.pk]))

    assert response.status_code == 200
    assert f"Seat #{console.seat.pk} is cancelled." in html_of(response)
    assert ledger_snapshot() == before


def test_change_plan_warns_of_the_forfeit(admin_client: Client, console: Console) -> None:
    response = admin_client.get(reverse("manage:seat_change_plan", args=[console.seat.pk]))

    html = html_of(response)
    assert "<strong data-forfeit>30 credits will be forfeited.</strong>" in html
    # The seat's own plan is not offered.
    choices = [p.pk for p in response.context["form"].fields["plan"].queryset]
    assert plan("recruiter_lite").pk not in choices


def test_change_plan_forfeits_the_old_seat_and_activates_a_new_one(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(
        reverse("manage:seat_change_plan", args=[console.seat.pk]),
        {"plan": plan("recruiter_professional").pk},
    )

    old = Seat.objects.get(pk=console.seat.pk)
    new = old.replaced_by
    assert new is not None
    assert response["Location"] == reverse("manage:seat_detail", args=[new.pk])
    assert old.status == SeatStatus.CANCELLED
    forfeits = Entry.objects.filter(account__seat=old, kind=EntryKind.FORFEIT)
    assert sum(entry.amount for entry in forfeits) == -30
    assert (new.plan.code, new.holder, new.team) == (
        "recruiter_professional",
        console.org.recruiter,
        console.org.team,
    )
    assert balance_of(new) == 100
    html = detail(admin_client, new)
    assert f"seat #{old.pk}" in html


@pytest.mark.parametrize("chosen", ["same", "missing", ""])
def test_change_to_the_same_or_no_plan_is_a_form_error(
    admin_client: Client, console: Console, chosen: str
) -> None:
    value = {"same": plan("recruiter_lite").pk, "missing": 99999, "": ""}[chosen]
    before = ledger_snapshot()

    response = admin_client.post(
        reverse("manage:seat_change_plan", args=[console.seat.pk]), {"plan": value}
    )

    assert response.status_code == 200
    assert "plan" in response.context["form"].errors
    assert ledger_snapshot() == before
    assert Seat.objects.get(pk=console.seat.pk).is_active


def test_pooled_seat_pool_settings_are_saved(admin_client: Client, console: Console) -> None:
    seat = make_seat(
        holder=console.org.lead, team=console.org.team, plan_code="recruiter_corporate"
    )

    admin_client.post(reverse("manage:seat_settings", args=[seat.pk]), {"monthly_allocation": "20"})

    seat.refresh_from_db()
    assert (seat.pool_access, seat.monthly_allocation) == (False, 20)


def test_pool_settings_on_a_plan_without_a_pool_are_a_form_error(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(
        reverse("manage:seat_settings", args=[console.seat.pk]),
        {"pool_access": "on", "monthly_allocation": ""},
    )

    assert response.status_code == 200
    assert "Only seats on a pooled plan share the team pool." in html_of(response)
    assert not Seat.objects.get(pk=console.seat.pk).pool_access


def test_actions_on_a_cancelled_seat_are_form_errors(
    admin_client: Client, console: Console
) -> None:
    seat_cancel(seat=console.seat, cause=SYSTEM)
    before = ledger_snapshot()

    for action, fields in [
        ("seat_bonus", {"credits": "3"}),
        ("seat_adjust", {"credits": "3", "reason": "r"}),
        ("seat_purchase", {"credits": "3"}),
    ]:
        response = admin_client.post(reverse(f"manage:{action}", args=[console.seat.pk]), fields)
        assert response.status_code == 200, action
        assert f"Seat #{console.seat.pk} is cancelled." in html_of(response), action

    assert ledger_snapshot() == before


# --- the ledger: every entry, and the balance at any instant ----------------------------------


def history(console: Console) -> Seat:
    """A seat with entries at known instants: 30 on Jan 10, -5 on Jan 15, +10 bonus on Jan 20."""
    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=UTC), tick=False):
        seat = make_seat(holder=console.org.teammate, team=console.org.team)
    with time_machine.travel(datetime(2025, 1, 15, 9, tzinfo=UTC), tick=False):
        adjustment_post(seat=seat, credits=-5, reason="Reconciled", cause=SYSTEM)
    with time_machine.travel(datetime(2025, 1, 20, 9, tzinfo=UTC), tick=False):
        bonus_grant(seat=seat, credits=10, memo="Sprint", cause=SYSTEM)
    return seat


def test_ledger_lists_every_entry_with_its_details(admin_client: Client, console: Console) -> None:
    seat = history(console)

    with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
        html = html_of(admin_client.get(reverse("manage:seat_ledger", args=[seat.pk])))

    assert "Balance now: <span data-balance-now>35</span>" in html
    bonus = Entry.objects.get(account__seat=seat, kind=EntryKind.BONUS)
    row = html[html.index(f'data-entry-id="{bonus.pk}"') :].split("</tr>")[0]
    assert "2025-01-20 09:00" in row
    assert "Bonus" in row
    assert '<td class="num">+10</td>' in row
    assert '<td class="num">35</td>' in row
    assert "expires 2025-02-19 09:00" in row
    assert "<td>system</td>" in row
    assert "<td>test</td>" in row
    assert "<td>Sprint</td>" in row
    adjustment = Entry.objects.get(account__seat=seat, kind=EntryKind.ADJUSTMENT)
    row = html[html.index(f'data-entry-id="{adjustment.pk}"') :].split("</tr>")[0]
    assert '<td class="num">-5</td>' in row


def test_as_of_shows_the_past_balance_and_lots_and_marks_later_entries(
    admin_client: Client, console: Console
) -> None:
    seat = history(console)

    with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
        response = admin_client.get(
            reverse("manage:seat_ledger", args=[seat.pk]), {"as_of": "2025-01-16T12:00"}
        )

    html = html_of(response)
    assert "As of 2025-01-16 12:00: <span data-balance-as-of>25</span> credits" in html
    assert response.context["past"].lots[0].remaining == 25
    bonus = Entry.objects.get(account__seat=seat, kind=EntryKind.BONUS)
    adjustment = Entry.objects.get(account__seat=seat, kind=EntryKind.ADJUSTMENT)
    assert f'data-entry-id="{bonus.pk}" class="after-as-of"' in html
    assert f'data-entry-id="{adjustment.pk}">' in html


def test_as_of_before_activation_shows_nothing_held(admin_client: Client, console: Console) -> None:
    seat = history(console)

    with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
        html = html_of(
            admin_client.get(
                reverse("manage:seat_ledger", args=[seat.pk]), {"as_of": "2025-01-09T23:59"}
            )
        )

    assert "<span data-balance-as-of>0</span>" in html
    assert "No credits were held then." in html


def test_ledger_filters_by_kind_and_date_range(admin_client: Client, console: Console) -> None:
    seat = history(console)
    url = reverse("manage:seat_ledger", args=[seat.pk])

    def kinds(**query: str) -> list[str]:
        with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
            response = admin_client.get(url, query)
        return [entry.kind for entry in response.context["page"].object_list]

    assert kinds() == ["bonus", "adjustment", "grant"]
    assert kinds(kind="adjustment") == ["adjustment"]
    assert kinds(since="2025-01-15", until="2025-01-15") == ["adjustment"]
    assert kinds(since="2025-01-11") == ["bonus", "adjustment"]
    assert kinds(until="2025-01-19") == ["adjustment", "grant"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"as_of": "2999-01-01T00:00"}, "A balance can&#x27;t be read in the future."),
        ({"as_of": "soon"}, "Enter a valid date/time."),
        ({"kind": "gift"}, "Select a valid choice."),
        ({"since": "2025-02-01", "until": "2025-01-01"}, "The end date is before the start date."),
        ({"page": "x"}, "Page 1 of 1"),
    ],
)
def test_bad_ledger_filters_are_form_errors_not_500s(
    admin_client: Client, console: Console, query: dict[str, str], message: str
) -> None:
    response = admin_client.get(reverse("manage:seat_ledger", args=[console.seat.pk]), query)

    assert response.status_code == 200
    assert message in html_of(response) or query == {"page": "x"}
    assert len(response.context["page"].object_list) == 1


def test_ledger_pages_long_histories_newest_first(admin_client: Client, console: Console) -> None:
    for _ in range(55):
        bonus_grant(seat=console.seat, credits=1, memo="", cause=SYSTEM)
    url = reverse("manage:seat_ledger", args=[console.seat.pk])

    first = admin_client.get(url, {"kind": ""})
    second = admin_client.get(url, {"kind": "", "page": "2"})

    assert len(first.context["page"].object_list) == 50
    assert [e.kind for e in second.context["page"].object_list][-1] == EntryKind.GRANT
    assert "page=2" in html_of(first)
    assert "kind=" in html_of(first)


# --- escaping ---------------------------------------------------------------------------------


SCRIPT = "<script>alert(1)</script>"


def test_user_supplied_text_is_escaped_on_every_seat_page(
    admin_client: Client, console: Console
) -> None:
    team = TeamFactory.create(name=f"{SCRIPT} Sourcing")
    holder = UserFactory.create(username="mallory", first_name=SCRIPT, last_name="X")
    seat = make_seat(holder=holder, team=team)
    bonus_grant(seat=seat, credits=1, memo=SCRIPT, cause=SYSTEM)
    adjustment_post(seat=seat, credits=1, reason=SCRIPT, cause=SYSTEM)

    for url in [
        reverse("manage:index"),
        reverse("manage:seat_detail", args=[seat.pk]),
        reverse("manage:seat_ledger", args=[seat.pk]),
        reverse("manage:seat_cancel", args=[seat.pk]),
        reverse("manage:teams"),
        reverse("manage:team_detail", args=[team.pk]),
        reverse("manage:users"),
    ]:
        html = html_of(admin_client.get(url))
        assert SCRIPT not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_typed_text_echoed_back_in_a_form_error_is_escaped(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(
        reverse("manage:seat_adjust", args=[console.seat.pk]), {"credits": SCRIPT, "reason": SCRIPT}
    )

    html = html_of(response)
    assert response.status_code == 200
    assert SCRIPT not in html


# --- plans ------------------------------------------------------------------------------------


def plan_fields(plan_code: str, /, **changes: object) -> dict[str, object]:
    """The edit form's fields as the page would post them, with some changed."""
    row = Plan.objects.get(code=plan_code)
    fields: dict[str, object] = {
        "name": row.name,
        "family": row.family,
        "monthly_price": row.monthly_price,
        "monthly_credits": row.monthly_credits,
        "max_balance": row.max_balance,
        "refresh": row.refresh,
        "credit_lifetime_days": row.credit_lifetime_days or "",
        "purchase_price": row.purchase_price,
        "monthly_purchase_limit": row.monthly_purchase_limit or "",
        "monthly_send_limit": row.monthly_send_limit,
    }
    if row.pooled:
        fields["pooled"] = "on"
    if row.purchasable:
        fields["purchasable"] = "on"
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def test_plans_list_the_catalog(admin_client: Client, console: Console) -> None:
    html = html_of(admin_client.get(reverse("manage:plans")))

    for row in Plan.objects.all():
        assert f'data-plan-id="{row.pk}"' in html
    assert "Recruiter Corporate" in html


def test_editing_a_plan_changes_what_comes_next_and_never_the_ledger(
    admin_client: Client, console: Console
) -> None:
    admin_client.post(reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "2"})
    before = ledger_snapshot()
    lite = plan("recruiter_lite")

    response = admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]),
        plan_fields("recruiter_lite", purchase_price="12.50", monthly_credits="40"),
    )

    assert response.status_code == 302
    lite.refresh_from_db()
    assert (lite.purchase_price, lite.monthly_credits, lite.code) == (
        Decimal("12.50"),
        40,
        "recruiter_lite",
    )
    assert ledger_snapshot() == before
    assert Purchase.objects.get().unit_price == Decimal("10.00")
    admin_client.post(reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "2"})
    assert Purchase.objects.order_by("pk").last().total == Decimal("25.00")  # type: ignore[union-attr]


def test_an_empty_lifetime_means_credits_never_expire_by_age(
    admin_client: Client, console: Console
) -> None:
    lite = plan("recruiter_lite")

    admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]),
        plan_fields("recruiter_lite", credit_lifetime_days="", monthly_purchase_limit=""),
    )

    lite.refresh_from_db()
    assert lite.credit_lifetime_days is None
    assert lite.monthly_purchase_limit is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"monthly_price": "-1"}, "monthly_price"),
        ({"purchase_price": "-0.01"}, "purchase_price"),
        ({"credit_lifetime_days": "0"}, "credit_lifetime_days"),
        ({"monthly_credits": "-5"}, "monthly_credits"),
        ({"max_balance": "10"}, "max_balance"),
        ({"refresh": "weekly"}, "refresh"),
        ({"name": ""}, "name"),
        ({"monthly_send_limit": "lots"}, "monthly_send_limit"),
        ({"pooled": "on"}, "pooled"),
    ],
)
def test_bad_plan_values_are_form_errors_and_leave_the_plan_as_it_was(
    admin_client: Client, console: Console, changes: dict[str, str], field: str
) -> None:
    lite = plan("recruiter_lite")
    before = model_to_dict(lite)

    response = admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]), plan_fields("recruiter_lite", **changes)
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert model_to_dict(plan("recruiter_lite")) == before


def test_pooling_may_change_on_a_plan_without_active_seats(
    admin_client: Client, console: Console
) -> None:
    career = plan("premium_career")

    admin_client.post(
        reverse("manage:plan_edit", args=[career.pk]), plan_fields("premium_career", pooled="on")
    )

    career.refresh_from_db()
    assert career.pooled


def test_a_plan_code_can_not_be_edited(admin_client: Client, console: Console) -> None:
    lite = plan("recruiter_lite")

    admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]), plan_fields("recruiter_lite", code="x")
    )

    assert Plan.objects.filter(code="recruiter_lite").exists()


# --- teams and members ------------------------------------------------------------------------


def test_teams_list_counts_members_and_active_seats(admin_client: Client, console: Console) -> None:
    html = html_of(admin_client.get(reverse("manage:teams")))

    row = html[html.index(f'data-team-id="{console.org.team.pk}"') :].split("</tr>")[0]
    # Lead, recruiter and teammate; the recruiter's seat.
    assert '<td class="num">3</td>' in row
    assert '<td class="num">1</td>' in row


def test_admin_creates_a_team(admin_client: Client, console: Console) -> None:
    response = admin_client.post(reverse("manage:team_create"), {"name": "  Talent East "})

    team = Team.objects.get(name="Talent East")
    assert not team.share_usage
    assert response["Location"] == reverse("manage:team_detail", args=[team.pk])


@pytest.mark.parametrize("name", ["talent north", ""])
def test_a_taken_or_empty_team_name_is_a_form_error(
    admin_client: Client, console: Console, name: str
) -> None:
    teams = Team.objects.count()

    response = admin_client.post(reverse("manage:team_create"), {"name": name})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Team.objects.count() == teams


def test_admin_edits_a_team(admin_client: Client, console: Console) -> None:
    url = reverse("manage:team_detail", args=[console.org.team.pk])

    admin_client.post(url, {"name": "Talent North-West"})

    team = Team.objects.get(pk=console.org.team.pk)
    assert (team.name, team.share_usage) == ("Talent North-West", False)

    response = admin_client.post(url, {"name": "Talent South", "share_usage": "on"})
    assert response.status_code == 200
    assert "A team with this name already exists." in html_of(response)
    assert Team.objects.get(pk=team.pk).name == "Talent North-West"


def test_admin_adds_a_member_with_a_role(admin_client: Client, console: Console) -> None:
    admin_client.post(
        reverse("manage:member_add", args=[console.org.team.pk]),
        {"user": console.org.nobody.pk, "role": "lead"},
    )

    member = Membership.objects.get(user=console.org.nobody, team=console.org.team)
    assert member.role == Role.LEAD


@pytest.mark.parametrize(
    ("who", "role"), [("recruiter", "lead"), ("nobody", "boss"), ("missing", "lead")]
)
def test_a_member_twice_a_bad_role_or_nobody_is_a_form_error(
    admin_client: Client, console: Console, who: str, role: str
) -> None:
    user = 99999 if who == "missing" else getattr(console.org, who).pk
    memberships = Membership.objects.count()

    response = admin_client.post(
        reverse("manage:member_add", args=[console.org.team.pk]), {"user": user, "role": role}
    )

    assert response.status_code == 200
    assert response.context["add_form"].errors
    assert Membership.objects.count() == memberships


def test_admin_changes_a_members_role(admin_client: Client, console: Console) -> None:
    response = admin_client.post(
        reverse("manage:member_role", args=[console.org.team.pk, console.membership.pk]),
        {"role": "lead"},
        follow=True,
    )

    console.membership.refresh_from_db()
    assert console.membership.role == Role.LEAD
    assert "is now Lead." in html_of(response)

    response = admin_client.post(
        reverse("manage:member_role", args=[console.org.team.pk, console.membership.pk]),
        {"role": "boss"},
        follow=True,
    )
    console.membership.refresh_from_db()
    assert console.membership.role == Role.LEAD
    assert "Choose a role: lead or recruiter." in html_of(response)


def test_admin_removes_a_member_without_a_seat(admin_client: Client, console: Console) -> None:
    admin_client.post(
        reverse("manage:member_remove", args=[console.org.team.pk, console.membership.pk])
    )

    assert not Membership.objects.filter(pk=console.membership.pk).exists()


def test_a_member_holding_an_active_seat_is_not_removed(
    admin_client: Client, console: Console
) -> None:
    member = Membership.objects.get(user=console.org.recruiter, team=console.org.team)

    response = admin_client.post(
        reverse("manage:member_remove", args=[console.org.team.pk, member.pk]), follow=True
    )

    assert Membership.objects.filter(pk=member.pk).exists()
    assert "holds an active seat in Talent North" in html_of(response)


def test_a_membership_of_another_team_is_404_under_this_team(
    admin_client: Client, console: Console
) -> None:
    other = Membership.objects.get(user=console.org.outsider)

    url = reverse("manage:member_remove", args=[console.org.team.pk, other.pk])

    assert admin_client.post(url).status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


# --- people -----------------------------------------------------------------------------------


def test_people_lists_users_with_their_teams(admin_client: Client, console: Console) -> None:
    html = html_of(admin_client.get(reverse("manage:users")))

    row = html[html.index(f'data-user-id="{console.org.lead.pk}"') :].split("</tr>")[0]
    assert "Talent North</a> (Lead)" in row


def test_admin_creates_a_person_and_an_admin(admin_client: Client, console: Console) -> None:
    for username, is_admin in [("dana", ""), ("erin", "on")]:
        response = admin_client.post(
            reverse("manage:user_create"),
            {
                "username": username,
                "email": f"{username}@example.com",
                "password1": "amber-kestrel-93",
                "password2": "amber-kestrel-93",
                "is_admin": is_admin,
            },
        )
        assert response.status_code == 302

    dana, erin = User.objects.get(username="dana"), User.objects.get(username="erin")
    assert dana.check_password("amber-kestrel-93")
    assert (dana.is_admin, erin.is_admin) == (False, True)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"password1": "password", "password2": "password"}, "password2"),
        ({"password2": "amber-kestrel-94"}, "password2"),
        ({"username": "lead"}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_bad_new_person_is_a_form_error(
    admin_client: Client, console: Console, fields: dict[str, str], field: str
) -> None:
    users = User.objects.count()
    data = {
        "username": "dana",
        "email": "dana@example.com",
        "password1": "amber-kestrel-93",
        "password2": "amber-kestrel-93",
        **fields,
    }

    response = admin_client.post(reverse("manage:user_create"), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert User.objects.count() == users
