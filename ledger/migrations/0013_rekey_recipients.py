"""Recompute every stored InMail's recipient key with the key issue 12 item 4 introduced.

The key now recognises more spellings of one person (percent-encoded and unicode profile names,
/pub/ profiles, Sales Navigator and Recruiter ids, numeric member ids): rows stored before kept
the old key, so the duplicate check (R8), the teammate warning and the candidate search could
miss them. This rewrites only the keys that differ, in batches by id, so it is cheap when
nothing changed and safe to run again.

It calls the live `ledger.rules.normalise_recipient`: the key is only worth anything if old and
new rows agree on it, so the migration must use exactly the code that keys new rows. A later
change to the key needs a migration like this one again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

BATCH = 5_000


def rekey(apps: Any, schema_editor: Any) -> None:
    from ledger.rules import normalise_recipient

    InMail = apps.get_model("ledger", "InMail")
    last = 0
    while True:
        rows = list(
            InMail.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "recipient", "recipient_key")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        changed = [
            InMail(pk=pk, recipient_key=key)
            for pk, recipient, old in rows
            if (key := normalise_recipient(recipient)) != old
        ]
        InMail.objects.bulk_update(changed, ["recipient_key"], batch_size=1_000)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0012_inmail_sender_required")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop, elidable=True)]
