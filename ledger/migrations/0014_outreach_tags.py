"""R22 outreach tags: an InMail's template, and its tags as one row each (issue 14 item 1)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0013_rekey_recipients"),
    ]

    operations = [
        migrations.AddField(
            model_name="inmail",
            name="template",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.CreateModel(
            name="InMailTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tag", models.CharField(max_length=50)),
                (
                    "inmail",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tags",
                        to="ledger.inmail",
                    ),
                ),
            ],
            options={
                "ordering": ["inmail_id", "tag"],
                "indexes": [models.Index(fields=["tag"], name="inmailtag_tag_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("inmail", "tag"), name="one_tag_per_inmail")
                ],
            },
        ),
    ]
