"""Issue 13 in the browser, per role: an admin reassigns a seat and the homes follow (R19), a
lead sets usage limits on the team page and the holder's card shows them (R20), a holder
compares a seat with LinkedIn from the home page and an admin resolves the difference (R21).
The DOM is read after every action; every page passes axe-core and fits a 390 px phone."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger import schedule
from ledger.models import Reconciliation
from ledger.services import Cause, reconciliation_record, seat_set_usage_limit
from teams.models import Seat
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, expect_quiet_console, sign_in
from tests.conftest import Org
from tests.factories import make_seat
from tests.ledger.helpers import send

pytestmark = BROWSER_TESTS

SYSTEM = Cause.system("browser-test")
PHONE = {"width": 390, "height": 844}


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def check_page(page: Page, where: str) -> None:
    """axe-core finds nothing, on the desktop and at 390 px, and nothing is wider than a phone."""
    assert_accessible(page, where)
    size = page.viewport_size
    assert size is not None
    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    # Chart.js redraws its canvases for the new width on the next frames (a ResizeObserver).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every("
        "(c) => c.getBoundingClientRect().right <= document.documentElement.clientWidth)"
    )
    assert_fits(page, f"{where} at 390 px")
    assert_accessible(page, f"{where} at 390 px")
    page.set_viewport_size(size)


def test_an_admin_reassigns_a_seat_and_each_home_follows(browser_page: Page, org: Org) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)  # Recruiter Lite: 30 credits
    send(seat, "linkedin.com/in/pending-one")
    sign_in(page, org.admin, next_path=reverse("manage:seat_detail", args=[seat.pk]))

    moves = page.locator("[data-moves-with]")
    expect(moves).to_contain_text("29 credits of its own")
    expect(moves).to_contain_text("1 pending InMail, which the new holder answers")
    check_page(page, "the console's seat page")
    page.get_by_label("Give the seat to").select_option(label=str(org.teammate))
    page.get_by_label("Why (optional)").fill("Covering while Rae is away")
    page.get_by_role("button", name="Reassign seat").click()

    expect(page.get_by_text(f"Seat #{seat.pk} is now held by {org.teammate}")).to_be_visible()
    history = page.locator("table.holdings tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text(str(org.teammate))
    expect(history.nth(1)).to_contain_text("Covering while Rae is away")
    expect(history.nth(1)).to_contain_text("now")
    expect(page.get_by_role("heading", name=f"Seat #{seat.pk}: {org.teammate}")).to_be_visible()
    expect_quiet_console(page)

    sign_out(page)
    sign_in(page, org.teammate)
    expect(page.locator(f"#seat-card-{seat.pk}")).to_be_visible()
    expect(page.locator(f"#seat-card-{seat.pk} [data-stat='own']")).to_have_text("29")
    sign_out(page)
    sign_in(page, org.recruiter)
    expect(page.locator(f"#seat-card-{seat.pk}")).to_have_count(0)


def test_a_new_person_can_be_created_while_reassigning(browser_page: Page, org: Org) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)
    sign_in(page, org.admin, next_path=reverse("manage:seat_detail", args=[seat.pk]))

    page.get_by_label("New person's username").fill("teammate")
    page.get_by_role("button", name="Reassign seat").click()
    expect(page.get_by_text("A user with that username already exists.")).to_be_visible()
    check_page(page, "the seat page with a refused reassignment")
    page.get_by_label("New person's username").fill("nia")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_role("button", name="Reassign seat").click()

    expect(page.get_by_text(f"Seat #{seat.pk} is now held by Nia Okafor")).to_be_visible()
    expect(page.locator("table.holdings tbody tr").nth(1)).to_contain_text("Nia Okafor")


def test_a_lead_limits_the_seats_ticked_and_the_holders_card_counts_against_it(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)
    lead_seat = make_seat(holder=org.lead, team=org.team)
    for n in range(3):
        send(seat, f"linkedin.com/in/m-{n}")
    sign_in(page, org.lead, next_path=reverse("team_detail", args=[org.team.pk]))

    panel = page.locator("#usage-limits")
    expect(panel.locator(f"tr[data-seat-id='{seat.pk}'] [data-stat='used']")).to_have_text("3")
    check_page(page, "the team page")
    panel.get_by_label("Paid InMails per usage period").fill("4")
    panel.get_by_label("The seats ticked").check()
    panel.get_by_role("button", name="Set the usage limit").click()
    expect(page.get_by_text("Tick at least one seat")).to_be_visible()
    panel = page.locator("#usage-limits")
    panel.get_by_label(f"{org.recruiter}, Recruiter Lite").check()
    panel.get_by_label("The seats ticked").check()
    panel.get_by_label("Paid InMails per usage period").fill("4")
    panel.get_by_role("button", name="Set the usage limit").click()

    expect(page.get_by_text("1 seat now has a limit of 4 paid InMails.")).to_be_visible()
    row = page.locator(f"#usage-limits tr[data-seat-id='{seat.pk}']")
    expect(row.locator("[data-stat='limit']")).to_have_text("4")
    expect(
        page.locator(f"#usage-limits tr[data-seat-id='{lead_seat.pk}'] [data-stat='limit']")
    ).to_have_text("none")

    sign_out(page)
    sign_in(page, org.recruiter)
    resets = schedule.next_refresh_date(seat.activated_on, seat.plan.refresh, timezone.now())
    usage = page.locator(f"#seat-card-{seat.pk} [data-stat='usage']")
    expect(usage).to_have_text(f"used 3 of 4 this period, resets {resets:%b} {resets.day}")
    page.get_by_label("Recipient").fill("linkedin.com/in/fourth")
    page.get_by_label("Subject").fill("A role")
    page.get_by_label("Message").fill("Open to a chat?")
    page.get_by_role("button", name="Log InMail").click()
    expect(usage).to_have_text(f"used 4 of 4 this period, resets {resets:%b} {resets.day}")
    page.get_by_label("Recipient").fill("linkedin.com/in/fifth")
    page.get_by_label("Subject").fill("A role")
    page.get_by_label("Message").fill("Open to a chat?")
    page.get_by_role("button", name="Log InMail").click()
    expect(page.locator("#send-form")).to_contain_text("used its limit of 4 paid InMails")
    check_page(page, "the home page at the usage limit")


def test_the_holder_compares_with_linkedin_and_an_admin_adjusts_the_difference(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)
    reconciliation_record(seat=seat, linkedin_balance=30, cause=SYSTEM)
    send(seat, "linkedin.com/in/logged-here")
    sign_in(page, org.recruiter)

    card = page.locator(f"#seat-card-{seat.pk}")
    card.get_by_label("LinkedIn shows").fill("27")
    card.get_by_role("button", name="Compare with the ledger").click()

    result = card.locator("[data-reconcile-result='open']")
    expect(result).to_contain_text("the ledger had 29")
    expect(result.locator("[data-stat='difference']")).to_have_text("-2")
    expect(card.get_by_label("LinkedIn shows")).to_have_value("")
    check_page(page, "the home page after a reconciliation")
    result.get_by_role("link", name="1 entry").click()
    expect(page.locator("table.review-entries tbody tr")).to_have_count(1)
    expect(page.locator("table.review-entries")).to_contain_text("linkedin.com/in/logged-here")
    expect(page.get_by_role("button", name=re.compile("^Adjust"))).to_have_count(0)
    check_page(page, "a reconciliation's page for its holder")

    opened = Reconciliation.objects.get(status="open")
    sign_out(page)
    sign_in(page, org.admin, next_path=reverse("reconciliation_list") + "?status=open")
    expect(page.locator("tr[data-reconciliation]")).to_have_count(1)
    check_page(page, "the open reconciliations")
    page.get_by_role("link", name=re.compile("^Resolve")).click()
    page.get_by_role("button", name="Adjust by -2").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("Reason").fill("Two InMails sent from the phone app")
    page.get_by_role("button", name="Adjust by -2").click()

    expect(page.get_by_text(f"Reconciliation #{opened.pk} adjusted: -2")).to_be_visible()
    expect(page.locator("[data-stat='status']")).to_have_text("Adjusted")
    expect(page.locator("[data-stat='resolution']")).to_contain_text(
        "Two InMails sent from the phone app"
    )
    check_page(page, "a resolved reconciliation")
    page.goto(reverse("manage:seat_detail", args=[seat.pk]))
    expect(page.locator("[data-balance-own]")).to_have_text("27")
    drift = page.locator(f"canvas[data-chart='drift-chart-{seat.pk}']")
    expect(drift).to_have_attribute("data-drawn", "1")
    expect(page.locator("table.reconciliations tbody tr").first).to_contain_text("Adjusted")
    expect_quiet_console(page)
    assert Seat.objects.get(pk=seat.pk).holder == org.recruiter


def test_the_seat_page_sets_a_usage_limit_and_says_what_was_used(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)
    seat_set_usage_limit(seat=seat, limit=10, cause=SYSTEM)
    send(seat)
    sign_in(page, org.admin, next_path=reverse("manage:seat_detail", args=[seat.pk]))

    expect(page.locator("#usage-limit [data-stat='usage']")).to_contain_text(
        "Used 1 of 10 this period"
    )
    page.get_by_label("Paid InMails per usage period").fill("-1")
    page.get_by_role("button", name="Save usage limit").click()
    expect(page.locator("#usage-limit")).to_contain_text("greater than or equal to 0")
    page.get_by_label("Paid InMails per usage period").fill("")
    page.get_by_role("button", name="Save usage limit").click()

    expect(page.get_by_text("The seat has no usage limit now.")).to_be_visible()
    expect(page.locator("#usage-limit [data-stat='usage']")).to_contain_text(
        "1 paid InMail this period, no limit"
    )
