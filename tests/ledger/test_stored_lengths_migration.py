"""Migration 0029 (issue 15, goal 2): the InMail's stored body length and long subject, computed
by the database from the breakdowns' rules on every write, the day index of the answered
InMails carrying them (PostgreSQL), and, on SQLite, the InMail table's triggers kept across the
table being built anew both ways."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from time_machine import TimeMachineFixture

from ledger.models import BODY_LIMITS, SIX_WORDS_OR_MORE, InMail, InMailStatus, ResponseDay
from ledger.services import inmail_record_response
from ledger.services.flow_days import flow_days_rebuild
from tests.ledger.helpers import SYSTEM, seat_on, send, utc

BEFORE = ("ledger", "0028_response_hours_answered_only")

SUBJECTS = [
    "a b c d e",  # five words: short
    "One two three four five six",  # six: long
    "  Open   role\tin  Lisbon now ",  # five, odd spacing: short
    "\tSix words in this subject line",  # six after leading whitespace: long
    "Hello",
]


def _inmail_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'ledger_inmail'::regclass AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'ledger_inmail'"
            )
        return {name for (name,) in cursor.fetchall()}


def _day_index_columns() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indexrelid = 'inmail_answered_day_hours_idx'::regclass"
        )
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_the_database_stores_each_inmails_body_length_and_long_subject(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2026, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    low, high = BODY_LIMITS
    bodies = ["x" * (low - 1), "x" * low, "x" * (high - 1), "x" * high, "héllo wörld"]
    sent = [
        send(seat, f"linkedin.com/in/p{n}", subject=subject, body=body).inmail
        for n, (subject, body) in enumerate(zip(SUBJECTS, bodies, strict=True))
    ]
    stored = {
        row.pk: (row.body_chars, row.subject_long)
        for row in InMail.objects.filter(pk__in=[inmail.pk for inmail in sent])
    }
    assert [stored[inmail.pk] for inmail in sent] == [
        (low - 1, False),
        (low, True),
        (high - 1, False),
        (high, True),
        (11, False),  # characters, not bytes
    ]
    # The same rule as the Python pattern everywhere else.
    assert [bool(re.match(SIX_WORDS_OR_MORE, subject)) for subject in SUBJECTS] == [
        False,
        True,
        False,
        True,
        False,
    ]


@pytest.mark.django_db(transaction=True)
def test_going_back_and_forward_keeps_the_inmail_tables_triggers_and_the_responses_days(
    executor: MigrationExecutor, time_machine: TimeMachineFixture
) -> None:
    triggers = _inmail_triggers()
    assert triggers  # the responses' days at least (0018), on both databases
    if connection.vendor == "postgresql":
        assert "body_chars, subject_long" in _day_index_columns()

    executor.migrate([BEFORE])
    assert _inmail_triggers() == triggers
    if connection.vendor == "postgresql":
        assert "body_chars" not in _day_index_columns()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert _inmail_triggers() == triggers
    if connection.vendor == "postgresql":
        assert "body_chars, subject_long" in _day_index_columns()

    # The triggers still count: a response recorded now is on its local day (the days kept in
    # the organisation's zone, as a deployment keeps them).
    flow_days_rebuild()
    time_machine.move_to(utc(2026, 4, 2, 17), tick=False)
    seat = seat_on("recruiter_lite")
    inmail = send(seat, "linkedin.com/in/ann", subject=SUBJECTS[1]).inmail
    time_machine.move_to(utc(2026, 4, 3, 17), tick=False)
    inmail_record_response(inmail=inmail, outcome=InMailStatus.REPLIED, cause=SYSTEM)
    assert list(ResponseDay.objects.filter(seat=seat).values_list("responses", flat=True)) == [1]
    assert InMail.objects.get(pk=inmail.pk).subject_long is True
