"""Celery beat's scheduler, made to outlive a database outage.

django-celery-beat's `DatabaseScheduler` rereads its schedule from the database every few
seconds (whether it changed) and in full every five minutes. It survives an error in some of
those reads but not in the full reread (`all_as_schedule`), which is reached from every beat
tick: one OperationalError there, during a short PostgreSQL restart, ended the beat process.
This one logs a warning, drops the broken connection (the next read opens a new one) and keeps
the schedule it last read, so the jobs keep their times through the outage. At start-up there
is no last schedule: beat fails then, and its service manager starts it again (deploy/).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from django.db import Error, connection
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)


def _drop_connection(during: str, error: Error) -> None:
    logger.warning(
        "Beat: the database failed during %s (%s); keeping the last schedule", during, error
    )
    # A connection the server dropped raises on every use until it is replaced.
    with suppress(Error):
        connection.close()


class ResilientDatabaseScheduler(DatabaseScheduler):
    """`DatabaseScheduler` that keeps its last schedule while the database is away."""

    def all_as_schedule(self) -> dict[str, Any]:
        try:
            return super().all_as_schedule()
        except Error as error:
            if self._schedule is None:
                raise
            _drop_connection("the schedule's reread", error)
            return self._schedule

    def schedule_changed(self) -> bool:
        try:
            return super().schedule_changed()
        except Error as error:
            _drop_connection("the check for schedule changes", error)
            return False

    def sync(self) -> None:
        try:
            super().sync()
        except Error as error:
            _drop_connection("saving the last run times", error)
