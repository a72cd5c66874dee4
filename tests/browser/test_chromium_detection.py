"""Without Chromium the browser tests skip and say how to install it."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import chromium_missing


def test_a_missing_chromium_is_named_with_its_install_command(tmp_path: Path) -> None:
    missing = tmp_path / "chromium"

    assert chromium_missing(missing) == (
        f"Chromium not found at {missing}: apt-get install --no-install-recommends chromium"
    )


def test_a_file_that_cannot_run_is_no_chromium(tmp_path: Path) -> None:
    binary = tmp_path / "chromium"
    binary.write_text("not a program")
    binary.chmod(0o644)

    assert chromium_missing(binary) is not None


def test_an_executable_chromium_is_found(tmp_path: Path) -> None:
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)

    assert chromium_missing(binary) is None
