from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from teams.models import Role, Team, User
from tests.factories import MembershipFactory, TeamFactory, UserFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` prove locking on a real server; on SQLite they say so and skip."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class Org:
    """An organisation as the access rules see it: an admin, two teams, and their people."""

    admin: User
    lead: User
    recruiter: User
    teammate: User
    outsider: User
    nobody: User
    team: Team
    other_team: Team


@pytest.fixture
def org(db: None) -> Org:
    team = TeamFactory.create(name="Talent North")
    other_team = TeamFactory.create(name="Talent South")
    admin = UserFactory.create(username="admin", is_staff=True)
    lead = UserFactory.create(username="lead")
    recruiter = UserFactory.create(username="recruiter")
    teammate = UserFactory.create(username="teammate")
    outsider = UserFactory.create(username="outsider")
    nobody = UserFactory.create(username="nobody")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    MembershipFactory.create(user=recruiter, team=team, role=Role.RECRUITER)
    MembershipFactory.create(user=teammate, team=team, role=Role.RECRUITER)
    MembershipFactory.create(user=outsider, team=other_team, role=Role.RECRUITER)
    return Org(admin, lead, recruiter, teammate, outsider, nobody, team, other_team)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The production hasher is slow on purpose; every fixture user would pay for it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plain_static_storage(settings: Any, tmp_path: Path) -> None:
    """Render pages without collected static files (production serves collected ones)."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_task_publishing(settings: Any) -> None:
    """Services publish follow-up tasks after commit; tests that want that turn it back on."""
    settings.LEDGER_PUBLISH_TASKS = False
