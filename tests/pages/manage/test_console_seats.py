"""The admin console: activating a seat, and each action of the seat page with its exact ledger
effect."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ledger.models import Entry, EntryKind, LotSource, Purchase
from ledger.schedule import add_days, start_of_day, today
from ledger.services import bonus_grant, seat_cancel
from teams.models import Plan, Seat, SeatStatus
from tests.conftest import Org
from tests.factories import make_seat, plan
from tests.fields import differences
from tests.pages.manage.conftest import Console
from tests.pages.manage.helpers import SYSTEM, balance_of, html_of, ledger_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


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


def test_activating_with_an_allocation_above_the_pools_monthly_grant_is_a_form_error(
    admin_client: Client, console: Console
) -> None:
    pooled = {"plan": plan("recruiter_corporate").pk}
    before = ledger_snapshot()

    refused = admin_client.post(
        reverse("manage:seat_create"), activation(console.org, **pooled, monthly_allocation="151")
    )

    assert refused.status_code == 200
    assert "monthly_allocation" in refused.context["form"].errors
    assert (
        "An allocation of 151 credits a month is more than the team pool receives: its monthly "
        "grant is 150 credits" in html_of(refused)
    )
    assert ledger_snapshot() == before
    assert not Seat.objects.filter(holder=console.org.teammate).exists()

    allowed = admin_client.post(
        reverse("manage:seat_create"), activation(console.org, **pooled, monthly_allocation="150")
    )

    assert allowed.status_code == 302
    assert Seat.objects.get(holder=console.org.teammate).monthly_allocation == 150


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
    assert "<strong data-unit-price>USD 10.00</strong>" in html
    assert "<strong data-total>USD 70.00</strong>" in html
    assert not Purchase.objects.exists()


def test_purchase_records_credits_at_the_plan_price_that_never_expire(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(
        reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "5"}, follow=True
    )

    purchase = Purchase.objects.get(seat=console.seat)
    assert (
        differences(purchase, credits=5, unit_price=Decimal("10.00"), total=Decimal("50.00")) == {}
    )
    assert purchase.lot.source == LotSource.PURCHASE
    assert purchase.lot.expires_at is None
    assert purchase.actor == console.org.admin
    entry = Entry.objects.get(account__seat=console.seat, kind=EntryKind.PURCHASE)
    assert (entry.amount, entry.balance_after) == (5, 35)
    assert "Recorded 5 purchased credits at USD 10.00 each: USD 50.00 in all." in html_of(response)


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

    html = html_of(response)
    assert "<strong data-forfeit>30 credits will be forfeited.</strong>" in html
    # The page is the confirm step without JavaScript; with it, the button asks once more.
    assert (
        f'<button type="submit" class="danger" data-confirm="Cancel seat #{console.seat.pk} and '
        "forfeit 30 credits? This can't be undone.\">Cancel the seat and forfeit 30 credits"
        "</button>" in html
    )
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
    assert (
        f'<button type="submit" class="danger" data-confirm="Change the plan of seat '
        f"#{console.seat.pk} and forfeit 30 credits? This can't be undone.\">" in html
    )
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
