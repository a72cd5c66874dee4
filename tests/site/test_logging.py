"""The console log prints each record once, Django's own included, under `make run` (DEBUG=1)
as in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PROBES = {
    "django.request": "warning",
    "django": "info",
    "django.db.backends": "error",
    "ledger.tasks": "info",
}


@pytest.mark.parametrize("debug", ["1", "0"])
def test_every_record_is_printed_once(debug: str) -> None:
    logs = "; ".join(
        f"logging.getLogger({name!r}).{level}('probe from {name}')"
        for name, level in PROBES.items()
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", f"import django, logging; django.setup(); {logs}"],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "inmail_site.settings",
            "DEBUG": debug,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    printed = result.stderr.splitlines()
    assert {name: printed.count(f"probe from {name}") for name in PROBES} == dict.fromkeys(
        PROBES, 1
    ), result.stderr
