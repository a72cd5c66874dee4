"""The server-rendered pages: sign-in, the seat list, the admin site and the health check."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger.models import Account, Refresh, RefreshKind
from ledger.schedule import today
from teams.models import Seat, Team, User
from teams.selectors import seats_visible_to
from tests.conftest import Org
from tests.factories import UserFactory, make_seat, plan
from tests.teams.conftest import OrgSeats
from tests.teams.test_demo import printed_logins

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

SEAT_ROW = re.compile(r'data-seat-id="(\d+)"')


def listed_seat_ids(html: str) -> set[int]:
    return {int(pk) for pk in SEAT_ROW.findall(html)}


def home_html(client: Client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


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


def test_printed_demo_logins_reach_a_page_listing_exactly_their_visible_seats(
    client: Client,
) -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    logins = printed_logins(out.getvalue())

    for role in ("recruiter", "lead", "admin"):
        username, password = logins[role]
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 302, role
        assert response["Location"] == reverse("home")

        user = User.objects.get(username=username)
        expected = set(seats_visible_to(user).values_list("pk", flat=True))
        assert expected, role
        assert listed_seat_ids(home_html(client)) == expected, role

        client.post(reverse("logout"))
    # What each role sees differs: one seat, one team, everything.
    assert len(seats_visible_to(User.objects.get(username=logins["recruiter"][0]))) == 1
    assert seats_visible_to(User.objects.get(username=logins["admin"][0])).count() == 23


def test_logout_is_a_post_and_ends_the_session(client: Client, org: Org) -> None:
    client.force_login(org.lead)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


# --- the seat list ----------------------------------------------------------------------------


def test_home_lists_holder_team_plan_status_activation_and_balance(
    client: Client, org: Org, seats: OrgSeats
) -> None:
    client.force_login(org.recruiter)

    html = home_html(client)

    assert listed_seat_ids(html) == {seats.recruiter.pk}
    row = html[html.index(f'data-seat-id="{seats.recruiter.pk}"') :].split("</tr>")[0]
    assert str(org.recruiter) in row
    assert "Talent North" in row
    assert "Recruiter Lite" in row
    assert "Active" in row
    assert today().isoformat() in row
    assert '<td class="num">30</td>' in row


def test_lead_home_lists_the_whole_team(client: Client, org: Org, seats: OrgSeats) -> None:
    client.force_login(org.lead)

    assert listed_seat_ids(home_html(client)) == {
        seats.lead.pk,
        seats.recruiter.pk,
        seats.teammate.pk,
        seats.dual.pk,
    }


def test_user_without_seats_sees_an_empty_list(client: Client, org: Org, seats: OrgSeats) -> None:
    client.force_login(org.nobody)

    html = home_html(client)

    assert listed_seat_ids(html) == set()
    assert "No seats to show yet" in html


def test_script_in_a_team_name_is_escaped(client: Client, org: Org) -> None:
    team = Team.objects.create(name="<script>alert('x')</script> Sourcing")
    make_seat(holder=org.recruiter, team=team)
    client.force_login(org.recruiter)

    html = home_html(client)

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Sourcing" in html


def test_balance_shown_is_brought_up_to_date_when_the_refresh_job_is_late(
    client: Client, org: Org
) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_lite")

    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        client.force_login(org.recruiter)
        html = home_html(client)

    # Recruiter Lite: 30 at activation, 30 more at the billing-day refresh (cap 120).
    assert '<td class="num">60</td>' in html
    assert Account.objects.get(seat=seat).balance == 60
    assert Refresh.objects.filter(account__seat=seat, kind=RefreshKind.REFRESH).count() == 1


def test_pooled_seat_balance_includes_an_allocation_from_a_late_pool_refresh(
    client: Client, org: Org
) -> None:
    make_seat(holder=org.lead, team=org.team, plan_code="recruiter_corporate")
    seat = make_seat(
        holder=org.recruiter, team=org.team, plan_code="recruiter_corporate", monthly_allocation=20
    )

    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        client.force_login(org.recruiter)
        html = home_html(client)

    # The seat's own account had nothing due; its pool did, and moved the allocation.
    row = html[html.index(f'data-seat-id="{seat.pk}"') :].split("</tr>")[0]
    assert '<td class="num">20</td>' in row
    pool = Account.objects.get(team=org.team, kind="pool")
    # Two activations (150 each) and one refresh of both seats (300), less the allocation.
    assert pool.balance == 150 + 150 + 300 - 20
    assert f'<td class="num">{pool.balance}</td>' in row


def test_cancelled_seats_are_listed_with_their_status(client: Client, org: Org) -> None:
    from ledger.services import Cause, seat_cancel

    seat = make_seat(holder=org.recruiter, team=org.team)
    seat_cancel(seat=seat, cause=Cause.system("test"))
    client.force_login(org.recruiter)

    html = home_html(client)

    row = html[html.index(f'data-seat-id="{seat.pk}"') :].split("</tr>")[0]
    assert "Cancelled" in row
    assert '<td class="num">0</td>' in row


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
    # org.admin is only is_staff, not a superuser: being an admin is enough (SPEC).
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
