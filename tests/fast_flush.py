"""A transactional test's flush on PostgreSQL, deleting only the rows the test wrote.

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
test as before (tests/conftest.py `_migration_data`). SQLite, and a test case asking for reset
sequences, a serialized rollback or a subset of the apps, keep Django's own flush.
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


def _fixture_teardown(self: Any) -> None:
    names = self._databases_names(include_mirrors=False)
    plain = self.reset_sequences or self.serialized_rollback or self.available_apps is not None
    if plain or any(connections[name].vendor != "postgresql" for name in names):
        _DJANGO_TEARDOWN(self)
        return
    for name in names:
        flush_written_tables(connections[name])


def install() -> None:
    """Every TransactionTestCase (pytest-django's transactional_db) flushes this way."""
    setattr(TransactionTestCase, "_fixture_teardown", _fixture_teardown)  # noqa: B010
