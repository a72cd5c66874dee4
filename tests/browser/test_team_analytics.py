"""The team page's analytics in the browser (issue 12, item 7): a lead picks a range of dates,
sorts the recruiters by response rate, opens one recruiter's InMails, downloads the table on
screen, and reads the weekday × hour heat map; the page passes axe-core and fits a phone after
each step. The story (imported April 2025 history, June 2026 outreach) is in
tests/pages/team_analytics_helpers.py; here the clock is the real one, long after both.
"""

from __future__ import annotations

import csv
import io
import json
import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, sign_in
from tests.conftest import Org
from tests.pages.team_analytics_helpers import story

pytestmark = BROWSER_TESTS


def recruiter_rows(page: Page) -> list[str]:
    rows = page.locator("#rates-recruiter-table tbody tr")
    return [str(row.get_attribute("data-rate-row")) for row in rows.all()]


def test_a_lead_ranges_sorts_opens_and_downloads_the_team_analytics(
    browser_page: Page, org: Org
) -> None:
    story(org)
    page = browser_page
    today = timezone.localdate().isoformat()
    sign_in(page, org.lead, next_path=f"/teams/{org.team.pk}/")

    # A range of dates: the whole story, from April 2025 to today.
    custom = page.get_by_role("form", name="Custom date range")
    custom.get_by_label("From").fill("2025-04-01")
    custom.get_by_label("To").fill(today)
    custom.get_by_role("button", name="Show range").click()

    expect(page).to_have_url(re.compile(rf"\?from=2025-04-01&to={today}$"))
    expect(page.locator('[data-stat="period"]')).to_contain_text(
        f"InMails sent 2025-04-01 to {today}"
    )
    # Every window is over now: 3 of Ada's 4, 1 of Bob's 3 (his pending one counts unanswered).
    expect(page.locator('[data-stat="rates-overall"]')).to_have_text(
        re.compile(r"57%\s+of 7 eligible \(7 sent\)")
    )
    months = json.loads(page.locator("#chart-rate-month").text_content() or "{}")
    assert (months["labels"][0], months["labels"][-1], len(months["labels"])) == (
        "Apr 2025",
        "Jun 2026",
        15,
    )
    expect(page.locator('canvas[data-chart="chart-rate-month"]')).to_have_attribute(
        "data-drawn", "1"
    )

    # Sort the recruiters by response rate: Bob (1 of 3) before Ada (3 of 4).
    recruiter = page.locator("#rates-recruiter")
    recruiter.locator("summary", has_text="Numbers").click()
    assert recruiter_rows(page) == ["recruiter", "teammate"]
    recruiter.get_by_role("link", name="Response rate", exact=True).click()

    expect(page).to_have_url(re.compile(r"sort=recruiter\.response_rate#rates-recruiter$"))
    expect(recruiter.locator("details.numbers")).to_have_attribute("open", "")
    assert recruiter_rows(page) == ["teammate", "recruiter"]
    rate_header = recruiter.get_by_role("columnheader", name="Response rate")
    expect(rate_header).to_have_attribute("aria-sort", "ascending")
    assert_accessible(page, "team page, recruiters sorted by response rate")

    # The CSV of the table on screen: the same rows in the same order.
    with page.expect_download() as download:
        recruiter.get_by_role("link", name="Download CSV of the response rate by recruiter").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["label"], row["sent"], row["response_rate"]) for row in rows] == [
        ("Bob Brown", "3", "0.3333"),
        ("Ada Lovelace", "4", "0.7500"),
    ]
    assert download.value.suggested_filename == (
        f"talent-north-recruiter-2025-04-01-to-{today}.csv"
    )

    # From Ada's row to her InMails in this team and range.
    recruiter.get_by_role("link", name=re.compile(r"^Ada Lovelace\W+their InMails$")).click()

    panel = page.locator("#recruiter-inmails")
    expect(panel.get_by_role("heading")).to_have_text("InMails of Ada Lovelace in Talent North")
    expect(panel.locator("tbody tr")).to_have_count(4)
    expect(panel).to_contain_text("Page 1 of 1 (4 InMails)")
    # The sort and the range came along.
    assert recruiter_rows(page) == ["teammate", "recruiter"]
    assert_accessible(page, "team page with Ada's InMails")

    # The heat map: Monday 10:00 (UTC, the organisation's zone) holds every InMail.
    heat = page.get_by_role("region", name="Response rate by weekday and hour")
    expect(heat.locator('td[data-heat="1-10"]')).to_have_text(re.compile(r"57%\s*of\s*7"))
    expect(heat.locator("tbody tr")).to_have_count(24)
    heat.focus()
    expect(heat).to_be_focused()

    # On a phone the page still fits: wide tables scroll inside their own regions.
    page.set_viewport_size({"width": 390, "height": 844})
    for details in page.locator("details.numbers").all():
        details.evaluate("(element) => { element.open = true; }")
    assert_fits(page, "team page analytics at 390 px")
    assert_accessible(page, "team page analytics at 390 px, every table open")


def test_a_refused_range_says_why_in_the_form(browser_page: Page, org: Org) -> None:
    story(org)
    page = browser_page
    sign_in(page, org.lead, next_path=f"/teams/{org.team.pk}/")

    custom = page.get_by_role("form", name="Custom date range")
    custom.get_by_label("From").fill("2026-06-10")
    custom.get_by_label("To").fill("2026-06-01")
    custom.get_by_role("button", name="Show range").click()

    expect(custom.locator(".errorlist")).to_have_text("To: The range ends before it starts.")
    expect(custom.get_by_label("To")).to_have_attribute("aria-invalid", "true")
    # The default period is shown meanwhile; the menu of presets still works.
    preset = page.get_by_role("form", name="Analytics period")
    preset.get_by_label("Period").select_option("12")
    preset.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"\?months=12$"))
    expect(page.locator(".errorlist")).to_have_count(0)
    expect(page.locator('[data-stat="period"]')).to_contain_text("(the last 12 months)")
    assert_accessible(page, "team page, the last 12 months")
