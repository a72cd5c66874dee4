"""The team page: moves between the pool and seats, and allocations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from ledger.models import Entry, EntryKind
from teams.models import Role
from tests.conftest import Org
from tests.factories import MembershipFactory, UserFactory
from tests.pages.team.conftest import PooledTeam
from tests.pages.team.helpers import HTMX, move_url, own, pool, seat_row, settings_url, team_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


# --- moves between the pool and seats ------------------------------------------------------------


def test_a_lead_moves_credits_from_the_pool_to_a_seat(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "20"}, headers=HTMX)

    assert response.status_code == 200
    assert (own(pooled.recruiter), pool(org.team)) == (20, 280)
    html = response.content.decode()
    assert (
        f"Moved 20 credits from the pool to {org.recruiter}: the seat holds 20, the pool 280."
        in html
    )
    assert html.lstrip().startswith('<div id="team-ledger">')
    entry = Entry.objects.get(account__seat=pooled.recruiter, kind=EntryKind.TRANSFER)
    assert (entry.amount, entry.actor, entry.cause) == (20, org.lead, "web")


def test_a_negative_move_returns_credits_to_the_pool(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)
    client.post(move_url(org.team, pooled.recruiter), {"credits": "20"}, headers=HTMX)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "-5"}, headers=HTMX)

    assert response.status_code == 200
    assert (own(pooled.recruiter), pool(org.team)) == (15, 285)
    assert "Moved 5 credits to the pool from" in response.content.decode()


def test_a_move_without_htmx_redirects_back_to_the_team_page(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.admin)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "7"})

    assert response.status_code == 302
    assert response["Location"] == team_url(org.team)
    assert (own(pooled.recruiter), pool(org.team)) == (7, 293)
    assert "Moved 7 credits" in client.get(team_url(org.team)).content.decode()


def test_moving_more_than_the_pool_holds_is_refused_and_changes_nothing(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "1000"}, headers=HTMX)

    assert response.status_code == 409
    assert "The pool holds 300 credits; 1000 can&#x27;t be moved." in response.content.decode()
    assert (own(pooled.recruiter), pool(org.team)) == (0, 300)
    assert not Entry.objects.filter(kind=EntryKind.TRANSFER).exists()


def test_moving_more_than_the_seat_holds_back_is_refused(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "-3"})

    assert response.status_code == 409
    assert "The seat holds 0 credits; 3 can&#x27;t be moved." in response.content.decode()
    assert pool(org.team) == 300


@pytest.mark.parametrize(("credits", "error"), [("0", "non-zero"), ("1.5", "whole number")])
def test_a_move_of_no_whole_credits_is_a_form_error(
    client: Client, org: Org, pooled: PooledTeam, credits: str, error: str
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": credits}, headers=HTMX)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert pool(org.team) == 300


def test_a_seat_outside_the_pool_cannot_take_pool_credits(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.teammate), {"credits": "5"}, headers=HTMX)

    assert response.status_code == 400
    assert "Only seats on a pooled plan share the team pool." in response.content.decode()
    assert (own(pooled.teammate), pool(org.team)) == (30, 300)


@pytest.mark.parametrize("who", ["recruiter", "teammate", "outsider", "nobody"])
@pytest.mark.parametrize("action", ["move", "settings"])
def test_only_leads_and_admins_may_move_credits_or_set_allocations(
    client: Client, org: Org, pooled: PooledTeam, who: str, action: str
) -> None:
    client.force_login(getattr(org, who))
    url = (move_url if action == "move" else settings_url)(org.team, pooled.recruiter)

    response = client.post(url, {"credits": "5", "monthly_allocation": "5"}, headers=HTMX)

    assert response.status_code == 404
    assert (own(pooled.recruiter), pool(org.team)) == (0, 300)
    pooled.recruiter.refresh_from_db()
    assert pooled.recruiter.monthly_allocation is None


def test_a_seat_of_another_team_is_not_found_through_this_team(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.admin)

    response = client.post(move_url(org.team, pooled.outsider), {"credits": "5"})

    assert response.status_code == 404


def test_a_lead_of_another_team_cannot_move_this_teams_credits(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    other_lead = UserFactory.create(username="otherlead")
    MembershipFactory.create(user=other_lead, team=org.other_team, role=Role.LEAD)
    client.force_login(other_lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "5"})

    assert response.status_code == 404
    assert pool(org.team) == 300


def test_moves_refuse_get(client: Client, org: Org, pooled: PooledTeam) -> None:
    client.force_login(org.lead)

    assert client.get(move_url(org.team, pooled.recruiter)).status_code == 405
    assert client.get(settings_url(org.team, pooled.recruiter)).status_code == 405


# --- allocations --------------------------------------------------------------------------------


def test_a_lead_sets_a_monthly_allocation_that_the_next_refresh_moves(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    client.force_login(org.lead)

    response = client.post(
        settings_url(org.team, pooled.recruiter),
        {"monthly_allocation": "25", "pool_access": "on"},
        headers=HTMX,
    )

    assert response.status_code == 200
    pooled.recruiter.refresh_from_db()
    assert (pooled.recruiter.monthly_allocation, pooled.recruiter.pool_access) == (25, True)
    assert '<td class="num" data-stat="allocation">25</td>' in response.content.decode()
    # The pool refresh of Feb 10 grants 300 and moves the 25 to the seat.
    clock.move_to(datetime(2026, 2, 10, 1, 0, tzinfo=UTC))
    client.force_login(org.lead)  # a month on, the session has expired
    html = client.get(team_url(org.team)).content.decode()
    assert (own(pooled.recruiter), pool(org.team)) == (25, 300 + 300 - 25)
    assert '<td class="num" data-stat="own">25</td>' in seat_row(html, pooled.recruiter)


def test_clearing_pool_access_and_the_allocation(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(
        settings_url(org.team, pooled.recruiter), {"monthly_allocation": ""}, headers=HTMX
    )

    assert response.status_code == 200
    pooled.recruiter.refresh_from_db()
    assert (pooled.recruiter.monthly_allocation, pooled.recruiter.pool_access) == (None, False)
    assert "may not draw from the pool" in response.content.decode()


def test_a_negative_allocation_is_a_form_error(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(
        settings_url(org.team, pooled.recruiter), {"monthly_allocation": "-4"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    pooled.recruiter.refresh_from_db()
    assert pooled.recruiter.monthly_allocation is None


def test_an_allocation_on_a_seat_outside_the_pool_is_refused_with_the_reason(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(settings_url(org.team, pooled.teammate), {"monthly_allocation": "5"})

    assert response.status_code == 400
    assert "Only seats on a pooled plan share the team pool." in response.content.decode()
    pooled.teammate.refresh_from_db()
    assert pooled.teammate.monthly_allocation is None


def test_an_allocation_above_the_pools_monthly_grant_is_a_form_error(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)
    url = settings_url(org.team, pooled.recruiter)

    allowed = client.post(url, {"monthly_allocation": "300", "pool_access": "on"}, headers=HTMX)
    refused = client.post(url, {"monthly_allocation": "301"}, headers=HTMX)

    assert allowed.status_code == 200
    assert refused.status_code == 400
    assert (
        "An allocation of 301 credits a month is more than the team pool receives: its monthly "
        "grant is 300 credits" in refused.content.decode()
    )
    pooled.recruiter.refresh_from_db()
    assert (pooled.recruiter.monthly_allocation, pooled.recruiter.pool_access) == (300, True)
