"""The seat cards' run-out dates and burn-down charts on the home page (issue 12, item 2).

Each card says when its own credits run out and, for a seat drawing on a team pool, when the
pool does; its chart draws the balance of the last 90 days and the next 90 projected (dashed)
with a line at today, and says the same in words for screen readers. After logging an InMail
the card, swapped in by htmx, is drawn again with the new numbers. Desktop and phone pass
axe-core, and nothing is wider than a 390 px phone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils.dateformat import format as date_format
from playwright.sync_api import Locator, Page, expect

from ledger import schedule
from ledger.services import Cause, inmail_send
from teams.models import Seat
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, expect_quiet_console, screenshot, sign_in
from tests.conftest import Org
from tests.factories import TeamFactory, make_seat

pytestmark = BROWSER_TESTS


def _card(page: Page, seat: Seat) -> Locator:
    return page.locator(f"#seat-card-{seat.pk}")


def _chart(page: Page, seat: Seat) -> dict[str, Any]:
    """What Chart.js drew in the seat's card: its two lines and where today is."""
    canvas = _card(page, seat).locator("canvas[data-burndown]")
    expect(canvas).to_have_attribute("data-drawn", "1")
    drawn: dict[str, Any] = canvas.evaluate(
        """(canvas) => {
            const chart = Chart.getChart(canvas);
            return {
                labels: chart.data.labels.length,
                actual: chart.data.datasets[0].data,
                projected: chart.data.datasets[1].data,
                dash: chart.data.datasets[1].borderDash,
                today: chart.options.plugins.burndownToday.index,
                width: canvas.getBoundingClientRect().width,
            };
        }"""
    )
    return drawn


def _on(days: int) -> str:
    return date_format(schedule.today() + timedelta(days=days), "M j, Y")


@pytest.fixture
def seats(org: Org) -> tuple[Seat, Seat]:
    """The recruiter's Recruiter Lite seat with 5 of its 30 credits left after 25 InMails
    (5/6 a day), and a Corporate seat drawing on an untouched pool of 150."""
    lite = make_seat(holder=org.recruiter, team=org.team)
    cause = Cause(actor=org.recruiter, via="web")
    for n in range(25):
        inmail_send(
            seat=lite,
            recipient=f"linkedin.com/in/candidate-{n}",
            subject="A role",
            body="Hello.",
            cause=cause,
        )
    pooled = make_seat(
        plan_code="recruiter_corporate",
        holder=org.recruiter,
        team=TeamFactory.create(name="Pool team"),
    )
    return lite, pooled


def test_each_card_shows_its_run_out_dates_and_draws_its_burn_down(
    browser_page: Page, org: Org, seats: tuple[Seat, Seat]
) -> None:
    lite, pooled = seats
    page = browser_page
    sign_in(page, org.recruiter)

    # 5 left at 5/6 a day: ⌊5d/6⌋ = 5 on day 6.
    card = _card(page, lite)
    expect(card.locator('[data-stat="run-out"]')).to_have_text(_on(6))
    expect(card.locator('[data-stat="pool-run-out"]')).to_have_count(0)
    expect(card.get_by_text("Own credits run out on", exact=True)).to_be_visible()
    chart = _chart(page, lite)
    assert chart["labels"] == 181
    assert chart["today"] == 90
    assert chart["actual"][:90] == [0] * 90  # activated today
    assert chart["actual"][90:] == [5] + [None] * 90
    assert chart["projected"][:90] == [None] * 90
    assert chart["projected"][90:97] == [5, 5, 4, 3, 2, 1, 0]
    assert chart["dash"] == [6, 4]
    summary = card.locator("[data-burndown-summary]")
    expect(summary).to_contain_text(f"Own credits run out on {_on(6)}.")
    expect(summary).to_contain_text("5 now")
    expect(card.locator("canvas")).to_have_attribute("role", "img")

    # The pooled seat sent nothing, and nobody spends from its pool.
    pooled_card = _card(page, pooled)
    expect(pooled_card.locator('[data-stat="run-out"]')).to_have_text("Not within a year")
    expect(pooled_card.locator('[data-stat="pool-run-out"]')).to_have_text("Not within a year")
    expect(pooled_card.get_by_text("Team pool runs out on", exact=True)).to_be_visible()
    pooled_chart = _chart(page, pooled)
    assert pooled_chart["actual"][90] == 150
    assert pooled_chart["projected"][90:92] == [150, 150]
    expect(pooled_card.locator("[data-burndown-summary]")).to_contain_text(
        "The team pool runs out not within a year."
    )
    expect_quiet_console(page)
    assert_accessible(page, "the home page with burn-down charts")

    # Logging one more InMail swaps the card in place; its chart is drawn again: 4 left at
    # 26/30 a day, ⌊13d/15⌋ = 4 on day 5.
    form = page.locator("#send-form")
    form.get_by_label("Seat").select_option(value=str(lite.pk))
    form.get_by_label("Recipient").fill("linkedin.com/in/one-more")
    form.get_by_label("Subject").fill("Another role")
    form.get_by_label("Message").fill("Hello again.")
    form.get_by_role("button", name="Log InMail").click()
    expect(card.locator('[data-stat="available"]')).to_have_text("4")
    expect(card.locator('[data-stat="run-out"]')).to_have_text(_on(5))
    expect(page.locator(f"#seat-card-{lite.pk}")).to_have_count(1)
    swapped = _chart(page, lite)
    assert swapped["actual"][90] == 4
    assert swapped["projected"][90:96] == [4, 4, 3, 2, 1, 0]
    expect(card.locator("[data-burndown-summary]")).to_contain_text(
        f"Own credits run out on {_on(5)}."
    )
    # The other card was not touched.
    assert _chart(page, pooled)["actual"][90] == 150
    expect_quiet_console(page)
    assert_accessible(page, "the home page after logging an InMail")


def test_on_a_phone_the_cards_and_their_charts_fit(
    browser_page: Page, org: Org, seats: tuple[Seat, Seat]
) -> None:
    lite, _ = seats
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, org.recruiter)

    chart = _chart(page, lite)

    assert 0 < chart["width"] <= 390
    assert_fits(page, "the home page on a phone")
    assert_accessible(page, "the home page on a phone")
    screenshot(page, "home-burndown-390")
