from __future__ import annotations

from dataclasses import dataclass
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
    team = TeamFactory(name="Talent North")
    other_team = TeamFactory(name="Talent South")
    admin = UserFactory(username="admin", is_staff=True)
    lead = UserFactory(username="lead")
    recruiter = UserFactory(username="recruiter")
    teammate = UserFactory(username="teammate")
    outsider = UserFactory(username="outsider")
    nobody = UserFactory(username="nobody")
    MembershipFactory(user=lead, team=team, role=Role.LEAD)
    MembershipFactory(user=recruiter, team=team, role=Role.RECRUITER)
    MembershipFactory(user=teammate, team=team, role=Role.RECRUITER)
    MembershipFactory(user=outsider, team=other_team, role=Role.RECRUITER)
    return Org(admin, lead, recruiter, teammate, outsider, nobody, team, other_team)


@pytest.fixture(autouse=True)
def _no_task_publishing(settings: Any) -> None:
    """Services publish follow-up tasks after commit; tests that want that turn it back on."""
    settings.LEDGER_PUBLISH_TASKS = False
