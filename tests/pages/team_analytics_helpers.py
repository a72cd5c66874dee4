"""The team page analytics tests' story, and what they read back from the page.

Talent North's two recruiters imported their history and kept going:

| sent (UTC, the org's zone) | Ada Lovelace (org.recruiter)   | Bob Brown (org.teammate)       |
|----------------------------|--------------------------------|--------------------------------|
| Mon 14 Apr 2025, 10:00     | 2 replied next day, 1 no reply | 1 no reply                     |
| Mon 1 Jun 2026, 10:00      | 1 accepted next day            | 1 declined next day, 1 pending |

The clock stands at 20 June 2026, 12:00: every window is over but for Bob's pending InMail,
so June 2026 is still open. Nothing was sent between May 2025 and May 2026.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from ledger.models import InMail, InMailStatus
from teams.models import Seat, Team
from tests.conftest import Org
from tests.factories import make_seat
from tests.ledger.analytics.helpers import logged, name

START = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
APRIL = datetime(2025, 4, 14, 10, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
WHOLE_STORY = {"from": "2025-04-01", "to": "2026-06-20"}


@dataclass
class Story:
    ada: Seat
    bob: Seat
    inmails: list[InMail]


def story(org: Org) -> Story:
    name(org.recruiter, "Ada", "Lovelace")
    name(org.teammate, "Bob", "Brown")
    ada = make_seat(holder=org.recruiter, team=org.team, activated_on=date(2025, 4, 1))
    bob = make_seat(holder=org.teammate, team=org.team, activated_on=date(2025, 4, 1))
    day = timedelta(days=1)
    replied, accepted, declined = InMailStatus.REPLIED, InMailStatus.ACCEPTED, InMailStatus.DECLINED
    inmails = [
        logged(ada, APRIL, status=replied, responded_at=APRIL + day),
        logged(ada, APRIL, status=replied, responded_at=APRIL + day),
        logged(ada, APRIL, status=InMailStatus.NO_RESPONSE),
        logged(bob, APRIL, status=InMailStatus.NO_RESPONSE),
        logged(ada, JUNE, status=accepted, responded_at=JUNE + day),
        logged(bob, JUNE, status=declined, responded_at=JUNE + day),
        logged(bob, JUNE),
    ]
    return Story(ada=ada, bob=bob, inmails=inmails)


def team_url(team: Team) -> str:
    return reverse("team_detail", args=[team.pk])


def page(client: Client, team: Team, **query: str) -> str:
    """The team page with these parameters, which it shows (200)."""
    response = client.get(team_url(team), query)
    assert response.status_code == 200, response.content[:2000]
    return str(response.content.decode())


def refused(client: Client, team: Team, **query: str) -> str:
    """The team page with parameters its form refuses (400)."""
    response = client.get(team_url(team), query)
    assert response.status_code == 400, response.content[:2000]
    return str(response.content.decode())


def chart(html: str, chart_id: str) -> dict[str, Any]:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html)
    assert match, chart_id
    parsed: dict[str, Any] = json.loads(match.group(1))
    return parsed


def table(html: str, key: str) -> str:
    """The HTML of the rate table of breakdown `key`."""
    match = re.search(
        rf'<table class="striped rates" id="rates-{key}-table">(.*?)</table>', html, re.S
    )
    assert match, key
    return match.group(1)


def row_keys(html: str, key: str) -> list[str]:
    return re.findall(r'<tr data-rate-row="([^"]*)"', table(html, key))


def header(html: str, key: str, column: str) -> str:
    """The <th> of a column of a rate table, whole."""
    match = re.search(rf'<th [^>]*><a [^>]*data-sort="{column}".*?</th>', table(html, key), re.S)
    assert match, (key, column)
    return match.group(0)


def href_of(fragment: str) -> str:
    match = re.search(r'href="([^"]*)"', fragment)
    assert match, fragment
    return match.group(1).replace("&amp;", "&")


def csv_rows(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
