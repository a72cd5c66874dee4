"""Browser tests: Debian's headless Chromium, driven by Playwright, against the live server.

Playwright's sync API keeps an asyncio event loop running in the main thread for as long as
it is started, and Django refuses ORM calls from a thread with a running loop
(`SynchronousOnlyOperation`). So the browser lives only as long as this package's tests (not
the whole session, as pytest-playwright's own `browser` fixture would have it, which would
break every ORM test that runs after these), and `DJANGO_ALLOW_ASYNC_UNSAFE` is set for that
time only: the test body and the live server never touch the database at the same moment,
because a Playwright call blocks the test until the browser's request is answered.

Pages are rendered with plain static storage (no collected manifest); the live server serves
`/static/` from the finders, so Pico CSS, htmx and Chart.js load as in development. Every page
fails its test on a JavaScript error, an unexpected dialog, a static file that doesn't load or
anything the Content-Security-Policy blocks; a page that is photographed also on any console
error.

Without Chromium these tests skip and say how to install it; CI installs it and fails on a skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Error,
    FilePayload,
    Page,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from teams.models import User

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
FAILURES = OUTPUT / "failures"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
# The password every UserFactory user has.
PASSWORD = "correct horse battery staple"
# What every module here marks its tests with: the live server needs committed data, and
# transaction=True also makes tests/conftest.py put the plan catalog back after a flush.
BROWSER_TESTS = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the call's outcome on the item, so the page fixture can keep a failure's picture."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def chromium_missing(path: Path) -> str | None:
    """Why the browser tests can't run with the Chromium at `path`, or None when they can."""
    if path.is_file() and os.access(path, os.X_OK):
        return None
    return f"Chromium not found at {path}: apt-get install --no-install-recommends chromium"


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    missing = chromium_missing(CHROMIUM)
    if missing:
        pytest.skip(missing)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                # Root in a container: no user namespaces for the sandbox, a small /dev/shm.
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _browser_static(plain_static_storage: None) -> None:
    """Templates link uncollected static files, which the live server serves."""


