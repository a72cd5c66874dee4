"""CSV export and import pages, under /csv/."""

from __future__ import annotations

from django.urls import path

from ledger.web import csv_mapping, csv_views

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
]
