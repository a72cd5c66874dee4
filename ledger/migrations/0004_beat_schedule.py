"""Schedule the ledger's jobs with django-celery-beat (editable afterwards in the admin).

- `ledger.tasks.tick` every minute: refreshes land at 00:00 within a minute, and a late or
  missed run is harmless (R17: any operation catches its accounts up first).
- `ledger.tasks.send_alerts` every 15 minutes.
- `ledger.tasks.check_ledger` every day at 03:30 in the organisation's time zone.

Only missing entries are created, so an admin's changes survive re-running migrations.
"""

from __future__ import annotations

from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def schedule_jobs(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")

    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    every_quarter, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name="Ledger tick: refreshes, expiries, reminders, closures",
        defaults={"task": "ledger.tasks.tick", "interval": every_minute},
    )
    PeriodicTask.objects.get_or_create(
        name="Ledger alerts",
        defaults={"task": "ledger.tasks.send_alerts", "interval": every_quarter},
    )
    PeriodicTask.objects.get_or_create(
        name="Ledger check",
        defaults={"task": "ledger.tasks.check_ledger", "crontab": nightly},
    )


def unschedule_jobs(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(
        task__in=["ledger.tasks.tick", "ledger.tasks.send_alerts", "ledger.tasks.check_ledger"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_jobs, unschedule_jobs)]
