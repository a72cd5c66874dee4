"""Fixtures of the ledger's tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    """A migration executor for tests that go back to an earlier migration; whatever happened,
    the database ends at the latest migrations."""
    executor = MigrationExecutor(connection)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@contextmanager
def stored_lengths_while_back() -> Iterator[None]:
    """For a test that writes InMails through today's services on a database migrated back
    before 0029: the InMail's stored lengths (which today's model reads) added for the block,
    then removed, so that the way forward adds them as a deployment would."""
    from ledger.models import InMail

    fields = [
        field
        for field in InMail._meta.concrete_fields
        if field.name in ("body_chars", "subject_long")
    ]
    assert len(fields) == 2
    with connection.schema_editor() as editor:
        for field in fields:
            editor.add_field(InMail, field)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            for field in fields:
                editor.remove_field(InMail, field)
