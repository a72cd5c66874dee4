"""Sign-in and the admin site (where each demo login lands: test_demo.py).

The dashboard's own pages are tested in `tests/pages/`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import Account, Refresh, RefreshKind
from ledger.schedule import today
from teams.models import Seat
from tests.conftest import Org
from tests.factories import UserFactory, plan
from tests.teams.conftest import OrgSeats

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

# --- sign-in ----------------------------------------------------------------------------------


def test_login_page_renders_a_form_with_csrf(client: Client) -> None:
    response = client.get(reverse("login"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert "csrfmiddlewaretoken" in html


def test_anonymous_home_redirects_to_login(client: Client) -> None:
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_wrong_password_is_refused_on_the_login_page(client: Client, org: Org) -> None:
    response = client.post(reverse("login"), {"username": "lead", "password": "wrong"})

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(client: Client, org: Org) -> None:
    client.force_login(org.lead)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


# --- admin site -------------------------------------------------------------------------------

ADMIN_PAGES = [
    "admin:index",
    "admin:teams_seat_changelist",
    "admin:teams_seat_add",
    "admin:teams_team_changelist",
    "admin:teams_team_add",
    "admin:teams_user_changelist",
    "admin:teams_user_add",
    "admin:teams_membership_changelist",
    "admin:teams_plan_changelist",
    "admin:ledger_account_changelist",
    "admin:ledger_lot_changelist",
    "admin:ledger_entry_changelist",
    "admin:ledger_refresh_changelist",
    "admin:ledger_inmail_changelist",
    "admin:ledger_purchase_changelist",
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_load_for_an_admin(
    client: Client, org: Org, seats: OrgSeats, page: str
) -> None:
    # org.admin is only is_staff, not a superuser: being an admin is enough (docs/rules.md).
    assert not org.admin.is_superuser
    client.force_login(org.admin)

    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("who", ["lead", "recruiter", "nobody"])
def test_admin_pages_refuse_everyone_else(client: Client, org: Org, page: str, who: str) -> None:
    client.force_login(getattr(org, who))

    response = client.get(reverse(page))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_change_pages_load_for_every_object(
    client: Client, org: Org, seats: OrgSeats
) -> None:
    from ledger.models import Entry, Lot
    from teams.models import Membership, Plan

    client.force_login(org.admin)
    objects = [
        seats.recruiter,
        org.team,
        org.recruiter,
        Membership.objects.first(),
        Plan.objects.get(code="recruiter_corporate"),
        Account.objects.first(),
        Lot.objects.first(),
        Entry.objects.first(),
        Refresh.objects.first(),
    ]
    for obj in objects:
        assert obj is not None
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200, url


def test_seat_changelist_shows_each_balance(client: Client, org: Org, seats: OrgSeats) -> None:
    client.force_login(org.admin)

    html = client.get(reverse("admin:teams_seat_changelist")).content.decode()

    assert html.count('<td class="field-balance">30</td>') == 5


def test_admin_seat_add_form_creates_a_seat_with_its_activation_grant(
    client: Client, org: Org
) -> None:
    holder = UserFactory.create(username="newhire", first_name="Nia", last_name="Osei")
    client.force_login(org.admin)
    activated_on = today() - timedelta(days=3)

    response = client.post(
        reverse("admin:teams_seat_add"),
        {
            "holder": holder.pk,
            "team": org.team.pk,
            "plan": plan("recruiter_professional").pk,
            "activated_on": activated_on.isoformat(),
            "pool_access": "",
            "monthly_allocation": "",
        },
    )

    seat = Seat.objects.get(holder=holder)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:teams_seat_changelist")
    assert seat.team == org.team
    assert seat.plan.code == "recruiter_professional"
    assert seat.activated_on == activated_on
    assert seat.anchor_day == activated_on.day
    grant = Refresh.objects.get(seat=seat, kind=RefreshKind.ACTIVATION)
    assert grant.granted == 100
    assert Account.objects.get(seat=seat).balance == 100
    entry = grant.entries.get()
    assert entry.actor == org.admin
    assert entry.cause == "admin"
    assert org.team.memberships.filter(user=holder, role="recruiter").exists()
