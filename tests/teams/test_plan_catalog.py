"""The plan catalog seeded by the data migration equals the rules' table, field by field."""

# The expected table keeps one catalog row per line, so it reads like docs/rules.md.
# ruff: noqa: E501

from __future__ import annotations

from decimal import Decimal

import pytest

from teams.models import Plan

# Written out from docs/rules.md "Plan catalog", not derived from the migration, so a mistake in one
# can't hide behind the other.
# code, name, family, price/mo, credits/mo, cap, refresh, pooled, purchasable
CATALOG_TABLE = [
    ("premium_career", "Premium Career", "premium", Decimal("29.99"), 5, 15, "billing_day", False, True),
    ("premium_business", "Premium Business", "premium", Decimal("59.99"), 15, 45, "billing_day", False, True),
    ("sales_navigator_core", "Sales Navigator Core", "sales_navigator", Decimal("99.99"), 50, 150, "month_start", False, False),
    ("sales_navigator_advanced", "Sales Navigator Advanced", "sales_navigator", Decimal("149.00"), 50, 150, "billing_day", False, False),
    ("recruiter_lite", "Recruiter Lite", "recruiter", Decimal("170.00"), 30, 120, "billing_day", False, True),
    ("recruiter_professional", "Recruiter Professional Services", "recruiter", Decimal("835.00"), 100, 400, "billing_day", False, True),
    ("recruiter_corporate", "Recruiter Corporate", "recruiter", Decimal("1080.00"), 150, 600, "billing_day", True, True),
]  # fmt: skip
# docs/rules.md "Plan catalog" (per plan also), the same for every plan.
PER_PLAN = {
    "credit_lifetime_days": 90,
    "purchase_price": Decimal("10.00"),
    "monthly_purchase_limit": None,
    "monthly_send_limit": 300,
}
COLUMNS = (
    "code",
    "name",
    "family",
    "monthly_price",
    "monthly_credits",
    "max_balance",
    "refresh",
    "pooled",
    "purchasable",
)


def expected_plans() -> dict[str, dict[str, object]]:
    return {row[0]: {**dict(zip(COLUMNS, row, strict=True)), **PER_PLAN} for row in CATALOG_TABLE}


@pytest.mark.django_db
def test_catalog_has_exactly_the_seven_spec_plans() -> None:
    assert Plan.objects.count() == 7
    assert set(Plan.objects.values_list("code", flat=True)) == set(expected_plans())


@pytest.mark.django_db
@pytest.mark.parametrize("code", [row[0] for row in CATALOG_TABLE])
def test_plan_equals_the_spec_row_field_by_field(code: str) -> None:
    expected = expected_plans()[code]
    plan = Plan.objects.get(code=code)

    actual = {field: getattr(plan, field) for field in expected}

    assert actual == expected


@pytest.mark.django_db
def test_prices_keep_their_cents_exactly() -> None:
    # Decimal("149.00") == Decimal("149") would hide a column stored without its scale.
    for (
        code,
        *_,
    ) in CATALOG_TABLE:
        plan = Plan.objects.get(code=code)
        assert plan.monthly_price.as_tuple().exponent == -2
        assert plan.purchase_price.as_tuple().exponent == -2


@pytest.mark.django_db
def test_only_recruiter_corporate_is_pooled_and_sales_navigator_sells_no_credits() -> None:
    assert list(Plan.objects.filter(pooled=True).values_list("code", flat=True)) == [
        "recruiter_corporate"
    ]
    assert set(Plan.objects.filter(purchasable=False).values_list("code", flat=True)) == {
        "sales_navigator_core",
        "sales_navigator_advanced",
    }
