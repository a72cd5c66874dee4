from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import _fresh_cache, as_admin, as_lead, world  # noqa: F401  (fixtures)
from tests.webhooks.receiver import receiver  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def _private_hosts_allowed(settings: Any) -> None:
    # The receiver listens on 127.0.0.1, which only this setting lets through (R23).
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
