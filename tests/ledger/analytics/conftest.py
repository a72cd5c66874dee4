"""Every analytics test runs in the organisation's time zone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ledger.analytics.helpers import ORG_TZ


@pytest.fixture(autouse=True)
def _org_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = ORG_TZ
