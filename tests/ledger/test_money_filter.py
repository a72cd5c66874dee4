"""`{{ amount|money }}`: every amount a page shows carries the `CURRENCY` code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template

from ledger.templatetags.money import money


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("1080.00"), "USD 1,080.00"),
        (Decimal("0"), "USD 0.00"),
        (Decimal("12.5"), "USD 12.50"),
        (Decimal("1234567.89"), "USD 1,234,567.89"),
        (170, "USD 170.00"),
        ("9.99", "USD 9.99"),
        (None, "—"),
    ],
)
def test_an_amount_is_shown_with_its_currency(amount: Any, shown: str) -> None:
    assert money(amount) == shown


def test_the_currency_comes_from_the_setting(settings: Any) -> None:
    settings.CURRENCY = "EUR"

    rendered = Template("{% load money %}{{ amount|money }}").render(
        Context({"amount": Decimal("2330")})
    )

    assert rendered == "EUR 2,330.00"
