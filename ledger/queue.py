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
from django.db import transaction

logger = logging.getLogger(__name__)

SEND_ALERTS = "ledger.tasks.send_alerts"


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
