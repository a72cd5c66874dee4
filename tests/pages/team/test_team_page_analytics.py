"""The team page: team analytics, and bounded queries."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ledger.services import Cause, inmail_record_response, inmail_send
from teams.models import Role, Seat, Team, User
from tests.conftest import Org
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_seat
from tests.pages.team.conftest import PooledTeam
from tests.pages.team.helpers import HTMX, move_url, team_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


# --- analytics ------------------------------------------------------------------------------------


def chart(html: str, chart_id: str) -> dict[str, Any]:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html)
    assert match, chart_id
    parsed: dict[str, Any] = json.loads(match.group(1))
    return parsed


def test_team_analytics_chart_response_rates_credit_flows_and_cost_per_response(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    inmails = [
        inmail_send(
            seat=pooled.recruiter,
            recipient=f"linkedin.com/in/p{number}",
            subject="Hello there",
            body="A role for you",
            cause=Cause.system("test"),
        ).inmail
        for number in range(4)
    ]
    clock.shift(timedelta(days=2))
    inmail_record_response(inmail=inmails[0], outcome="accepted", cause=Cause.system("test"))
    client.force_login(org.lead)

    response = client.get(team_url(org.team), {"months": "3"})

    html = response.content.decode()
    by_recruiter = chart(html, "chart-rate-recruiter")
    assert by_recruiter["labels"] == [str(org.recruiter)]
    assert by_recruiter["datasets"][0]["data"] == [100.0]
    assert chart(html, "chart-rate-weekday")["labels"] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    ]
    assert chart(html, "chart-rate-body_length")["labels"] == [
        "Under 400 chars",
        "400–999 chars",
        "1000+ chars",
    ]
    assert chart(html, "chart-rate-subject_length")["labels"] == [
        "Up to 5 words",
        "More than 5 words",
    ]
    flows = chart(html, "chart-flows")
    assert flows["labels"] == ["Nov 2025", "Dec 2025", "Jan 2026"]
    series = {dataset["label"]: dataset["data"] for dataset in flows["datasets"]}
    # January: two Corporate activations (150 each) and a Recruiter Lite one (30); four
    # credits spent from the pool, one refunded.
    assert series["Granted"] == [0, 0, 330]
    assert series["Spent"] == [0, 0, 4]
    assert series["Refunded"] == [0, 0, 1]
    period = response.context["flow_period"]
    # Three subscriptions charged at activation: 1080 + 1080 + 170, one response.
    assert period.cost == period.cost_per_response
    assert str(period.cost_per_response) == "2330.00"
    assert 'data-stat="cost-per-response">USD 2,330.00<' in html
    cost = chart(html, "chart-cost")
    assert cost["datasets"][0]["label"] == "Cost per response (USD)"
    assert cost["datasets"][0]["data"] == [None, None, 2330.0]


def test_months_still_inside_the_30_day_window_are_marked_and_explained(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    def send(number: int) -> None:
        inmail_send(
            seat=pooled.recruiter,
            recipient=f"linkedin.com/in/m{number}",
            subject="Hello there",
            body="A role for you",
            cause=Cause.system("test"),
        )

    send(1)  # 10 January, 00:00
    clock.move_to(datetime(2026, 2, 8, 12, 0, tzinfo=UTC))
    send(2)  # 29½ days later: both months have a pending InMail inside the window
    client.force_login(org.lead)

    response = client.get(team_url(org.team))
    assert response.status_code == 200, response
    html = response.content.decode()

    assert chart(html, "chart-rate-month")["labels"] == ["Jan 2026*", "Feb 2026*"]
    clock.move_to(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    client.force_login(org.lead)  # three weeks on, the session has expired
    # January's InMail is now past the window and counts as unanswered; February's is not.
    html = client.get(team_url(org.team)).content.decode()
    assert chart(html, "chart-rate-month")["labels"] == ["Jan 2026", "Feb 2026*"]
    assert "count once answered or 30 days old, so its rate may still fall" in html


def rate_row(html: str, key: str) -> tuple[str, str, list[str]]:
    """A response-rate table row: its class attribute, its header and its cells (text only)."""
    match = re.search(rf'<tr data-rate-row="{key}"([^>]*)>(.*?)</tr>', html, re.S)
    assert match, key
    header = re.search(r"<th[^>]*>(.*?)</th>", match.group(2), re.S)
    assert header
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(2), re.S)
    return match.group(1), header.group(1), [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def test_rate_tables_show_eligible_mark_open_months_and_grey_small_samples(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    def send(name: str) -> Any:
        return inmail_send(
            seat=pooled.recruiter,
            recipient=f"linkedin.com/in/{name}",
            subject="Hello there",
            body="A role for you",
            cause=Cause.system("test"),
        ).inmail

    january = [send(f"jan{number}") for number in range(22)]  # 10 January
    inmail_record_response(inmail=january[0], outcome="replied", cause=Cause.system("test"))
    clock.move_to(datetime(2026, 2, 20, 12, 0, tzinfo=UTC))  # January's window is over
    february = [send(f"feb{number}") for number in range(2)]
    inmail_record_response(inmail=february[0], outcome="accepted", cause=Cause.system("test"))
    client.force_login(org.lead)

    html = client.get(team_url(org.team)).content.decode()

    # Eligible stands right beside Sent (each header a sort link since item 7).
    assert re.search(
        r'data-sort="sent">Sent<.*?</th>\s*<th[^>]*><a[^>]*data-sort="eligible">Eligible<', html
    )
    jan_class, jan_label, jan = rate_row(html, "2026-01")
    # Sent, eligible, answered within 30 days, rate: 1 of 22 is 5%; a full sample, not open.
    assert (jan_label, jan[:4]) == ("Jan 2026", ["22", "22", "1", "5%"])
    assert "small-sample" not in jan_class
    feb_class, feb_label, feb = rate_row(html, "2026-02")
    # One answered (eligible) and one pending inside the window: open, and a small sample.
    assert feb[:4] == ["2", "1", "1", "100% small sample"]
    assert 'class="small-sample"' in feb_class
    assert feb_label.startswith('Feb 2026<span class="open-mark" aria-hidden="true">*</span>')
    assert '<span class="visually-hidden"> (still open:' in feb_label
    assert chart(html, "chart-rate-month")["labels"] == ["Jan 2026", "Feb 2026*"]
    assert chart(html, "chart-rate-month")["datasets"][0]["eligible"] == [22, 1]
    assert "count once answered or 30 days old, so its rate may still fall" in html
    # The recruiter's row sums both months: 23 eligible of 24 sent, no longer a small sample.
    recruiter_class, _, recruiter = rate_row(html, org.recruiter.username)
    assert recruiter[:4] == ["24", "23", "2", "9%"]
    assert "small-sample" not in recruiter_class
    overall = re.search(r'data-stat="rates-overall">(.*?)</strong>', html, re.S)
    assert overall
    assert " ".join(overall.group(1).split()) == "9% of 23 eligible (24 sent)"


def test_a_script_in_a_holders_name_is_escaped_in_tables_and_chart_data(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    org.recruiter.first_name = "<script>alert('n')</script>"
    org.recruiter.save()
    inmail_send(
        seat=pooled.recruiter,
        recipient="linkedin.com/in/ada",
        subject="Hello",
        body="A role for you",
        cause=Cause.system("test"),
    )
    client.force_login(org.lead)

    html = client.get(team_url(org.team)).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;n&#x27;)&lt;/script&gt;" in html
    assert "\\u003Cscript\\u003Ealert" in html  # json_script's escaping


# --- bounded queries -------------------------------------------------------------------------


def team_of(size: int, lead: User) -> Team:
    team = TeamFactory.create()
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    for number in range(size):
        seat = make_seat(
            holder=UserFactory.create(),
            team=team,
            plan_code="recruiter_corporate" if number % 2 else "recruiter_lite",
            pool_access=True if number % 2 else None,
        )
        inmail_send(
            seat=seat,
            recipient="linkedin.com/in/ada",
            subject="Hello",
            body="A role for you",
            cause=Cause.system("test"),
        )
    return team


def queries_for(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.usefixtures("production_rollups")
def test_the_team_page_of_twenty_seats_reads_a_bounded_number_of_queries(
    client: Client, org: Org, clock: Any, django_assert_max_num_queries: Any
) -> None:
    team = team_of(20, org.lead)
    client.force_login(org.lead)
    client.get(team_url(team))

    # tests/pages/test_page_statements.py says what the bound is made of.
    with django_assert_max_num_queries(68):
        assert client.get(team_url(team)).status_code == 200


def test_team_page_queries_do_not_grow_with_the_team(client: Client, org: Org, clock: Any) -> None:
    small, large = team_of(4, org.lead), team_of(20, org.lead)
    client.force_login(org.lead)

    assert queries_for(client, team_url(small)) == queries_for(client, team_url(large))


def test_a_move_answers_in_a_bounded_number_of_queries(
    client: Client, org: Org, clock: Any
) -> None:
    small, large = team_of(4, org.lead), team_of(20, org.lead)
    client.force_login(org.lead)

    def move_queries(team: Team) -> int:
        seat = Seat.objects.filter(team=team, plan__code="recruiter_corporate").first()
        assert seat is not None
        with CaptureQueriesContext(connection) as queries:
            response = client.post(move_url(team, seat), {"credits": "1"}, headers=HTMX)
        assert response.status_code == 200
        return len(queries)

    assert move_queries(small) == move_queries(large)
