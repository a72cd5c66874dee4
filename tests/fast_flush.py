"""A transactional test's flush on PostgreSQL and SQLite, deleting only the rows the test wrote.

Django ends every `transaction=True` test with `manage.py flush`: one TRUNCATE of every table
(on PostgreSQL a new file for each of the ~50 tables and each of their indexes) and then the
post_migrate signal, which creates every content type and permission again (~55 statements):
~150 ms a test on a quiet machine, ~300 ms in a loaded run, ~160 tests a run (issue 15 goal 4,
bench/RESULTS.md).

This one asks PostgreSQL which tables hold a row (one statement) and deletes those rows with
the triggers off (`flush_written_tables`): ~30 ms. The content types and permissions are left
as they are rather than deleted and created again: they are what the migrations made, and no
test changes them. The end state is the one `flush` leaves (every other table empty, sequences
not reset), and the data migrations' seeded rows are put back before the next transactional
test as before (tests/conftest.py `_migration_data`).

SQLite has no switch for its triggers, and Django's flush deletes its tables in the order of a
Python set (a different order in each process): when `ledger_responseday` or `ledger_entryday`
was emptied before `ledger_inmail` or `ledger_entry`, the days' triggers (migrations 0017 and
0018) wrote a -1 row for the deleted InMail or entry, which pointed at a seat or an account
deleted in the same transaction, and the commit failed (`FOREIGN KEY constraint failed`, now
and then, in any transactional test that had recorded a response). Here the tables with
triggers are emptied first and then every table that still holds a row, the triggers' rows
included, in one transaction. A test case asking for reset sequences, a serialized rollback or a
subset of the apps keeps Django's own flush.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import ProgrammingError, connections, transaction
from django.test import TransactionTestCase

# Rows the migrations and post_migrate create once and no test changes.
KEPT = frozenset({"django_migrations", "django_content_type", "auth_permission"})

_DJANGO_TEARDOWN: Callable[[Any], None] = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]


def tables_with_rows(connection: Any) -> list[str]:
    """The tables of the connection's schema that hold at least one row, but the KEPT ones."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        names = [name for name in connection.introspection.table_names(cursor) if name not in KEPT]
        if not names:
            return []
        probe = " UNION ALL ".join(
            f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(name)})"  # noqa: S608 (table names)
            for name in names
        )
        cursor.execute(probe, names)
        return [row[0] for row in cursor.fetchall()]


def flush_written_tables(connection: Any) -> None:
    """Delete every row of every table that holds one, in one transaction.

    With `session_replication_role = replica` (superuser only, as the test databases' owner
    is here) PostgreSQL fires no trigger for these deletes: not the foreign keys' checks, so
    the order does not matter, nor the ledger's append-only guards and rollup triggers, which
    would refuse or redo what a flush throws away. Without the right, TRUNCATE ... CASCADE.
    """
    written = tables_with_rows(connection)
    if not written:
        return
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("SET LOCAL session_replication_role = replica")
        except ProgrammingError:  # permission denied to set parameter
            cursor.execute(f"TRUNCATE {', '.join(quote(name) for name in written)} CASCADE")
            return
        cursor.execute("; ".join(f"DELETE FROM {quote(name)}" for name in written))  # noqa: S608


def flush_written_sqlite_tables(connection: Any) -> None:
    """Delete every row of every table that holds one on SQLite, in one transaction: first the
    tables whose deletes fire a trigger, then whatever holds a row after them (the rows those
    triggers wrote). The foreign keys are checked at the commit (Django declares them deferred),
    when nothing points anywhere any more."""
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        fired = {name for (name,) in cursor.fetchall()}
        for _ in range(3):
            written = sorted(tables_with_rows(connection), key=lambda name: name not in fired)
            if not written:
                return
            for name in written:
                cursor.execute(f"DELETE FROM {quote(name)}")  # noqa: S608 (table names)
        left = tables_with_rows(connection)
        if left:
            raise RuntimeError(f"rows keep coming back after a flush in {', '.join(left)}")


FLUSHES = {"postgresql": flush_written_tables, "sqlite": flush_written_sqlite_tables}


def _fixture_teardown(self: Any) -> None:
    names = self._databases_names(include_mirrors=False)
    plain = self.reset_sequences or self.serialized_rollback or self.available_apps is not None
    if plain or any(connections[name].vendor not in FLUSHES for name in names):
        _DJANGO_TEARDOWN(self)
        return
    for name in names:
        FLUSHES[connections[name].vendor](connections[name])


def install() -> None:
    """Every TransactionTestCase (pytest-django's transactional_db) flushes this way."""
    setattr(TransactionTestCase, "_fixture_teardown", _fixture_teardown)  # noqa: B010
