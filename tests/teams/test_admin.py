"""Seats in the admin go through the ledger services, and a ledger refusal is a message."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from ledger.models import Account, Entry, EntryKind, Lot
from ledger.schedule import today
from teams.models import Plan, Seat, SeatStatus
from tests.conftest import Org
from tests.factories import make_seat, plan
from tests.teams.conftest import OrgSeats

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

CHANGELIST = "admin:teams_seat_changelist"


def messages_of(response: TestResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def add_seat(client: Client, org: Org, **fields: object) -> TestResponse:
    data = {
        "holder": org.teammate.pk,
        "team": org.team.pk,
        "plan": plan("recruiter_lite").pk,
        "activated_on": today().isoformat(),
        "pool_access": "",
        "monthly_allocation": "",
        **fields,
    }
    return client.post(reverse("admin:teams_seat_add"), data, follow=True)


# --- adding -----------------------------------------------------------------------------------


def test_add_form_starts_on_today_and_asks_only_what_activation_needs(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:teams_seat_add"))

    form = response.context["adminform"].form
    assert list(form.fields) == [
        "holder",
        "team",
        "plan",
        "activated_on",
        "pool_access",
        "monthly_allocation",
    ]
    assert form.initial["activated_on"] == today()


def test_future_activation_is_an_error_message_and_keeps_what_was_typed(
    admin_client: Client, org: Org
) -> None:
    tomorrow = today() + timedelta(days=1)

    response = add_seat(admin_client, org, activated_on=tomorrow.isoformat())

    assert response.status_code == 200
    assert not Seat.objects.exists()
    assert any("can't be activated in the future" in text for text in messages_of(response))
    typed = parse_qs(urlsplit(response.redirect_chain[-1][0]).query)
    assert typed["activated_on"] == [tomorrow.isoformat()]
    assert typed["holder"] == [str(org.teammate.pk)]
    assert response.context["adminform"].form.initial["activated_on"] == tomorrow.isoformat()


def test_pool_settings_on_a_plan_without_a_pool_are_refused_with_a_message(
    admin_client: Client, org: Org
) -> None:
    response = add_seat(admin_client, org, pool_access="yes", monthly_allocation="10")

    assert response.status_code == 200
    assert not Seat.objects.exists()
    assert any("pooled plan" in text for text in messages_of(response))


def test_pooled_seat_added_in_the_admin_grants_into_the_team_pool(
    admin_client: Client, org: Org
) -> None:
    add_seat(admin_client, org, plan=plan("recruiter_corporate").pk, monthly_allocation="25")

    seat = Seat.objects.get()
    assert seat.pool_access is True
    assert seat.monthly_allocation == 25
    assert Account.objects.get(seat=seat).balance == 0
    assert Account.objects.get(team=org.team, kind="pool").balance == 150


# --- changing settings ------------------------------------------------------------------------


def test_pooled_seat_settings_change_through_the_ledger(admin_client: Client, org: Org) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_corporate")
    url = reverse("admin:teams_seat_change", args=[seat.pk])

    response = admin_client.post(url, {"monthly_allocation": "40"}, follow=True)

    seat.refresh_from_db()
    assert response.status_code == 200
    assert seat.monthly_allocation == 40
    assert seat.pool_access is False  # an unticked checkbox is a "no"
    assert seat.plan.code == "recruiter_corporate"


def test_seat_record_fields_are_read_only(admin_client: Client, org: Org, seats: OrgSeats) -> None:
    url = reverse("admin:teams_seat_change", args=[seats.recruiter.pk])

    admin_client.post(
        url,
        {"holder": org.outsider.pk, "team": org.other_team.pk, "plan": plan("premium_career").pk},
    )

    seat = Seat.objects.get(pk=seats.recruiter.pk)
    assert (seat.holder, seat.team, seat.plan.code) == (org.recruiter, org.team, "recruiter_lite")


def test_seat_change_page_shows_credits_now(admin_client: Client, seats: OrgSeats) -> None:
    response = admin_client.get(reverse("admin:teams_seat_change", args=[seats.recruiter.pk]))

    assert "30 own" in response.content.decode()
    assert "30 available" in response.content.decode()


def test_seats_can_not_be_deleted(admin_client: Client, seats: OrgSeats) -> None:
    response = admin_client.post(reverse("admin:teams_seat_delete", args=[seats.recruiter.pk]))

    assert response.status_code == 403
    assert Seat.objects.filter(pk=seats.recruiter.pk).exists()


# --- cancelling and changing plan ---------------------------------------------------------------


def run_action(client: Client, action: str, seats: list[Seat], **fields: str) -> TestResponse:
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(seat.pk) for seat in seats], **fields}
    return client.post(reverse(CHANGELIST), data, follow=True)


def test_cancel_asks_for_confirmation_first(admin_client: Client, seats: OrgSeats) -> None:
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "cancel_seats", ACTION_CHECKBOX_NAME: [str(seats.recruiter.pk)], "index": 0},
    )

    assert response.status_code == 200
    assert "forfeited" in response.content.decode()
    assert Seat.objects.get(pk=seats.recruiter.pk).status == SeatStatus.ACTIVE


def test_cancel_action_cancels_through_the_ledger_and_forfeits_the_balance(
    admin_client: Client, org: Org, seats: OrgSeats
) -> None:
    response = run_action(
        admin_client, "cancel_seats", [seats.recruiter, seats.teammate], confirm="yes"
    )

    assert response.status_code == 200
    for seat in (seats.recruiter, seats.teammate):
        seat.refresh_from_db()
        assert seat.status == SeatStatus.CANCELLED
        assert Account.objects.get(seat=seat).balance == 0
        forfeit = Entry.objects.get(account__seat=seat, kind=EntryKind.FORFEIT)
        assert forfeit.amount == -30
        assert forfeit.actor == org.admin
    assert "Cancelled 2 seats; their credits were forfeited." in messages_of(response)


def test_cancelling_a_cancelled_seat_is_a_message_not_an_error_page(
    admin_client: Client, seats: OrgSeats
) -> None:
    run_action(admin_client, "cancel_seats", [seats.recruiter], confirm="yes")

    response = run_action(admin_client, "cancel_seats", [seats.recruiter], confirm="yes")

    assert response.status_code == 200
    assert any("is cancelled" in text for text in messages_of(response))
    assert Entry.objects.filter(account__seat=seats.recruiter, kind=EntryKind.FORFEIT).count() == 1


def test_change_plan_asks_for_the_new_plan(admin_client: Client, seats: OrgSeats) -> None:
    response = run_action(admin_client, "change_plan", [seats.recruiter])

    assert response.status_code == 200
    assert 'name="plan"' in response.content.decode()
    assert Seat.objects.get(pk=seats.recruiter.pk).status == SeatStatus.ACTIVE


def test_change_plan_action_replaces_the_seat_on_the_new_plan(
    admin_client: Client, org: Org, seats: OrgSeats
) -> None:
    professional = Plan.objects.get(code="recruiter_professional")

    response = run_action(
        admin_client, "change_plan", [seats.recruiter], confirm="yes", plan=str(professional.pk)
    )

    old = Seat.objects.get(pk=seats.recruiter.pk)
    assert old.status == SeatStatus.CANCELLED
    assert old.replaced_by is not None
    new = old.replaced_by
    assert (new.holder, new.team, new.plan, new.status) == (
        org.recruiter,
        org.team,
        professional,
        SeatStatus.ACTIVE,
    )
    assert Account.objects.get(seat=new).balance == 100
    assert "Moved 1 seat to Recruiter Professional Services." in messages_of(response)


def test_change_to_the_same_plan_is_a_message(admin_client: Client, seats: OrgSeats) -> None:
    lite = plan("recruiter_lite")

    response = run_action(
        admin_client, "change_plan", [seats.recruiter], confirm="yes", plan=str(lite.pk)
    )

    assert response.status_code == 200
    assert any("already on Recruiter Lite" in text for text in messages_of(response))
    assert Seat.objects.get(pk=seats.recruiter.pk).status == SeatStatus.ACTIVE


# --- the rest of the admin ----------------------------------------------------------------------


def test_ledger_tables_are_read_only(admin_client: Client, seats: OrgSeats) -> None:
    entry = Entry.objects.first()
    lot = Lot.objects.first()
    assert entry is not None
    assert lot is not None

    assert admin_client.get(reverse("admin:ledger_entry_add")).status_code == 403
    assert admin_client.post(reverse("admin:ledger_lot_delete", args=[lot.pk])).status_code == 403
    response = admin_client.post(
        reverse("admin:ledger_lot_change", args=[lot.pk]), {"remaining": "999"}
    )
    assert response.status_code == 403
    lot.refresh_from_db()
    assert lot.remaining != 999
    page = admin_client.get(reverse("admin:ledger_entry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert page.context["title"].startswith("View")


def test_plan_code_is_editable_only_when_the_plan_is_created(admin_client: Client) -> None:
    corporate = plan("recruiter_corporate")

    change = admin_client.get(reverse("admin:teams_plan_change", args=[corporate.pk]))
    add = admin_client.get(reverse("admin:teams_plan_add"))

    assert "code" not in change.context["adminform"].form.fields
    assert "monthly_price" in change.context["adminform"].form.fields
    assert "code" in add.context["adminform"].form.fields


def test_admin_edits_a_plan_price(admin_client: Client) -> None:
    lite = plan("recruiter_lite")
    response = admin_client.get(reverse("admin:teams_plan_change", args=[lite.pk]))
    data = {
        name: value if value is not None else ""
        for name, value in response.context["adminform"].form.initial.items()
        if name in response.context["adminform"].form.fields
    }
    data["monthly_price"] = "175.00"

    admin_client.post(reverse("admin:teams_plan_change", args=[lite.pk]), data)

    lite.refresh_from_db()
    assert str(lite.monthly_price) == "175.00"
    assert lite.code == "recruiter_lite"


def test_user_admin_calls_is_staff_admin(admin_client: Client, org: Org) -> None:
    change = admin_client.get(reverse("admin:teams_user_change", args=[org.lead.pk]))
    changelist = admin_client.get(reverse("admin:teams_user_changelist"))

    assert change.context["adminform"].form.fields["is_staff"].label == "Admin"
    assert "column-is_admin" in changelist.content.decode()
