"""Large CSV imports (issue 14 item 3): a worker checks the file, the person confirms on the
job's page, the worker imports it all or nothing; a broker outage at submit is said plainly.

The page's own limit is lowered to 2 rows here, so a 3-row file takes the worker's path (the
size a real file needs for it is measured in bench/import_cost.py, not here); Celery runs
eagerly, in the test, as the worker would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from inmail_site.celery import app as celery_app
from ledger import schedule
from ledger.models import Entry, ImportJob, InMail
from ledger.selectors import ledger_discrepancies
from ledger.services import Cause, ImportRejected, inmail_send, inmails_import
from ledger.services import imports as imports_service
from ledger.web import csv_views
from ledger.web.csv_io import preview_import
from ledger.web.csv_io.jobs import BROKER_DOWN, run_import_job
from ledger.web.csv_views import SESSION_KEY
from teams.models import AuditEvent, User
from tests.conftest import Org, forget_broker_connections
from tests.csv.conftest import Seats

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

HEADER = "seat,recipient,subject,body,sent_at,status,responded_at\n"
CRM_HEADER = "LinkedIn URL,Date sent,Title,Message,Outcome,Reply date,Recruiter\n"


@pytest.fixture(autouse=True)
def _small_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_views, "IMPORT_MAX_ROWS", 2)


@pytest.fixture
def eager() -> Iterator[None]:
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    forget_broker_connections()
    yield
    celery_app.conf.task_always_eager = saved


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def upload(client: Client, text: str, name: str = "history.csv") -> TestResponse:
    return client.post(reverse("csv:import"), {"file": SimpleUploadedFile(name, text.encode())})


def three_rows(seats: Seats) -> str:
    seat = seats.recruiter.pk
    return (
        HEADER
        + f"{seat},linkedin.com/in/ada,Hi Ada,Body,2025-06-01,accepted,2025-06-02\n"
        + f"{seat},linkedin.com/in/bob,Hi Bob,Body,2025-06-02,,\n"
        + f"{seat},linkedin.com/in/cy,Hi Cy,Body,2025-06-03,declined,2025-06-04\n"
    )


def at(year: int, month: int, day: int) -> datetime:
    """Midnight of a day in the organisation's time zone, as a date without a time reads."""
    return schedule.start_of_day(date(year, month, day))


def job_page(client: Client, job: ImportJob) -> str:
    return client.get(reverse("csv:import_job", args=[job.pk])).content.decode()


def test_a_large_file_is_checked_by_a_worker_then_imported_once_confirmed(
    client: Client, org: Org, seats: Seats, eager: None
) -> None:
    signed_in(client, org.recruiter)

    response = upload(client, three_rows(seats))

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("csv:import_job", args=[job.pk])
    assert job.status == "checked"
    assert (job.rows_total, job.problems_total) == (3, 0)
    assert SESSION_KEY not in client.session
    html = job_page(client, job)
    assert "3 rows read, without a problem." in html
    assert "linkedin.com/in/bob" in html
    assert "Import 3 InMails" in html
    assert "hx-trigger" not in html  # nothing to wait for: the page stops polling
    assert not InMail.objects.exists()

    response = client.post(reverse("csv:import_job_commit", args=[job.pk]))

    job.refresh_from_db()
    assert response.status_code == 302
    assert (job.status, job.rows_imported, job.content) == ("done", 3, "")
    assert "Imported 3 InMails from history.csv" in job_page(client, job)
    # The rows the check kept, as a direct import of the same file stores them.
    stored = InMail.objects.order_by("recipient")
    assert [
        (i.recipient, i.status, i.sent_at.date(), i.responded_at, i.imported, i.credit_cost)
        for i in stored
    ] == [
        ("linkedin.com/in/ada", "accepted", date(2025, 6, 1), at(2025, 6, 2), True, 0),
        ("linkedin.com/in/bob", "pending", date(2025, 6, 2), None, True, 0),
        ("linkedin.com/in/cy", "declined", date(2025, 6, 3), at(2025, 6, 4), True, 0),
    ]
    assert {i.sender_id for i in stored} == {org.recruiter.pk}
    assert ledger_discrepancies() == []
    audit = AuditEvent.objects.filter(action="inmail.import").get()
    assert (audit.actor, audit.seat, audit.changes["imported_inmails"]) == (
        org.recruiter,
        seats.recruiter,
        [None, 3],
    )
    assert AuditEvent.objects.filter(action="import_job.commit", object_id=job.pk).count() == 1


