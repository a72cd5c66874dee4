"""InMails keep their sender (R19), reconciliations with LinkedIn (R21), and the usage-limit
and weekly reconciliation alerts with their preferences (R20, R21).

`sender` is added empty: 0011 fills it, 0012 makes it required.
"""

from __future__ import annotations

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0009_operations"),
        ("teams", "0004_seat_holdings_usage_limit"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="inmail",
            name="sender",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sent_inmails",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="notificationpreference",
            name="reconcile",
            field=models.BooleanField(
                default=True, help_text="A weekly reminder to compare each seat with LinkedIn."
            ),
        ),
        migrations.AddField(
            model_name="notificationpreference",
            name="usage_limit",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("low_balance", "Balance running low"),
                    ("expiring", "Credits expiring within 7 days"),
                    ("lost_to_cap", "Credits lost to the cap at the next refresh"),
                    ("pool_low", "Team pool running low"),
                    ("quality", "Response rate quality warning"),
                    ("usage_limit", "Seat near or at its usage limit"),
                    ("reconcile", "Weekly reminder to reconcile with LinkedIn"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Reconciliation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("observed_at", models.DateTimeField()),
                ("linkedin_balance", models.PositiveIntegerField()),
                ("ledger_balance", models.IntegerField()),
                ("difference", models.IntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("matched", "Matched"),
                            ("open", "Open"),
                            ("adjusted", "Adjusted"),
                            ("dismissed", "Dismissed"),
                        ],
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("reason", models.CharField(blank=True, max_length=500)),
                (
                    "adjustment",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconciliation",
                        to="ledger.entry",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconciliations_recorded",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconciliations_resolved",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "seat",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconciliations",
                        to="teams.seat",
                    ),
                ),
            ],
            options={
                "ordering": ["-observed_at", "-id"],
                "indexes": [
                    models.Index(fields=["seat", "observed_at"], name="reconciliation_seat_idx"),
                    models.Index(
                        condition=models.Q(("status", "open")),
                        fields=["observed_at"],
                        name="reconciliation_open_idx",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["matched", "open", "adjusted", "dismissed"])
                        ),
                        name="reconciliation_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "difference",
                                django.db.models.expressions.CombinedExpression(
                                    models.F("linkedin_balance"), "-", models.F("ledger_balance")
                                ),
                            )
                        ),
                        name="reconciliation_difference_is_linkedin_minus_ledger",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "matched"), ("difference", 0)),
                            models.Q(
                                models.Q(("status", "matched"), _negated=True),
                                models.Q(("difference", 0), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="reconciliation_matched_iff_no_difference",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("status__in", ["matched", "open"]),
                                ("resolved_at__isnull", True),
                                ("resolved_by__isnull", True),
                                ("reason", ""),
                            ),
                            models.Q(
                                ("status__in", ["adjusted", "dismissed"]),
                                ("resolved_at__isnull", False),
                                models.Q(("reason", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="reconciliation_resolved_fields_match_status",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "adjusted"), ("adjustment__isnull", False)),
                            models.Q(
                                models.Q(("status", "adjusted"), _negated=True),
                                ("adjustment__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="reconciliation_adjustment_iff_adjusted",
                    ),
                ],
            },
        ),
    ]
