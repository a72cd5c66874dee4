"""Every analytics test runs in the organisation's time zone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ledger.analytics.helpers import ORG_TZ


@pytest.fixture(autouse=True)
def _org_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = ORG_TZ


@pytest.fixture(autouse=True)
def _entry_days_in_org_time_zone(_org_time_zone: None, request: pytest.FixtureRequest) -> None:
    """Count the entries' days in the organisation's zone, so credit flows read them (not the
    entries) in every analytics test with a database."""
    if "django_db" not in {mark.name for mark in request.node.iter_markers()}:
        return
    request.getfixturevalue("db")
    from ledger.services.flow_days import flow_days_rebuild

    flow_days_rebuild()
