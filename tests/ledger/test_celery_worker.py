"""End to end (issue 4): a real Celery worker on the real Redis broker moves the ledger.

The test commits a seat whose first monthly refresh fell due in the real past, starts
`celery -A inmail_site worker` as a separate process on the pytest test database and a Redis
queue of its own, publishes `ledger.tasks.tick` twice through the broker, and waits for the
refresh to appear in the database, once. Redis is required: CI starts it, and a missing broker
fails the test rather than skipping it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Exchange, Queue

from inmail_site.celery import app as celery_app
from ledger import schedule
from ledger.models import Account, EntryKind, Refresh, RefreshKind
from ledger.selectors import ledger_discrepancies
from tests.ledger.helpers import ledger_rows, new_team, person, seat_on

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
# A queue of this run's own, so no other worker on the same Redis database takes the task
# (and runs it against another database).
QUEUE = f"ledger-e2e-{os.getpid()}"
WAIT_SECONDS = 60


@pytest.fixture
def broker() -> str:
    """The Redis broker URL, with this run's queue emptied."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}). This test needs a real broker: "
            "CI starts one; locally run `redis-server` or set REDIS_URL."
        )
    with celery_app.connection_for_write(REDIS_URL) as conn, conn.channel() as channel:
        channel.queue_purge(QUEUE)
    return REDIS_URL


def _test_database_url() -> str:
    """The database pytest created for this run, as a URL the worker's settings understand."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def worker(broker: str, tmp_path: Path) -> Iterator[Worker]:
    """A Celery worker process on the test database and the broker, stopped afterwards."""
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inmail_site.settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": broker,
        "LEDGER_PUBLISH_TASKS": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "TIME_ZONE": settings.TIME_ZONE,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "inmail_site",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-l",
        "info",
        "-Q",
        QUEUE,
        "-n",
        f"{QUEUE}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Worker(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        # Drop the queue and its routing entry, so runs leave nothing behind in Redis.
        with celery_app.connection_for_write(broker) as conn, conn.channel() as channel:
            queue = Queue(QUEUE, Exchange(QUEUE), routing_key=QUEUE, channel=channel)
            queue.declare()
            queue.delete()


def _publish_tick(broker: str) -> None:
    with celery_app.connection_for_write(broker) as conn:
        celery_app.send_task("ledger.tasks.tick", connection=conn, queue=QUEUE)


def _ticks_done(log: str) -> int:
    return len(re.findall(r"Task ledger\.tasks\.tick\[[^\]]+\] succeeded in", log))


def test_a_tick_published_to_redis_is_run_by_a_real_worker_and_moves_the_ledger_once(
    broker: str, worker: Worker
) -> None:
    real_now = timezone.now()
    with time_machine.travel(real_now - timedelta(days=40), tick=False):
        seat = seat_on("recruiter_lite", holder=person("holder"), team=new_team("Talent North"))
    account = Account.objects.get(seat=seat)
    refresh_on = schedule.refresh_date(seat.activated_on, schedule.BILLING_DAY, 1)
    refresh_at = schedule.start_of_day(refresh_on)
    assert refresh_at <= real_now
    assert account.next_due_at == refresh_at
    assert ledger_rows(account) == [
        (schedule.start_of_day(seat.activated_on), EntryKind.GRANT, 30, 30)
    ]

    # Twice: a second delivery of the same job must change nothing (R18).
    _publish_tick(broker)
    _publish_tick(broker)

    refreshes = Refresh.objects.filter(account=account, kind=RefreshKind.REFRESH)
    deadline = time.monotonic() + WAIT_SECONDS
    while not refreshes.exists() or _ticks_done(worker.output()) < 2:
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, (
            f"after {WAIT_SECONDS} s: {refreshes.count()} refresh(es), "
            f"{_ticks_done(worker.output())} of 2 ticks done by the worker:\n"
            f"{worker.output()}"
        )
        time.sleep(0.5)

    assert ledger_rows(account) == [
        (schedule.start_of_day(seat.activated_on), EntryKind.GRANT, 30, 30),
        (refresh_at, EntryKind.GRANT, 30, 60),
    ]
    assert list(refreshes.values_list("period_on", "granted")) == [(refresh_on, 30)]
    account.refresh_from_db()
    assert account.balance == 60
    assert account.next_due_at is not None
    assert account.next_due_at > real_now
    assert ledger_discrepancies() == []
