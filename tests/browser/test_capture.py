"""A picture Chromium refuses to capture is asked for again; any other failure is raised."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Error, Page

from tests.browser.conftest import capture

REFUSED = "Page.screenshot: Protocol error (Page.captureScreenshot): Unable to capture screenshot"


class _Chromium:
    """Stands in for a page: answers each screenshot with the next of its answers."""

    def __init__(self, *answers: Exception | None) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, Any]] = []
        self.waited: list[float] = []

    def screenshot(self, **options: Any) -> None:
        self.asked.append(options)
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer
        Path(options["path"]).write_bytes(b"png")

    def wait_for_timeout(self, ms: float) -> None:
        self.waited.append(ms)


def test_a_refused_capture_is_asked_again_until_it_is_taken(tmp_path: Path) -> None:
    chromium = _Chromium(Error(REFUSED), Error(REFUSED), None)

    capture(cast(Page, chromium), tmp_path / "shot.png")

    assert (tmp_path / "shot.png").read_bytes() == b"png"
    assert len(chromium.asked) == 3
    assert chromium.waited == [250, 500]
    assert chromium.asked[0] == {
        "path": tmp_path / "shot.png",
        "full_page": True,
        "animations": "disabled",
        "caret": "initial",
    }


def test_a_capture_refused_every_time_fails_after_three_asks(tmp_path: Path) -> None:
    chromium = _Chromium(Error(REFUSED), Error(REFUSED), Error(REFUSED), None)

    with pytest.raises(Error, match="Unable to capture screenshot"):
        capture(cast(Page, chromium), tmp_path / "shot.png")

    assert len(chromium.asked) == 3
    assert not (tmp_path / "shot.png").exists()


def test_any_other_failure_is_raised_at_once(tmp_path: Path) -> None:
    chromium = _Chromium(Error("Target page, context or browser has been closed"), None)

    with pytest.raises(Error, match="has been closed"):
        capture(cast(Page, chromium), tmp_path / "shot.png")

    assert len(chromium.asked) == 1
    assert chromium.waited == []
