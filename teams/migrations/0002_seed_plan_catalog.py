"""Seed the plan catalog with exactly the values of SPEC's table.

Admins may edit plans afterwards; this migration only creates the rows that are missing, so
re-running it (or running it on a database where admins changed a price) changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# code, name, family, monthly_price, monthly_credits, max_balance, refresh, pooled, purchasable
CATALOG = [
    ("premium_career", "Premium Career", "premium", "29.99", 5, 15, "billing_day", False, True),
    ("premium_business", "Premium Business", "premium", "59.99", 15, 45, "billing_day", False, True),
    ("sales_navigator_core", "Sales Navigator Core", "sales_navigator", "99.99", 50, 150,
     "month_start", False, False),
    ("sales_navigator_advanced", "Sales Navigator Advanced", "sales_navigator", "149.00", 50, 150,
     "billing_day", False, False),
    ("recruiter_lite", "Recruiter Lite", "recruiter", "170.00", 30, 120, "billing_day", False, True),
    ("recruiter_professional", "Recruiter Professional Services", "recruiter", "835.00", 100, 400,
     "billing_day", False, True),
    ("recruiter_corporate", "Recruiter Corporate", "recruiter", "1080.00", 150, 600,
     "billing_day", True, True),
]
# The same for every plan (SPEC "Per plan also").
CREDIT_LIFETIME_DAYS = 90
PURCHASE_PRICE = "10.00"
MONTHLY_PURCHASE_LIMIT = None
MONTHLY_SEND_LIMIT = 300


def seed_catalog(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Plan = apps.get_model("teams", "Plan")
    for code, name, family, price, credits, cap, refresh, pooled, purchasable in CATALOG:
        Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "family": family,
                "monthly_price": Decimal(price),
                "monthly_credits": credits,
                "max_balance": cap,
                "refresh": refresh,
                "credit_lifetime_days": CREDIT_LIFETIME_DAYS,
                "pooled": pooled,
                "purchasable": purchasable,
                "purchase_price": Decimal(PURCHASE_PRICE),
                "monthly_purchase_limit": MONTHLY_PURCHASE_LIMIT,
                "monthly_send_limit": MONTHLY_SEND_LIMIT,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]

    operations = [migrations.RunPython(seed_catalog, migrations.RunPython.noop)]
