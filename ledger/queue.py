"""Publishing follow-up jobs from a write, by task name, once the write commits.

Services publish jobs (the alert pass after a send) without importing the tasks: a task calls
services, so a service that imported a task would import upwards. The name is enough; Celery
finds the task it names (`ledger.tasks`).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

SEND_ALERTS = "ledger.tasks.send_alerts"

# How long a claim on a queued job lasts if the job never starts (a lost message, no worker)
# or could not drop it (Redis away when it started): after that the next write publishes
# again. The scheduled pass covers the meantime.
CLAIM_SECONDS = 60


def enqueue_after_commit(task_name: str, **kwargs: Any) -> None:
    """Publish a task once the current transaction commits, without ever failing the caller.

    A web request must not block or fail because the broker is down: the broker connection
    has short timeouts (settings), publishing is not retried, and a failure is only logged —
    the periodic jobs pick up whatever a lost message would have done.
    """
    if not settings.LEDGER_PUBLISH_TASKS:
        return

    def publish() -> None:
        try:
            # The registered task, so that eager mode (CELERY_TASK_ALWAYS_EAGER) runs it here.
            current_app.tasks[task_name].apply_async(kwargs=kwargs, retry=False)
        except Exception:  # any broker failure; the next scheduled run covers it
            logger.warning(
                "Could not publish %s; the next scheduled run covers it", task_name, exc_info=True
            )

    transaction.on_commit(publish)


def _claim_key(task_name: str, key: str) -> str:
    return f"queued:{task_name}:{key}"


def enqueue_once_after_commit(task_name: str, key: str, **kwargs: Any) -> None:
    """Publish a task once the current transaction commits, unless the same job (`task_name`
    for `key`) is already waiting in the queue: then the waiting one does this write's work too.

    The waiting job is marked by a claim in the cache, which the task drops first thing when it
    starts (`job_started`), before it reads anything. So a write whose commit found the claim
    committed before the job started and will be seen by it, and a write that commits after
    the job started finds no claim and publishes a job of its own: while Redis answers,
    coalescing never loses a write, it only spares the broker a job per write when writes come
    faster than the worker takes them (a burst of sends from one seat: one alert pass, not one
    per send). A write that finds the claim of a job whose publish then fails, or of a job that
    could not drop it, waits for the scheduled pass (or the claim's lapse).

    Only where the cache is shared with the workers (Redis; `LEDGER_COALESCE_TASKS`); when the
    cache cannot answer, or the publish fails, the write publishes as `enqueue_after_commit`.
    """
    if not settings.LEDGER_PUBLISH_TASKS:
        return
    if not settings.LEDGER_COALESCE_TASKS:
        enqueue_after_commit(task_name, **kwargs)
        return
    claim = _claim_key(task_name, key)

    def publish() -> None:
        if _claimed(claim) is False:
            return  # a job is waiting that will see this commit
        try:
            current_app.tasks[task_name].apply_async(kwargs=kwargs, retry=False)
        except Exception:  # any broker failure; the next scheduled run covers it
            cache.delete(claim)  # the next write tries again
            logger.warning(
                "Could not publish %s; the next scheduled run covers it", task_name, exc_info=True
            )

    transaction.on_commit(publish)


def _claimed(claim: str) -> bool | None:
    """Whether this commit took the claim (True), found it taken (False), or could not tell
    (None: Redis did not answer; then the commit publishes, as without coalescing)."""
    add = getattr(cache, "add_or_unknown", None)
    if add is None:  # a cache that always answers (local memory)
        return bool(cache.add(claim, 1, timeout=CLAIM_SECONDS))
    return add(claim, 1, timeout=CLAIM_SECONDS)  # type: ignore[no-any-return]


def job_started(task_name: str, key: str) -> None:
    """What a task published by `enqueue_once_after_commit` calls before it reads anything:
    from now on a write's commit may come after this job's reads, so it publishes its own.

    If Redis does not answer, the claim may stay: writes then publish nothing until it lapses
    (`CLAIM_SECONDS`), and the scheduled pass, or the next write after that, covers them."""
    if not settings.LEDGER_COALESCE_TASKS:
        return
    claim = _claim_key(task_name, key)
    delete = getattr(cache, "delete_or_unknown", None)
    if delete is None:
        cache.delete(claim)
    elif delete(claim) is None:
        logger.warning("Could not drop the claim %s; it lapses in %d s", claim, CLAIM_SECONDS)


def enqueue_alert_pass(seat_id: int) -> None:
    """The alert pass of one seat after a write that changed its balance (a send), once."""
    enqueue_once_after_commit(SEND_ALERTS, f"seat:{seat_id}", seat_id=seat_id)


def alert_pass_started(seat_id: int) -> None:
    """`send_alerts` for one seat, first thing (see `job_started`)."""
    job_started(SEND_ALERTS, f"seat:{seat_id}")
