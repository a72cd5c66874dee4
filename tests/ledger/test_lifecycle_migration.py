"""Migrations 0011–0012 (issue 13): InMails recorded before senders existed get their seat's
holder as sender, and seats recorded before holdings get their first holding, from the
activation, by whoever activated them.

The ledger is built with the services, taken back to 0010 with the new columns emptied (as an
older database has them), then migrated forward again.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from time_machine import TimeMachineFixture

from ledger.models import InMail
from ledger.services import Cause, seat_activate
from teams.models import Plan, SeatHolding
from tests.ledger.helpers import new_team, person, seat_on, send, utc

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("ledger", "0010_inmail_sender_reconciliations")


def test_senders_and_first_holdings_are_filled_in(
    executor: MigrationExecutor, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    admin, ann, bob = person("migration-admin"), person("ann"), person("bob")
    team = new_team()
    by_admin = seat_activate(
        holder=ann,
        team=team,
        plan=Plan.objects.get(code="recruiter_lite"),
        activated_on=date(2025, 3, 4),
        cause=Cause(actor=admin, via="web"),
    )
    by_system = seat_on("premium_career", holder=bob, team=team)
    sent = [send(by_admin, "linkedin.com/in/a").inmail, send(by_system, "linkedin.com/in/b").inmail]

    executor.migrate([BEFORE])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_inmail SET sender_id = NULL")
        cursor.execute("DELETE FROM teams_seatholding")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(InMail.objects.values_list("pk", "sender__username")) == {
        sent[0].pk: "ann",
        sent[1].pk: "bob",
    }
    holdings = list(
        SeatHolding.objects.order_by("seat_id").values_list(
            "seat_id", "holder__username", "since", "until", "by__username"
        )
    )
    assert holdings == [
        (by_admin.pk, "ann", utc(2025, 3, 4), None, "migration-admin"),
        (by_system.pk, "bob", utc(2025, 3, 10), None, None),
    ]
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "ledger_inmail")
    assert [column.null_ok for column in columns if column.name == "sender_id"] == [False]
