"""'Compare templates' (R22, issue 14 item 1): for a team's leads and admins, each template's
response rate with its 95% interval and sample sizes, and a sentence on the top two.

Intro: 15 of 25 answered within a day; Follow-up: 5 of 25; Cold: 2 of 5 (a small sample). By
hand: Wilson 15/25 ≈ [40.7%, 76.6%], 5/25 ≈ [8.9%, 39.1%], apart; pooled z = 2.887, p = 0.004."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.services import Cause, inmail_record_response
from tests.conftest import Org
from tests.pages.home.conftest import HomeSeats
from tests.pages.home.helpers import send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

VERDICT = (
    "“Intro” (60% of 25) leads “Follow-up” (20% of 25): the difference is more than chance "
    "(the 95% intervals don&#x27;t overlap; two-proportion test p = 0.004)."
)


@pytest.fixture
def outreach(seats: HomeSeats, clock: Any) -> None:
    plan = [("Intro", 25, 15), ("Follow-up", 25, 5), ("Cold", 5, 2)]
    answered = []
    for template, count, replies in plan:
        for n in range(count):
            inmail = send(
                seats.recruiter,
                f"linkedin.com/in/{template.lower()}-{n}",
                template=template,
                open_profile=True,
            )
            if n < replies:
                answered.append(inmail)
    send(seats.outsider, "linkedin.com/in/elsewhere", template="Elsewhere", open_profile=True)
    clock.shift(timedelta(days=40))
    for inmail in answered:
        inmail_record_response(
            inmail=inmail,
            outcome="replied",
            responded_at=inmail.sent_at + timedelta(hours=2),
            cause=Cause.system("test"),
        )


def test_a_lead_sees_every_template_its_interval_and_the_verdict(
    client: Client, org: Org, outreach: None
) -> None:
    client.force_login(org.lead)
    response = client.get(reverse("compare_templates", args=[org.team.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert VERDICT in html
    rows = re.findall(r'<tr(?: class="small-sample")? data-template="([^"]+)">', html)
    assert rows == ["Cold", "Follow-up", "Intro"]
    assert "40.7%–76.6%" in html
    assert "8.9%–39.1%" in html
    chart = json.loads(
        re.search(r'id="compare-chart-data" type="application/json">(.*?)</script>', html).group(1)  # type: ignore[union-attr]
    )
    assert chart["labels"] == ["Cold", "Follow-up", "Intro"]
    assert chart["rates"] == [40.0, 20.0, 60.0]
    assert chart["lows"][2] == 40.7
    assert chart["highs"][2] == 76.6
    assert 'data-template="Cold"' in html
    assert html.count("small sample</span>") == 1


def test_the_team_page_links_to_it_for_leads_only(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    url = reverse("compare_templates", args=[org.team.pk])
    client.force_login(org.lead)
    assert url in client.get(reverse("team_detail", args=[org.team.pk])).content.decode()
    client.force_login(org.recruiter)
    team_page = client.get(reverse("team_detail", args=[org.team.pk]))
    assert team_page.status_code != 200 or url not in team_page.content.decode()


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("recruiter", 404), ("outsider", 404)])
def test_only_leads_of_the_team_and_admins_may_compare(
    client: Client, org: Org, seats: HomeSeats, who: str, status: int
) -> None:
    client.force_login(getattr(org, who))
    assert client.get(reverse("compare_templates", args=[org.team.pk])).status_code == status


def test_without_two_templates_of_twenty_the_page_says_so(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    send(seats.recruiter, template="Intro", open_profile=True)
    client.force_login(org.lead)
    html = client.get(reverse("compare_templates", args=[org.team.pk])).content.decode()
    assert "Fewer than two templates have 20 or more eligible InMails" in html
    assert "No template has eligible InMails yet." in html
