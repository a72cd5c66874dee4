"""`manage.py ledger_check`: prove cached balances and operations from the entries; exit 1 on a
difference."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.models import Account, Entry
from ledger.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = (
        "Recompute every balance from the ledger entries, check that every entry belongs to an "
        "operation and every move sums to zero, and report each difference."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        differences = ledger_discrepancies()
        for difference in differences:
            self.stderr.write(str(difference))
        accounts, entries = Account.objects.count(), Entry.objects.count()
        if differences:
            raise CommandError(
                f"{len(differences)} difference(s) across {accounts} accounts and "
                f"{entries} entries.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger consistent: {accounts} accounts, {entries} entries, 0 differences."
            )
        )