def test_a_large_file_with_problems_lists_them_by_row_and_imports_nothing(
    client: Client, org: Org, seats: Seats, eager: None
) -> None:
    signed_in(client, org.recruiter)
    text = three_rows(seats).replace("2025-06-03,declined", "2025-06-03,maybe")

    upload(client, text)

    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert job.problems == [
        {
            "line": 4,
            "column": "status",
            "message": "'maybe' is not one of: pending, accepted, declined, replied, "
            "withdrawn, no_response.",
        }
    ]
    html = job_page(client, job)
    assert "the file has 1 problem." in html
    assert '<tr data-row="4">' in html
    assert "Import 3" not in html
    assert "Discard this file" not in html
    assert job.content == ""  # the person fixes the file and uploads it again
    assert not InMail.objects.exists()


def test_an_import_that_fails_at_commit_leaves_the_ledger_untouched(
    client: Client, org: Org, seats: Seats, eager: None
) -> None:
    signed_in(client, org.recruiter)
    upload(client, three_rows(seats))
    job = ImportJob.objects.get()
    # Between the check and the confirmation, a send records a pending InMail to Bob.
    inmail_send(
        seat=seats.recruiter,
        recipient="linkedin.com/in/bob",
        subject="Hello again",
        body="Body",
        cause=Cause(org.recruiter, "test"),
    )
    inmails, entries = InMail.objects.count(), Entry.objects.count()

    client.post(reverse("csv:import_job_commit", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == "failed"
    assert [(p["line"], p["column"]) for p in job.problems] == [(3, "recipient")]
    assert "still pending on this seat" in job.problems[0]["message"]
    assert (InMail.objects.count(), Entry.objects.count()) == (inmails, entries)
    assert not AuditEvent.objects.filter(action="inmail.import").exists()
    assert ledger_discrepancies() == []
    assert '<tr data-row="3">' in job_page(client, job)


def test_with_the_broker_down_the_upload_says_so_and_nothing_is_imported(
    client: Client, org: Org, seats: Seats, broker_down: None
) -> None:
    signed_in(client, org.recruiter)

    response = upload(client, three_rows(seats))

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("csv:import_job", args=[job.pk])
    assert (job.status, job.message) == ("failed", BROKER_DOWN)
    html = job_page(client, job)
    assert "can&#x27;t be reached just now. Nothing was imported" in html
    assert "hx-trigger" not in html
    assert not InMail.objects.exists()


def test_a_running_job_polls_its_status_every_second(
    client: Client, org: Org, seats: Seats, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued and no worker has taken it yet: its page asks for the status part every
    second, and shows the check once a worker started it."""
    published: list[object] = []
    monkeypatch.setattr(run_import_job, "apply_async", lambda **kw: published.append(kw))
    signed_in(client, org.recruiter)
    upload(client, three_rows(seats))
    job = ImportJob.objects.get()
    assert job.status == "queued"
    assert published == [{"args": [job.pk, "check"], "retry": False}]
    assert 'hx-trigger="every 1s"' in job_page(client, job)
    ImportJob.objects.filter(pk=job.pk).update(status="checking")

    part = client.get(reverse("csv:import_job_status", args=[job.pk]))

    html = part.content.decode()
    assert part.status_code == 200
    assert 'hx-trigger="every 1s"' in html
    assert "Reading and checking every row of the file" in html
    assert "<h1>" not in html


def test_someone_elses_import_job_is_a_404(
    client: Client, org: Org, seats: Seats, eager: None
) -> None:
    upload(signed_in(client, org.recruiter), three_rows(seats))
    job = ImportJob.objects.get()
    other = signed_in(Client(), org.lead)

    assert other.get(reverse("csv:import_job", args=[job.pk])).status_code == 404
    assert other.get(reverse("csv:import_job_status", args=[job.pk])).status_code == 404
    assert other.post(reverse("csv:import_job_commit", args=[job.pk])).status_code == 404
    assert not InMail.objects.exists()


def test_a_large_file_of_other_columns_is_mapped_then_checked_by_a_worker(
    client: Client, org: Org, seats: Seats, eager: None
) -> None:
    signed_in(client, org.recruiter)
    email = org.recruiter.email
    text = CRM_HEADER + "".join(
        f"https://www.linkedin.com/in/person-{n},06/0{n}/2025 9:30 AM,Hi,Body,Sent,,{email}\n"
        for n in range(1, 4)
    )

    response = upload(client, text, "crm.csv")

    assert response["Location"] == reverse("csv:import_mapping")
    job = ImportJob.objects.get()
    assert (job.status, job.name) == ("uploaded", "crm.csv")
    mapping_page = client.get(reverse("csv:import_mapping"))
    assert mapping_page.status_code == 200
    form = {
        "col_recipient": "LinkedIn URL",
        "col_sent_at": "Date sent",
        "col_subject": "Title",
        "col_body": "Message",
        "col_status": "Outcome",
        "col_responded_at": "Reply date",
        "col_holder": "Recruiter",
        "date_format": "mdy",
        "time_zone": "UTC",
        "status_0": "pending",
    }

    response = client.post(reverse("csv:import_mapping"), form)

    assert response["Location"] == reverse("csv:import_job", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.rows_total) == ("checked", 3)
    assert job.mapping is not None
    assert job.mapping["date_format"] == "mdy"
    client.post(reverse("csv:import_job_commit", args=[job.pk]))
    assert InMail.objects.filter(seat=seats.recruiter, imported=True).count() == 3


def test_discarding_a_checked_file_forgets_it_and_imports_nothing(
    client: Client, org: Org, seats: Seats, eager: None
) -> None:
    signed_in(client, org.recruiter)
    upload(client, three_rows(seats))
    job = ImportJob.objects.get()

    response = client.post(reverse("csv:import_job_discard", args=[job.pk]))

    job.refresh_from_db()
    assert response["Location"] == reverse("csv:index")
    assert (job.status, job.content) == ("failed", "")
    assert client.post(reverse("csv:import_job_commit", args=[job.pk])).status_code == 302
    assert not InMail.objects.exists()


def test_a_conflict_only_the_database_sees_rejects_the_whole_import(
    org: Org, seats: Seats, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the re-check under the locks ever miss a pending InMail to the same recipient,
    the database's one-pending constraint still refuses the rows (COPY's error read as
    Django's), and nothing of the file is kept."""
    rows = preview_import(org.recruiter, three_rows(seats)).checked
    assert rows is not None
    inmail_send(
        seat=seats.recruiter,
        recipient="linkedin.com/in/bob",
        subject="Hello again",
        body="Body",
        cause=Cause(org.recruiter, "test"),
    )
    monkeypatch.setattr(imports_service, "_recorded_problems", lambda ready, now: [])

    with pytest.raises(ImportRejected) as rejected:
        inmails_import(user=org.recruiter, rows=rows, cause=Cause(org.recruiter, "test"))

    assert [(p.line, p.column) for p in rejected.value.problems] == [(0, "file")]
    assert "changed meanwhile" in rejected.value.problems[0].message
    assert not InMail.objects.filter(imported=True).exists()
    assert not AuditEvent.objects.filter(action="inmail.import").exists()
