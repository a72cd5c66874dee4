from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from teams.models import Role, Team, User
from tests.factories import MembershipFactory, TeamFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    """The test client and the live server speak plain http: nothing may redirect to https.

    Settings turn the redirect on whenever DEBUG is off, as it is here. pytest-django has loaded
    them by now, and no request has built the middleware yet, so this holds for the live server
    too. Tests of the redirect turn it back on with the `settings` fixture.
    """
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False


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


def _seed_migration_data() -> None:
    """Re-run the data migrations' seeders (they only create what is missing)."""
    from django.apps import apps

    for module in (
        "teams.migrations.0002_seed_plan_catalog",
        "ledger.migrations.0004_beat_schedule",
    ):
        seeder = importlib.import_module(module)
        for name in ("seed_catalog", "schedule_jobs"):
            if hasattr(seeder, name):
                getattr(seeder, name)(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """A reused test database may have been flushed by the last run's transactional tests."""
    with django_db_blocker.unblock():
        _seed_migration_data()


@pytest.fixture(autouse=True)
def _migration_data(request: pytest.FixtureRequest) -> None:
    """Tests with `transaction=True` flush every table when they end, the rows the data
    migrations seeded included; put them back before each such test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        _seed_migration_data()


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
