"""R22 outreach tags in the CSV files (issue 14 item 1): the export writes `template` and `tags`
(separated by ";"), and a file exported is imported back with the same template and tags."""

from __future__ import annotations

import pytest

from ledger.services import Cause
from ledger.services.inmails import inmail_send
from ledger.web.csv_io import decode_upload, export_inmails, preview_import
from ledger.web.csv_io.export import ExportFilters
from tests.conftest import Org
from tests.csv.conftest import Seats
from tests.csv.helpers import inmail_rows

pytestmark = pytest.mark.django_db


def test_the_export_writes_template_and_tags_and_they_import_back(org: Org, seats: Seats) -> None:
    cause = Cause(org.recruiter, "test")
    inmail_send(
        seat=seats.recruiter,
        recipient="linkedin.com/in/ada",
        subject="Hi",
        body="A role",
        cause=cause,
        template="Intro v2",
        tags=["remote", "Java"],
    )
    inmail_send(
        seat=seats.recruiter, recipient="linkedin.com/in/bob", subject="Hi", body="x", cause=cause
    )

    rows = {row["recipient"]: row for row in inmail_rows(org.recruiter)}
    assert (rows["linkedin.com/in/ada"]["template"], rows["linkedin.com/in/ada"]["tags"]) == (
        "Intro v2",
        "java;remote",
    )
    assert (rows["linkedin.com/in/bob"]["template"], rows["linkedin.com/in/bob"]["tags"]) == (
        "",
        "",
    )

    # Read back, the export's own columns need no mapping and give the same template and tags
    # (importing them would rightly be refused: they are already recorded).
    exported = "".join(export_inmails(org.recruiter, ExportFilters())).encode()
    result = preview_import(org.recruiter, decode_upload(exported))
    read = {row.recipient: (row.template, sorted(row.tags)) for row in result.rows}
    assert read == {
        "linkedin.com/in/ada": ("Intro v2", ["java", "remote"]),
        "linkedin.com/in/bob": ("", []),
    }