@pytest.fixture
def browser_page(
    chromium: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Generator[Page, None, None]:
    """A fresh desktop-sized tab on the live server that fails the test on a JS error, any
    dialog (but a confirm the test announced with `accept_confirm`; an injected script would
    ask one) or a broken asset."""
    context = chromium.new_context(
        base_url=live_server.url,
        viewport=VIEWPORT,
        locale="en-US",
        timezone_id="UTC",
        # charts.js draws without animation then, so a picture never catches a chart mid-way.
        reduced_motion="reduce",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    _BASE_URLS[page] = live_server.url
    problems: list[str] = []

    expected_confirms = _EXPECTED_CONFIRMS.setdefault(page, [])

    def on_dialog(dialog: Dialog) -> None:
        if dialog.type == "confirm" and dialog.message in expected_confirms:
            expected_confirms.remove(dialog.message)
            dialog.accept()
            return
        problems.append(f"unexpected {dialog.type} dialog: {dialog.message!r}")
        dialog.dismiss()

    def on_response(response: Response) -> None:
        if "/static/" in response.url and response.status >= 400:
            problems.append(f"static file {response.url} answered {response.status}")

    def on_page_error(error: Error) -> None:
        problems.append(f"JavaScript error: {error}")

    def on_console(message: ConsoleMessage) -> None:
        # Chromium reports what the Content-Security-Policy refused on the console.
        if "Content Security Policy" in message.text:
            problems.append(f"blocked by the Content-Security-Policy: {message.text}")

    page.on("dialog", on_dialog)
    page.on("response", on_response)
    page.on("pageerror", on_page_error)
    page.on("console", on_console)
    yield page
    if request.node.stash.get(_CALL_FAILED, False):
        FAILURES.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        capture(page, FAILURES / f"{name}.png")
    context.close()
    _BASE_URLS.pop(page, None)
    _EXPECTED_CONFIRMS.pop(page, None)
    if expected_confirms:
        problems.append(f"confirm dialogs expected but never asked: {expected_confirms}")
    assert not problems, "the page misbehaved:\n" + "\n".join(problems)


# Confirm dialogs a test is about to cause on purpose (hx-confirm), by page: each is accepted once.
_EXPECTED_CONFIRMS: dict[Page, list[str]] = {}
# The live server's address of each open tab, for the session cookie of `sign_in`.
_BASE_URLS: dict[Page, str] = {}


def accept_confirm(page: Page, message: str) -> None:
    """Accept the confirm dialog with this message the next time the page asks it (a test's
    own action, such as a withdrawal); any other dialog still fails the test."""
    _EXPECTED_CONFIRMS.setdefault(page, []).append(message)


def sign_in_by_form(page: Page, user: User, *, next_path: str = "/") -> None:
    """Sign in through the form, as a person would (the tests of signing in use this)."""
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in(page: Page, user: User, *, next_path: str = "/") -> None:
    """Open `next_path` signed in as `user`: a session made on the server (the test client's
    `force_login`) and its cookie given to the browser, as Playwright's saved storage state
    would. The form and its refusals have tests of their own (`sign_in_by_form`); the other
    tests skip its round trips and the home page it lands on (~0.3 s each, issue 15 goal 4).
    """
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.value,
                "url": _BASE_URLS[page],
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    page.goto(next_path)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def upload_csv(page: Page, name: str, text: str) -> None:
    """Choose a CSV file on the CSV page and ask for its preview."""
    payload: FilePayload = {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    page.get_by_label("CSV file").set_input_files(files=[payload])
    page.get_by_role("button", name="Upload and preview").click()


def expect_styled(page: Page) -> None:
    """Every stylesheet the page links loaded and has rules (Pico and app.css, not bare HTML)."""
    sheets = page.evaluate(
        """() => [...document.querySelectorAll('link[rel="stylesheet"]')].map(
            (link) => [link.href, link.sheet ? link.sheet.cssRules.length : 0])"""
    )
    assert sheets, "the page links no stylesheet"
    empty = [href for href, rules in sheets if not rules]
    assert not empty, f"stylesheets that did not load: {empty}"


def settle(page: Page) -> None:
    """Wait until the page has loaded everything it links, its fonts are ready and htmx is idle.

    Not Playwright's "networkidle", which waits for half a second without any request after
    the last one, on every page: the site starts no request of its own after the load event
    but htmx's, and those are waited for here (and by axe, tests/browser/axe.py).
    """
    page.wait_for_load_state("load")
    page.evaluate(
        """async () => {
            await document.fonts.ready;
            const busy = () =>
                document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling");
            for (let i = 0; i < 100 && busy(); i++) {
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
        }"""
    )


def expect_quiet_console(page: Page) -> None:
    """The console holds no error: no refused resource, no failed request, no script error."""
    errors = [message.text for message in page.console_messages() if message.type == "error"]
    assert not errors, "console errors:\n" + "\n".join(errors)


def screenshot(page: Page, name: str) -> Path:
    """A full-page picture for review, under test-output/screenshots/, of a page that loaded
    everything it links and said nothing on the console."""
    expect_styled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Charts are drawn after load; let them and the fonts settle before the picture.
    settle(page)
    expect_quiet_console(page)
    capture(page, path)
    return path


# Chromium now and then refuses one capture and takes the very same picture when asked again
# a moment later (seen in this project's CI on 2026-12-05, and reported for Playwright by other
# projects: https://github.com/MarketSquare/robotframework-browser/issues/5237). A picture is
# for review, not an assertion, so a refused capture is asked again, a few times at most.
_CAPTURE_REFUSED = "Unable to capture screenshot"
_CAPTURE_TRIES = 3


def capture(page: Page, path: Path) -> None:
    """Write a full-page picture of the page as it is to path, asking again if Chromium
    refuses the capture itself (any other error is raised at once).

    caret="initial": hiding the caret leaves style="" on text fields, which htmx copies onto
    the fields it swaps in and the CSP then refuses; pictures between actions must not.
    """
    for attempt in range(1, _CAPTURE_TRIES + 1):
        try:
            page.screenshot(path=path, full_page=True, animations="disabled", caret="initial")
            return
        except Error as error:
            if _CAPTURE_REFUSED not in str(error) or attempt == _CAPTURE_TRIES:
                raise
            page.wait_for_timeout(250 * attempt)
