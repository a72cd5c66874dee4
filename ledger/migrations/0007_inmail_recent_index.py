from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_idempotency_purge_schedule")]

    operations = [
        migrations.AddIndex(
            model_name="inmail",
            index=models.Index(fields=["-sent_at", "-id"], name="inmail_recent_idx"),
        ),
    ]
