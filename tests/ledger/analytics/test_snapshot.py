"""`ledger.analytics.snapshot`: a question asked once in a snapshot of `one_snapshot`'s own,
and asked every time anywhere else (PostgreSQL, no test transaction around the calls)."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from ledger.analytics.snapshot import asked_once, one_snapshot, rows_once
from teams.models import Team

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _now_and_level() -> tuple[object, str]:
    """What the database says: the transaction's start and its isolation level."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now(), current_setting('transaction_isolation')")
        found, level = cursor.fetchone()
    return found, level


class Asker:
    def __init__(self) -> None:
        self.asked = 0

    def __call__(self) -> int:
        self.asked += 1
        return self.asked


def test_in_its_own_snapshot_each_question_is_asked_once() -> None:
    ask, other = Asker(), Asker()
    with one_snapshot():
        assert _now_and_level()[1] == "repeatable read"
        assert [asked_once("default", "q", ask) for _ in range(3)] == [1, 1, 1]
        assert asked_once("default", "other", other) == 1
        with one_snapshot():  # nested: the same snapshot, the same answers
            assert asked_once("default", "q", ask) == 1
    assert (ask.asked, other.asked) == (1, 1)
    # Outside: asked again, every time, and a new snapshot starts with no answers.
    assert [asked_once("default", "q", ask) for _ in range(2)] == [2, 3]
    with one_snapshot():
        assert asked_once("default", "q", ask) == 4


def test_a_context_copied_to_another_thread_asks_on_that_threads_connection() -> None:
    """Another thread has a connection of its own, outside the snapshot: it is asked there."""
    ask = Asker()

    def in_the_thread() -> list[int]:
        try:
            return [asked_once("default", "q", ask) for _ in range(2)]
        finally:
            connection.close()

    with one_snapshot():
        assert asked_once("default", "q", ask) == 1
        copied = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=1) as executor:
            assert executor.submit(copied.run, in_the_thread).result(timeout=60) == [2, 3]
        assert asked_once("default", "q", ask) == 1


def test_inside_a_callers_transaction_nothing_is_remembered() -> None:
    ask = Asker()
    with transaction.atomic(), one_snapshot():
        # The caller's transaction (READ COMMITTED): each statement sees the latest commits.
        assert _now_and_level()[1] == "read committed"
        assert [asked_once("default", "q", ask) for _ in range(2)] == [1, 2]


def test_an_error_in_the_snapshot_forgets_its_answers() -> None:
    ask = Asker()

    def fails_after_asking() -> None:
        with one_snapshot():
            asked_once("default", "q", ask)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails_after_asking()
    assert asked_once("default", "q", ask) == 2


def test_a_statements_rows_are_read_once_per_snapshot_for_the_same_values() -> None:
    """`rows_once`: the same statement with the same values is read once in a snapshot; other
    values (an `__in` list among them) are another read; outside, every call reads."""
    teams = [Team.objects.create(name=f"Team {n}") for n in range(3)]
    ids = [team.pk for team in teams]

    def names(*pks: int) -> QuerySet[Team, str]:
        return Team.objects.filter(pk__in=list(pks)).order_by("pk").values_list("name", flat=True)

    with one_snapshot(), CaptureQueriesContext(connection) as read:
        assert rows_once(names(ids[0], ids[1])) == ["Team 0", "Team 1"]
        before = len(read)
        assert rows_once(names(ids[0], ids[1])) == ["Team 0", "Team 1"]
        assert len(read) == before  # the same statement and values: not read again
        assert rows_once(names(ids[2])) == ["Team 2"]
        assert rows_once(names(ids[0], ids[2])) == ["Team 0", "Team 2"]
        assert len(read) == before + 2
    with CaptureQueriesContext(connection) as read:
        rows_once(names(ids[0]))
        rows_once(names(ids[0]))
    assert len(read) == 2
