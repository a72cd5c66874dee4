from __future__ import annotations

import importlib
import os
from collections import Counter
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
from xdist.scheduler import LoadFileScheduling

from inmail_site import cache as fail_open
from inmail_site.celery import app as celery_app
from ledger.rate_rollups import rollup_rebuild
from ledger.services.flow_days import flow_days_rebuild
from teams.models import Role, Team, User
from tests import fast_flush
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.redis_server import RedisServer


def pytest_configure(config: pytest.Config) -> None:
    """The test client and the live server speak plain http: nothing may redirect to https.

    Settings turn the redirect on whenever DEBUG is off, as it is here. pytest-django has loaded
    them by now, and no request has built the middleware yet, so this holds for the live server
    too. Tests of the redirect turn it back on with the `settings` fixture.
    """
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    fast_flush.install()
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


# The files whose tests `make test` may hand to either xdist worker one test at a time: long
# files of independent tests (function-scoped fixtures only, nothing shared outside the
# worker's own test database), so that neither worker idles at the end of the run while the
# other finishes a long file. Every other file runs whole on one worker (its module-scoped
# fixtures built once, its tests in order), as `--dist loadfile` would run it. The browser
# walk (tests/browser/test_pages_a11y.py) is not spread: its tests, handed out one by one at the
# end of the run, met a database connection that an earlier file's outage test had terminated
# (16 setup errors in CI on a clean clone, twice); whole, it runs as it always did.
SPREAD_FILES = frozenset(
    {
        "tests/api/test_analytics_visibility.py",
        "tests/api/test_permission_matrix.py",
        "tests/api/test_schemathesis.py",
    }
)
# tests/pages/manage/test_console_access.py was spread too; its rows are now built once per
# module, which handing its tests out one by one rebuilt again and again (204 tests: 91 s
# spread over two workers, 34 s whole on one, at a load of ~7; bench/RESULTS.md).
# Single tests so long that they must start first, each on a worker of its own, for the run
# to end evenly (longest first): the demo's module (its fixture replays six months), the
# catch-up compared hour by hour over 100 days, and the batched catch-up compared with the
# per-group one over 40 random histories (its file's other tests are short).
LONG_FIRST = (
    "tests/teams/test_demo.py",
    "tests/ledger/test_catch_up.py::test_one_late_catch_up_equals_hourly_catch_ups",
    "tests/ledger/test_batch_catch_up.py",
    "tests/ledger/test_properties.py",
    "tests/ledger/test_properties_lifecycle.py",
)


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _run_order(item: pytest.Item) -> tuple[int, int]:
    """Long work first (longest first), then whole files, then the spread files' tests."""
    for position, prefix in enumerate(LONG_FIRST):
        if item.nodeid.startswith(prefix):
            return (0, position)
    if _file_of(item) in SPREAD_FILES:
        return (2, 0)
    return (1, 0)


