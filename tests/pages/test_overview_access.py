"""Who reaches the organisation overview and how (issue 12, item 6): admins only, from the
navigation, and as the home page of an admin without a seat; its links open the filtered
views their numbers come from; its queries don't grow with seats or InMails."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.services import inmail_send
from teams.models import Team
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.overview_helpers import (
    SYSTEM,
    OverviewOrg,
    build_overview_org,
    cell,
    team_row,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

OVERVIEW_HEADING = "<h1>Organisation overview</h1>"


@pytest.fixture
def clock_start() -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def built(org: Org, clock: time_machine.Traveller) -> OverviewOrg:
    return build_overview_org(org, clock)


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _nav(html: str) -> str:
    return html[html.index('<nav class="container" aria-label="Main">') : html.index("</nav>")]


@pytest.mark.parametrize("role", ["lead", "recruiter", "outsider", "nobody"])
def test_anyone_but_an_admin_gets_a_404(client: Client, org: Org, role: str) -> None:
    client.force_login(getattr(org, role))

    assert client.get(reverse("overview")).status_code == 404


def test_signed_out_it_asks_to_sign_in(client: Client, org: Org) -> None:
    response = client.get(reverse("overview"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('overview')}"


@pytest.mark.parametrize(("role", "sees_link"), [("admin", True), ("lead", False)])
def test_only_admins_have_the_overview_in_the_navigation(
    client: Client, org: Org, role: str, sees_link: bool
) -> None:
    client.force_login(getattr(org, role))

    nav = _nav(_get(client, reverse("home")))

    assert (f'href="{reverse("overview")}"' in nav) is sees_link


def test_an_admin_without_a_seat_lands_on_the_overview(client: Client, built: OverviewOrg) -> None:
    client.force_login(built.org.admin)

    html = _get(client, reverse("home"))

    assert OVERVIEW_HEADING in html
    assert "You hold no active InMail seat" in html
    assert f'<a href="{reverse("home")}" aria-current="page">Home</a>' in html
    assert team_row(html, built.east.pk)


def test_an_admin_with_a_seat_keeps_their_home_and_opens_the_overview_from_the_nav(
    client: Client, built: OverviewOrg
) -> None:
    make_seat(holder=built.org.admin, team=built.org.team)
    client.force_login(built.org.admin)

    home = _get(client, reverse("home"))
    overview = _get(client, reverse("overview"))

    assert OVERVIEW_HEADING not in home
    assert 'class="seat-card"' in home
    assert f'href="{reverse("overview")}"' in _nav(home)
    assert OVERVIEW_HEADING in overview
    assert "You hold no active InMail seat" not in overview
    assert f'<a href="{reverse("overview")}" aria-current="page">Overview</a>' in overview
    # The admin's seat is the organisation's too: North now has 3 seats.
    assert cell(team_row(overview, built.org.team.pk), "seats") == "3"


def test_each_team_row_links_to_its_team_page_and_console_lists(
    client: Client, built: OverviewOrg
) -> None:
    client.force_login(built.org.admin)
    team = built.org.team
    row = team_row(_get(client, reverse("overview")), team.pk)

    team_url = reverse("team_detail", args=[team.pk])
    console = reverse("manage:index")
    links = set(re.findall(r'href="([^"]+)"', row))
    assert links == {
        team_url,
        f"{console}?team={team.pk}&amp;status=active",
        f"{team_url}#totals-title",
        f"{team_url}#risk-title",
        f"{team_url}?months=3#flows-title",
        f"{team_url}?months=3#analytics-title",
        f"{console}?team={team.pk}&amp;status=active&amp;idle=on",
    }


def test_a_private_team_is_marked_so(client: Client, built: OverviewOrg) -> None:
    client.force_login(built.org.admin)

    html = _get(client, reverse("overview"))

    assert '<span class="badge">private</span>' in team_row(html, built.east.pk)
    assert '<span class="badge">private</span>' not in team_row(html, built.org.team.pk)


def test_the_idle_link_lists_exactly_the_idle_seats(client: Client, built: OverviewOrg) -> None:
    client.force_login(built.org.admin)
    url = f"{reverse('manage:index')}?team={built.org.team.pk}&status=active&idle=on"

    html = _get(client, url)

    assert set(map(int, re.findall(r'<tr data-seat-id="(\d+)"', html))) == {built.teammate_seat.pk}
    everyone = _get(client, f"{reverse('manage:index')}?status=active&idle=on")
    assert set(map(int, re.findall(r'<tr data-seat-id="(\d+)"', everyone))) == {
        built.teammate_seat.pk
    }


def test_the_rates_match_the_team_pages_three_months(client: Client, built: OverviewOrg) -> None:
    client.force_login(built.org.admin)
    team_url = reverse("team_detail", args=[built.org.team.pk])

    team_page = _get(client, f"{team_url}?months=3")

    assert re.search(r'data-stat="rates-overall">67%\s+of 3 eligible \(7 sent\)', team_page)


def test_the_queries_do_not_grow_with_seats_or_inmails(
    client: Client, built: OverviewOrg, clock: time_machine.Traveller
) -> None:
    client.force_login(built.org.admin)
    _get(client, reverse("overview"))  # anything due is applied once
    with CaptureQueriesContext(connection) as before:
        _get(client, reverse("overview"))

    for number in range(6):
        seat = make_seat(holder=built.org.lead, team=built.org.other_team)
        inmail_send(
            seat=seat,
            recipient=f"https://www.linkedin.com/in/more-{number}",
            subject="More",
            body="More InMails",
            cause=SYSTEM,
        )
    _get(client, reverse("overview"))
    with CaptureQueriesContext(connection) as after:
        _get(client, reverse("overview"))

    assert len(after.captured_queries) == len(before.captured_queries)


def test_one_more_team_costs_no_query_more(client: Client, built: OverviewOrg) -> None:
    client.force_login(built.org.admin)
    _get(client, reverse("overview"))
    with CaptureQueriesContext(connection) as four_teams:
        _get(client, reverse("overview"))
    Team.objects.create(name="Talent Central")
    with CaptureQueriesContext(connection) as five_teams:
        _get(client, reverse("overview"))

    # Every figure, the credit flows too (`credit_flows_by_team`), is one set-based read for
    # all teams (issue 15): a team more is no query more.
    per_team = len(five_teams.captured_queries) - len(four_teams.captured_queries)
    assert per_team == 0


def test_an_organisation_without_teams_says_where_to_start(client: Client, org: Org) -> None:
    Team.objects.all().delete()
    client.force_login(org.admin)

    html = _get(client, reverse("overview"))

    assert "No team yet." in html
    assert f'href="{reverse("manage:team_create")}"' in html
