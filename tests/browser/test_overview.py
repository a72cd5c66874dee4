"""The organisation overview in a browser (issue 12, item 6): an admin without a seat lands on
it, reads each team's figures, follows them to the filtered views and back; on a desktop and on
a phone it passes axe-core and needs no sideways scroll."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, expect_quiet_console, screenshot, sign_in
from tests.conftest import Org
from tests.pages.overview_helpers import START, OverviewOrg, build_overview_org

pytestmark = BROWSER_TESTS


@pytest.fixture
def built(org: Org) -> Iterator[OverviewOrg]:
    """The overview's organisation, then a clock that runs on from START (20 March 2026)."""
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False) as clock:
        data = build_overview_org(org, clock)
    with time_machine.travel(START, tick=True):
        yield data


def _figure(page: Page, team_id: int | str, stat: str) -> str:
    """A cell's visible figure: its text up to the words only screen readers get."""
    cell = page.locator(f'tr[data-team-id="{team_id}"] [data-stat="{stat}"]')
    text: str = cell.evaluate(
        """(cell) => {
            const copy = cell.cloneNode(true);
            copy.querySelectorAll(".visually-hidden").forEach((hidden) => hidden.remove());
            return copy.textContent.replace(/\\s+/g, " ").trim();
        }"""
    )
    return text


def test_an_admin_reads_the_organisation_and_follows_a_team_to_its_lists(
    browser_page: Page, built: OverviewOrg
) -> None:
    page = browser_page
    north = built.org.team.pk
    sign_in(page, built.org.admin)

    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation overview")
    expect(page.get_by_text("You hold no active InMail seat")).to_be_visible()
    expect(page.get_by_role("link", name="Overview")).to_be_visible()
    expect(page.locator('[data-stat="held"]').first).to_have_text(
        "1396 in 5 active seats and pools"
    )
    assert [_figure(page, north, stat) for stat in ("held", "lost-to-cap", "spent", "idle")] == [
        "67",
        "9",
        "4",
        "1",
    ]
    assert _figure(page, "all", "cost") == "USD 2,799.99"
    assert _figure(page, built.east.pk, "lost-to-cap") == "399"
    assert_accessible(page, "the overview")
    assert_fits(page, "the overview")
    screenshot(page, "overview-admin-1280")

    page.get_by_role("link", name="1 idle seats of Talent North").click()

    expect(page).to_have_url(re.compile(r"/manage/\?team=\d+&status=active&idle=on$"))
    expect(page.get_by_label("Idle only")).to_be_checked()
    rows = page.locator("tr[data-seat-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-seat-id", str(built.teammate_seat.pk))

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation overview")
    page.get_by_role("link", name="Talent East", exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(reverse("team_detail", args=[built.east.pk]))))
    expect(page.get_by_role("heading", level=1)).to_have_text("Talent East")
    expect_quiet_console(page)


def test_on_a_phone_the_table_scrolls_in_its_own_region(
    browser_page: Page, built: OverviewOrg
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, built.org.admin, next_path=reverse("overview"))

    expect(page.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    region = page.get_by_role("region", name="Figures by team")
    expect(region).to_be_visible()
    assert region.evaluate("(region) => region.scrollWidth > region.clientWidth")
    region.focus()
    page.keyboard.press("End")
    expect(region).to_be_focused()
    assert_fits(page, "the overview on a phone")
    assert_accessible(page, "the overview on a phone")
    screenshot(page, "overview-admin-390")
