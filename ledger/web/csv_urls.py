"""CSV export and import pages, under /csv/."""

from __future__ import annotations

from django.urls import path

from ledger.web import csv_jobs, csv_mapping, csv_views

app_name = "csv"

urlpatterns = [
    path("", csv_views.index, name="index"),
    path("export/inmails.csv", csv_views.export_inmails_csv, name="export_inmails"),
    path("export/entries.csv", csv_views.export_entries_csv, name="export_entries"),
    path("import/", csv_views.import_upload, name="import"),
    path("import/mapping/", csv_mapping.import_mapping, name="import_mapping"),  # issue 14
    path("import/preview/", csv_views.import_preview, name="import_preview"),
    path("import/commit/", csv_views.import_commit, name="import_commit"),
    path("import/discard/", csv_views.import_discard, name="import_discard"),
    # Large files, checked and imported by a worker (issue 14).
    path("import/jobs/<int:job_id>/", csv_jobs.import_job, name="import_job"),
    path("import/jobs/<int:job_id>/status/", csv_jobs.import_job_status, name="import_job_status"),
    path("import/jobs/<int:job_id>/commit/", csv_jobs.import_job_commit, name="import_job_commit"),
    path(
        "import/jobs/<int:job_id>/discard/",
        csv_jobs.import_job_discard_view,
        name="import_job_discard",
    ),
]
