"""Each role's main flow on a 390 px phone, by keyboard (issue 12, items 5 and 9).

A recruiter logs an InMail, records a response and withdraws another; a lead moves pool credits
to a seat and saves its allocation; an admin activates a seat in the console. Every button is
reached with Tab and pressed with Enter, and is wholly on screen, not cut off by a scrolling
table. After every action the page is read again: it is no wider than the phone, axe-core finds
nothing, the InMail list holds only InMails (one card each) and the seat's lots table stays in
its balance card.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from ledger.models import InMail, InMailStatus
from ledger.services import Cause, bonus_grant, inmail_send
from teams.models import Seat, SeatStatus
from tests.browser.axe import assert_accessible, assert_fits, assert_unclipped, tab_to
from tests.browser.conftest import BROWSER_TESTS, accept_confirm, expect_quiet_console, sign_in
from tests.browser.walk import DESKTOP, PHONE, picture
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

WITHDRAW_CONFIRM = "Withdraw this InMail? Its credit is not given back."


def expect_sound(page: Page, where: str) -> None:
    """What every page must be after every action: fits the phone, passes axe, logs no error;
    its picture is kept as test-output/screenshots/phone-<where>.png."""
    picture(page, "phone-" + re.sub(r"\W+", "-", where))
    assert_fits(page, where)
    assert_accessible(page, where)
    expect_quiet_console(page)


def press(page: Page, button: Locator) -> None:
    """Reach the button with Tab, see it whole, press Enter."""
    tab_to(page, button)
    assert_unclipped(button)
    page.keyboard.press("Enter")


def available(page: Page, seat: Seat) -> Locator:
    return page.locator(f"#seat-card-{seat.pk} [data-stat='available']")


def expect_home(page: Page, seat: Seat, *, inmails: int, lots: int, credits: int) -> None:
    """One card per InMail and nothing else in the list; the seat's lots in its card only."""
    table = page.locator("#my-inmails table")
    expect(table).to_have_count(1)
    expect(table.locator("tbody > tr")).to_have_count(inmails)
    expect(table.locator("tbody > tr:not([data-inmail-id])")).to_have_count(0)
    expect(table.locator("table, .seat-card")).to_have_count(0)
    card = page.locator(f"#seat-card-{seat.pk}")
    expect(page.locator("section[aria-labelledby='balances-title'] > .seat-card")).to_have_count(1)
    expect(card.locator("table tbody > tr")).to_have_count(lots)
    expect(page.locator("table:has(caption:text('Credit lots'))")).to_have_count(1)
    expect(available(page, seat)).to_have_text(str(credits))


@pytest.fixture
def seat(org: Org) -> Seat:
    """The recruiter's Recruiter Lite seat (30 credits) with a bonus lot, and two InMails."""
    seat = make_seat(holder=org.recruiter, team=org.team)
    bonus_grant(seat=seat, credits=10, memo="Campaign", cause=Cause.system("test"))
    for n in range(2):
        inmail_send(
            seat=seat,
            recipient=f"linkedin.com/in/a-rather-long-profile-name-number-{n}",
            subject=f"Principal engineer for the payments platform, role {n}",
            body="Hello.",
            cause=Cause(actor=org.recruiter, via="web"),
        )
    return seat


