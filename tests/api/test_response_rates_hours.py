"""GET /analytics/response-rates/ by `hour` and `weekday_hour`, and the R22 fields every row
carries (`eligible`, `rate_low`, `rate_high`, `small_sample`), through the API and its schema.

The organisation is in Europe/Berlin (UTC+1 in winter). Everything is activated on Wednesday
15 January 2025; InMails are sent at 09:00 UTC (10:00 in Berlin, "3-10") and at 23:30 UTC
(Thursday 00:30 in Berlin, "4-00"). The clock then stands at 1 March 2025, when every 30-day
window is over.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.analytics import GROUP_BY
from ledger.services import Cause, inmail_record_response
from tests.api.conftest import World, send
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db

SYSTEM = Cause.system("test")
URL = "/api/v1/analytics/response-rates/"


@pytest.fixture(autouse=True)
def _berlin(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def outreach(world: World, time_machine: TimeMachineFixture) -> World:
    """The recruiter: two InMails at 10:00 Wednesday (one accepted the next day) and one at
    00:30 Thursday, Berlin time; the teammate (pooled seat): one at 10:00 Wednesday."""
    first = send(world.seat, "linkedin.com/in/member-a")
    send(world.seat, "linkedin.com/in/member-b")
    send(world.pooled_seat_2, "linkedin.com/in/member-t")
    time_machine.move_to(utc(2025, 1, 15, 23, 30), tick=False)
    send(world.seat, "linkedin.com/in/member-c")
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    inmail_record_response(inmail=first, outcome="accepted", cause=SYSTEM)
    time_machine.move_to(utc(2025, 3, 1, 9), tick=False)
    return world


def rows(client: APIClient, query: str) -> list[dict[str, Any]]:
    answer = client.get(f"{URL}{query}")
    assert answer.status_code == 200, answer.content
    return list(answer.json()["rows"])


def test_hour_keys_are_the_local_hours_as_integers(outreach: World, as_admin: APIClient) -> None:
    by_hour = rows(as_admin, "?group_by=hour")

    assert [row["key"] for row in by_hour] == list(range(24))
    assert all(type(row["key"]) is int for row in by_hour)
    assert by_hour[10]["label"] == "10:00"
    assert {row["key"]: row["sent"] for row in by_hour if row["sent"]} == {10: 3, 0: 1}
    # 10:00: three InMails, all eligible (30 days are over), one answered within 30 days.
    ten = by_hour[10]
    assert (ten["eligible"], ten["answered_30d"]) == (3, 1)
    assert ten["response_rate"] == pytest.approx(1 / 3)
    # Wilson, 1 of 3: centre 0.426914, half width 0.365422.
    assert ten["rate_low"] == pytest.approx(0.061492, abs=1e-6)
    assert ten["rate_high"] == pytest.approx(0.792340, abs=1e-6)
    assert ten["small_sample"] is True
    empty = by_hour[5]
    assert (empty["sent"], empty["eligible"], empty["response_rate"]) == (0, 0, None)
    assert (empty["rate_low"], empty["rate_high"], empty["small_sample"]) == (None, None, True)


def test_weekday_hour_keys_are_w_hh_strings_monday_first(
    outreach: World, as_admin: APIClient
) -> None:
    grid = rows(as_admin, "?group_by=weekday_hour")

    assert len(grid) == 168
    assert [grid[0]["key"], grid[1]["key"], grid[24]["key"], grid[-1]["key"]] == [
        "1-00",
        "1-01",
        "2-00",
        "7-23",
    ]
    assert (grid[-1]["label"]) == "Sun 23:00"
    assert {row["key"]: row["sent"] for row in grid if row["sent"]} == {"3-10": 3, "4-00": 1}
    thursday = next(row for row in grid if row["key"] == "4-00")
    # Sent 35 days ago and never answered: eligible, 0 of 1.
    assert (thursday["eligible"], thursday["response_rate"], thursday["rate_low"]) == (1, 0.0, 0.0)
    assert thursday["rate_high"] == pytest.approx(0.793451, abs=1e-6)


def test_a_period_narrows_the_heat_map_by_local_sent_date(
    outreach: World, as_admin: APIClient
) -> None:
    # 00:30 on Thursday 16 January in Berlin is the only InMail sent on the 16th there.
    grid = rows(as_admin, "?group_by=weekday_hour&from=2025-01-16&to=2025-01-16")

    assert {row["key"]: row["sent"] for row in grid if row["sent"]} == {"4-00": 1}


def test_every_breakdown_carries_eligible_the_interval_and_small_sample(
    outreach: World, as_admin: APIClient
) -> None:
    for group_by in GROUP_BY:
        for row in rows(as_admin, f"?group_by={group_by}"):
            assert {"eligible", "rate_low", "rate_high", "small_sample"} <= row.keys(), group_by
            if row["eligible"] == 0:
                assert (row["rate_low"], row["rate_high"]) == (None, None), group_by
            else:
                assert row["rate_low"] <= row["response_rate"] <= row["rate_high"], group_by
            assert row["small_sample"] is (row["eligible"] < 20), group_by


def test_a_recruiter_of_a_team_hiding_usage_counts_only_their_own_inmails_by_hour(
    outreach: World, as_recruiter: APIClient, as_lead: APIClient
) -> None:
    outreach.team.share_usage = False
    outreach.team.save()

    mine = rows(as_recruiter, "?group_by=hour")
    team = rows(as_lead, f"?group_by=hour&team={outreach.team.pk}")

    # The teammate's 10:00 InMail is in the lead's figures, not in the recruiter's.
    assert (mine[10]["sent"], mine[0]["sent"]) == (2, 1)
    assert (team[10]["sent"], team[0]["sent"]) == (3, 1)
    assert as_recruiter.get(f"{URL}?group_by=hour&team={outreach.team.pk}").status_code == 403


def test_an_unknown_breakdown_is_a_400_naming_it(world: World, as_admin: APIClient) -> None:
    answer = as_admin.get(f"{URL}?group_by=minute")

    assert answer.status_code == 400
    assert answer.json() == {"group_by": ['"minute" is not a valid choice.']}


def test_the_schema_lists_the_new_breakdowns_and_row_fields() -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/analytics/response-rates/"]["get"]
    group_by = next(p for p in operation["parameters"] if p["name"] == "group_by")
    row = schema["components"]["schemas"]["ResponseRateRow"]

    assert {"hour", "weekday_hour"} <= set(group_by["schema"]["enum"])
    assert {"eligible", "rate_low", "rate_high", "small_sample"} <= set(row["required"])
    assert row["properties"]["key"]["oneOf"] == [
        {"type": "string"},
        {"type": "integer", "minimum": 0, "maximum": 23},
    ]
    assert row["properties"]["small_sample"]["type"] == "boolean"
    assert row["properties"]["rate_low"]["nullable"] is True
