"""Celery beat (issue 10): the schedule comes from settings, and beat outlives a database outage.

Beat's scheduler copies `CELERY_BEAT_SCHEDULE` into django-celery-beat's tables when it starts,
so the nightly check runs in the TIME_ZONE of that start, not of the day the migrations ran.
During a PostgreSQL outage the scheduler keeps the schedule it last read instead of dying.

The tests run outside a test transaction, as beat does: the scheduler closes a connection that is
not in autocommit mode, which a test transaction is not.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from celery import Celery
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError, connection
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from psycopg import sql

from inmail_site.celery import app as celery_app
from ledger.beat import ResilientDatabaseScheduler

JOBS = {
    "Ledger tick: refreshes, expiries, reminders, closures": ("ledger.tasks.tick", 60),
    "Ledger alerts": ("ledger.tasks.send_alerts", 15 * 60),
    "Forget old idempotency keys": ("ledger.tasks.purge_idempotency_keys", 60 * 60),
    "Webhook deliveries": ("ledger.tasks.deliver_webhooks", 60),  # R23 (webhooks helper)
}


def jobs_in_the_database() -> dict[str, PeriodicTask]:
    return {
        job.name: job
        for job in PeriodicTask.objects.select_related("interval", "crontab").filter(enabled=True)
    }


def force_a_full_reread(scheduler: DatabaseScheduler) -> None:
    """As if five minutes had passed: the next read of `schedule` rereads every row."""
    scheduler._last_full_sync -= timedelta(minutes=6)


@pytest.mark.django_db(transaction=True)
def test_beat_copies_the_settings_schedule_into_the_database_once_each() -> None:
    assert settings.CELERY_BEAT_SCHEDULER == "ledger.beat:ResilientDatabaseScheduler"

    ResilientDatabaseScheduler(app=celery_app)
    ResilientDatabaseScheduler(app=celery_app)

    jobs = jobs_in_the_database()
    crontabs = {"Ledger check", "Reconciliation reminders"}
    assert set(jobs) == set(settings.CELERY_BEAT_SCHEDULE) == {*JOBS, *crontabs}
    reminders = jobs["Reconciliation reminders"]
    assert reminders.task == "ledger.tasks.remind_reconcile"
    assert (
        reminders.crontab.minute,
        reminders.crontab.hour,
        reminders.crontab.day_of_week,
    ) == ("0", "9", "1")
    for name, (task, seconds) in JOBS.items():
        job = jobs[name]
        assert (job.task, job.interval.every, job.interval.period) == (task, seconds, "seconds")
    check = jobs["Ledger check"]
    assert check.task == "ledger.tasks.check_ledger"
    assert (check.crontab.minute, check.crontab.hour, check.crontab.day_of_week) == ("30", "3", "*")
    assert str(check.crontab.timezone) == settings.TIME_ZONE
    # The rows the old data migrations made have the same names: updated, not doubled.
    assert PeriodicTask.objects.filter(task="ledger.tasks.tick").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_paused_job_stays_paused_when_beat_starts_again() -> None:
    ResilientDatabaseScheduler(app=celery_app)
    PeriodicTask.objects.filter(name="Ledger alerts").update(enabled=False)

    ResilientDatabaseScheduler(app=celery_app)

    assert not PeriodicTask.objects.get(name="Ledger alerts").enabled


@pytest.fixture
def app_started_in_new_york(settings: Any) -> Iterator[Celery]:
    """A Celery app as `celery -A inmail_site beat` makes it, under TIME_ZONE=America/New_York."""
    settings.TIME_ZONE = settings.CELERY_TIMEZONE = "America/New_York"
    # A crontab keeps the time zone it first ran in; a process starting afresh has none yet.
    fresh = {
        name: {**entry, "schedule": copy.copy(entry["schedule"])}
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    for entry in fresh.values():
        if isinstance(entry["schedule"], crontab):
            vars(entry["schedule"]).pop("tz", None)
    settings.CELERY_BEAT_SCHEDULE = fresh
    app = Celery("inmail_site")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    try:
        yield app
    finally:
        celery_app.set_current()


@pytest.mark.django_db(transaction=True)
def test_the_nightly_check_runs_at_0330_in_the_time_zone_beat_started_in(
    app_started_in_new_york: Celery,
) -> None:
    ResilientDatabaseScheduler(app=app_started_in_new_york)

    crontab = PeriodicTask.objects.get(name="Ledger check").crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("30", "3", "America/New_York")


def test_celery_runs_in_the_time_zone_of_the_environment_it_starts_in() -> None:
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.CELERY_TIMEZONE)",
        ],
        env={"TIME_ZONE": "Asia/Tokyo", "DJANGO_SETTINGS_MODULE": "inmail_site.settings"},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    assert started.stdout.strip() == "Asia/Tokyo"


def test_every_task_has_a_time_limit_and_redis_outwaits_it() -> None:
    assert (celery_app.conf.task_soft_time_limit, celery_app.conf.task_time_limit) == (900, 1200)
    if settings.REDIS_URL:
        visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        assert visibility > settings.CELERY_TASK_TIME_LIMIT


# --------------------------------------------------------------------------------------------
# A database outage
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_reread_keeps_the_last_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any database: the full reread raises the error a dropped connection gives."""
    scheduler = ResilientDatabaseScheduler(app=celery_app)
    before = set(scheduler.schedule)

    def outage(self: DatabaseScheduler) -> list[PeriodicTask]:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(DatabaseScheduler, "enabled_models", outage)
    force_a_full_reread(scheduler)

    assert set(scheduler.schedule) == before == set(settings.CELERY_BEAT_SCHEDULE)


@contextmanager
def postgres_away() -> Iterator[None]:
    """The test database drops every connection and refuses new ones, as while PostgreSQL
    restarts, until the block ends."""
    db = connection.settings_dict
    name = sql.Identifier(db["NAME"])
    with psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
    ) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [db["NAME"]],
            )
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
            # This process's own connection was terminated with the others: drop it, so the
            # next use (this test's teardown, or the next test this worker runs, whatever its
            # file) opens a new one instead of failing with "the connection is closed".
            connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_keeps_its_schedule_while_postgresql_is_away_and_rereads_it_once_back() -> None:
    scheduler = ResilientDatabaseScheduler(app=celery_app)
    before = set(scheduler.schedule)
    assert set(JOBS) <= before

    started = time.perf_counter()
    with postgres_away():
        for _ in range(3):
            force_a_full_reread(scheduler)
            assert set(scheduler.schedule) == before
        # Beat's loop itself: reads the schedule, runs what is due, saves the run times.
        assert scheduler.tick() > 0
    elapsed = time.perf_counter() - started

    assert elapsed < 5
    # PostgreSQL is back: the next reread connects again and sees an admin's pause.
    PeriodicTask.objects.filter(name="Ledger alerts").update(enabled=False)
    force_a_full_reread(scheduler)
    after = set(scheduler.schedule)
    assert set(JOBS) - after == {"Ledger alerts"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_django_celery_beats_own_scheduler_dies_on_the_same_outage() -> None:
    """Why ledger/beat.py exists: this is the OperationalError that ended beat."""
    scheduler = DatabaseScheduler(app=celery_app)

    with postgres_away():
        force_a_full_reread(scheduler)
        with pytest.raises(OperationalError):
            scheduler.schedule  # noqa: B018
    connection.close()
