"""Finding a candidate in the browser (issue 12, item 4): the send form checks the recipient as
it is typed, under the strict CSP (htmx, no inline script); the recipient of a logged InMail
links to the candidate's page; the navigation's search box finds InMails by subject and opens a
candidate from the results. Every page is read after each action, checked with axe-core and on
a 390 px phone."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, Route, ViewportSize, expect

from ledger import schedule
from ledger.models import InMail
from ledger.rules import NOT_A_RECIPIENT
from ledger.services import Cause, inmail_send
from teams.models import Seat
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, expect_quiet_console, sign_in
from tests.browser.walk import DESKTOP as WALK_DESKTOP
from tests.browser.walk import PHONE
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

GRACE = "https://www.linkedin.com/in/grace-hopper/"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass
class Scene:
    seat: Seat
    teammates_inmail: InMail
    ada: InMail


def _scene(org: Org) -> Scene:
    seat = make_seat(holder=org.recruiter, team=org.team)
    teammate_seat = make_seat(holder=org.teammate, team=org.team)
    cause = Cause.system("browser-test")
    teammates = inmail_send(
        seat=teammate_seat,
        recipient=GRACE,
        subject="Teammate's own pitch",
        body="Hello Grace.",
        cause=cause,
    ).inmail
    ada = inmail_send(
        seat=seat,
        recipient="https://www.linkedin.com/in/ada-lovelace",
        subject="Staff engineer, analytical engines",
        body="Hello Ada.",
        cause=cause,
    ).inmail
    return Scene(seat=seat, teammates_inmail=teammates, ada=ada)


def _check_page(page: Page, where: str) -> None:
    expect_quiet_console(page)
    assert_accessible(page, where)
    page.set_viewport_size(PHONE)
    assert_fits(page, f"{where} on a phone")
    assert_accessible(page, f"{where} on a phone")
    page.set_viewport_size(DESKTOP)


def test_typing_a_recipient_warns_then_the_logged_inmail_links_to_the_candidate(
    browser_page: Page, org: Org
) -> None:
    scene = _scene(org)
    page = browser_page
    sign_in(page, org.recruiter)
    check = page.locator("#recipient-check")
    recipient = page.get_by_label("Recipient", exact=True)

    recipient.fill("not a url at all !!")
    expect(check).to_have_text(NOT_A_RECIPIENT)
    expect(check.locator(".notice.error")).to_have_count(1)

    # Another spelling of the person the teammate wrote to today.
    recipient.fill("linkedin.com/in/Grace-Hopper")
    day = f"{schedule.local_date(scene.teammates_inmail.sent_at):%Y-%m-%d}"
    warning = f"{org.teammate} sent an InMail to this recipient on {day}."
    expect(check).to_have_text(warning)
    expect(check.locator(".notice.warning")).to_have_count(1)
    assert_accessible(page, "home with the typing warning")

    recipient.fill("linkedin.com/in/someone-new")
    expect(check).to_be_empty()

    recipient.fill("linkedin.com/in/Grace-Hopper")
    expect(check).to_have_text(warning)
    page.get_by_label("Subject").fill("Principal engineer")
    page.get_by_label("Message").fill("Hello Grace, a role for you.")
    page.get_by_role("button", name="Log InMail").click()
    expect(page.locator("#send-form [role=status]")).to_contain_text("Logged the InMail to")
    expect(page.locator("#send-form [role=alert]")).to_have_text(warning)
    expect(page.locator("#recipient-check")).to_be_empty()

    mine = InMail.objects.get(seat=scene.seat, subject="Principal engineer")
    row = page.locator(f"#inmail-{mine.pk}")
    expect(row).to_have_count(1)
    expect(page.locator("#my-inmails tbody > tr")).to_have_count(2)
    row.get_by_role("link", name="linkedin.com/in/Grace-Hopper").click()

    expect(page.get_by_role("heading", name="Candidate", exact=True)).to_be_visible()
    expect(page.locator("[data-candidate]")).to_have_text("linkedin.com/in/Grace-Hopper")
    rows = page.locator("table tbody > tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Principal engineer")
    expect(rows.first).to_contain_text("Pending")
    expect(page.locator(".teammate-contacts li")).to_have_text([warning])
    expect(page.get_by_text("Teammate's own pitch")).to_have_count(0)
    _check_page(page, "the candidate page")


def test_the_navigation_search_finds_an_inmail_and_opens_its_candidate(
    browser_page: Page, org: Org
) -> None:
    scene = _scene(org)
    page = browser_page
    sign_in(page, org.recruiter)

    search = page.get_by_role("searchbox", name="Search candidates")
    search.fill("analytical ENGINES")
    search.press("Enter")

    expect(page.get_by_role("heading", name="Find a candidate")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Find a candidate", exact=True)).to_have_value(
        "analytical ENGINES"
    )
    results = page.locator("table tbody > tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Staff engineer, analytical engines")
    # The teammate's InMails are not searched for a recruiter.
    page.get_by_role("searchbox", name="Find a candidate", exact=True).fill("pitch")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table")).to_have_count(0)
    expect(page.locator(".empty")).to_have_text(
        "No InMail you can see has “pitch” in its recipient or subject."
    )

    page.get_by_role("searchbox", name="Find a candidate", exact=True).fill("analytical")
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    _check_page(page, "the search results")

    results.first.get_by_role("link", name=scene.ada.recipient).click()
    expect(page.locator("[data-candidate]")).to_have_text(scene.ada.recipient)
    expect(page.locator("table tbody > tr")).to_have_count(1)
    expect(page.get_by_text("Contacted by a teammate")).to_have_count(0)
    _check_page(page, "Ada's candidate page")


def _checked(page: Page, where: str, *, requests_held: bool = False) -> None:
    """The page after an action, at the width it is walked at: no console error, no sideways
    scroll, nothing axe-core finds (`requests_held`: while the test holds a request)."""
    expect_quiet_console(page)
    assert_fits(page, where)
    assert_accessible(page, where, requests_held=requests_held)


@pytest.mark.parametrize("viewport", [WALK_DESKTOP, PHONE], ids=["1440px", "390px"])
def test_sending_while_the_recipient_check_is_under_way_waits_for_it_and_logs_no_error(
    browser_page: Page, org: Org, viewport: ViewportSize
) -> None:
    """The check of the recipient is still on its way when Log InMail is pressed (a slow
    server): the send waits for it rather than aborting it (an aborted htmx request is an error
    in the console), then replaces the form, the check's answer with it."""
    scene = _scene(org)
    page = browser_page
    page.set_viewport_size(viewport)
    width = f"{viewport['width']} px"
    sign_in(page, org.recruiter)
    held: list[Route] = []
    page.route(re.compile(r"/inmails/send/recipient/"), lambda route: held.append(route))

    page.get_by_label("Subject").fill("Compilers at Talent North")
    page.get_by_label("Message").fill("Hello Grace, a role for you.")
    page.get_by_label("Recipient", exact=True).fill("linkedin.com/in/grace-hopper")
    for _ in range(200):  # the check leaves after its 400 ms delay; the route holds it
        if held:
            break
        page.wait_for_timeout(10)
    assert len(held) == 1
    expect(page.locator("#recipient-check")).to_be_empty()
    _checked(page, f"home with the recipient check held, {width}", requests_held=True)

    page.get_by_role("button", name="Log InMail").click()
    page.wait_for_timeout(300)
    # The send waits behind the check: nothing logged, the form as it was, no error.
    assert not InMail.objects.filter(subject="Compilers at Talent North").exists()
    expect(page.get_by_label("Recipient", exact=True)).to_have_value("linkedin.com/in/grace-hopper")
    expect(page.locator("#send-form [role=status]")).to_have_count(0)
    _checked(page, f"home with the send waiting for the check, {width}", requests_held=True)

    held[0].continue_()
    expect(page.locator("#send-form [role=status]")).to_contain_text("Logged the InMail to")
    expect(page.locator("#recipient-check")).to_be_empty()
    expect(page.get_by_label("Recipient", exact=True)).to_have_value("")
    assert InMail.objects.filter(seat=scene.seat, subject="Compilers at Talent North").count() == 1
    _checked(page, f"home after a send that waited for the recipient check, {width}")
