from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from kombu import pools as kombu_pools

from inmail_site.celery import app as celery_app
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
    # pytest-xdist: every worker has a test database of its own (test_<name>_gw0, ...), but
    # they share the Redis database of REDIS_URL. Each keeps its cache keys under a prefix of
    # its own, and `clear_cache` empties only those.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        settings.CACHES["default"]["KEY_PREFIX"] = f"tests-{worker}"


def clear_cache() -> None:
    """Empty this test process's cache (the API's throttle counters).

    `cache.clear()` is FLUSHDB on Redis, which would also empty the other xdist workers' keys
    in the middle of their tests; under xdist only this worker's prefix is deleted.
    """
    from django.conf import settings

    config = settings.CACHES["default"]
    prefix = config.get("KEY_PREFIX")
    if not prefix or not config["BACKEND"].endswith("RedisCache"):
        cache.clear()
        return
    client = redis.Redis.from_url(config["LOCATION"], socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` prove locking on a real server; on SQLite they say so and skip.

    The tests that read the demo (built once, for a minute or two, by the module-scoped `demo`
    fixture) go first: under `--dist loadfile` their file then starts at once on one worker
    instead of last, while the other worker takes the rest.
    """
    from django.conf import settings

    items.sort(key=lambda item: "demo" not in getattr(item, "fixturenames", ()))
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


_FLUSHED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _migration_data(request: pytest.FixtureRequest) -> None:
    """Tests with `transaction=True` flush every table when they end, the rows the data
    migrations seeded included; put them back before each such test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        _seed_migration_data()
        request.session.stash[_FLUSHED] = True


@pytest.fixture(autouse=True, scope="module")
def _migration_data_after_flushes(
    request: pytest.FixtureRequest, django_db_blocker: Any
) -> Iterator[None]:
    """After a module whose transactional tests flushed the seeded rows, put them back for the
    tests that roll back and come later in this process: pytest-django runs those first in a
    whole run, but under `--dist loadfile` a worker takes one file after another."""
    yield
    if request.session.stash.get(_FLUSHED, False):
        with django_db_blocker.unblock():
            _seed_migration_data()
        request.session.stash[_FLUSHED] = False


@pytest.fixture
def clock_start(request: pytest.FixtureRequest) -> datetime:
    """Where `clock` stops: the test module's `START`, unless a conftest.py overrides this."""
    start: datetime = request.module.START
    return timezone.make_aware(start) if timezone.is_naive(start) else start


@pytest.fixture
def clock(clock_start: datetime) -> Iterator[time_machine.Traveller]:
    """The clock stopped at `clock_start`; the test moves it (`clock.shift`, `clock.move_to`)."""
    with time_machine.travel(clock_start, tick=False) as traveller:
        yield traveller


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


@pytest.fixture
def admin_client(client: Client, org: Org) -> Client:
    """The test client signed in as the `org` admin (pytest-django's own makes another admin)."""
    client.force_login(org.admin)
    return client


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


def forget_broker_connections() -> None:
    """Make the Celery app connect afresh to whatever broker its settings name now.

    The app keeps its connection and producer pools for the broker it first talked to, and
    kombu keeps connection pools in a process-wide registry keyed by the broker URL: a test
    that closed one and left it there would have a later test in this process publish into a
    closed pool ("Acquire on closed pool"). kombu's reset() closes and forgets them all.
    """
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(settings: Any) -> Iterator[None]:
    """Publishing on, and the app's broker a Redis port nothing listens on."""
    settings.LEDGER_PUBLISH_TASKS = True
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options)
    conf.broker_url = "redis://127.0.0.1:1/0"
    conf.broker_transport_options = {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        "max_retries": 0,
    }
    forget_broker_connections()
    yield
    conf.broker_url, conf.broker_transport_options = saved
    forget_broker_connections()
