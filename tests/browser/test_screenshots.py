"""A picture of each main page, at a desktop size, for review (test-output/screenshots/).

The pages are filled with a small but complete organisation so each shows what it is for:
balances with credits about to expire, answered and pending InMails, a team pool, purchases,
a bonus and an adjustment in a seat's ledger, a CSV with a mistake, and raised alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger.models import InMailStatus, Notification
from ledger.notifications.alerts import alerts_raise
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    pool_transfer,
    purchase_record,
)
from teams.models import Seat
from tests.browser.conftest import BROWSER_TESTS, screenshot, sign_in, upload_csv
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

# Recipient, subject, and what became of the InMail.
OUTREACH = [
    ("linkedin.com/in/ada-lovelace", "Lead engineer, analytics platform", InMailStatus.ACCEPTED),
    ("linkedin.com/in/grace-hopper", "Compiler team at Talent North", InMailStatus.REPLIED),
    ("linkedin.com/in/alan-turing", "A quick question about your next move", InMailStatus.DECLINED),
    ("linkedin.com/in/katherine-johnson", "Orbital mechanics, but for hiring", None),
    ("linkedin.com/in/edsger-dijkstra", "Shortest path to a new role", None),
    ("linkedin.com/in/barbara-liskov", "Staff engineer, platform", InMailStatus.WITHDRAWN),
]


@dataclass
class Showcase:
    org: Org
    seat: Seat  # the recruiter's Recruiter Lite seat, 85 days old
    pooled: Seat  # the teammate's Recruiter Corporate seat, drawing from the team pool


@pytest.fixture
def showcase(org: Org) -> Showcase:
    today = timezone.localdate()
    by_admin = Cause(actor=org.admin, via="web")
    by_lead = Cause(actor=org.lead, via="web")
    by_recruiter = Cause(actor=org.recruiter, via="web")
    # 85 days old: its first month's credits expire within the week.
    seat = make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=85))
    pooled = make_seat(
        plan_code="recruiter_corporate",
        holder=org.teammate,
        team=org.team,
        activated_on=today - timedelta(days=20),
    )
    make_seat(
        plan_code="recruiter_corporate",
        holder=org.lead,
        team=org.team,
        activated_on=today - timedelta(days=20),
    )
    pool_transfer(team=org.team, seat=pooled, credits=25, cause=by_lead)
    purchase_record(seat=seat, credits=10, cause=by_admin)
    bonus_grant(seat=seat, credits=5, memo="Quarter's top sourcer", cause=by_admin)
    adjustment_post(seat=seat, credits=-2, reason="Reconciled with LinkedIn", cause=by_admin)
    for recipient, subject, outcome in OUTREACH:
        inmail = inmail_send(
            seat=seat,
            recipient=recipient,
            subject=subject,
            body="Hello, I lead recruiting for a team you would like. " * 6,
            cause=by_recruiter,
        ).inmail
        if outcome == InMailStatus.WITHDRAWN:
            inmail_withdraw(inmail=inmail, cause=by_recruiter)
        elif outcome is not None:
            inmail_record_response(inmail=inmail, outcome=outcome, cause=by_recruiter)
    alerts_raise()
    return Showcase(org=org, seat=seat, pooled=pooled)


def test_login_page(browser_page: Page) -> None:
    browser_page.goto("/accounts/login/")
    expect(browser_page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(browser_page, "login")


def test_recruiter_home(browser_page: Page, showcase: Showcase) -> None:
    sign_in(browser_page, showcase.org.recruiter)
    expect(browser_page.locator(f"#seat-card-{showcase.seat.pk}")).to_be_visible()
    expect(browser_page.locator("#my-inmails tbody tr")).to_have_count(len(OUTREACH))
    screenshot(browser_page, "recruiter-home")


def test_team_page_as_lead(browser_page: Page, showcase: Showcase) -> None:
    team = showcase.org.team
    sign_in(browser_page, showcase.org.lead, next_path=f"/teams/{team.pk}/")
    expect(browser_page.get_by_role("heading", name=team.name, level=1)).to_be_visible()
    expect(browser_page.locator(f"#team-seat-{showcase.pooled.pk}")).to_be_visible()
    screenshot(browser_page, "team-lead")


def test_admin_console_seat_page(browser_page: Page, showcase: Showcase) -> None:
    seat = showcase.seat
    sign_in(browser_page, showcase.org.admin, next_path=f"/manage/seats/{seat.pk}/")
    expect(browser_page.get_by_role("heading", name=f"Seat #{seat.pk}", level=1)).to_be_visible()
    screenshot(browser_page, "admin-seat")


def test_admin_console_seat_list(browser_page: Page, showcase: Showcase) -> None:
    sign_in(browser_page, showcase.org.admin, next_path="/manage/")
    expect(browser_page.locator(f'tr[data-seat-id="{showcase.seat.pk}"]')).to_be_visible()
    screenshot(browser_page, "admin-seats")


def test_seat_ledger_audit_view(browser_page: Page, showcase: Showcase) -> None:
    seat = showcase.seat
    sign_in(browser_page, showcase.org.admin, next_path=f"/manage/seats/{seat.pk}/ledger/")
    expect(browser_page.locator("table.entries")).to_contain_text("Reconciled with LinkedIn")
    screenshot(browser_page, "seat-ledger")


def test_csv_import_preview_with_errors(browser_page: Page, showcase: Showcase) -> None:
    week_ago = (timezone.localdate() - timedelta(days=7)).isoformat()
    history = (
        "holder,recipient,subject,body,sent_at,status,responded_at\n"
        f"recruiter,linkedin.com/in/one,Hello,First,{week_ago},accepted,{week_ago}\n"
        f"recruiter,linkedin.com/in/two,Hello,Second,{week_ago},maybe,\n"
        "somebody-else,linkedin.com/in/three,Hello,Third,not a date,pending,\n"
    )
    sign_in(browser_page, showcase.org.recruiter, next_path="/csv/")
    upload_csv(browser_page, "history.csv", history)
    expect(browser_page.locator("#import-problems tbody tr")).not_to_have_count(0)
    screenshot(browser_page, "csv-import-errors")


def test_notifications(browser_page: Page, showcase: Showcase) -> None:
    assert Notification.objects.filter(user=showcase.org.recruiter).exists()
    sign_in(browser_page, showcase.org.recruiter, next_path="/notifications/")
    expect(browser_page.locator("article.notification").first).to_be_visible()
    screenshot(browser_page, "notifications")


def test_api_docs(browser_page: Page) -> None:
    """Swagger UI under its own, wider policy: it renders the schema and nothing is refused."""
    browser_page.goto("/api/docs/")
    expect(browser_page.locator(".swagger-ui .info .title")).to_contain_text("InMail Ledger API")
    expect(browser_page.locator(".opblock").first).to_be_visible()
    screenshot(browser_page, "api-docs")
