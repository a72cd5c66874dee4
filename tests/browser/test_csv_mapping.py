"""Any CSV in, in the browser (issue 14, item 3), on a 390 px phone: a file with columns of
its own goes through the mapping step (guessed columns, ambiguous dates asked for, a mapping
saved by name), the preview shows the rows as they will be read, and the import commits; the
saved mapping is offered for the next file. axe-core and the phone width are checked after
every step."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger.models import InMail
from teams.models import PersonalSettings
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, sign_in, upload_csv
from tests.browser.walk import PHONE
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

HEADER = "LinkedIn URL,Sent,Subject,Message,Outcome,Reply date,Email\n"


def checked(page: Page, where: str) -> None:
    assert_accessible(page, where)
    assert_fits(page, where)


def test_a_crm_file_is_mapped_previewed_and_imported_on_a_phone(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    today = timezone.localdate()
    seat = make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=60))
    # Day and month both 12 or less: the dates could be read either way.
    sent = today - timedelta(days=20)
    ambiguous = f"{sent.day:02d}/{sent.month:02d}/{sent.year}"
    text = HEADER + (
        f"linkedin.com/in/ada,{ambiguous},Hello Ada,Body,Replied,{ambiguous},"
        f"{org.recruiter.email}\n"
    )
    sign_in(page, org.recruiter, next_path="/csv/")
    upload_csv(page, "crm.csv", text)

    expect(page.get_by_role("heading", name="Map the file's columns")).to_be_visible()
    expect(page.get_by_label("Recipient (LinkedIn profile URL or member id)")).to_have_value(
        "LinkedIn URL"
    )
    expect(page.get_by_label("Sender (email or username of the seat's holder)")).to_have_value(
        "Email"
    )
    expect(page.get_by_label("Status “Replied” means")).to_have_value("replied")
    checked(page, "mapping step")

    if sent.day <= 12:  # ambiguous: the page asks, and refuses to go on without an answer
        expect(page.locator("#ambiguous-dates")).to_be_visible()
        page.get_by_role("button", name="Preview the import").click()
        expect(page.get_by_text("could be read as MM/DD/YYYY or as DD/MM/YYYY")).to_be_visible()
        checked(page, "mapping step with an error")
    page.get_by_label("Dates are written").select_option("dmy")
    page.get_by_label("Save this mapping as (optional)").fill("CRM export")
    page.get_by_role("button", name="Preview the import").click()

    expect(page.get_by_role("heading", name="Import preview")).to_be_visible()
    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(sent.isoformat())
    expect(rows.first).to_contain_text("replied")
    expect(page.locator("#change-mapping")).to_be_visible()
    checked(page, "preview of a mapped file")

    page.get_by_role("button", name="Import 1 InMail").click()
    expect(page.get_by_text("Imported 1 InMail from crm.csv")).to_be_visible()
    inmail = InMail.objects.get(imported=True)
    assert (inmail.seat_id, inmail.status, timezone.localdate(inmail.sent_at)) == (
        seat.pk,
        "replied",
        sent,
    )
    assert list(PersonalSettings.objects.get(user=org.recruiter).csv_mappings) == ["CRM export"]

    upload_csv(page, "crm-2.csv", text.replace("ada", "bo"))
    expect(page.get_by_label("Use a saved mapping")).to_have_value("CRM export")
    page.get_by_role("button", name="Use this mapping").click()
    expect(page.get_by_label("Dates are written")).to_have_value("dmy")
    checked(page, "mapping step with a saved mapping")
