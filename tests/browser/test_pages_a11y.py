"""Every page, for every role, on a desktop and on a phone (issue 12, items 5 and 9).

Each role (a recruiter, the lead of a pooled team, an admin, and a signed-in person with no
team) visits every page it may see (tests/browser/walk.py) in a 1440 × 900 window, checks it,
then narrows the window to 390 × 844 and checks it again (the layout is CSS media queries and
Chart.js's resizing, nothing read from the width at load, so a page narrowed is the page loaded
narrow; one visit a page instead of two saves its render and axe's loading, issue 15 goal 4).
At each width:

- the page is no wider than the window (no sideways scroll of the page on a phone), as it
  loads and again with every <details> opened (the team page's "Numbers" tables, a seat's
  lots, the InMail rows' response forms);
- axe-core finds no violation of WCAG 2.0/2.1 A and AA nor of its best practices, with every
  <details> opened (which shows all the loaded page shows, and more);
- the console holds no error (the fixtures also fail on a script error, a refused resource or a
  static file that didn't load);

and a picture is kept as test-output/screenshots/<role>-<page>-<width>.png for review.

A page's problems are gathered and reported together at the end of its role's walk, so one run
shows everything left to fix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page, ViewportSize, expect

from teams.models import User
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, sign_in
from tests.browser.walk import (
    ADMIN,
    DESKTOP,
    LEAD,
    NOBODY,
    NOT_PAGES,
    PAGES,
    PHONE,
    RECRUITER,
    ROLES,
    SitePage,
    WalkOrg,
    picture,
    site_url_names,
    walk_org,
)
from tests.conftest import Org

pytestmark = BROWSER_TESTS

SIZES: dict[str, ViewportSize] = {"1440": DESKTOP, "390": PHONE}
# What Chromium logs for the 404 page's own status: expected there, an error anywhere else.
NOT_FOUND_LOG = "Failed to load resource: the server responded with a status of 404"


@pytest.fixture
def walk(org: Org) -> WalkOrg:
    return walk_org(org)


def _person(data: WalkOrg, role: str) -> User:
    return {
        RECRUITER: data.org.recruiter,
        LEAD: data.org.lead,
        ADMIN: data.org.admin,
        NOBODY: data.org.nobody,
    }[role]


class ConsoleErrors:
    """The console's errors since the last `take()`."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def take(self) -> list[str]:
        errors, self.errors = self.errors, []
        return errors


def open_every_details(page: Page) -> tuple[int, list[int]]:
    """Open every <details> of the page: how many there are, and the positions of those that
    were closed (for `close_details`)."""
    found: tuple[int, list[int]] = page.evaluate(
        """() => {
            const all = [...document.querySelectorAll("details")];
            const closed = all.flatMap((details, at) => (details.open ? [] : [at]));
            all.forEach((details) => { details.open = true; });
            return [all.length, closed];
        }"""
    )
    return found


def close_details(page: Page, positions: list[int]) -> None:
    """Close again the <details> at these positions: the page as it loaded."""
    page.evaluate(
        """(positions) => {
            const all = document.querySelectorAll("details");
            positions.forEach((at) => { all[at].open = false; });
        }""",
        positions,
    )


def resize(page: Page, size: ViewportSize) -> None:
    """Resize the window and wait two frames: the layout and Chart.js's redraw (it resizes on a
    ResizeObserver's frame, drawing at once as motion is reduced) are done."""
    page.set_viewport_size(size)
    page.evaluate(
        """() => new Promise((done) =>
            requestAnimationFrame(() => requestAnimationFrame(() => done(null))))"""
    )


def check_page(page: Page, where: str, problems: list[str]) -> None:
    """Fits the window as loaded and with every <details> open, and passes axe with them open;
    the <details> are then closed again, as they loaded.

    axe runs once per page and width: what a closed <details> shows (its summary) is there when
    it is open too, and the rest of the page is the same, so the page with every <details> open
    holds everything the loaded one does and what the <details> hide.
    """

    def run(check: Callable[[Page, str], None], label: str) -> None:
        try:
            check(page, label)
        except AssertionError as failure:
            problems.append(str(failure))

    run(assert_fits, where)
    details, closed = open_every_details(page)
    if details:
        where += " (details open)"
        run(assert_fits, where)
    run(assert_accessible, where)
    close_details(page, closed)


def visit(page: Page, site_page: SitePage, data: WalkOrg) -> None:
    response = page.goto(site_page.url(data))
    assert response is not None
    assert response.status == site_page.status, f"{site_page.name}: {response.status}"
    if site_page.prepare is not None:
        site_page.prepare(page, data)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_the_window_and_passes_axe(
    browser_page: Page, walk: WalkOrg, role: str
) -> None:
    page = browser_page
    console = ConsoleErrors(page)
    sign_in(page, _person(walk, role))
    problems: list[str] = []
    walked = [site_page for site_page in PAGES if role in site_page.roles]
    assert len(walked) >= 6
    for site_page in walked:
        console.take()
        page.set_viewport_size(DESKTOP)
        visit(page, site_page, walk)
        for width, size in SIZES.items():
            where = f"{role} {site_page.name} at {width} px"
            if page.viewport_size != size:  # the page loaded at the first width
                resize(page, size)
            assert page.evaluate("() => window.innerWidth") == size["width"], where
            picture(page, f"{role}-{site_page.name}-{width}")
            check_page(page, where, problems)
        errors = console.take()
        if site_page.status == 404:
            errors = [error for error in errors if not error.startswith(NOT_FOUND_LOG)]
        if errors:
            problems.append(f"console errors on {role} {site_page.name}:\n" + "\n".join(errors))
    assert not problems, f"{len(problems)} problems:\n\n" + "\n\n".join(problems)


@pytest.mark.parametrize("width", list(SIZES))
def test_the_login_page_fits_and_passes_axe_also_with_an_error(
    browser_page: Page, org: Org, width: str
) -> None:
    page = browser_page
    page.set_viewport_size(SIZES[width])
    console = ConsoleErrors(page)
    page.goto("/accounts/login/")
    picture(page, f"anonymous-login-{width}")
    problems: list[str] = []
    check_page(page, f"the login page at {width} px", problems)

    page.get_by_label("Username").fill(org.recruiter.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    check_page(page, f"the login page's refusal at {width} px", problems)
    assert not problems, "\n\n".join(problems)
    assert console.take() == []


def test_every_page_of_the_site_is_walked() -> None:
    """A page added to the URL map is walked here too, or named as not a page of its own."""
    walked = {site_page.url_name for site_page in PAGES if site_page.url_name}
    routed = site_url_names()
    unwalked = routed - walked - set(NOT_PAGES)
    assert not unwalked, f"pages not in tests/browser/walk.py PAGES: {sorted(unwalked)}"
    stale = (walked | set(NOT_PAGES)) - routed
    assert not stale, f"walk.py names URLs the site no longer has: {sorted(stale)}"