_REPEATED_ID = pytest.StashKey[int]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test whose id names other tests too fails (`pytest_collection_modifyitems`)."""
    if _REPEATED_ID in item.stash:
        pytest.fail(
            f"{item.stash[_REPEATED_ID]} tests have the id {item.nodeid}: pytest-xdist would run"
            " one of them; give each its own id (a pytest parametrization names them)",
            pytrace=False,
        )


class _FilesButSpreadFiles(LoadFileScheduling):
    """`--dist loadfile`, but the tests of `SPREAD_FILES` go one by one to whichever worker is
    free. (pytest-xdist's own `--dist loadgroup` can't express this here: with pytest 9 its
    group marks no longer reach the scheduler.)"""

    def _split_scope(self, nodeid: str) -> str:
        file = nodeid.split("::", 1)[0]
        return nodeid if file in SPREAD_FILES else file


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    if config.getvalue("dist") != "loadfile":
        return None
    return _FilesButSpreadFiles(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the run for two workers; mark `postgres` skips.

    `make test` runs `--dist loadfile --no-loadscope-reorder`: files (and the spread files'
    tests) are handed out in the order given here, after pytest-django's reordering. The long
    ones go first (`LONG_FIRST`: the demo, built once by the module-scoped `demo` fixture, on
    one worker while the other takes the hour-by-hour catch-up), then whole files, and last
    the spread files' tests one by one, which even out the end of the run.

    Tests marked `postgres` prove locking on a real server; on SQLite they say so and skip.

    Two tests with one id fail, saying so: pytest-xdist hands tests out by id, so it would run
    one of them, report it once and pass (schemathesis gives an operation's test the function's
    bare name unless pytest parametrizes it too). Failing them at set-up, rather than raising
    here, is what shows the reason under xdist too: a worker's collection error is lost there.
    """
    from django.conf import settings

    ids = Counter(item.nodeid for item in items)
    for item in items:
        if ids[item.nodeid] > 1:
            item.stash[_REPEATED_ID] = ids[item.nodeid]
    items.sort(key=_run_order)
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
def django_db_modify_db_settings(django_db_modify_db_settings: None) -> None:
    """On PostgreSQL, every connection of the test run (the migrations', the tests', the live
    server's threads') commits without waiting for its WAL to reach the disk.

    A transactional test commits each service call of its set-up and each request of the live
    server, and a flush after it: at 1–3 ms of fsync each on this machine's disk, that was a
    good part of those tests' time. Only durability across a server crash is given up, which no
    test needs (the test databases are thrown away); what a transaction sees, locks and rolls
    back is unchanged, so the tests of concurrency and locking prove the same. Production's
    settings are untouched (issue 15 goal 4, bench/RESULTS.md).
    """
    from django.conf import settings
    from django.db import connections

    for database in settings.DATABASES.values():
        if "postgresql" in database["ENGINE"]:
            options = database.setdefault("OPTIONS", {})
            given = options.get("options", "")
            options["options"] = f"{given} -c synchronous_commit=off".strip()
    connections.close_all()


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
    whole run, but under xdist a worker takes one file (or test) after another."""
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


@pytest.fixture
def production_rollups(db: None, clock: time_machine.Traveller) -> None:
    """The rollups in the state a deployed database keeps them: the rate rollups and their
    breakdowns (settled at the clock's now) and the credit flows' days, counted in the
    organisation's zone, then kept by their triggers. A test database has them as migrated
    until the first flush of a transactional test empties their state rows, and from then on
    the analytics count the raw rows: a test that counts a page's statements would otherwise
    count one or the other depending on what ran before it in its process. SQLite has none."""
    if connection.vendor != "postgresql":
        return
    rollup_rebuild()
    flow_days_rebuild()


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
    return make_org()


def make_org() -> Org:
    """The rows of `org`, for a fixture of a wider scope that builds them once."""
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


@pytest.fixture(autouse=True)
def _cache_breaker_closed() -> None:
    """Every test starts with the cache's breaker closed: a test that stopped its own Redis
    may have tripped it after its fixtures reset it (while the settings still named that
    Redis), and for five seconds the next test's cache reads would all miss."""
    fail_open.breaker.__init__()  # type: ignore[misc]


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
    conf.broker_transport_options = dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS)
    forget_broker_connections()
    yield
    conf.broker_url, conf.broker_transport_options = saved
    forget_broker_connections()


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    """The app's cache and Celery broker on a Redis of the test's own."""
    server = RedisServer()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "inmail_site.cache.FailOpenRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    settings.LEDGER_PUBLISH_TASKS = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "1000/min", "writes": "1000/min"},
    }
    conf = celery_app.conf
    previous = conf.broker_url, conf.broker_transport_options, conf.task_always_eager
    conf.broker_url = server.url
    # Redis's options, also when the run's broker is the filesystem (no REDIS_URL): with the
    # filesystem's, a publish to this server once stopped would try to connect for ever.
    conf.broker_transport_options = dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS)
    conf.task_always_eager = False
    forget_broker_connections()
    fail_open.breaker.__init__()  # type: ignore[misc]
    yield server
    server.stop()
    conf.broker_url, conf.broker_transport_options, conf.task_always_eager = previous
    forget_broker_connections()
    fail_open.breaker.__init__()  # type: ignore[misc]
