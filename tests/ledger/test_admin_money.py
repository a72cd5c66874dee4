"""The Django admin shows every amount with the currency (issue 12, item 8): purchases' unit
price and total, and the plan catalog's prices, through the one `money` formatter."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.services import Cause, purchase_record
from tests.conftest import Org
from tests.factories import make_seat, plan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def cells(html: str, column: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(rf'<td class="field-{column}[^"]*">(.*?)</td>', html, re.S)
    ]


@pytest.fixture
def purchase_id(org: Org, clock: Any) -> int:
    seat = make_seat(holder=org.recruiter, team=org.team)
    return purchase_record(seat=seat, credits=3, cause=Cause.system("test")).pk


def test_the_purchase_list_shows_prices_with_the_currency(
    admin_client: Client, purchase_id: int
) -> None:
    html = admin_client.get(reverse("admin:ledger_purchase_changelist")).content.decode()

    assert cells(html, "price_per_credit") == ["USD 10.00"]
    assert cells(html, "price_in_all") == ["USD 30.00"]
    assert "column-unit_price" not in html


def test_a_purchase_page_shows_its_prices_with_the_currency(
    admin_client: Client, purchase_id: int, settings: Any
) -> None:
    settings.CURRENCY = "EUR"

    response = admin_client.get(reverse("admin:ledger_purchase_change", args=[purchase_id]))

    assert response.status_code == 200
    readonly = re.findall(r'<div class="readonly">(.*?)</div>', response.content.decode(), re.S)
    assert "EUR 10.00" in readonly
    assert "EUR 30.00" in readonly


def test_the_plan_list_shows_prices_with_the_currency(admin_client: Client) -> None:
    html = admin_client.get(reverse("admin:teams_plan_changelist")).content.decode()

    assert "USD 1,080.00" in cells(html, "monthly_price_shown")
    assert "USD 29.99" in cells(html, "monthly_price_shown")
    assert set(cells(html, "purchase_price_shown")) == {"USD 10.00"}
    assert 'column-monthly_price"' not in html


def test_the_plan_form_names_the_currency_and_still_saves_plain_decimals(
    admin_client: Client,
) -> None:
    lite = plan("recruiter_lite")
    url = reverse("admin:teams_plan_change", args=[lite.pk])
    form = admin_client.get(url).context["adminform"].form

    assert form.fields["monthly_price"].label == "Monthly price (USD)"
    assert form.fields["purchase_price"].label == "Purchase price (USD)"
    data = {
        name: "" if value is None else value
        for name, value in form.initial.items()
        if name in form.fields
    }
    admin_client.post(url, {**data, "purchase_price": "12.50"})

    lite.refresh_from_db()
    assert str(lite.purchase_price) == "12.50"
