"""Alert mails are retried: an attempt count and the time of the next attempt.

Mails already waiting are due at once (their next attempt is when they were raised).
"""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import F


def due_now(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Notification = apps.get_model("ledger", "Notification")
    Notification.objects.filter(email_status="pending").update(
        email_next_attempt_at=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_inmail_recent_index")]

    operations = [
        migrations.RemoveIndex(model_name="notification", name="notification_email_due_idx"),
        migrations.AddField(
            model_name="notification",
            name="email_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("email_status", "pending")),
                fields=["email_next_attempt_at"],
                name="notification_email_next_idx",
            ),
        ),
        migrations.RunPython(due_now, migrations.RunPython.noop),
    ]
