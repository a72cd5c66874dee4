"""Migration 0009 groups the entries written before operations into operations (issue 11).

The ledger is built with the services, taken back to 0008 (the entries lose their operation),
then migrated forward again: every entry gets an operation, a transfer's and an allocation's
legs share one, and the ledger checks out. On PostgreSQL this also runs the backfill past the
append-only trigger.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from time_machine import TimeMachineFixture

from ledger.models import Entry, EntryKind, Operation
from ledger.selectors import ledger_discrepancies
from ledger.services import Cause, pool_transfer
from tests.ledger.helpers import new_team, person, seat_on, send, utc

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("ledger", "0008_notification_email_retry")


def test_entries_written_before_operations_are_grouped_into_operations(
    executor: MigrationExecutor, time_machine: TimeMachineFixture
) -> None:
    admin = person("backfill-admin")
    by_admin = Cause(actor=admin, via="api")
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team()
    pooled = seat_on("recruiter_corporate", team=team, monthly_allocation=10)
    lite = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 1, 12, 9), tick=False)
    pool_transfer(team=team, seat=pooled, credits=25, cause=by_admin)
    time_machine.move_to(utc(2025, 2, 12, 9), tick=False)
    send(pooled, cause=by_admin)
    send(lite, cause=by_admin)
    entries = Entry.objects.count()

    executor.migrate([BEFORE])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Entry.objects.count() == entries
    assert not Entry.objects.filter(operation__isnull=True).exists()
    by_kind: dict[str, list[Operation]] = {}
    for op in Operation.objects.order_by("id"):
        by_kind.setdefault(op.kind, []).append(op)
    transfer = by_kind["pool.transfer"]
    assert len(transfer) == 1
    assert sorted(transfer[0].entries.values_list("kind", "amount")) == [
        (EntryKind.TRANSFER, -25),
        (EntryKind.TRANSFER, 25),
    ]
    assert (transfer[0].actor_id, transfer[0].via) == (admin.pk, "api")
    # The refreshes of 10 February: the pool's with its allocation, and the Lite seat's.
    assert sorted(
        (op.at, op.actor_id, op.via, sorted(op.entries.values_list("kind", "amount")))
        for op in by_kind["catch_up"]
    ) == [
        (
            utc(2025, 2, 10),
            None,
            "system",
            [(EntryKind.ALLOCATION, -10), (EntryKind.ALLOCATION, 10), (EntryKind.GRANT, 150)],
        ),
        (utc(2025, 2, 10), None, "system", [(EntryKind.GRANT, 30)]),
    ]
    # The pool's and the Lite seat's activation grants: same instant, other teams.
    assert sorted(
        op.entries.values_list("amount", flat=True).get() for op in by_kind["seat.activate"]
    ) == [30, 150]
    assert len(by_kind["inmail.send"]) == 2
    assert all(op.memo.startswith("Recorded before operations") for op in Operation.objects.all())
    assert ledger_discrepancies() == []

    # New operations are numbered after the ones the migration wrote.
    last = Operation.objects.order_by("-id").first()
    send(lite, "linkedin.com/in/after-the-migration", cause=by_admin)
    newest = Operation.objects.order_by("-id").first()
    assert last is not None
    assert newest is not None
    assert (newest.kind, newest.pk > last.pk) == ("inmail.send", True)
