"""The notification tests' clock: stopped at START."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.notifications.helpers import START


@pytest.fixture
def clock_start() -> datetime:
    return START
