"""A large CSV import in the browser (issue 14, item 3): the file goes to a worker, its page
follows the job by itself (htmx asks for the status every second) from "waiting" to the checked
rows, the person confirms, and the page shows the import done; a file with a problem shows the
problem with its row number and imports nothing. axe-core and the phone width after every step.

The page's own limit is lowered to 2 rows so a 3-row file takes the worker's path; the worker
is this test: it runs the queued step itself while the page is open, as a Celery worker would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger.models import ImportJob, InMail
from ledger.selectors import ledger_discrepancies
from ledger.web import csv_views
from ledger.web.csv_io.jobs import run_import_job
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, sign_in, upload_csv
from tests.browser.walk import PHONE
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

HEADER = "seat,recipient,subject,body,sent_at,status,responded_at\n"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """The steps the pages hand to the worker, kept here instead of sent to Redis."""
    steps: list[tuple[int, str]] = []
    monkeypatch.setattr(csv_views, "IMPORT_MAX_ROWS", 2)
    monkeypatch.setattr(
        run_import_job, "apply_async", lambda args, retry: steps.append((args[0], args[1]))
    )
    return steps


def checked(page: Page, where: str) -> None:
    assert_accessible(page, where)
    assert_fits(page, where)


def work(steps: list[tuple[int, str]]) -> None:
    """The worker takes the oldest queued step."""
    job_id, step = steps.pop(0)
    run_import_job(job_id, step)


def test_a_large_file_is_followed_checked_confirmed_and_imported_on_a_phone(
    browser_page: Page, org: Org, queued: list[tuple[int, str]]
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    today = timezone.localdate()
    seat = make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=60))
    day = (today - timedelta(days=20)).isoformat()
    text = HEADER + "".join(
        f"{seat.pk},linkedin.com/in/person-{n},Hello {n},Body,{day},replied,{day}\n"
        for n in range(3)
    )
    sign_in(page, org.recruiter, next_path="/csv/")
    upload_csv(page, "big.csv", text)

    expect(page.get_by_role("heading", name="Import of big.csv")).to_be_visible()
    expect(page.get_by_text("Waiting for a worker to check the file")).to_be_visible()
    checked(page, "a queued import")

    work(queued)  # the page notices by itself
    expect(page.get_by_text("3 rows read, without a problem.")).to_be_visible()
    expect(page.locator("#import-rows tbody tr")).to_have_count(3)
    expect(page.locator("#import-rows tbody tr").first).to_contain_text("linkedin.com/in/person-0")
    checked(page, "a checked import")

    page.get_by_role("button", name="Import 3 InMails").click()
    expect(page.get_by_text("Importing 3 InMails, all or nothing")).to_be_visible()
    assert not InMail.objects.exists()
    checked(page, "an import being committed")

    work(queued)
    expect(page.get_by_text("Imported 3 InMails from big.csv")).to_be_visible()
    expect(page.get_by_role("button", name="Import 3 InMails")).to_have_count(0)
    checked(page, "a finished import")
    assert InMail.objects.filter(seat=seat, imported=True, status="replied").count() == 3
    assert ledger_discrepancies() == []

    page.get_by_role("link", name="Back to CSV export and import").click()
    expect(page.locator("#import-jobs")).to_contain_text("big.csv: Imported")
    checked(page, "the CSV page listing the import")


def test_a_large_file_with_a_problem_shows_it_by_row_and_imports_nothing(
    browser_page: Page, org: Org, queued: list[tuple[int, str]]
) -> None:
    page = browser_page
    today = timezone.localdate()
    seat = make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=60))
    day = (today - timedelta(days=20)).isoformat()
    future = (today + timedelta(days=2)).isoformat()
    text = (
        HEADER
        + f"{seat.pk},linkedin.com/in/ada,Hello,Body,{day},,\n"
        + f"{seat.pk},linkedin.com/in/bo,Hello,Body,{future},,\n"
        + f"{seat.pk},linkedin.com/in/cy,Hello,Body,{day},,\n"
    )
    sign_in(page, org.recruiter, next_path="/csv/")
    upload_csv(page, "late.csv", text)
    expect(page.get_by_text("Waiting for a worker to check the file")).to_be_visible()

    work(queued)

    expect(page.get_by_text("Nothing was imported: the file has 1 problem.")).to_be_visible()
    problem = page.locator("#import-problems tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.first).to_contain_text("3")
    expect(problem.first).to_contain_text("It is in the future.")
    expect(page.get_by_role("button", name="Import 3 InMails")).to_have_count(0)
    checked(page, "a failed import")
    assert ImportJob.objects.get().status == "failed"
    assert not InMail.objects.exists()

    expect(page.get_by_role("button", name="Discard this file")).to_have_count(0)
    page.get_by_role("link", name="Back to CSV export and import").click()
    expect(page.locator("#import-jobs")).to_contain_text("late.csv: Not imported")
    checked(page, "the CSV page listing the failed import")
