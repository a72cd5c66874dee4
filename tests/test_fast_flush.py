"""The transactional tests' flush (tests/fast_flush.py) leaves what Django's flush leaves."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from tests.conftest import make_org
from tests.fast_flush import KEPT, flush_written_tables, tables_with_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_every_table_a_test_wrote_to_is_emptied_and_the_content_types_are_kept() -> None:
    make_org()
    content_types, permissions = ContentType.objects.count(), Permission.objects.count()
    written = tables_with_rows(connection)
    assert {"teams_user", "teams_team", "teams_membership"} <= set(written)
    assert not KEPT & set(written)

    flush_written_tables(connection)

    assert tables_with_rows(connection) == []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table not in KEPT:
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                assert cursor.fetchone() == (0,), table
    assert (ContentType.objects.count(), Permission.objects.count()) == (
        content_types,
        permissions,
    )
    assert content_types > 0
    assert permissions > 0
