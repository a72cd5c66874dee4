"""Migration 0025 (issue 15): going back puts the breakdowns' triggers without the hours
buckets in place (the rows stay kept and rebuilt), and coming forward again rebuilds the
buckets; `rates_check` is clean on both sides."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from time_machine import TimeMachineFixture

from ledger import rate_rollups
from ledger.models import InMailStatus
from ledger.services import inmail_record_response
from tests.ledger.helpers import SYSTEM, seat_on, send, stored_lengths_while_back, utc

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("ledger", "0024_response_hours")


def _columns() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_table_description(cursor, "ledger_rate_breakdown")
    return {column.name for column in found}


def _hour_counts() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(sent), 0), COALESCE(SUM(replied), 0) "
            "FROM ledger_rate_breakdown WHERE kind = 'hour'"
        )
        sent, replied = cursor.fetchone()
    return int(sent), int(replied)


def test_going_back_keeps_the_breakdowns_kept_and_coming_forward_rebuilds_the_buckets(
    executor: MigrationExecutor, time_machine: TimeMachineFixture
) -> None:
    if connection.vendor != "postgresql":
        # No breakdowns on SQLite: both directions only add and drop the columns.
        executor.migrate([BEFORE])
        assert "h00" not in _columns()
        return
    time_machine.move_to(utc(2026, 3, 10, 9), tick=False)
    rate_rollups.rollup_rebuild()
    seat = seat_on("recruiter_lite")
    first = send(seat, "linkedin.com/in/ann").inmail
    assert _hour_counts() == (1, 0)

    executor.migrate([BEFORE])
    assert "h00" not in _columns()
    # The triggers without the buckets still count every write.
    time_machine.move_to(utc(2026, 3, 10, 11), tick=False)
    with stored_lengths_while_back():
        send(seat, "linkedin.com/in/bob")
        inmail_record_response(inmail=first, outcome=InMailStatus.REPLIED, cause=SYSTEM)
    assert _hour_counts() == (2, 1)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "h79" in _columns()
    with connection.cursor() as cursor:
        # Ann's answer after 2 hours, in the bucket from 2 hours (h19), rebuilt on the way in.
        cursor.execute("SELECT SUM(h19) FROM ledger_rate_breakdown WHERE kind = 'hour'")
        assert cursor.fetchone()[0] == 1
    out = StringIO()
    call_command("rates_check", stdout=out, stderr=out)
    assert "0 differences" in out.getvalue()
