"""`manage.py ledger_check`: prove cached balances and operations from the entries; exit 1 on a
difference."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

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
                ngettext(
                    "%(count)d difference across %(accounts)s and %(entries)s.",
                    "%(count)d differences across %(accounts)s and %(entries)s.",
                    len(differences),
                )
                % {
                    "count": len(differences),
                    "accounts": _accounts(accounts),
                    "entries": _entries(entries),
                },
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger consistent: {_accounts(accounts)}, {_entries(entries)}, 0 differences."
            )
        )


def _accounts(count: int) -> str:
    return ngettext("%(count)d account", "%(count)d accounts", count) % {"count": count}


def _entries(count: int) -> str:
    return ngettext("%(count)d entry", "%(count)d entries", count) % {"count": count}
