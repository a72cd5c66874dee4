"""Migration 0026 (issue 15): going back drops the breakdown rows by month and puts the
triggers of 0025 in place (the all-time rows stay kept), and coming forward again rebuilds the
rows by month; `rates_check` is clean on both sides."""

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

BEFORE = ("ledger", "0025_breakdown_hours")


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def _hour_counts(table: str) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(sent), 0), COALESCE(SUM(replied), 0) FROM {table} "  # noqa: S608
            "WHERE kind = 'hour'"
        )
        sent, replied = cursor.fetchone()
    return int(sent), int(replied)


def test_going_back_keeps_the_all_time_rows_kept_and_coming_forward_rebuilds_the_months(
    executor: MigrationExecutor, time_machine: TimeMachineFixture
) -> None:
    executor.migrate([BEFORE])
    assert "ledger_rate_breakdown_month" not in _tables()
    if connection.vendor != "postgresql":
        return  # No breakdowns on SQLite: both directions only create and drop the table.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    time_machine.move_to(utc(2026, 3, 10, 9), tick=False)
    rate_rollups.rollup_rebuild()
    seat = seat_on("recruiter_lite")
    first = send(seat, "linkedin.com/in/ann").inmail
    assert _hour_counts("ledger_rate_breakdown_month") == (1, 0)

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    assert "ledger_rate_breakdown_month" not in _tables()
    # The triggers of 0025 still count every write in the all-time rows.
    time_machine.move_to(utc(2026, 4, 2, 11), tick=False)
    with stored_lengths_while_back():
        send(seat, "linkedin.com/in/bob")
        inmail_record_response(inmail=first, outcome=InMailStatus.REPLIED, cause=SYSTEM)
        assert _hour_counts("ledger_rate_breakdown") == (2, 1)
        # And the rebuild function of 0025 rebuilds them (no table by month in it).
        rate_rollups.rollup_rebuild()
        assert _hour_counts("ledger_rate_breakdown") == (2, 1)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # Rebuilt on the way in: Ann's in March (answered), Bob's in April.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT month, SUM(sent), SUM(replied) FROM ledger_rate_breakdown_month "
            "WHERE kind = 'hour' GROUP BY month ORDER BY month"
        )
        assert [(m.isoformat(), s, r) for m, s, r in cursor.fetchall()] == [
            ("2026-03-01", 1, 1),
            ("2026-04-01", 1, 0),
        ]
    out = StringIO()
    call_command("rates_check", stdout=out, stderr=out)
    assert "0 differences" in out.getvalue()
