"""`manage.py ledger_check` proves the cached balances against the entries (R1, STYLE)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from time_machine import TimeMachineFixture

from ledger.models import Account, Entry, Lot
from ledger.selectors import ledger_discrepancies
from tests.ledger.helpers import account_of, run_busy_ledger

pytestmark = pytest.mark.django_db


def test_ledger_check_passes_on_a_busy_consistent_ledger(time_machine: TimeMachineFixture) -> None:
    run_busy_ledger(time_machine)
    out = StringIO()

    call_command("ledger_check", stdout=out, stderr=StringIO())

    accounts, entries = Account.objects.count(), Entry.objects.count()
    assert f"Ledger consistent: {accounts} accounts, {entries} entries, 0 differences." in (
        out.getvalue()
    )


def test_ledger_check_fails_and_names_an_account_whose_cached_balance_is_off(
    time_machine: TimeMachineFixture,
) -> None:
    lite, *_ = run_busy_ledger(time_machine)
    account = account_of(lite)
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + 1)
    err = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("ledger_check", stdout=StringIO(), stderr=err)

    assert failed.value.returncode == 1
    assert f"account #{account.pk} balance" in err.getvalue()
    assert str(failed.value).startswith("1 difference across 4 accounts and ")


def test_ledger_check_fails_and_names_a_lot_whose_remaining_is_off(
    time_machine: TimeMachineFixture,
) -> None:
    lite, *_ = run_busy_ledger(time_machine)
    account = account_of(lite)
    lot = Lot.objects.filter(account=account, remaining__gt=0).order_by("id").first()
    assert lot is not None
    Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - 1)
    err = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("ledger_check", stdout=StringIO(), stderr=err)

    assert failed.value.returncode == 1
    assert f"lot #{lot.pk} remaining" in err.getvalue()
    assert f"account #{account.pk} lots" in err.getvalue()


def test_ledger_check_reports_what_the_entries_say_and_what_the_cache_says(
    time_machine: TimeMachineFixture,
) -> None:
    lite, *_ = run_busy_ledger(time_machine)
    account = account_of(lite)
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + 3)

    [difference] = ledger_discrepancies()

    assert difference.what == f"account #{account.pk} balance"
    assert difference.found == difference.expected + 3
    assert str(difference) == (
        f"account #{account.pk} balance: the entries say {difference.expected}, "
        f"the cache says {difference.found}"
    )


def test_ledger_check_passes_on_an_empty_ledger(db: None) -> None:
    out = StringIO()

    call_command("ledger_check", stdout=out)

    assert "0 accounts, 0 entries, 0 differences" in out.getvalue()
