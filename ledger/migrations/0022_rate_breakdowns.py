"""Response-rate breakdowns by hour, weekday and hour, template and tag (issue 15): the table,
its state (time zone, settled day) and the triggers on the InMail and InMail tag tables.

The trigger SQL is generated from ledger/rate_breakdowns.py (where the counting rules live); a
change of those rules needs a new migration that runs `trigger_sql()` again and rebuilds.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns

    with schema_editor.connection.cursor() as cursor:
        # Today's trigger SQL counts the hours columns that 0025 adds: on a database migrated
        # from scratch, 0025 installs it and rebuilds (no InMail is written in between).
        cursor.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'ledger_rate_breakdown' "
            "AND column_name = 'h00'"
        )
        if cursor.fetchone() is None:
            return
        cursor.execute(rate_breakdowns.trigger_sql(months=False))
    # Also writes the state row (time zone, the settled day of now).
    rate_breakdowns.breakdown_rebuild()


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.DROP_TRIGGER_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0020_answered_index'),
        ('teams', '0005_personal_settings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RateBreakdownState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('time_zone', models.CharField(max_length=64)),
                ('settled_before', models.DateField()),
            ],
            options={
                'db_table': 'ledger_rate_breakdown_state',
            },
        ),
        migrations.CreateModel(
            name='RateBreakdown',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
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
                ('seat', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.seat')),
                ('sender', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'ledger_rate_breakdown',
                'constraints': [models.UniqueConstraint(fields=('kind', 'seat', 'sender', 'bucket'), name='rate_breakdown_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
