"""The notifications page in a browser (issue 12, item 8): repeats come grouped, marking a group
read updates it and the unread counts in place, and a notification's link opens the seat it
speaks of. The page is read again after every action."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from ledger.models import AlertKind, Notification
from teams.models import Seat, User
from tests.browser.conftest import BROWSER_TESTS, expect_quiet_console, sign_in
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS


def _notify(user: User, seat: Seat, kind: str, title: str, *, days_ago: int) -> Notification:
    created_at = timezone.now() - timedelta(days=days_ago)
    return Notification.objects.create(
        user=user,
        kind=kind,
        key=f"{kind}:{days_ago}",
        title=title,
        body=f"{title}.",
        seat=seat,
        team=seat.team,
        created_at=created_at,
    )


def test_grouped_notifications_are_marked_read_in_place_and_link_to_their_seat(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    seat = make_seat(holder=org.recruiter, team=org.team)
    for days_ago, left in ((40, 9), (20, 6)):
        title = f"{left} credits left"
        _notify(org.recruiter, seat, AlertKind.LOW_BALANCE, title, days_ago=days_ago)
    latest = _notify(org.recruiter, seat, AlertKind.LOW_BALANCE, "3 credits left", days_ago=1)
    expiring = _notify(org.recruiter, seat, AlertKind.EXPIRING, "2 credits expire", days_ago=2)

    sign_in(page, org.recruiter, next_path="/notifications/")

    groups = page.locator("article.notification")
    expect(groups).to_have_count(2)
    low = page.locator(f"#notification-{latest.pk}")
    expect(low).to_have_attribute("data-repeats", "3")
    expect(low.locator("header strong")).to_have_text("3 credits left")
    expect(low.locator(".repeats")).to_contain_text(
        "Balance running low · your Recruiter Lite seat in Talent North — 3 times"
    )
    expect(low.locator(".repeats")).to_contain_text("3 unread")
    earlier = low.locator(".repeats-earlier li")
    expect(earlier).to_have_count(2)
    expect(earlier.first).to_be_hidden()
    low.get_by_text("The 2 earlier ones").click()
    expect(earlier.nth(0)).to_contain_text("6 credits left")
    expect(earlier.nth(1)).to_contain_text("9 credits left")
    expect(page.locator("#unread-summary")).to_have_text("4 unread")
    expect(page.locator("#nav-unread .badge")).to_have_text("4")

    # Marking the group read marks its three notifications, and only those, in place.
    low.get_by_role("button", name="Mark these as read").click()
    low = page.locator(f"#notification-{latest.pk}")
    expect(low.locator("mark")).to_have_count(0)
    expect(low.get_by_role("button")).to_have_count(0)
    expect(low.locator(".repeats")).not_to_contain_text("unread")
    expect(page.locator("#unread-summary")).to_have_text("1 unread")
    expect(page.locator("#nav-unread .badge")).to_have_text("1")
    expect(page.locator(f"#notification-{expiring.pk} mark")).to_have_text("New")
    expect(groups).to_have_count(2)
    expect_quiet_console(page)
    assert Notification.objects.filter(read_at__isnull=True).get() == expiring

    # The group's link opens the seat's card on the home page.
    low.get_by_role("link", name="See your Recruiter Lite seat in Talent North").click()
    expect(page).to_have_url(re.compile(rf"^https?://[^/]+/#seat-card-{seat.pk}$"))
    card = page.locator(f"#seat-card-{seat.pk}")
    expect(card).to_be_visible()
    expect(card.locator('[data-stat="available"]')).to_have_text("30")
    expect(page.locator("#nav-unread .badge")).to_have_text("1")
    expect_quiet_console(page)
