"""Fixtures of the ledger's tests."""

from __future__ import annotations

from collections.abc import Iterator

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
