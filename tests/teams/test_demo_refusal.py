"""`manage.py demo` only fills an empty database: it leaves one with other data alone."""

from __future__ import annotations

import pytest

from teams.models import Team
from tests.teams.demo import run_demo, table_counts

pytestmark = pytest.mark.django_db


def test_demo_leaves_a_database_with_other_data_alone() -> None:
    Team.objects.create(name="Our real team")
    before = table_counts()

    output = run_demo()

    assert "only fills an empty database" in output
    assert table_counts() == before
