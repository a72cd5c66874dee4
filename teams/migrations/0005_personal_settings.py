"""A person's own settings: more low-balance thresholds, a lead's pool thresholds and saved CSV
column mappings (issue 14, items 3 and 4)."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0004_seat_holdings_usage_limit"),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonalSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("low_balance_thresholds", models.JSONField(blank=True, default=list)),
                ("pool_thresholds", models.JSONField(blank=True, default=list)),
                ("csv_mappings", models.JSONField(blank=True, default=dict)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="personal_settings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
