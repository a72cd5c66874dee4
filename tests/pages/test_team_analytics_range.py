"""The team page's analytics over any range of dates, and its charts over time spaced as time
(issue 12, item 7). The story is in tests/pages/team_analytics_helpers.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Org
from tests.pages.team_analytics_helpers import (
    START,
    WHOLE_STORY,
    chart,
    page,
    refused,
    row_keys,
    story,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

__all__ = ["START"]  # the clock's instant (tests/conftest.py reads the module's START)

GAP = [None] * 13


def period_text(html: str) -> str:
    match = re.search(r'data-stat="period">(.*?)<strong', html, re.S)
    assert match
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def overall(html: str) -> str:
    match = re.search(r'data-stat="rates-overall">(.*?)</strong>', html, re.S)
    assert match
    return " ".join(match.group(1).split())


def test_the_default_is_the_last_six_months_to_today(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team)

    assert (
        period_text(html)
        == "InMails sent 2026-01-01 to 2026-06-20 (the last 6 months): response rate"
    )
    assert overall(html) == "100% of 2 eligible (3 sent)"
    assert row_keys(html, "month") == ["2026-06"]
    assert '<option value="6" selected>Last 6 months</option>' in html


def test_a_range_of_dates_applies_to_rates_charts_and_flows(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, **WHOLE_STORY)

    assert period_text(html) == "InMails sent 2025-04-01 to 2026-06-20: response rate"
    # April 2025: 2 of 4; June 2026: 2 of the 2 eligible (Bob's pending InMail not yet).
    assert overall(html) == "67% of 6 eligible (7 sent)"
    assert row_keys(html, "month") == ["2025-04", "2026-06"]
    assert chart(html, "chart-rate-recruiter")["datasets"][0]["data"] == [75.0, 50.0]
    # Flows: one column per calendar month of the range, April 2025 to June 2026.
    flows = chart(html, "chart-flows")
    assert len(flows["labels"]) == 15
    assert (flows["labels"][0], flows["labels"][-1]) == ("Apr 2025", "Jun 2026")
    granted = next(d for d in flows["datasets"] if d["label"] == "Granted")["data"]
    # Two Recruiter Lite seats activated on 1 April 2025: 2 × 30 credits a month.
    assert granted == [60] * 15
    # The dates stay in the form, and the period menu says the dates win.
    assert 'name="from" value="2025-04-01"' in html
    assert 'name="to" value="2026-06-20"' in html
    assert '<option value="" selected>Custom dates</option>' in html


def test_a_range_cuts_its_first_and_last_month_at_its_dates(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    # From the 15th: April's InMails (the 14th) and grants (the 1st) are outside.
    html = page(client, org.team, **{"from": "2025-04-15", "to": "2025-05-31"})

    assert row_keys(html, "month") == []
    flows = chart(html, "chart-flows")
    assert flows["labels"] == ["Apr 2025", "May 2025"]
    assert next(d for d in flows["datasets"] if d["label"] == "Granted")["data"] == [0, 60]
    assert "The first and last months count only the days of the range." in html


def test_from_alone_runs_to_today(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, **{"from": "2026-06-01"})

    assert period_text(html) == "InMails sent 2026-06-01 to 2026-06-20: response rate"
    assert overall(html) == "100% of 2 eligible (3 sent)"


def test_months_a_year_apart_are_a_year_apart_on_the_chart(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    by_month = chart(page(client, org.team, **WHOLE_STORY), "chart-rate-month")

    # Apr 2025 and Jun 2026 are not neighbours: the thirteen months between are gaps.
    assert by_month["labels"][:3] == ["Apr 2025", "May 2025", "Jun 2025"]
    assert by_month["labels"][-2:] == ["May 2026", "Jun 2026*"]
    assert len(by_month["labels"]) == 15
    assert by_month["datasets"][0]["data"] == [50.0, *GAP, 100.0]
    assert by_month["datasets"][0]["eligible"] == [4, *GAP, 2]


def test_weeks_are_spaced_as_time_too(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, by="week", **WHOLE_STORY)

    by_week = chart(html, "chart-rate-week")
    # ISO week 16 of 2025 (14 April) to week 23 of 2026 (1 June): 37 + 23 weeks on the axis.
    assert len(by_week["labels"]) == 60
    assert by_week["labels"][0] == "Week of 14 Apr 2025"
    assert by_week["labels"][-1] == "Week of 1 Jun 2026*"
    assert by_week["datasets"][0]["data"] == [50.0, *[None] * 58, 100.0]
    assert row_keys(html, "week") == ["2025-W16", "2026-W23"]
    assert 'id="chart-rate-month"' not in html
    # Both period forms keep the grouping.
    assert html.count('<input type="hidden" name="by" value="week">') == 2


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"from": "2026-06-10", "to": "2026-06-01"},
            "to",
            "The range ends before it starts.",
        ),
        (
            {"from": "2026-06-01", "to": "2026-06-21"},
            "to",
            "The range can&#x27;t end after today (2026-06-20).",
        ),
        ({"from": "2026-07-01"}, "from", "The range can&#x27;t start after today (2026-06-20)."),
        ({"to": "2026-06-01"}, "from", "Give the first day of the range too."),
        (
            {"from": "2021-06-01", "to": "2026-06-20"},
            "from",
            "A range spans at most 60 calendar months; this one spans 61.",
        ),
        ({"from": "2026-02-30"}, "from", "Enter a valid date."),
        ({"from": "99999-01-01"}, "from", "Enter a valid date."),
        (
            {"months": "7"},
            "months",
            "Select a valid choice. 7 is not one of the available choices.",
        ),
    ],
)
def test_a_range_the_form_refuses_is_a_form_error_not_a_500(
    client: Client, org: Org, clock: Any, query: dict[str, str], field: str, message: str
) -> None:
    story(org)
    client.force_login(org.lead)

    html = refused(client, org.team, **query)

    errors = re.search(
        rf'<ul class="errorlist" id="id_period_{field}_error">(.*?)</ul>', html, re.S
    )
    assert errors, html[html.index("analytics-period") :][:3000]
    assert message in errors.group(1)
    # The page still shows the default period's analytics beside the error.
    assert period_text(html).startswith("InMails sent 2026-01-01 to 2026-06-20")


def test_sixty_months_is_the_longest_range(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, **{"from": "2021-07-01", "to": "2026-06-20"})

    assert len(chart(html, "chart-flows")["labels"]) == 60


def test_a_recruiter_gets_team_totals_over_a_range_and_no_one_by_name(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.recruiter)

    html = page(client, org.team, **WHOLE_STORY)

    assert overall(html) == "67% of 6 eligible (7 sent)"
    assert "Bob Brown" not in html
    assert 'id="rates-recruiter-table"' not in html
    assert "inmails_of=" not in html


def test_the_home_chart_spaces_months_as_time_too(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.recruiter)

    response = client.get(reverse("home"))

    mine = chart(response.content.decode(), "rates-chart-data")
    # Ada's own InMails: April 2025 (2 of 3) and June 2026 (1 of 1), thirteen months apart.
    assert (mine["labels"][0], mine["labels"][-1], len(mine["labels"])) == (
        "Apr 2025",
        "Jun 2026",
        15,
    )
    assert mine["datasets"][0]["data"] == [66.7, *GAP, 100.0]
    # The table lists the months that have InMails.
    assert [row.key for row in response.context["rates_by_month"]] == ["2025-04", "2026-06"]
