"""The team page: from a recruiter's row to their InMails, and the weekday × hour heat map
(issue 12, item 7). The story is in tests/pages/team_analytics_helpers.py."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from ledger.models import InMail
from tests.conftest import Org
from tests.ledger.analytics.helpers import logged
from tests.pages.team_analytics_helpers import (
    APRIL,
    START,
    WHOLE_STORY,
    href_of,
    page,
    story,
    table,
    team_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

__all__ = ["START"]  # the clock's instant (tests/conftest.py reads the module's START)


def listed(html: str) -> list[int]:
    """The InMails the recruiter's panel lists, in its order."""
    match = re.search(r'<article id="recruiter-inmails".*?</article>', html, re.S)
    assert match, "no InMail panel"
    return [int(pk) for pk in re.findall(r'<tr data-inmail="(\d+)">', match.group(0))]


def row_link(html: str, key: str) -> str:
    match = re.search(rf'<tr data-rate-row="{key}"[^>]*>\s*<th scope="row">(<a [^>]*>)', html)
    assert match, key
    return href_of(match.group(1))


def test_a_leads_recruiter_rows_link_to_the_inmails_they_count(
    client: Client, org: Org, clock: Any
) -> None:
    told = story(org)
    client.force_login(org.lead)
    html = page(client, org.team, **WHOLE_STORY)

    link = row_link(table(html, "recruiter"), "teammate")
    assert link == "?from=2025-04-01&to=2026-06-20&inmails_of=teammate#recruiter-inmails"
    shown = client.get(team_url(org.team) + link).content.decode()

    # Bob's three InMails, newest first: what his row counts (sent 3).
    bobs = [inmail.pk for inmail in told.inmails if inmail.seat_id == told.bob.pk]
    newest_first = sorted(
        bobs, key=lambda pk: (InMail.objects.get(pk=pk).sent_at, pk), reverse=True
    )
    assert listed(shown) == newest_first
    assert "InMails of Bob Brown in Talent North" in shown
    assert "Page 1 of 1 (3 InMails)" in shown


def test_the_inmail_list_follows_the_range(client: Client, org: Org, clock: Any) -> None:
    told = story(org)
    client.force_login(org.lead)

    html = page(client, org.team, inmails_of="teammate", **{"from": "2026-06-01"})

    assert listed(html) == sorted(
        (i.pk for i in told.inmails if i.seat_id == told.bob.pk and i.sent_at.year == 2026),
        reverse=True,
    )


def test_the_inmail_list_has_pages_of_twenty(client: Client, org: Org, clock: Any) -> None:
    told = story(org)
    for minute in range(20):
        logged(told.ada, APRIL + timedelta(minutes=minute + 1))
    client.force_login(org.lead)

    first = page(client, org.team, inmails_of="recruiter", **WHOLE_STORY)

    assert len(listed(first)) == 20
    assert "Page 1 of 2 (24 InMails)" in first
    following = re.search(r'<a href="([^"]*)" rel="next">', first)
    assert following
    second = client.get(team_url(org.team) + following.group(1).replace("&amp;", "&"))
    assert len(listed(second.content.decode())) == 4
    assert "inmails_page=2" in following.group(1)


def test_a_recruiter_may_open_their_own_inmails_but_not_a_teammates(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.recruiter)

    own = page(client, org.team, inmails_of="recruiter", **WHOLE_STORY)
    assert len(listed(own)) == 4

    teammate = client.get(team_url(org.team), {"inmails_of": "teammate"})
    assert teammate.status_code == 404
    assert "Bob Brown" not in teammate.content.decode()


@pytest.mark.parametrize("who", ["nobody", "outsider", "no-such-user", "lead"])
def test_someone_without_inmails_in_the_team_is_a_404(
    client: Client, org: Org, clock: Any, who: str
) -> None:
    story(org)
    client.force_login(org.lead)

    assert client.get(team_url(org.team), {"inmails_of": who}).status_code == 404


def test_the_heat_map_shows_rate_and_base_by_weekday_and_local_hour(
    client: Client, org: Org, clock: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, **WHOLE_STORY)

    heat = re.search(r'<table class="heat-map".*?</table>', html, re.S)
    assert heat
    cells = dict(re.findall(r'data-heat="([^"]+)">(.*?)</td>', heat.group(0), re.S))
    assert len(cells) == 168
    # Monday 10:00 UTC is 12:00 in Berlin, summer time in both April 2025 and June 2026:
    # 4 of 6 eligible answered within 30 days.
    assert re.sub(r"<[^>]+>", "", cells["1-12"]).split() == ["67%", "of", "6"]
    assert cells["1-10"] == "—"
    # Under 20 eligible: the numbers show, the cell is not shaded (colour is only an aid).
    assert 'class="num heat-0" data-heat="1-12"' in heat.group(0)
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">\d\d:00</th>", heat.group(0))) == 24
    assert "Hour of sending in the organisation's time zone (Europe/Berlin)" in html
    # A region that may scroll sideways on a phone can take keyboard focus and has a name.
    assert (
        '<div class="table-wrap heat-wrap" role="region" aria-labelledby="heat-map-title" '
        'tabindex="0">' in html
    )


def test_twenty_eligible_inmails_shade_their_cell(client: Client, org: Org, clock: Any) -> None:
    told = story(org)
    # Sixteen more on Monday 14 April 2025 at 10:00 UTC, never answered: 20 eligible, 2
    # answered within 30 days (10%), the second shade (10–19%).
    for _ in range(16):
        logged(told.bob, APRIL)
    client.force_login(org.lead)

    html = page(client, org.team, **{"from": "2025-04-01", "to": "2025-04-30"})

    assert re.search(r'class="num heat-2" data-heat="1-10">10%', html)


def test_a_recruiters_heat_map_counts_the_teams_totals(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.recruiter)

    html = page(client, org.team, **WHOLE_STORY)

    assert re.search(
        r'data-heat="1-10">67%<small><span class="visually-hidden"> of</span> 6<', html
    )
