"""Accessibility and phone-width checks for the browser tests (issue 12, items 5 and 9).

`assert_accessible` runs axe-core, vendored from npm under tests/browser/vendor/axe-core/ (a
test-only copy: the site never serves it), on the page as it is now, and fails on any
violation of the WCAG 2.0 and 2.1 A and AA rules or of axe's best practices, listing each with
its rule id, impact, the elements it found and axe's help text.

The site's Content-Security-Policy allows only its own script files, so axe is not added as a
<script> tag (an inline one would be refused, and a file one would have to be served): its
source is evaluated through the DevTools protocol, which the policy does not govern, so the
page under test keeps its real policy and the fixtures still fail on anything it refuses.

`assert_fits` fails when the page is wider than the window: at 390 px nothing may need a
sideways scroll of the whole page (a wide table scrolls inside its own focusable region).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, TypedDict

from playwright.sync_api import Locator, Page

AXE_DIR = Path(__file__).resolve().parent / "vendor" / "axe-core"
AXE_SOURCE = AXE_DIR / "axe.min.js"
# What the checks hold the pages to: WCAG 2.0 and 2.1, levels A and AA, and axe's own best
# practices (landmarks, one h1, heading order, ...), which it also reports as violations.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


class Violation(TypedDict):
    id: str
    impact: str | None
    help: str
    targets: list[str]


@cache
def axe_version() -> str:
    return (AXE_DIR / "VERSION").read_text().strip()


@cache
def _axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def _load_axe(page: Page) -> None:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # The UMD bundle defines window.axe when evaluated as a script in the page's main world.
        page.evaluate(_axe_source())
        loaded = page.evaluate("() => window.axe && window.axe.version")
        assert loaded == axe_version(), f"axe-core {axe_version()} did not load (got {loaded!r})"


# Until htmx has swapped and settled and CSS transitions have ended, colours are in between
# (a fading row measures as low contrast): axe reads the page only once it is still. A page
# whose request a test holds on purpose (`requests_held`) is still once its swaps are.
_SETTLE = """async (requestsHeld) => {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const swapping = ".htmx-swapping, .htmx-settling, .htmx-added";
    const busy = () => document.querySelector(
        requestsHeld ? swapping : `.htmx-request, ${swapping}`);
    for (let i = 0; i < 100 && busy(); i++) await sleep(50);
    const finite = document.getAnimations().filter(
        (a) => a.effect && a.effect.getTiming().iterations !== Infinity);
    await Promise.race([
        Promise.all(finite.map((a) => a.finished.catch(() => null))),
        sleep(3000),
    ]);
}"""


def axe_violations(page: Page, *, requests_held: bool = False) -> list[Violation]:
    """Every axe violation on the page once it is still (`requests_held`: a test holds an
    htmx request on purpose, so the page is still while it waits)."""
    page.evaluate(_SETTLE, requests_held)
    _load_axe(page)
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return results.violations.map((violation) => ({
                id: violation.id,
                impact: violation.impact,
                help: violation.help,
                targets: violation.nodes.map((node) => node.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )
    return [
        Violation(id=v["id"], impact=v["impact"], help=v["help"], targets=list(v["targets"]))
        for v in found
    ]


def describe(violations: list[Violation]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["targets"])
        for v in violations
    )


def assert_accessible(page: Page, where: str = "", *, requests_held: bool = False) -> None:
    """axe-core finds no violation on the page as it is now."""
    violations = axe_violations(page, requests_held=requests_held)
    label = where or page.url
    assert not violations, f"axe-core {axe_version()} on {label}:\n{describe(violations)}"


def page_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    width: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return max(0, width)


def assert_fits(page: Page, where: str = "") -> None:
    """The page is no wider than the window: nothing needs a sideways scroll of the page."""
    viewport = page.viewport_size
    assert viewport is not None
    scroll_width: int = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"], (
        f"{where or page.url} is {scroll_width} px wide in a {viewport['width']} px window"
        f"; widest elements: {widest_elements(page)}"
    )


def widest_elements(page: Page) -> list[str]:
    """The elements that reach past the window's right edge, deepest first, but those inside
    something that scrolls or clips them: where to look."""
    found: list[str] = page.evaluate(
        """() => {
            const limit = document.documentElement.clientWidth;
            const contained = (el) => {
                for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                    if (getComputedStyle(up).overflowX !== "visible") return true;
                }
                return false;
            };
            const out = [];
            for (const el of document.body.querySelectorAll("*")) {
                const box = el.getBoundingClientRect();
                if (box.right > limit + 0.5 && box.width > 0 && !contained(el)) {
                    let name = el.tagName.toLowerCase();
                    if (el.id) name += "#" + el.id;
                    if (el.classList.length) name += "." + [...el.classList].join(".");
                    out.push(`${name} (right ${Math.round(box.right)})`);
                }
            }
            return out.reverse().slice(0, 5);
        }"""
    )
    return found


def tab_to(page: Page, target: Locator, *, limit: int = 200) -> None:
    """Press Tab until `target` has the focus, as a keyboard user reaches it; fail if it never
    does within `limit` presses (it is not focusable, or hidden, or out of the tab order)."""
    element = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(element) => element === document.activeElement", element):
            return
    raise AssertionError(f"{target} never had the focus after {limit} presses of Tab")


def assert_unclipped(target: Locator) -> None:
    """The element, scrolled into view, lies wholly inside the window and nothing covers or
    clips it: each end and its middle are the element itself (or something inside it)."""
    seen: dict[str, Any] = target.evaluate(
        """(element) => {
            element.scrollIntoView({block: "center", inline: "nearest"});
            const box = element.getBoundingClientRect();
            const width = document.documentElement.clientWidth;
            const y = box.top + box.height / 2;
            const points = [box.left + 1, box.left + box.width / 2, box.right - 1];
            const covered = points.filter((x) => {
                const hit = document.elementFromPoint(x, y);
                return !(hit && (hit === element || element.contains(hit)));
            });
            return {left: box.left, right: box.right, width, covered};
        }"""
    )
    assert seen["left"] >= 0, f"{target} sticks out on the left: {seen}"
    assert seen["right"] <= seen["width"], f"{target} sticks out on the right: {seen}"
    assert not seen["covered"], f"{target} is cut off or covered at x = {seen['covered']}"
