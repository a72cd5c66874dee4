"""R22 outreach tags in the browser (issue 14 item 1): a recruiter logs an InMail with a template
(suggested from the team's) and tags, then edits them on its row, which htmx swaps in place;
axe-core and a 390 px phone are checked after each step."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ledger.models import InMail
from ledger.services import Cause
from ledger.services.inmails import inmail_send
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, sign_in
from tests.browser.walk import PHONE
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS


def checked(page: Page, where: str) -> None:
    assert_accessible(page, where)
    assert_fits(page, where)


def test_a_recruiter_tags_an_inmail_and_retags_it_on_its_row(browser_page: Page, org: Org) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    make_seat(holder=org.recruiter, team=org.team)
    teammate_seat = make_seat(holder=org.teammate, team=org.team)
    inmail_send(
        seat=teammate_seat,
        recipient="linkedin.com/in/someone",
        subject="Hi",
        body="Hello",
        template="Intro v2",
        tags=["java"],
        cause=Cause.system("test"),
    )
    sign_in(page, org.recruiter)

    form = page.locator("#send-form")
    expect(page.locator("#template-suggestions option")).to_have_count(1)
    expect(page.locator("#template-suggestions option").first).to_have_attribute(
        "value", "Intro v2"
    )
    form.get_by_label("Recipient").fill("linkedin.com/in/grace-hopper")
    form.get_by_label("Subject").fill("A role")
    form.get_by_label("Message").fill("Hello Grace.")
    form.get_by_label("Template").fill("Intro v2")
    form.get_by_label("Tags").fill("Java, Remote")
    form.get_by_role("button", name="Log InMail").click()
    expect(page.locator("#send-form [role=status]")).to_be_visible()
    mine = InMail.objects.get(recipient="linkedin.com/in/grace-hopper")
    assert (mine.template, mine.tag_names) == ("Intro v2", ["java", "remote"])
    checked(page, "home after logging a tagged InMail")

    page.reload()
    row = page.locator(f"#inmail-{mine.pk}")
    expect(row).to_contain_text("Intro v2 · java, remote")
    row.get_by_role("button", name="Template & tags").click()
    row.get_by_label("Tags").fill("berlin")
    checked(page, "the row's template and tags form")
    row.get_by_role("button", name="Save template & tags").click()

    row = page.locator(f"#inmail-{mine.pk}")
    expect(row.get_by_text("Template and tags saved.")).to_be_visible()
    expect(row).to_contain_text("Intro v2 · berlin")
    mine.refresh_from_db()
    assert mine.tag_names == ["berlin"]
    checked(page, "the row after saving its tags")

    row.get_by_role("button", name="Template & tags").click()
    row.get_by_label("Tags").fill("x" * 51)
    row.get_by_role("button", name="Save template & tags").click()
    row = page.locator(f"#inmail-{mine.pk}")
    expect(row.get_by_text("A tag has at most 50 characters")).to_be_visible()
    mine.refresh_from_db()
    assert mine.tag_names == ["berlin"]
    checked(page, "the row after a refused edit")
