"""Who sees whose figures in the pages (docs/rules.md: who sees per-person analytics).

The CSV exports hold the rows of the seats a person may see one by one: an admin everything, a
lead their team's seats and pool, a recruiter their own seats only, whether or not the team
shares its usage. The team page of a recruiter shows team totals and never a teammate: not their
name, not their row in any breakdown, not in the tables, the chart data or the page's context.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from time_machine import TimeMachineFixture

from ledger.models import InMail
from ledger.services import Cause, inmail_record_response, inmail_send
from teams.models import Seat, User
from tests.conftest import Org
from tests.factories import make_seat

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

NOW = datetime(2025, 6, 16, 12, 0, tzinfo=UTC)
ROLES = ("admin", "lead", "recruiter", "outsider")
TEAMMATE_NAME = "Ophelia Quarrington"


@pytest.fixture(autouse=True)
def clock(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@dataclass
class Outreach:
    """Seats activated on 1 June 2025, each with InMails sent on 16 June:

    Talent North: the recruiter's seat (1 InMail), the lead's (1), the teammate's (2, one of them
    accepted) and the teammate's Recruiter Corporate seat, whose credits fill the team pool;
    Talent South: the outsider's seat (1).
    """

    seats: dict[str, Seat]
    inmails: dict[str, list[InMail]]


def send(seat: Seat, recipient: str) -> InMail:
    return inmail_send(
        seat=seat, recipient=recipient, subject="Hello", body="Body", cause=Cause(seat.holder, "t")
    ).inmail


@pytest.fixture(params=[True, False], ids=["shares-usage", "hides-usage"])
def outreach(request: pytest.FixtureRequest, org: Org) -> Outreach:
    org.team.share_usage = request.param
    org.team.save()
    org.teammate.first_name, org.teammate.last_name = TEAMMATE_NAME.split()
    org.teammate.save()
    activated = date(2025, 6, 1)
    seats = {
        "recruiter": make_seat(holder=org.recruiter, team=org.team, activated_on=activated),
        "lead": make_seat(holder=org.lead, team=org.team, activated_on=activated),
        "teammate": make_seat(holder=org.teammate, team=org.team, activated_on=activated),
        "teammate_pooled": make_seat(
            plan_code="recruiter_corporate",
            holder=org.teammate,
            team=org.team,
            activated_on=activated,
        ),
        "outsider": make_seat(holder=org.outsider, team=org.other_team, activated_on=activated),
    }
    inmails = {
        "recruiter": [send(seats["recruiter"], "linkedin.com/in/ada")],
        "lead": [send(seats["lead"], "linkedin.com/in/bob")],
        "teammate": [
            send(seats["teammate"], "linkedin.com/in/cy"),
            send(seats["teammate"], "linkedin.com/in/dee"),
        ],
        "outsider": [send(seats["outsider"], "linkedin.com/in/eve")],
    }
    inmail_record_response(
        inmail=inmails["teammate"][0], outcome="accepted", cause=Cause.system("t")
    )
    return Outreach(seats, inmails)


def user_of(org: Org, role: str) -> User:
    user: User = getattr(org, role)
    return user


def downloaded_rows(response: TestResponse) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


# --- CSV exports -------------------------------------------------------------------------------

# Whose InMails and seat entries each role's files hold (a pooled seat's credits are the pool's:
# its own account has no entries here).
HOLDERS = {
    "admin": {"recruiter", "lead", "teammate", "outsider"},
    "lead": {"recruiter", "lead", "teammate"},
    "recruiter": {"recruiter"},
    "outsider": {"outsider"},
}


@pytest.mark.parametrize("role", ROLES)
def test_the_inmail_export_holds_the_inmails_of_the_seats_the_role_may_see(
    client: Client, org: Org, outreach: Outreach, role: str
) -> None:
    client.force_login(user_of(org, role))

    rows = downloaded_rows(client.get(reverse("csv:export_inmails")))

    expected = {str(inmail.pk) for holder in HOLDERS[role] for inmail in outreach.inmails[holder]}
    assert {row["id"] for row in rows} == expected
    assert {row["holder"] for row in rows} == HOLDERS[role]


@pytest.mark.parametrize("role", ROLES)
def test_the_entry_export_holds_the_entries_of_the_seats_the_role_may_see(
    client: Client, org: Org, outreach: Outreach, role: str
) -> None:
    client.force_login(user_of(org, role))

    rows = downloaded_rows(client.get(reverse("csv:export_entries")))

    seat_ids = {row["seat"] for row in rows if row["account"] != "pool"}
    assert seat_ids == {str(outreach.seats[name].pk) for name in HOLDERS[role]}
    # The pool's entries (pooled seats' grants and spends) are for leads and admins.
    assert any(row["account"] == "pool" for row in rows) == (role in ("admin", "lead"))
    assert {row["holder"] for row in rows if row["holder"]} == HOLDERS[role]


@pytest.mark.parametrize("name", ["csv:export_inmails", "csv:export_entries"])
@pytest.mark.parametrize("role", ROLES)
def test_exporting_a_teammates_seat_is_for_leads_and_admins(
    client: Client, org: Org, outreach: Outreach, role: str, name: str
) -> None:
    client.force_login(user_of(org, role))

    response = client.get(reverse(name), {"seat": outreach.seats["teammate"].pk})

    if role in ("admin", "lead"):
        rows = downloaded_rows(response)
        assert rows
        assert {row["holder"] for row in rows} == {"teammate"}
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("name", ["csv:export_inmails", "csv:export_entries"])
@pytest.mark.parametrize("role", ROLES)
def test_exporting_a_team_gives_only_its_seats_the_role_may_see(
    client: Client, org: Org, outreach: Outreach, role: str, name: str
) -> None:
    client.force_login(user_of(org, role))

    response = client.get(reverse(name), {"team": org.team.pk})

    if role == "outsider":
        assert response.status_code == 404
    else:
        holders = {row["holder"] for row in downloaded_rows(response) if row["holder"]}
        assert holders == HOLDERS[role] - {"outsider"}


@pytest.mark.parametrize("name", ["csv:export_inmails", "csv:export_entries"])
def test_anonymous_visitors_get_no_export(client: Client, outreach: Outreach, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The team page -----------------------------------------------------------------------------


def chart_data(html: str) -> list[Any]:
    """Every JSON block the page embeds for its charts."""
    blocks = re.findall(r'<script id="[^"]*" type="application/json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def test_a_recruiters_team_page_names_no_teammate_anywhere(
    client: Client, org: Org, outreach: Outreach
) -> None:
    client.force_login(org.recruiter)

    response = client.get(reverse("team_detail", args=[org.team.pk]))

    if not org.team.share_usage:
        # A team that hides its usage has no page for its recruiters at all.
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html = response.content.decode()
    charts = chart_data(html)
    assert charts, "the page embeds its chart data"
    assert TEAMMATE_NAME not in html
    assert TEAMMATE_NAME not in json.dumps(charts)
    assert 'id="chart-rate-recruiter"' not in html
    # Not even in what the template is given: no per-person breakdown, no seat lines.
    sections = response.context["rate_sections"]
    assert [section["key"] for section in sections] == [
        "month",
        "weekday",
        "body_length",
        "subject_length",
        "template",  # R22: team totals, no person named
        "tag",
    ]
    assert response.context["lines"] == []
    assert response.context["at_risk"] == []
    assert response.context["idle_lines"] == []
    # Team totals stay: four InMails of Talent North, one of them answered.
    assert (response.context["rates_total"].sent, response.context["rates_total"].accepted) == (
        4,
        1,
    )


@pytest.mark.parametrize("role", ["admin", "lead"])
def test_leads_and_admins_see_each_recruiter_on_the_team_page(
    client: Client, org: Org, outreach: Outreach, role: str
) -> None:
    client.force_login(user_of(org, role))

    response = client.get(reverse("team_detail", args=[org.team.pk]))

    html = response.content.decode()
    assert TEAMMATE_NAME in html
    by_recruiter = next(s for s in response.context["rate_sections"] if s["key"] == "recruiter")
    assert {row.key: row.sent for row in by_recruiter["rows"]} == {
        "recruiter": 1,
        "lead": 1,
        "teammate": 2,
    }
    assert TEAMMATE_NAME in by_recruiter["chart"]["labels"]


def test_a_recruiters_home_shows_their_own_figures_only(
    client: Client, org: Org, outreach: Outreach
) -> None:
    client.force_login(org.recruiter)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert TEAMMATE_NAME not in response.content.decode()
    assert response.context["rates_total"].sent == 1
    assert [(row.key, row.sent) for row in response.context["rates_by_month"]] == [("2025-06", 1)]
