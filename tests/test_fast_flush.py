"""The transactional tests' flush (tests/fast_flush.py) leaves what Django's flush leaves, on
PostgreSQL and on SQLite."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from time_machine import TimeMachineFixture

from ledger.models import EntryDay, InMailStatus, ResponseDay
from ledger.services import inmail_record_response
from ledger.services.flow_days import flow_days_rebuild
from tests import fast_flush
from tests.conftest import make_org
from tests.fast_flush import FLUSHES, KEPT, tables_with_rows
from tests.ledger.helpers import SYSTEM, seat_on, send, utc

pytestmark = pytest.mark.django_db(transaction=True)


def _flush() -> None:
    FLUSHES[connection.vendor](connection)


def _counts_of_every_table_but_the_kept() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table not in KEPT:
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                counts[table] = cursor.fetchone()[0]
    return counts


def test_every_table_a_test_wrote_to_is_emptied_and_the_content_types_are_kept() -> None:
    make_org()
    content_types, permissions = ContentType.objects.count(), Permission.objects.count()
    written = tables_with_rows(connection)
    assert {"teams_user", "teams_team", "teams_membership"} <= set(written)
    assert not KEPT & set(written)

    _flush()

    assert tables_with_rows(connection) == []
    counts = _counts_of_every_table_but_the_kept()
    assert counts
    assert set(counts.values()) == {0}
    assert (ContentType.objects.count(), Permission.objects.count()) == (
        content_types,
        permissions,
    )
    assert content_types > 0
    assert permissions > 0


def test_the_rows_the_days_triggers_write_while_the_inmails_and_entries_go_are_flushed_too(
    time_machine: TimeMachineFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A response on its day and entries on theirs: deleting the InMail and the entries takes
    # each away from its day (on SQLite through the triggers, which cannot be switched off), so
    # a flush that emptied the days before them left a -1 day pointing at a deleted seat and
    # account, and its commit failed.
    flow_days_rebuild()  # the days kept in the organisation's zone, as a deployment keeps them
    time_machine.move_to(utc(2026, 4, 2, 17), tick=False)
    seat = seat_on("recruiter_lite")
    inmail = send(seat, "linkedin.com/in/ann").inmail
    time_machine.move_to(utc(2026, 4, 3, 17), tick=False)
    inmail_record_response(inmail=inmail, outcome=InMailStatus.REPLIED, cause=SYSTEM)
    assert ResponseDay.objects.filter(seat=seat).exists()
    assert EntryDay.objects.exists()

    # The tables found in the worst order: the days before the InMails and the entries, the
    # zone (without which the SQLite triggers write nothing) after them.
    found = fast_flush.tables_with_rows
    monkeypatch.setattr(fast_flush, "tables_with_rows", lambda c: sorted(found(c), reverse=True))
    _flush()  # raises IntegrityError on a failed commit
    monkeypatch.undo()

    assert tables_with_rows(connection) == []
    assert set(_counts_of_every_table_but_the_kept().values()) == {0}
