"""The organisation overview (issue 12, item 6): every team's figures and the organisation's,
exact, on the hand-built organisation of `overview_helpers` (its docstring works them out)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ledger.web.overview import organisation_overview
from tests.conftest import Org
from tests.pages.overview_helpers import (
    START,
    OverviewOrg,
    build_overview_org,
    cell,
    team_row,
    tile,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


@pytest.fixture
def clock_start() -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def built(org: Org, clock: time_machine.Traveller) -> OverviewOrg:
    return build_overview_org(org, clock)


def _overview_html(client: Client, org: Org) -> str:
    client.force_login(org.admin)
    response = client.get(reverse("overview"))
    assert response.status_code == 200
    return response.content.decode()


def test_each_team_row_shows_its_exact_figures(client: Client, built: OverviewOrg) -> None:
    html = _overview_html(client, built.org)

    figures = {
        name: {
            stat: cell(team_row(html, team.pk), stat)
            for stat in (
                "seats",
                "held",
                "expiring-7d",
                "expiring-30d",
                "lost-to-cap",
                "spent",
                "cost",
                "rate",
                "open-reconciliations",
                "idle",
            )
        }
        for name, team in (
            ("north", built.org.team),
            ("south", built.org.other_team),
            ("east", built.east),
            ("west", built.west),
        )
    }

    assert figures == {
        "north": {
            "seats": "2",
            "held": "67",
            "expiring-7d": "3",
            "expiring-30d": "12",
            "lost-to-cap": "9",
            "spent": "4",
            "cost": "USD 299.99 USD 299.99 per response",
            "rate": "67% of 3 eligible small sample",
            "open-reconciliations": "0",
            "idle": "1",
        },
        "south": {
            "seats": "1",
            "held": "30",
            "expiring-7d": "0",
            "expiring-30d": "0",
            "lost-to-cap": "0",
            "spent": "0",
            "cost": "USD 340.00",
            "rate": "— of 0 eligible",
            "open-reconciliations": "0",
            "idle": "0",
        },
        "east": {
            "seats": "2",
            "held": "1299",
            "expiring-7d": "0",
            "expiring-30d": "0",
            "lost-to-cap": "399",
            "spent": "1",
            "cost": "USD 2,160.00",
            "rate": "— of 0 eligible",
            "open-reconciliations": "0",
            "idle": "0",
        },
        "west": {
            "seats": "0",
            "held": "0",
            "expiring-7d": "0",
            "expiring-30d": "0",
            "lost-to-cap": "0",
            "spent": "0",
            "cost": "USD 0.00",
            "rate": "— of 0 eligible",
            "open-reconciliations": "0",
            "idle": "0",
        },
    }


def test_the_organisation_row_and_tiles_add_the_teams_up(
    client: Client, built: OverviewOrg
) -> None:
    html = _overview_html(client, built.org)
    total = team_row(html, "all")

    assert {
        stat: cell(total, stat)
        for stat in ("seats", "held", "expiring-7d", "expiring-30d", "lost-to-cap", "spent")
    } == {
        "seats": "5",
        "held": "1396",
        "expiring-7d": "3",
        "expiring-30d": "12",
        "lost-to-cap": "408",
        "spent": "5",
    }
    assert cell(total, "cost") == "USD 2,799.99"
    assert cell(total, "rate") == "67% of 3 eligible"
    assert cell(total, "idle") == "1"
    assert tile(html, "held") == "1396 in 5 active seats and pools"
    assert tile(html, "expiring-7d") == "3"
    assert tile(html, "expiring-30d") == "12"
    assert tile(html, "lost-to-cap") == "408"
    assert tile(html, "spent") == "5 credits"
    assert tile(html, "cost") == "USD 2,799.99 USD 2,799.99 per response"
    assert tile(html, "rate") == "67% of 3 eligible (8 sent) · small sample"
    assert tile(html, "open-reconciliations") == "0"
    assert tile(html, "idle") == "1 no InMail in 14 days"


def test_the_read_model_keeps_the_exact_amounts(built: OverviewOrg, org: Org) -> None:
    overview = organisation_overview(org.admin)

    north = next(line for line in overview.lines if line.team == org.team)
    assert north.rates is not None
    assert (north.rates.sent, north.rates.rate_base, north.rates.answered_30d) == (7, 3, 2)
    assert north.responses == 1
    assert str(north.cost_per_response) == "299.99"
    assert overview.total.open_reconciliations == 0
    assert overview.month_start.isoformat() == "2026-03-01"
    assert overview.rate_start.isoformat() == "2026-01-01"
    assert overview.as_of == START


def test_open_reconciliations_show_once_the_hook_counts_them(
    client: Client, built: OverviewOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "ledger.web.overview.open_reconciliations_by_team", lambda: {built.org.team.pk: 2}
    )

    html = _overview_html(client, built.org)

    assert cell(team_row(html, built.org.team.pk), "open-reconciliations") == "2"
    assert cell(team_row(html, built.east.pk), "open-reconciliations") == "0"
    assert cell(team_row(html, "all"), "open-reconciliations") == "2"
    assert tile(html, "open-reconciliations") == "2"
