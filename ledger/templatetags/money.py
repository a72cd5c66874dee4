"""`{{ amount|money }}`: an amount with the organisation's currency, e.g. "USD 1,080.00".

Every amount a page shows (plan prices, purchases, costs) goes through this one filter; the API
keeps plain decimal strings (its contract, docs/api.md).
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()

#: What a missing amount (no responses yet, so no cost per response) shows.
NO_AMOUNT = "—"


@register.filter
def money(amount: Decimal | int | str | None) -> str:
    """The amount to the cent with thousands separated, after the `CURRENCY` code."""
    if amount is None or amount == "":
        return NO_AMOUNT
    return f"{settings.CURRENCY} {Decimal(amount):,.2f}"
