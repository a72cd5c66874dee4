"""The recruiter home: who sees what, and balances brought up to date."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Org
from tests.factories import TeamFactory, make_seat
from tests.pages.home.conftest import HomeSeats
from tests.pages.home.helpers import balance, card_ids, send, stat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["home", "inmail_list", "team_list", "inmail_send", "inmail_respond", "inmail_withdraw"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, name: str) -> None:
    url = (
        reverse(name, args=[1]) if name in ("inmail_respond", "inmail_withdraw") else reverse(name)
    )

    response = (
        client.post(url)
        if name.startswith("inmail_") and name != "inmail_list"
        else client.get(url)
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_recruiter_home_shows_a_card_for_their_own_seat_only(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert card_ids(html) == {seats.recruiter.pk}
    # Recruiter Lite: 30 at activation, refreshing on the 2nd with 30 more (cap 120).
    assert stat(html, seats.recruiter, "available") == "30"
    assert stat(html, seats.recruiter, "own") == "30"
    assert "no pool access" in stat(html, seats.recruiter, "pool")
    assert stat(html, seats.recruiter, "next-refresh") == "Apr 2 <small>+30</small>"
    assert stat(html, seats.recruiter, "expiring-7d") == "0"
    assert stat(html, seats.recruiter, "expiring-30d") == "0"
    assert "Not within a year" in stat(html, seats.recruiter, "run-out")
    assert "2026-05-31" in html  # the activation lot's expiry, 90 days on


@pytest.mark.parametrize("who", ["lead", "teammate"])
def test_a_lead_or_teammate_home_shows_only_their_own_seat(
    client: Client, org: Org, seats: HomeSeats, who: str
) -> None:
    client.force_login(getattr(org, who))

    html = client.get(reverse("home")).content.decode()

    assert card_ids(html) == {getattr(seats, who).pk}
    assert "linkedin.com/in/ada" not in html


def test_home_lists_only_my_inmails_never_a_teammates(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    mine = send(seats.recruiter, "linkedin.com/in/mine")
    send(seats.teammate, "linkedin.com/in/theirs")
    send(seats.lead, "linkedin.com/in/leads")
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert set(map(int, re.findall(r'data-inmail-id="(\d+)"', html))) == {mine.pk}


def test_admin_without_a_seat_gets_a_page_pointing_to_every_team(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.admin)

    html = client.get(reverse("home")).content.decode()

    assert "You hold no active InMail seat" in html
    assert reverse("team_detail", args=[org.team.pk]) in html
    assert reverse("team_detail", args=[org.other_team.pk]) in html
    assert card_ids(html) == set()


def test_lead_without_a_seat_gets_a_link_to_their_team_page(client: Client, org: Org) -> None:
    client.force_login(org.lead)

    html = client.get(reverse("home")).content.decode()

    assert "You hold no active InMail seat" in html
    assert reverse("team_detail", args=[org.team.pk]) in html
    assert reverse("team_detail", args=[org.other_team.pk]) not in html


def test_someone_in_no_team_is_told_an_admin_adds_seats(client: Client, org: Org) -> None:
    client.force_login(org.nobody)

    html = client.get(reverse("home")).content.decode()

    assert "An admin adds seats and team memberships." in html


def test_pages_load_their_libraries_from_our_static_files_never_a_cdn(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert "/static/vendor/htmx.org/htmx.min.js" in html
    assert "/static/vendor/chart.js/chart.umd.js" in html
    assert "/static/vendor/pico/pico.min.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # htmx sends the CSRF token with every request it makes.
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'", html)
    assert 'class="skip-link" href="#main"' in html


# --- balances brought up to date -------------------------------------------------------------


def test_balance_shown_is_brought_up_to_date_when_the_refresh_job_is_late(
    client: Client, org: Org, seats: HomeSeats, clock: Any
) -> None:
    clock.shift(timedelta(days=40))
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    # 30 at activation and 30 at the refresh of April 2 (cap 120).
    assert stat(html, seats.recruiter, "own") == "60"
    assert balance(seats.recruiter) == 60


def test_pooled_seat_shows_the_pool_and_its_allocation_after_a_late_pool_refresh(
    client: Client, org: Org, clock: Any
) -> None:
    pooled_team = TeamFactory.create(name="Pooled")
    make_seat(holder=org.lead, team=pooled_team, plan_code="recruiter_corporate")
    seat = make_seat(
        holder=org.recruiter,
        team=pooled_team,
        plan_code="recruiter_corporate",
        monthly_allocation=20,
        pool_access=True,
    )
    clock.shift(timedelta(days=40))
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    # Two activations (150 each) and one refresh of both seats (300), less the allocation.
    assert stat(html, seat, "own") == "20"
    assert stat(html, seat, "pool") == str(150 + 150 + 300 - 20)
    assert stat(html, seat, "available") == str(600)
    assert stat(html, seat, "next-refresh") == "May 2 <small>+20</small>"
