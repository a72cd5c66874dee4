"""The response-rate breakdowns by hour, weekday and hour, template and tag by local month of
sending too (issue 15): a range of whole months (the team page's last 3, 6 or 12 months) reads
them instead of counting its InMails. The table, the triggers that keep it with the all-time
rows, and a rebuild of both.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns
    from ledger.rate_rollups import analyze_if_filled

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.trigger_sql())
    rate_breakdowns.breakdown_rebuild()
    with schema_editor.connection.cursor() as cursor:
        analyze_if_filled(cursor, rate_breakdowns.MONTH_TABLE)


def uninstall(apps: Any, schema_editor: Any) -> None:
    # Back to the triggers and rebuild function of 0025 before the table goes.
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.trigger_sql(months=False))


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0025_breakdown_hours'),
        ('teams', '0005_personal_settings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RateBreakdownMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
                ('month', models.DateField()),
                ('bucket', models.CharField(max_length=100)),
                ('sent', models.IntegerField(default=0)),
                ('answered_30d', models.IntegerField(default=0)),
                ('accepted', models.IntegerField(default=0)),
                ('declined', models.IntegerField(default=0)),
                ('replied', models.IntegerField(default=0)),
                ('pending', models.IntegerField(default=0)),
                ('no_response', models.IntegerField(default=0)),
                ('withdrawn', models.IntegerField(default=0)),
                ('settled_unanswered', models.IntegerField(default=0)),
                ('h00', models.IntegerField(db_default=0, default=0)),
                ('h01', models.IntegerField(db_default=0, default=0)),
                ('h02', models.IntegerField(db_default=0, default=0)),
                ('h03', models.IntegerField(db_default=0, default=0)),
                ('h04', models.IntegerField(db_default=0, default=0)),
                ('h05', models.IntegerField(db_default=0, default=0)),
                ('h06', models.IntegerField(db_default=0, default=0)),
                ('h07', models.IntegerField(db_default=0, default=0)),
                ('h08', models.IntegerField(db_default=0, default=0)),
                ('h09', models.IntegerField(db_default=0, default=0)),
                ('h10', models.IntegerField(db_default=0, default=0)),
                ('h11', models.IntegerField(db_default=0, default=0)),
                ('h12', models.IntegerField(db_default=0, default=0)),
                ('h13', models.IntegerField(db_default=0, default=0)),
                ('h14', models.IntegerField(db_default=0, default=0)),
                ('h15', models.IntegerField(db_default=0, default=0)),
                ('h16', models.IntegerField(db_default=0, default=0)),
                ('h17', models.IntegerField(db_default=0, default=0)),
                ('h18', models.IntegerField(db_default=0, default=0)),
                ('h19', models.IntegerField(db_default=0, default=0)),
                ('h20', models.IntegerField(db_default=0, default=0)),
                ('h21', models.IntegerField(db_default=0, default=0)),
                ('h22', models.IntegerField(db_default=0, default=0)),
                ('h23', models.IntegerField(db_default=0, default=0)),
                ('h24', models.IntegerField(db_default=0, default=0)),
                ('h25', models.IntegerField(db_default=0, default=0)),
                ('h26', models.IntegerField(db_default=0, default=0)),
                ('h27', models.IntegerField(db_default=0, default=0)),
                ('h28', models.IntegerField(db_default=0, default=0)),
                ('h29', models.IntegerField(db_default=0, default=0)),
                ('h30', models.IntegerField(db_default=0, default=0)),
                ('h31', models.IntegerField(db_default=0, default=0)),
                ('h32', models.IntegerField(db_default=0, default=0)),
                ('h33', models.IntegerField(db_default=0, default=0)),
                ('h34', models.IntegerField(db_default=0, default=0)),
                ('h35', models.IntegerField(db_default=0, default=0)),
                ('h36', models.IntegerField(db_default=0, default=0)),
                ('h37', models.IntegerField(db_default=0, default=0)),
                ('h38', models.IntegerField(db_default=0, default=0)),
                ('h39', models.IntegerField(db_default=0, default=0)),
                ('h40', models.IntegerField(db_default=0, default=0)),
                ('h41', models.IntegerField(db_default=0, default=0)),
                ('h42', models.IntegerField(db_default=0, default=0)),
                ('h43', models.IntegerField(db_default=0, default=0)),
                ('h44', models.IntegerField(db_default=0, default=0)),
                ('h45', models.IntegerField(db_default=0, default=0)),
                ('h46', models.IntegerField(db_default=0, default=0)),
                ('h47', models.IntegerField(db_default=0, default=0)),
                ('h48', models.IntegerField(db_default=0, default=0)),
                ('h49', models.IntegerField(db_default=0, default=0)),
                ('h50', models.IntegerField(db_default=0, default=0)),
                ('h51', models.IntegerField(db_default=0, default=0)),
                ('h52', models.IntegerField(db_default=0, default=0)),
                ('h53', models.IntegerField(db_default=0, default=0)),
                ('h54', models.IntegerField(db_default=0, default=0)),
                ('h55', models.IntegerField(db_default=0, default=0)),
                ('h56', models.IntegerField(db_default=0, default=0)),
                ('h57', models.IntegerField(db_default=0, default=0)),
                ('h58', models.IntegerField(db_default=0, default=0)),
                ('h59', models.IntegerField(db_default=0, default=0)),
                ('h60', models.IntegerField(db_default=0, default=0)),
                ('h61', models.IntegerField(db_default=0, default=0)),
                ('h62', models.IntegerField(db_default=0, default=0)),
                ('h63', models.IntegerField(db_default=0, default=0)),
                ('h64', models.IntegerField(db_default=0, default=0)),
                ('h65', models.IntegerField(db_default=0, default=0)),
                ('h66', models.IntegerField(db_default=0, default=0)),
                ('h67', models.IntegerField(db_default=0, default=0)),
                ('h68', models.IntegerField(db_default=0, default=0)),
                ('h69', models.IntegerField(db_default=0, default=0)),
                ('h70', models.IntegerField(db_default=0, default=0)),
                ('h71', models.IntegerField(db_default=0, default=0)),
                ('h72', models.IntegerField(db_default=0, default=0)),
                ('h73', models.IntegerField(db_default=0, default=0)),
                ('h74', models.IntegerField(db_default=0, default=0)),
                ('h75', models.IntegerField(db_default=0, default=0)),
                ('h76', models.IntegerField(db_default=0, default=0)),
                ('h77', models.IntegerField(db_default=0, default=0)),
                ('h78', models.IntegerField(db_default=0, default=0)),
                ('h79', models.IntegerField(db_default=0, default=0)),
                ('seat', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.seat')),
                ('sender', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'ledger_rate_breakdown_month',
                'constraints': [models.UniqueConstraint(fields=('seat', 'kind', 'month', 'sender', 'bucket'), name='rate_breakdown_month_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
