"""A CSV's money columns name the currency in their header (issue 12, item 8): the team page's
credit flows download says cost_USD, not a bare cost, and its cells stay plain decimals for a
spreadsheet to sum. The InMail and ledger-entry exports carry no amount of money at all (their
`amount` is credits)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from ledger.web.csv_io import ENTRY_COLUMNS, INMAIL_COLUMNS, money_column
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
RANGE = {"from": "2026-03-01", "to": "2026-03-20"}


def flows_csv(client: Client, org: Org) -> list[dict[str, str]]:
    response = client.get(reverse("team_detail", args=[org.team.pk]), {**RANGE, "export": "flows"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def team_with_a_seat(org: Org, clock: Any) -> None:
    make_seat(holder=org.recruiter, team=org.team, activated_on=date(2026, 3, 1))


@pytest.mark.usefixtures("team_with_a_seat")
@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_the_flows_csv_names_the_currency_of_its_money_columns(
    client: Client, org: Org, settings: Any, currency: str
) -> None:
    settings.CURRENCY = currency
    client.force_login(org.lead)

    rows = flows_csv(client, org)

    assert list(rows[0])[-2:] == [f"cost_{currency}", f"cost_per_response_{currency}"]
    assert "cost" not in rows[0]
    whole = rows[-1]
    assert whole["month"] == "Whole period"
    assert re.fullmatch(r"\d+\.\d\d", whole[f"cost_{currency}"]), whole
    assert whole[f"cost_per_response_{currency}"] == ""  # no response yet


def test_a_money_header_is_the_column_and_the_currency(settings: Any) -> None:
    settings.CURRENCY = "GBP"

    assert money_column("cost") == "cost_GBP"


def test_the_inmail_and_entry_exports_hold_no_amount_of_money() -> None:
    """Were one added, its header would have to go through `money_column`."""
    money = re.compile(r"(^|_)(cost|price|total)(_|$)")

    # credit_cost is a number of credits (0 or 1), amount and balance_after too.
    assert [h for h in (*INMAIL_COLUMNS, *ENTRY_COLUMNS) if money.search(h)] == ["credit_cost"]
