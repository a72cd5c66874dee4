"""Who sees a team pool in the pages (issue 12, item 6; docs/rules.md "Who sees a team pool"),
for an admin, the lead and a recruiter, in a team that shares usage and in one that keeps it
private; the same rule as the API's (tests/api/test_pool_visibility.py).

Talent North's pool: 300 credits, a lot of 150 from each of two Recruiter Corporate seats,
the recruiter's (drawing on the pool) and the teammate's; the lead then moved 20 from the pool
to the teammate's seat, so the pool holds 280 in lots of 130 and 150.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from ledger.services import Cause, pool_transfer
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

SYSTEM = Cause.system("test")


@dataclass
class Pool:
    org: Org
    recruiter: Seat
    teammate: Seat


@pytest.fixture
def pool(org: Org) -> Pool:
    recruiter = make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_corporate")
    teammate = make_seat(holder=org.teammate, team=org.team, plan_code="recruiter_corporate")
    pool_transfer(team=org.team, seat=teammate, credits=20, cause=SYSTEM)
    return Pool(org, recruiter, teammate)


def _share(pool: Pool, share_usage: bool) -> None:
    pool.org.team.share_usage = share_usage
    pool.org.team.save(update_fields=["share_usage"])


def _page(client: Client, pool: Pool, role: str, url: str) -> tuple[int, str]:
    client.force_login(getattr(pool.org, role))
    response = client.get(url)
    return response.status_code, response.content.decode()


def _pool_lot_credits(html: str) -> list[int]:
    match = re.search(r'<details class="pool-lots">(.*?)</details>', html, re.S)
    if match is None:
        return []
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', match.group(1))]


@pytest.mark.parametrize("share_usage", [True, False])
@pytest.mark.parametrize("role", ["admin", "lead"])
def test_admins_and_leads_see_the_pool_its_lots_and_each_pooled_seat(
    client: Client, pool: Pool, role: str, share_usage: bool
) -> None:
    _share(pool, share_usage)

    status, html = _page(client, pool, role, reverse("team_detail", args=[pool.org.team.pk]))

    assert status == 200
    assert 'data-stat="pool">280<' in html
    assert _pool_lot_credits(html) == [130, 150]
    teammate_row = re.search(rf'id="team-seat-{pool.teammate.pk}"(.*?)</tr>', html, re.S)
    assert teammate_row is not None
    assert re.search(r'data-stat="own"[^>]*>20<', teammate_row.group(1))


def test_a_recruiter_of_a_sharing_team_sees_the_totals_and_lots_but_no_teammates_credits(
    client: Client, pool: Pool
) -> None:
    status, html = _page(client, pool, "recruiter", reverse("team_detail", args=[pool.org.team.pk]))

    assert status == 200
    assert 'data-stat="pool">280<' in html
    assert _pool_lot_credits(html) == [130, 150]
    assert 'id="pool-seat-' not in html
    assert 'id="team-seat-' not in html
    assert str(pool.org.teammate) not in html


def test_a_recruiter_of_a_private_team_has_no_team_page(client: Client, pool: Pool) -> None:
    _share(pool, False)

    status, _ = _page(client, pool, "recruiter", reverse("team_detail", args=[pool.org.team.pk]))
    _, teams = _page(client, pool, "recruiter", reverse("team_list"))

    assert status == 404
    assert reverse("team_detail", args=[pool.org.team.pk]) not in teams


@pytest.mark.parametrize("share_usage", [True, False])
def test_a_recruiters_seat_card_shows_what_it_may_draw_from_the_pool_either_way(
    client: Client, pool: Pool, share_usage: bool
) -> None:
    _share(pool, share_usage)

    status, html = _page(client, pool, "recruiter", reverse("home"))

    assert status == 200
    card = re.search(rf'id="seat-card-{pool.recruiter.pk}"(.*?)</article>', html, re.S)
    assert card is not None
    assert 'data-stat="available">280<' in card.group(1)
    assert 'data-stat="pool">280<' in card.group(1)
    # The card is the seat's: the pool's lots and the teammate's seat are not on it.
    assert _pool_lot_credits(html) == []
    assert str(pool.org.teammate) not in html


def test_a_seat_without_pool_access_draws_nothing_and_shows_no_pool_figure(
    client: Client, org: Org, pool: Pool
) -> None:
    lite = make_seat(holder=org.outsider, team=org.team)

    status, html = _page(client, pool, "outsider", reverse("home"))

    assert status == 200
    card = re.search(rf'id="seat-card-{lite.pk}"(.*?)</article>', html, re.S)
    assert card is not None
    assert 'data-stat="available">30<' in card.group(1)
    assert "no pool access" in card.group(1)
