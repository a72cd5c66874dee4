"""Large CSV imports run by a Celery worker (issue 14 item 3): an `ImportJob` per file.

A file over the page's own limits (`IMPORT_MAX_ROWS`, `IMPORT_MAX_BYTES`: what a web request
checks and imports within gunicorn's 30 s) and within `IMPORT_JOB_MAX_ROWS` and
`IMPORT_JOB_MAX_BYTES` is kept in an `ImportJob`. Once its columns are known the page queues
the check; the worker reads and checks every row (`preview_import`) and records the outcome;
the person sees it on the job's page (polled by htmx) and confirms; the worker then
imports the rows the check kept (`CheckedImport.as_json`), all or nothing
(`ledger.services.inmails_import`: what a send can change checked again under the locks of the
seats it writes to, and only those). The task is registered from here, not from
`ledger.tasks`, because reading a file is the pages' business (`ledger.web.csv_io`), which
`ledger.tasks` may not import; settings.CELERY_IMPORTS names this module for the worker.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from ledger.models import ImportJob, ImportJobStatus
from ledger.services import ImportRejected
from ledger.services.imports import (
    IMPORT_MAX_ROWS as IMPORT_JOB_MAX_ROWS,
)
from ledger.services.imports import (
    import_job_checked,
    import_job_commit,
    import_job_fail,
    import_job_queue_check,
    import_job_queue_commit,
    import_job_start_check,
)
from ledger.web.csv_io.imports import ImportFileError, ImportPreview, preview_import, too_large
from ledger.web.csv_io.mapping import ColumnMapping
from teams.models import User

logger = logging.getLogger(__name__)

IMPORT_JOB_MAX_BYTES = 50 * 1024 * 1024
TOO_LARGE_FOR_A_JOB = too_large(IMPORT_JOB_MAX_BYTES)
SAMPLE_ROWS = 20
BROKER_DOWN = (
    "The import could not be started: the queue of background work (Redis) can't be reached "
    "just now. Nothing was imported; upload the file again in a few minutes."
)
UNEXPECTED = "The import stopped on an unexpected error; nothing was imported. Try again later."

__all__ = [
    "BROKER_DOWN",
    "IMPORT_JOB_MAX_BYTES",
    "IMPORT_JOB_MAX_ROWS",
    "TOO_LARGE_FOR_A_JOB",
    "queue_check",
    "queue_commit",
    "run_import_job",
]


def _publish(job: ImportJob, step: str) -> bool:
    """Hand the step to a worker; False (and the job failed, saying why) if the broker is down.

    Published at once, not after a commit: the job's row is already committed (the pages run
    in autocommit), and the person must hear now if nothing will run it.
    """
    try:
        run_import_job.apply_async(args=[job.pk, step], retry=False)
    except Exception:  # any broker failure: the person is told, and nothing was imported
        logger.warning("Could not queue import job %s (%s)", job.pk, step, exc_info=True)
        import_job_fail(job=job, message=BROKER_DOWN)
        return False
    return True


def queue_check(job: ImportJob, mapping: ColumnMapping | None) -> bool:
    """Ask a worker to check the job's file, read through `mapping` (None: our columns)."""
    if not import_job_queue_check(job=job, mapping=mapping.as_json() if mapping else None):
        return False
    return _publish(job, "check")


def queue_commit(job: ImportJob, user: User) -> bool:
    """The person confirmed the checked file: ask a worker to import it."""
    if not import_job_queue_commit(job=job, user=user):
        return False
    return _publish(job, "commit")


def _read(job: ImportJob) -> ImportPreview:
    return preview_import(
        job.created_by,
        job.content,
        ColumnMapping.from_json(job.mapping) if job.mapping is not None else None,
        max_rows=IMPORT_JOB_MAX_ROWS,
    )


def _sample(preview: ImportPreview) -> list[dict[str, object]]:
    """The first rows as they will be read, in our terms, for the job's page."""
    return [
        {
            "line": row.line,
            "seat": f"{row.seat.holder} · {row.seat.team} (#{row.seat.pk})",
            "recipient": row.recipient,
            "subject": row.subject[:80],
            "sent_at": _shown(row.sent_at),
            "status": row.outcome(preview.now)[0],
            "responded_at": _shown(row.responded_at) if row.responded_at else "",
            "open_profile": row.open_profile,
            "template": row.template,
            "tags": list(row.tags),
        }
        for row in preview.rows[:SAMPLE_ROWS]
    ]


def _shown(instant: datetime) -> str:
    """An instant as the preview shows it: in the organisation's time zone, to the minute."""
    return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M")


def _check(job: ImportJob) -> None:
    if not import_job_start_check(job=job):
        return  # another worker took it, or the person discarded it
    try:
        preview = _read(job)
    except ImportFileError as error:
        import_job_fail(job=job, message=error.message)
        return
    import_job_checked(
        job=job,
        rows_total=preview.total,
        problems=preview.problems,
        sample=_sample(preview),
        checked=preview.checked if preview.can_commit else None,
    )


def _commit(job: ImportJob) -> None:
    if job.status != ImportJobStatus.COMMITTING:
        return
    try:
        import_job_commit(job=job)
    except ImportRejected as rejected:
        import_job_fail(job=job, problems=rejected.problems)


@shared_task(name="ledger.tasks.run_import_job", acks_late=True, ignore_result=True)
def run_import_job(job_id: int, step: str) -> str:
    """Check (`step="check"`) or import (`"commit"`) one job's file; its status says how it
    went. Safe to run twice: each step is claimed, and the import marks the job done in its own
    transaction."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        return "gone"
    try:
        if step == "check":
            _check(job)
        elif step == "commit":
            _commit(job)
    except Exception:
        logger.exception("Import job %s failed at %s", job_id, step)
        import_job_fail(job=job, message=UNEXPECTED)
        raise
    job.refresh_from_db()
    return str(job.status)
