"""Schedule `ledger.tasks.purge_idempotency_keys` hourly (API.md keeps keys at least 24 hours;
the task forgets them after 48). Only a missing entry is created."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TASK = "ledger.tasks.purge_idempotency_keys"


def schedule_purge(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name="Forget old idempotency keys", defaults={"task": TASK, "interval": hourly}
    )


def unschedule_purge(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_inmail_seat_indexes")]

    operations = [migrations.RunPython(schedule_purge, unschedule_purge)]
