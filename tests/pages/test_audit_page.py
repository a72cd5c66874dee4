"""The console's audit trail (`/manage/audit/`), and the audit rows the console's writes leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from time_machine import TimeMachineFixture

from ledger.services import Cause, seat_update_settings
from teams.models import AuditEvent, Membership, Team, User
from teams.services import plan_update, team_update
from tests.conftest import Org
from tests.factories import make_seat, plan
from tests.ledger.helpers import utc

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

AUDIT = "/manage/audit/"


@pytest.fixture
def admin_client(client: Client, org: Org) -> Client:
    client.force_login(org.admin)
    return client


def html_of(response: TestResponse) -> str:
    return response.content.decode()


def listed(response: TestResponse) -> list[str]:
    return [event.action for event in response.context["page"].object_list]


def test_the_page_is_for_admins_only(client: Client, org: Org) -> None:
    assert client.get(AUDIT).status_code == 302  # to sign in
    client.force_login(org.lead)
    assert client.get(AUDIT).status_code == 404


def test_the_console_nav_links_to_the_trail(admin_client: Client) -> None:
    html = html_of(admin_client.get(reverse("manage:plans")))

    assert f'<a href="{AUDIT}">Audit trail</a>' in html


def test_the_trail_shows_changes_newest_first_with_accessible_markup(
    admin_client: Client, org: Org, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    plan_update(actor=org.admin, plan=plan("recruiter_lite"), monthly_send_limit=250)
    time_machine.move_to(utc(2025, 1, 17, 9), tick=False)
    team_update(actor=org.admin, team=org.other_team, name="Talent South-East")

    response = admin_client.get(AUDIT)

    html = html_of(response)
    assert listed(response) == ["team.update", "plan.update"]
    assert '<th scope="col">Changes</th>' in html
    assert "<dt>monthly_send_limit</dt><dd>300 → 250</dd>" in html
    assert "<dt>name</dt><dd>Talent South → Talent South-East</dd>" in html
    assert '<label for="id_team">' in html


def test_the_trail_filters_like_the_api(
    admin_client: Client, org: Org, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team)
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    plan_update(actor=org.admin, plan=plan("recruiter_lite"), monthly_send_limit=250)
    time_machine.move_to(utc(2025, 1, 17, 9), tick=False)
    seat_update_settings(seat=seat, cause=Cause(actor=org.lead, via="web"), monthly_allocation=5)

    def actions(**query: str | int) -> list[str]:
        return listed(admin_client.get(AUDIT, query))

    assert actions(seat=seat.pk) == ["seat.update"]
    assert actions(team=org.team.pk) == ["seat.update"]
    assert actions(actor=org.admin.pk) == ["plan.update"]
    assert actions(since="2025-01-17") == ["seat.update"]
    assert actions(until="2025-01-16") == ["plan.update"]
    assert actions(seat=999999) == []


def test_a_bad_range_is_a_form_error(admin_client: Client) -> None:
    response = admin_client.get(AUDIT, {"since": "2025-01-18", "until": "2025-01-17"})

    assert response.status_code == 200
    assert "until" in response.context["form"].errors


def test_the_trail_is_paginated(admin_client: Client, org: Org) -> None:
    for limit in range(200, 251):
        plan_update(actor=org.admin, plan=plan("recruiter_lite"), monthly_send_limit=limit)

    first = admin_client.get(AUDIT)
    second = admin_client.get(AUDIT, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert second.context["page"].object_list[0].changes == {"monthly_send_limit": [300, 200]}


# --- the console's writes are audited ---------------------------------------------------------


def test_console_writes_to_teams_members_and_people_are_audited(
    admin_client: Client, org: Org
) -> None:
    admin_client.post(reverse("manage:team_create"), {"name": "Talent East", "share_usage": "on"})
    east = Team.objects.get(name="Talent East")
    admin_client.post(reverse("manage:team_detail", args=[east.pk]), {"name": "Talent Far East"})
    admin_client.post(
        reverse("manage:member_add", args=[east.pk]), {"user": org.nobody.pk, "role": "lead"}
    )
    member = Membership.objects.get(team=east, user=org.nobody)
    admin_client.post(
        reverse("manage:member_role", args=[east.pk, member.pk]), {"role": "recruiter"}
    )
    admin_client.post(reverse("manage:member_remove", args=[east.pk, member.pk]))
    admin_client.post(
        reverse("manage:user_create"),
        {
            "username": "dana",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "email": "",
            "first_name": "",
            "last_name": "",
        },
    )

    rows = list(AuditEvent.objects.order_by("pk").values_list("actor", "action", "changes"))
    assert [(actor, action) for actor, action, _ in rows] == [
        (org.admin.pk, "team.create"),
        (org.admin.pk, "team.update"),
        (org.admin.pk, "membership.set"),
        (org.admin.pk, "membership.set"),
        (org.admin.pk, "membership.remove"),
        (org.admin.pk, "user.create"),
    ]
    assert rows[1][2] == {
        "name": ["Talent East", "Talent Far East"],
        "share_usage": [True, False],
    }
    assert rows[3][2] == {"role": ["lead", "recruiter"]}
    assert User.objects.get(username="dana").check_password("a long enough passphrase")


def test_console_seat_settings_are_audited(admin_client: Client, org: Org) -> None:
    seat = make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team)

    admin_client.post(
        reverse("manage:seat_settings", args=[seat.pk]),
        {"pool_access": "on", "monthly_allocation": "12"},
    )

    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.seat, event.team) == (
        org.admin,
        "seat.update",
        seat,
        org.team,
    )
    assert event.changes == {"monthly_allocation": [None, 12]}


def test_a_username_taken_in_another_case_is_a_form_error(admin_client: Client, org: Org) -> None:
    people = User.objects.count()

    response = admin_client.post(
        reverse("manage:user_create"),
        {
            "username": "LEAD",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.count() == people


def test_a_filter_that_can_not_be_read_shows_no_event(admin_client: Client, org: Org) -> None:
    team_update(actor=org.admin, team=org.team, name="Renamed team")

    unread = admin_client.get(AUDIT, {"since": "not a date"})
    read = admin_client.get(AUDIT)

    assert unread.status_code == 200
    assert "since" in unread.context["form"].errors
    assert listed(unread) == []
    assert listed(read) == ["team.update"]
