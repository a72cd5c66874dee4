"""CSV pages: export what you may see; import InMail history through a preview.

The import keeps the uploaded text in the session between the preview and the commit (the
sessions live in the database, and the file is at most `IMPORT_MAX_BYTES`), so nothing the
browser sends back is trusted: the commit form only names the digest of the file it previewed,
and a file replaced in another tab meanwhile is refused rather than imported unseen. The commit
reads and checks the file again, and the service checks again under lock only what a send can
change meanwhile. A file over the page's limits is kept in an import job instead, which a worker
checks and imports (`ledger.web.csv_io.jobs`, its page in `ledger.web.csv_jobs`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from ledger.models import EntryKind, ImportJob, ImportJobStatus, InMailStatus
from ledger.services import Cause, ImportRejected, inmails_import
from ledger.services.imports import import_job_create, import_job_discard
from ledger.web.csv_io import (
    IMPORT_MAX_BYTES,
    MAX_ID,
    ExportFilters,
    ImportFileError,
    ImportPreview,
    decode_upload,
    export_entries,
    export_inmails,
    preview_import,
    read_table,
)
from ledger.web.csv_io.imports import IMPORT_MAX_ROWS, MissingColumns, file_header_and_rows
from ledger.web.csv_io.jobs import (
    IMPORT_JOB_MAX_BYTES,
    IMPORT_JOB_MAX_ROWS,
    TOO_LARGE_FOR_A_JOB,
    queue_check,
)
from ledger.web.csv_io.mapping import ColumnMapping
from ledger.web.forms import IsoDateField
from teams.models import Membership, User
from teams.selectors import seats_visible_to, teams_visible_to, user_is_admin

SESSION_KEY = "csv_import"
PREVIEW_ROWS = 20
PREVIEW_PROBLEMS = 200
# A file with fewer columns can't hold recipient, sender, subject, body and sent at (issue 14).
MAPPABLE_MIN_COLUMNS = 5


class ExportForm(forms.Form):
    seat = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    since = IsoDateField(required=False, label="From (date)")
    until = IsoDateField(required=False, label="To (date, included)")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date comes before the start date.")
        return cleaned


class InMailExportForm(ExportForm):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *InMailStatus.choices])


class EntryExportForm(ExportForm):
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *EntryKind.choices])


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required lets only a signed-in person through
    return user


def csv_unavailable_reason(user: User) -> str:
    """Why the user has nothing to export or import ("" when they have): a file's rows belong
    to the seats they may see (their own, their led teams', every seat for an admin), and
    without one the import could only refuse every row."""
    if seats_visible_to(user).exists():
        return ""
    if user_is_admin(user):
        return "No seat exists yet: activate one in the admin console before importing InMails."
    if not Membership.objects.filter(user=user).exists():
        return (
            "You are not in a team yet, so there is no seat to import InMails into or export "
            "from: an admin must add you to a team and give you a seat."
        )
    return (
        "You hold no seat, so there is no seat to import InMails into or export from: an admin "
        "must give you a seat."
    )


def _index(
    request: HttpRequest,
    *,
    inmail_form: InMailExportForm | None = None,
    entry_form: EntryExportForm | None = None,
    import_form: ImportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    context = {
        "unavailable": csv_unavailable_reason(user),
        "seats": seats_visible_to(user),
        "teams": teams_visible_to(user),
        "inmail_form": inmail_form or InMailExportForm(),
        "entry_form": entry_form or EntryExportForm(),
        "import_form": import_form or ImportForm(),
        "max_megabytes": IMPORT_MAX_BYTES // (1024 * 1024),
        "max_rows": IMPORT_MAX_ROWS,
        "job_max_megabytes": IMPORT_JOB_MAX_BYTES // (1024 * 1024),
        "job_max_rows": IMPORT_JOB_MAX_ROWS,
        "recent_jobs": ImportJob.objects.filter(created_by=user).exclude(
            status=ImportJobStatus.UPLOADED
        )[:5],
        "pending_import": SESSION_KEY in request.session,
    }
    return render(request, "csv/index.html", context, status=status)


@require_safe
@login_required
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


def _filters(user: User, form: ExportForm, *, status: str = "", kind: str = "") -> ExportFilters:
    """The filters of a valid form; a seat or team outside the user's scope is a 404."""
    data = form.cleaned_data
    seat = team = None
    if data["seat"] is not None:
        seat = seats_visible_to(user).filter(pk=data["seat"]).first()
        if seat is None:
            raise Http404("No such seat.")
    if data["team"] is not None:
        team = teams_visible_to(user).filter(pk=data["team"]).first()
        if team is None:
            raise Http404("No such team.")
    return ExportFilters(
        seat=seat, team=team, since=data["since"], until=data["until"], status=status, kind=kind
    )


def _csv_response(lines: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@login_required
def export_inmails_csv(request: HttpRequest) -> HttpResponseBase:
    form = InMailExportForm(request.GET)
    if not form.is_valid():
        return _index(request, inmail_form=form, status=400)
    user = _user(request)
    filters = _filters(user, form, status=form.cleaned_data["status"])
    return _csv_response(export_inmails(user, filters), "inmails")


@require_safe
@login_required
def export_entries_csv(request: HttpRequest) -> HttpResponseBase:
    form = EntryExportForm(request.GET)
    if not form.is_valid():
        return _index(request, entry_form=form, status=400)
    user = _user(request)
    filters = _filters(user, form, kind=form.cleaned_data["kind"])
    return _csv_response(export_entries(user, filters), "ledger-entries")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@require_POST
@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    if csv_unavailable_reason(_user(request)):
        # The page says why and offers no upload; a file posted anyway is refused unread.
        return _index(request, status=403)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _index(request, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    user = _user(request)
    try:
        if upload.size is not None and upload.size > IMPORT_JOB_MAX_BYTES:
            raise ImportFileError(TOO_LARGE_FOR_A_JOB)
        raw = upload.read(IMPORT_JOB_MAX_BYTES + 1)
        if len(raw) > IMPORT_JOB_MAX_BYTES:
            raise ImportFileError(TOO_LARGE_FOR_A_JOB)
        text = decode_upload(raw, max_bytes=IMPORT_JOB_MAX_BYTES)
        # Over the page's own limits, a worker checks and imports it (issue 14).
        large = len(raw) > IMPORT_MAX_BYTES or _row_count(text) > IMPORT_MAX_ROWS
        read_table(text, IMPORT_JOB_MAX_ROWS if large else None)
    except MissingColumns as missing:
        # Issue 14: a file with columns of its own is mapped to ours, if it has enough of them.
        message = missing.message
        try:
            header, _rows = file_header_and_rows(text, limit=0)
        except ImportFileError as unreadable:
            message, header = unreadable.message, []
        if len([name for name in header if name]) < MAPPABLE_MIN_COLUMNS:
            form.add_error("file", message)
            return _index(request, import_form=form, status=400)
        _keep_pending(request, user, text, upload.name or "file.csv", large=large)
        return redirect("csv:import_mapping")
    except ImportFileError as error:
        form.add_error("file", error.message)
        return _index(request, import_form=form, status=400)
    job = _keep_pending(request, user, text, upload.name or "file.csv", large=large)
    if job is not None:
        request.session.pop(SESSION_KEY, None)
        queue_check(job, None)
        return redirect("csv:import_job", job_id=job.pk)
    return redirect("csv:import_preview")


def _row_count(text: str) -> int:
    """How many non-blank rows follow the header (0 when the file can't be read as CSV: the
    reading that follows says why)."""
    try:
        return len(file_header_and_rows(text)[1])
    except ImportFileError:
        return 0


def _keep_pending(
    request: HttpRequest, user: User, text: str, name: str, *, large: bool
) -> ImportJob | None:
    """Keep the uploaded file until its preview: a small one in the session, a large one in an
    import job (the session only names it)."""
    digest = _digest(text)
    if not large:
        request.session[SESSION_KEY] = {"text": text, "digest": digest, "name": name}
        return None
    job = import_job_create(user=user, name=name, text=text, digest=digest)
    request.session[SESSION_KEY] = {"job": job.pk, "digest": digest, "name": name}
    return job


def pending_job(request: HttpRequest) -> ImportJob | None:
    """The import job the waiting file lives in, if it is a large one still being mapped."""
    pending = request.session.get(SESSION_KEY)
    if not isinstance(pending, dict) or "job" not in pending:
        return None
    return ImportJob.objects.filter(
        pk=pending["job"], created_by=_user(request), status=ImportJobStatus.UPLOADED
    ).first()


def _pending_mapping(request: HttpRequest) -> ColumnMapping | None:
    """The column mapping chosen for the waiting file (issue 14); None: our own columns."""
    pending = request.session.get(SESSION_KEY)
    return ColumnMapping.from_json(pending.get("mapping")) if isinstance(pending, dict) else None


def _pending_text(request: HttpRequest) -> tuple[str, str, str] | None:
    pending = request.session.get(SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    if "job" in pending:
        job = pending_job(request)
        return None if job is None else (job.content, job.digest, job.name)
    return pending["text"], pending["digest"], pending["name"]


def _preview_page(
    request: HttpRequest, preview: ImportPreview, digest: str, name: str, *, status: int = 200
) -> HttpResponse:
    context = {
        "preview": preview,
        "digest": digest,
        "name": name,
        "sample": [(row, row.outcome(preview.now)[0]) for row in preview.rows[:PREVIEW_ROWS]],
        "problems": preview.problems[:PREVIEW_PROBLEMS],
        "more_problems": max(0, len(preview.problems) - PREVIEW_PROBLEMS),
        "mapped": _pending_mapping(request) is not None,
    }
    return render(request, "csv/preview.html", context, status=status)


def _no_pending_import(request: HttpRequest, message: str) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    messages.info(request, message)
    return redirect("csv:index")


def _nothing_to_import(request: HttpRequest) -> HttpResponse:
    """Back to the CSV page, which says why: the user lost their last seat since the upload."""
    request.session.pop(SESSION_KEY, None)
    return redirect("csv:index")


@require_safe
@login_required
def import_preview(request: HttpRequest) -> HttpResponse:
    if csv_unavailable_reason(_user(request)):
        return _nothing_to_import(request)
    pending = _pending_text(request)
    if pending is None:
        return _no_pending_import(request, "No file is waiting to be imported; upload one.")
    if (job := pending_job(request)) is not None:
        # A large file is previewed on its job's page, once its columns are mapped.
        return redirect("csv:import_mapping" if job.mapping is None else "csv:index")
    text, digest, name = pending
    mapping = _pending_mapping(request)
    try:
        preview = preview_import(_user(request), text, mapping)
    except MissingColumns:
        return redirect("csv:import_mapping")
    except ImportFileError as error:
        return _no_pending_import(request, error.message)
    return _preview_page(request, preview, digest, name)


@require_POST
@login_required
def import_commit(request: HttpRequest) -> HttpResponse:
    if csv_unavailable_reason(_user(request)):
        return _nothing_to_import(request)
    pending = _pending_text(request)
    if pending is None or request.POST.get("digest") != pending[1]:
        return _no_pending_import(
            request, "The file you previewed is no longer waiting; upload it again."
        )
    text, digest, name = pending
    user = _user(request)
    try:
        preview = preview_import(user, text, _pending_mapping(request))
    except ImportFileError as error:
        return _no_pending_import(request, error.message)
    if not preview.can_commit:
        return _preview_page(request, preview, digest, name, status=400)
    try:
        imported = inmails_import(
            user=user, rows=preview.checked or preview.rows, cause=Cause(user, "csv_import")
        )
    except ImportRejected as rejected:
        preview.problems = rejected.problems
        return _preview_page(request, preview, digest, name, status=409)
    request.session.pop(SESSION_KEY, None)
    messages.success(
        request,
        ngettext(
            "Imported %(count)d InMail from %(name)s, for analytics only: no credit was charged.",
            "Imported %(count)d InMails from %(name)s, for analytics only: no credit was charged.",
            imported,
        )
        % {"count": imported, "name": name},
    )
    return redirect("csv:index")


@require_POST
@login_required
def import_discard(request: HttpRequest) -> HttpResponse:
    if (job := pending_job(request)) is not None:
        import_job_discard(job=job)
    return _no_pending_import(request, "The file was discarded; nothing was imported.")
