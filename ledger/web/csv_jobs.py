"""The page of a large CSV import run by a worker (issue 14 item 3, `ledger.web.csv_io.jobs`).

`/csv/import/jobs/<id>/` shows where the job is; while a worker has it, htmx asks the status
part again every second and swaps it in, so the person sees the check, then the first rows and
the "Import" button (or every problem with its row number), then the result. Only whoever
uploaded the file sees its job: anyone else gets a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from ledger.models import ImportJob, ImportJobStatus
from ledger.services.imports import import_job_discard
from ledger.web.csv_io.jobs import queue_commit
from ledger.web.csv_views import _user

# How often the page asks for the job's status while a worker has it.
POLL_SECONDS = 1


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id, created_by=_user(request)).first()
    if job is None:
        raise Http404("No such import.")
    return job


def _context(job: ImportJob) -> dict[str, object]:
    return {
        "job": job,
        "statuses": ImportJobStatus,
        "poll_seconds": POLL_SECONDS,
        "more_problems": max(0, job.problems_total - len(job.problems)),
    }


@require_safe
@login_required
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "csv/job.html", _context(_job(request, job_id)))


@require_safe
@login_required
def import_job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The status part alone, for htmx to swap in."""
    return render(request, "csv/_job_status.html", _context(_job(request, job_id)))


@require_POST
@login_required
def import_job_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if job.status == ImportJobStatus.CHECKED:
        queue_commit(job, _user(request))
    elif job.status not in {ImportJobStatus.COMMITTING, ImportJobStatus.DONE}:
        messages.info(request, "This file is not ready to import.")
    return redirect("csv:import_job", job_id=job.pk)


@require_POST
@login_required
def import_job_discard_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if import_job_discard(job=job):
        messages.info(request, "The file was discarded; nothing was imported.")
    return redirect("csv:index")
