"""The admin console: teams, their members, and people."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from teams.models import Membership, Role, Team, User
from tests.pages.manage.conftest import Console
from tests.pages.manage.helpers import html_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


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
