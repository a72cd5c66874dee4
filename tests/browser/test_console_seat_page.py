"""The console's seat page puts its forms first (issue 12, item 6): a seat holding 36 lots
shows the purchase, bonus and adjustment forms right under its balance, in the first screen,
and its lots collapsed below them; and activating a second seat for the same holder, team and
plan asks first. Each page is read again after each action."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from ledger.services import bonus_grant
from teams.models import Seat, SeatStatus
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import (
    BROWSER_TESTS,
    VIEWPORT,
    expect_quiet_console,
    screenshot,
    sign_in,
)
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.manage.helpers import SYSTEM

pytestmark = BROWSER_TESTS


def _precedes(first: Locator, second: Locator) -> bool:
    """Whether `first` comes before `second` in the document."""
    result: bool = first.evaluate(
        "(a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)",
        second.element_handle(),
    )
    return result


def _top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    return box["y"]


def _expect_forms_first(page: Page, lots: int) -> None:
    forms = [
        page.get_by_role("button", name="Preview the total"),
        page.get_by_role("button", name="Grant bonus"),
        page.get_by_role("button", name="Post adjustment"),
    ]
    summary = page.locator("details.lots > summary")
    expect(summary).to_have_text(f"{lots} lots hold credits, spent first at the top")
    lots_table = page.locator("table.lots")
    expect(lots_table).to_be_hidden()
    for form in forms:
        expect(form).to_be_visible()
        assert _precedes(form, lots_table), f"{form} comes after the lots"
    # The headings of the three forms are in the first screen; the buttons close below.
    for heading in ("Record a purchase", "Grant a bonus", "Reconcile with LinkedIn"):
        assert _top(page.get_by_role("heading", name=heading)) < VIEWPORT["height"], heading


def test_the_forms_come_before_36_collapsed_lots_and_stay_there_after_a_bonus(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)  # Recruiter Lite: 1 lot of 30
    for _ in range(35):
        bonus_grant(seat=seat, credits=1, memo="Referral", cause=SYSTEM)
    sign_in(page, org.admin, next_path=reverse("manage:seat_detail", args=[seat.pk]))

    expect(page.locator("[data-balance-own]")).to_have_text("65")
    _expect_forms_first(page, 36)
    assert_accessible(page, "a seat with 36 lots")
    screenshot(page, "console-seat-36-lots-1280")

    page.locator("details.lots > summary").click()
    expect(page.locator("table.lots tbody tr")).to_have_count(36)
    assert_accessible(page, "a seat with its 36 lots open")

    page.get_by_label("Credits").nth(1).fill("4")
    page.get_by_label("Memo").fill("Hiring sprint")
    page.get_by_role("button", name="Grant bonus").click()

    expect(page.get_by_text(re.compile(r"^Granted 4 bonus credits; they expire"))).to_be_visible()
    expect(page.locator("[data-balance-own]")).to_have_text("69")
    _expect_forms_first(page, 37)
    expect_quiet_console(page)


def test_a_few_lots_show_open(browser_page: Page, org: Org) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)
    sign_in(page, org.admin, next_path=reverse("manage:seat_detail", args=[seat.pk]))

    expect(page.locator("details.lots > summary")).to_have_text(
        "1 lot holds credits, spent first at the top"
    )
    expect(page.locator("table.lots tbody tr")).to_have_count(1)
    expect(page.locator("table.lots")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    assert_fits(page, "the seat page on a phone")
    assert_accessible(page, "the seat page on a phone")


def test_a_second_seat_for_the_same_holder_team_and_plan_is_asked_about_first(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    first = make_seat(holder=org.recruiter, team=org.team)
    sign_in(page, org.admin, next_path=reverse("manage:seat_create"))

    page.get_by_label("Holder").select_option(value=str(org.recruiter.pk))
    page.get_by_label("Team").select_option(value=str(org.team.pk))
    page.get_by_label("Plan").select_option(value=str(first.plan_id))
    page.get_by_role("button", name="Activate seat").click()

    warning = page.get_by_role("alert")
    expect(warning).to_contain_text(
        f"{org.recruiter} already holds an active Recruiter Lite seat in Talent North: #{first.pk}"
    )
    expect(warning.get_by_role("link", name=f"Seat #{first.pk}")).to_be_visible()
    box = page.get_by_label("Yes, activate another seat for this person on this plan")
    expect(box).not_to_be_checked()
    expect(page.get_by_label("Holder")).to_have_value(str(org.recruiter.pk))
    assert Seat.objects.filter(holder=org.recruiter).count() == 1
    assert_accessible(page, "the duplicate seat warning")

    box.check()
    page.get_by_role("button", name="Activate another seat").click()

    second = Seat.objects.exclude(pk=first.pk).get(holder=org.recruiter)
    assert second.status == SeatStatus.ACTIVE
    expect(page.get_by_role("heading", name=f"Seat #{second.pk}:")).to_be_visible()
    expect(page.get_by_text(f"Activated seat #{second.pk}")).to_be_visible()
    expect(
        page.get_by_text(
            f"{org.recruiter} now holds 1 other active seat on this plan in this team."
        )
    ).to_be_visible()
    expect_quiet_console(page)
