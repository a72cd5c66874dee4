"""The team page compares like with like (issue 12, item 8): the pool's cap counts the pool and
its pooled seats' own credits (R14, purchased credits aside as R4 says), so it is shown beside
that sum, never beside the pool alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.selectors import seats_overview
from ledger.services import Cause, pool_transfer, purchase_record
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def pooled(org: Org, clock: Any) -> tuple[Seat, Seat]:
    """Two Recruiter Corporate seats (150 a month, cap 600 each) and a Recruiter Lite seat
    outside the pool; the recruiter's seat was moved 40 credits and bought 10."""
    lead = make_seat(holder=org.lead, team=org.team, plan_code="recruiter_corporate")
    recruiter = make_seat(
        holder=org.recruiter, team=org.team, plan_code="recruiter_corporate", pool_access=True
    )
    make_seat(holder=org.teammate, team=org.team, plan_code="recruiter_lite")
    pool_transfer(team=org.team, seat=recruiter, credits=40, cause=Cause.system("test"))
    purchase_record(seat=recruiter, credits=10, cause=Cause.system("test"))
    return lead, recruiter


def stat(html: str, name: str) -> str:
    found = re.search(rf'data-stat="{name}">(.*?)</dd>', html, re.S)
    assert found, name
    return re.sub(r"\s+", " ", found.group(1)).strip()


def test_the_overview_counts_the_pool_and_its_seats_own_credits_but_not_purchases(
    org: Org, pooled: tuple[Seat, Seat]
) -> None:
    row = seats_overview(list(pooled)).pools[org.team.pk]

    # 300 granted into the pool, 40 of them moved to a seat: 260 + 40; the 10 bought don't count.
    assert (row.available, row.capped, row.cap) == (260, 300, 1200)


def test_the_credits_now_panel_sets_the_cap_beside_the_pool_and_its_seats(
    client: Client, org: Org, pooled: tuple[Seat, Seat]
) -> None:
    client.force_login(org.lead)

    html = client.get(reverse("team_detail", args=[org.team.pk])).content.decode()

    assert stat(html, "pool") == "260"
    assert stat(html, "pool-capped") == "300 <small>of cap 1200</small>"
    assert "<dt>Pool + pooled seats' own credits</dt>" in html
    assert "260 <small>of cap" not in html


def test_the_pool_section_says_what_the_cap_counts(
    client: Client, org: Org, pooled: tuple[Seat, Seat]
) -> None:
    client.force_login(org.lead)

    html = client.get(reverse("team_detail", args=[org.team.pk])).content.decode()

    section = html[html.index('id="pool-title"') :].split("</p>")[0]
    text = re.sub(r"\s+", " ", section)
    assert '<strong data-stat="pool-available">260</strong> credits available in the pool.' in text
    assert (
        "Its cap of 1200 counts the pool and its seats' own credits together "
        "(purchased credits aside): "
        '<span data-stat="pool-capped-total">300 of 1200</span> held now.'
    ) in text
    assert "cap 1200." not in text


def test_a_recruiter_reading_the_totals_sees_the_same_comparison(
    client: Client, org: Org, pooled: tuple[Seat, Seat]
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("team_detail", args=[org.team.pk])).content.decode()

    assert stat(html, "pool-capped") == "300 <small>of cap 1200</small>"


def test_one_credit_left_in_the_pool_is_singular(client: Client, org: Org, clock: Any) -> None:
    seat = make_seat(holder=org.lead, team=org.team, plan_code="recruiter_corporate")
    pool_transfer(team=org.team, seat=seat, credits=149, cause=Cause.system("test"))
    client.force_login(org.lead)

    html = client.get(reverse("team_detail", args=[org.team.pk])).content.decode()

    text = re.sub(r"\s+", " ", html)
    assert '<strong data-stat="pool-available">1</strong> credit available in the pool.' in text
    assert stat(html, "pool-capped") == "150 <small>of cap 600</small>"