def test_on_a_phone_each_inmail_is_a_card_and_on_a_desktop_a_table_row(
    browser_page: Page, org: Org, seat: Seat
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, org.recruiter)
    rows = page.locator("#my-inmails tbody > tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_css("display", "block")
    # Each value carries its column's name beside it, and the actions are in the card.
    expect(rows.first.locator("td[data-label='Recipient']")).to_contain_text("number-1")
    for name in ("Record response", "Withdraw"):
        assert_unclipped(rows.first.get_by_role("button", name=name))
    expect_sound(page, "home on a phone")

    page.set_viewport_size(DESKTOP)
    expect(rows.first).to_have_css("display", "table-row")
    expect(page.locator("#my-inmails thead th")).to_have_text(
        ["Sent", "Recipient", "Subject", "Status", "Cost", "Actions"]
    )
    expect_sound(page, "home on a desktop")


def test_a_recruiter_logs_answers_and_withdraws_by_keyboard_on_a_phone(
    browser_page: Page, org: Org, seat: Seat
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, org.recruiter)
    # 30 + 10 credits, two spent; the plan's lot and the bonus lot.
    expect_home(page, seat, inmails=2, lots=2, credits=38)
    expect_sound(page, "home")

    form = page.locator("#send-form")
    form.get_by_label("Recipient").fill("linkedin.com/in/ada-lovelace")
    form.get_by_label("Subject").fill("Analytical engines at Talent North")
    form.get_by_label("Message").fill("Hello Ada, we are hiring engineers.")
    press(page, form.get_by_role("button", name="Log InMail"))
    expect(form).to_contain_text("Logged the InMail to linkedin.com/in/ada-lovelace")
    expect_home(page, seat, inmails=3, lots=2, credits=37)
    expect_sound(page, "home after logging an InMail")

    sent = InMail.objects.get(recipient__contains="ada-lovelace")
    row = page.locator(f"#inmail-{sent.pk}")
    expect(row).to_have_css("display", "block")
    press(page, row.get_by_role("button", name="Record response"))
    outcome = row.get_by_label("Outcome")
    expect(outcome).to_be_visible()
    assert_unclipped(outcome)
    outcome.select_option(label="Replied")
    press(page, row.get_by_role("button", name="Save response"))
    expect(row.get_by_role("status")).to_have_text("Recorded: Replied. 1 credit refunded.")
    expect(row.locator(".badge")).to_have_text("Replied")
    # The refund is a new lot in the seat's card, not a row in the InMail list.
    expect_home(page, seat, inmails=3, lots=3, credits=38)
    expect_sound(page, "home after recording a response")

    other = InMail.objects.get(recipient__endswith="number-0")
    row = page.locator(f"#inmail-{other.pk}")
    accept_confirm(page, WITHDRAW_CONFIRM)
    press(page, row.get_by_role("button", name="Withdraw"))
    expect(row.get_by_role("status")).to_have_text("Withdrawn. The credit is not given back.")
    expect(row.locator(".badge")).to_have_text("Withdrawn")
    expect_home(page, seat, inmails=3, lots=3, credits=38)
    expect_sound(page, "home after a withdrawal")

    page.reload()
    expect_home(page, seat, inmails=3, lots=3, credits=38)
    statuses = sorted(InMail.objects.values_list("status", flat=True))
    assert statuses == sorted([InMailStatus.REPLIED, InMailStatus.WITHDRAWN, InMailStatus.PENDING])


def test_a_lead_moves_credits_and_saves_an_allocation_by_keyboard_on_a_phone(
    browser_page: Page, org: Org
) -> None:
    pooled = make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team)
    make_seat(plan_code="recruiter_corporate", holder=org.teammate, team=org.team)
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, org.lead, next_path=reverse("team_detail", args=[org.team.pk]))
    ledger = page.locator("#team-ledger")
    pool = ledger.locator('[data-stat="pool-available"]')
    row = ledger.locator(f"#pool-seat-{pooled.pk}")
    own = row.locator('[data-stat="own"]')
    # Two Recruiter Corporate seats put 150 credits each into the pool, none into the seats.
    expect(pool).to_have_text("300")
    expect(own).to_have_text("0")
    move = ledger.get_by_role("form", name=f"Move credits for {pooled.holder}")
    settings = ledger.get_by_role("form", name=f"Pool settings for {pooled.holder}")
    for button in (
        move.get_by_role("button", name="Move", exact=True),
        settings.get_by_role("button", name="Save"),
    ):
        assert_unclipped(button)
    expect_sound(page, "team page")

    move.get_by_role("spinbutton").fill("7")
    press(page, move.get_by_role("button", name="Move", exact=True))
    expect(ledger.get_by_role("status")).to_contain_text("Moved 7 credits from the pool to")
    expect(pool).to_have_text("293")
    expect(own).to_have_text("7")
    expect_sound(page, "team page after a move")

    settings.get_by_label(re.compile("^Allocation")).fill("12")
    press(page, settings.get_by_role("button", name="Save"))
    expect(ledger.get_by_role("status")).to_be_visible()
    allocation = ledger.locator(f"#team-seat-{pooled.pk} [data-stat='allocation']")
    expect(allocation).to_have_text("12")
    expect_sound(page, "team page after saving an allocation")
    pooled.refresh_from_db()
    assert pooled.monthly_allocation == 12


def test_an_admin_activates_a_seat_by_keyboard_on_a_phone(browser_page: Page, org: Org) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, org.admin, next_path=reverse("manage:seat_create"))
    expect_sound(page, "the seat form")

    page.get_by_label("Holder").select_option(label=str(org.teammate))
    page.get_by_label("Team").select_option(label=org.team.name)
    page.get_by_label("Plan").select_option(label="Recruiter Lite")
    press(page, page.get_by_role("button", name="Activate seat"))

    expect(page.get_by_role("heading", name=re.compile(r"^Seat #\d+"), level=1)).to_be_visible()
    seat = Seat.objects.get(holder=org.teammate)
    expect(page.get_by_role("heading", name=f"Seat #{seat.pk}", level=1)).to_be_visible()
    expect_sound(page, "the new seat's page")
    assert (seat.status, seat.plan.code, seat.team) == (
        SeatStatus.ACTIVE,
        "recruiter_lite",
        org.team,
    )
