"""`inmail_seat_sent_idx` carries what a usage limit counts (`credit_cost`, `imported`; issue
15): a seat's paid sends in its usage period are an index-only scan, for a send under a limit
and for the usage column of the team page and the admin overview. The index is rebuilt under
its table's write lock (about a second a million InMails). SQLite has no INCLUDE: the same
index without it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0026_breakdown_months"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="inmail", name="inmail_seat_sent_idx"),
        migrations.AddIndex(
            model_name="inmail",
            index=models.Index(
                fields=["seat", "sent_at"],
                include=("credit_cost", "imported"),
                name="inmail_seat_sent_idx",
            ),
        ),
    ]
