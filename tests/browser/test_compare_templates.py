"""'Compare templates' in the browser (R22, issue 14 item 1): a lead opens it from the team page,
reads the verdict, the table and the chart with its whiskers; axe-core and a 390 px phone are
checked on the page at both widths."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger.services import Cause, HistoricInMail, inmails_import
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, sign_in
from tests.browser.walk import PHONE
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS


def test_a_lead_compares_templates_on_desktop_and_phone(browser_page: Page, org: Org) -> None:
    page = browser_page
    today = timezone.localdate()
    seat = make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=60))
    # History 40 days old: every 30-day window is over, so every InMail is eligible.
    sent_at = timezone.now() - timedelta(days=40)
    rows = [
        HistoricInMail(
            line=0,
            seat=seat,
            recipient=f"linkedin.com/in/{template.lower()}-{n}",
            subject="A role",
            body="Hello",
            sent_at=sent_at,
            status="replied" if n < replies else "pending",
            responded_at=sent_at + timedelta(hours=2) if n < replies else None,
            template=template,
        )
        for template, count, replies in [("Intro", 25, 15), ("Follow-up", 25, 5)]
        for n in range(count)
    ]
    rows = [replace(row, line=index + 2) for index, row in enumerate(rows)]
    inmails_import(user=org.admin, rows=rows, cause=Cause(org.admin, "test"))
    sign_in(page, org.lead, next_path=f"/teams/{org.team.pk}/")

    page.get_by_role("link", name="Compare templates").click()

    expect(page.get_by_role("heading", name="Compare templates")).to_be_visible()
    expect(page.locator("[data-verdict]")).to_have_text(
        "“Intro” (60% of 25) leads “Follow-up” (20% of 25): the difference is more than chance "
        "(the 95% intervals don't overlap; two-proportion test p = 0.004)."
    )
    lines = page.locator("[data-compare-table] tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.nth(1)).to_contain_text("60.0%")
    expect(lines.nth(1)).to_contain_text("40.7%–76.6%")
    # The script drew the chart with a whisker per bar.
    expect(page.locator("canvas[data-compare-chart]")).to_have_attribute("data-whiskers", "2")
    assert_accessible(page, "compare templates")
    assert_fits(page, "compare templates")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("canvas[data-compare-chart]")).to_have_attribute("data-whiskers", "2")
    assert_accessible(page, "compare templates on a phone")
    assert_fits(page, "compare templates on a phone")
