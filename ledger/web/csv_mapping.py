"""The import's mapping step (issue 14, item 3): a file's columns mapped to ours.

Between the upload and the preview, for a file whose header doesn't name our columns: for each
of our fields a select of the file's columns (guessed from its header names), the format its
dates are written in (detected from the rows; asked when they can't tell), the time zone of
dates that don't name one (the organisation's by default), and what each of its status words
means. A mapping can be saved by name (per person) and used again for the next file. The mapping
is kept in the session next to the file; the preview and the commit read the file through it.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ledger.exceptions import LedgerValidationError
from ledger.models import InMailStatus
from ledger.services.imports import import_mapping_save, import_mappings_saved
from ledger.web.csv_io.imports import ImportFileError, file_header_and_rows
from ledger.web.csv_io.jobs import queue_check
from ledger.web.csv_io.mapping import (
    DATE_FIELDS,
    DATE_FORMATS,
    FIELDS,
    MAX_STATUS_WORDS,
    REQUIRED_FIELDS,
    ColumnMapping,
    DateFormatError,
    detect_date_format,
    guess_columns,
    guess_status,
    parse_date,
    time_zone,
)
from ledger.web.csv_views import (
    SESSION_KEY,
    _no_pending_import,
    _nothing_to_import,
    _pending_text,
    _user,
    csv_unavailable_reason,
    pending_job,
)

# Rows read to detect the date format and check the chosen one, and rows shown as they are.
DATE_SAMPLE_ROWS = 500
RAW_SAMPLE_ROWS = 3
NOT_IN_FILE = "— not in this file —"


def _zones() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(available_timezones())]


class MappingForm(forms.Form):
    """Which column holds each of our fields, how dates are written, what statuses mean."""

    def __init__(
        self,
        *args: Any,
        header: list[str],
        rows: list[list[str]],
        status_words: list[str],
        status_error: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header, self.rows, self.status_words = header, rows, status_words
        self.status_error = status_error
        columns = [("", NOT_IN_FILE), *((name, name) for name in header if name)]
        for name, label in FIELDS.items():
            self.fields[f"col_{name}"] = forms.ChoiceField(
                label=label, choices=columns, required=False
            )
        self.fields["date_format"] = forms.ChoiceField(
            label="Dates are written",
            choices=[("", "Choose…"), *DATE_FORMATS.items()],
            required=False,
        )
        self.fields["time_zone"] = forms.ChoiceField(
            label="Time zone of dates that don't name one", choices=_zones()
        )
        for index, word in enumerate(status_words):
            self.fields[f"status_{index}"] = forms.ChoiceField(
                label=f"Status “{word}” means" if word else "An empty status means",
                choices=[("", "Choose…"), *InMailStatus.choices],
                required=False,
            )
        self.fields["save_as"] = forms.CharField(
            label="Save this mapping as (optional)",
            required=False,
            max_length=60,
            help_text="A name to pick it again for your next file, e.g. “Recruiter export”.",
        )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{name}"] for name in FIELDS]

    def status_fields(self) -> list[forms.BoundField]:
        return [self[f"status_{index}"] for index in range(len(self.status_words))]

    def _column_values(self, column: str) -> list[str]:
        if not column or column not in self.header:
            return []
        at = self.header.index(column)
        return [cells[at] for cells in self.rows if at < len(cells)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.status_error:
            self.add_error("col_status", self.status_error)
        columns = {name: cleaned.get(f"col_{name}", "") or "" for name in FIELDS}
        for name in REQUIRED_FIELDS:
            if not columns[name]:
                self.add_error(f"col_{name}", f"Choose the column that holds the {name}.")
        if not columns["holder"] and not columns["seat"]:
            self.add_error("col_holder", "Choose the sender's column (or the seat id's).")
        chosen = [c for c in columns.values() if c]
        for name, column in columns.items():
            if column and chosen.count(column) > 1:
                self.add_error(f"col_{name}", f"The column “{column}” is chosen for two fields.")
        dates = [v for name in DATE_FIELDS for v in self._column_values(columns[name])]
        date_format = cleaned.get("date_format") or ""
        if not date_format:
            self.add_error(
                "date_format",
                "The dates could be read as MM/DD/YYYY or as DD/MM/YYYY: choose which.",
            )
        elif columns["sent_at"]:
            zone = time_zone(cleaned.get("time_zone", "")) or time_zone(settings.TIME_ZONE)
            assert zone is not None
            for value in dates:
                if not value.strip():
                    continue
                try:
                    parse_date(value, date_format, zone)
                except DateFormatError:
                    self.add_error(
                        "date_format",
                        f"“{value.strip()}” is not written {DATE_FORMATS[date_format]}.",
                    )
                    break
        statuses = {}
        for index, word in enumerate(self.status_words):
            status = cleaned.get(f"status_{index}") or guess_status(word)
            if not status:
                self.add_error(f"status_{index}", f"Choose what the status “{word}” means.")
            statuses[word] = status
        cleaned["mapping"] = ColumnMapping(
            columns=columns,
            date_format=date_format or "iso",
            time_zone=cleaned.get("time_zone") or settings.TIME_ZONE,
            status_values=statuses,
        )
        return cleaned


def _status_words(header: list[str], rows: list[list[str]], column: str) -> list[str]:
    if column not in header:
        return []
    at = header.index(column)
    words = sorted({cells[at].strip() for cells in rows if at < len(cells)})
    return words


def _initial(
    header: list[str], rows: list[list[str]], mapping: ColumnMapping | None
) -> dict[str, Any]:
    """The form's first values: a saved mapping's, or guessed from the file."""
    columns = mapping.columns if mapping else guess_columns(header)
    initial: dict[str, Any] = {f"col_{name}": columns.get(name, "") for name in FIELDS}
    if mapping is not None:
        initial["date_format"] = mapping.date_format
        initial["time_zone"] = mapping.time_zone
    else:
        dates = []
        for name in DATE_FIELDS:
            if columns.get(name) in header:
                at = header.index(columns[name])
                dates += [cells[at] for cells in rows[:DATE_SAMPLE_ROWS] if at < len(cells)]
        initial["date_format"] = detect_date_format(dates) or ""
        initial["time_zone"] = settings.TIME_ZONE
    return initial


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def import_mapping(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if csv_unavailable_reason(user):
        return _nothing_to_import(request)
    pending = _pending_text(request)
    if pending is None:
        return _no_pending_import(request, "No file is waiting to be imported; upload one.")
    text, _digest, name = pending
    try:
        header, rows = file_header_and_rows(text)
    except ImportFileError as error:
        return _no_pending_import(request, error.message)
    saved = import_mappings_saved(user)
    chosen_saved = request.GET.get("saved", "")
    mapping = ColumnMapping.from_json(saved.get(chosen_saved)) if chosen_saved else None
    if mapping is None:
        stored = request.session[SESSION_KEY].get("mapping")
        mapping = ColumnMapping.from_json(stored) if stored else None
    initial = _initial(header, rows, mapping)
    status_column = request.POST.get("col_status", initial["col_status"])
    words = _status_words(header, rows, status_column)
    status_error = ""
    if len(words) > MAX_STATUS_WORDS:
        status_error = (
            f"The column “{status_column}” has {len(words)} different values: is it the status?"
        )
        words = []
    for index, word in enumerate(words):
        known = mapping.status_values.get(word) if mapping else None
        initial[f"status_{index}"] = known or guess_status(word)
    sample = rows[:DATE_SAMPLE_ROWS]
    status = 200
    if request.method == "POST":
        form = MappingForm(
            request.POST,
            initial=initial,
            header=header,
            rows=sample,
            status_words=words,
            status_error=status_error,
        )
        if form.is_valid():
            chosen: ColumnMapping = form.cleaned_data["mapping"]
            save_as = form.cleaned_data["save_as"].strip()
            try:
                if save_as:
                    import_mapping_save(user=user, name=save_as, mapping=chosen.as_json())
            except LedgerValidationError as error:
                form.add_error("save_as", error.message)
            else:
                if save_as:
                    messages.success(request, f"Mapping saved as “{save_as}”.")
                job = pending_job(request)
                if job is not None:
                    # A large file: a worker checks it; its page shows how that goes.
                    request.session.pop(SESSION_KEY, None)
                    queue_check(job, chosen)
                    return redirect("csv:import_job", job_id=job.pk)
                pending_import = dict(request.session[SESSION_KEY])
                pending_import["mapping"] = chosen.as_json()
                request.session[SESSION_KEY] = pending_import
                return redirect("csv:import_preview")
        status = 400
    else:
        form = MappingForm(initial=initial, header=header, rows=sample, status_words=words)
    context = {
        "form": form,
        "name": name,
        "header": header,
        "raw_rows": rows[:RAW_SAMPLE_ROWS],
        "saved_names": sorted(saved),
        "chosen_saved": chosen_saved,
        "ambiguous_dates": not initial["date_format"],
    }
    return render(request, "csv/mapping.html", context, status=status)
