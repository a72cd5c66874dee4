"""The console's destructive seat actions (issue 12, item 6): the buttons that forfeit credits
are styled as danger and ask before they are sent; the page after the action is read off."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import Page, expect

from teams.models import Seat, SeatStatus
from tests.browser.conftest import BROWSER_TESTS, accept_confirm, expect_quiet_console, sign_in
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

DANGER_BACKGROUND = "rgb(179, 38, 30)"


def test_cancelling_a_seat_asks_first_on_a_danger_button_and_shows_the_cancelled_seat(
    browser_page: Page, org: Org
) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team)  # Recruiter Lite: 30 credits
    sign_in(browser_page, org.admin, next_path=reverse("manage:seat_detail", args=[seat.pk]))

    link = browser_page.get_by_role("button", name="Cancel seat")
    expect(link).to_have_class("danger")
    link.click()

    expect(browser_page.locator("[data-forfeit]")).to_have_text("30 credits will be forfeited.")
    button = browser_page.get_by_role("button", name="Cancel the seat and forfeit 30 credits")
    expect(button).to_have_class("danger")
    expect(button).to_have_css("background-color", DANGER_BACKGROUND)
    expect(button).to_have_css("color", "rgb(255, 255, 255)")
    accept_confirm(
        browser_page, f"Cancel seat #{seat.pk} and forfeit 30 credits? This can't be undone."
    )
    button.click()

    expect(browser_page).to_have_url(
        re.compile(re.escape(reverse("manage:seat_detail", args=[seat.pk])) + "$")
    )
    expect(
        browser_page.get_by_text(f"Cancelled seat #{seat.pk}; 30 credits were forfeited.")
    ).to_be_visible()
    expect(browser_page.get_by_text("Cancelled since")).to_be_visible()
    expect(browser_page.get_by_role("button", name="Cancel seat")).to_have_count(0)
    expect_quiet_console(browser_page)
    seat.refresh_from_db()
    assert seat.status == SeatStatus.CANCELLED


def test_changing_plan_asks_first_on_a_danger_button(browser_page: Page, org: Org) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team)
    sign_in(browser_page, org.admin, next_path=reverse("manage:seat_change_plan", args=[seat.pk]))

    button = browser_page.get_by_role("button", name="Change plan and forfeit 30 credits")
    expect(button).to_have_class("danger")
    browser_page.get_by_label("New plan").select_option(label="Recruiter Corporate")
    accept_confirm(
        browser_page,
        f"Change the plan of seat #{seat.pk} and forfeit 30 credits? This can't be undone.",
    )
    button.click()

    expect(browser_page.get_by_role("heading", name=re.compile(r"^Seat #\d+"))).not_to_have_text(
        re.compile(rf"^Seat #{seat.pk}:")
    )
    new = Seat.objects.get(holder=org.recruiter, status=SeatStatus.ACTIVE)
    expect(browser_page.get_by_role("heading", name=f"Seat #{new.pk}:")).to_be_visible()
    expect(browser_page.get_by_text("Recruiter Corporate ·")).to_be_visible()
