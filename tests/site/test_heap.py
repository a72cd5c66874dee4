"""The loaded site is frozen out of the garbage collector's full passes (inmail_site/heap.py),
and what is allocated afterwards is still collected."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from inmail_site.heap import freeze_loaded_objects

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen in this process (another test module's
    import of inmail_site.wsgi froze what the test process had loaded then)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_loaded_objects_are_frozen_and_later_garbage_is_still_collected(
    unfrozen: None,
) -> None:
    gc.collect()
    assert gc.get_freeze_count() == 0
    loaded = len(gc.get_objects())

    frozen = freeze_loaded_objects()

    # A frozen object whose last reference goes (a temporary of another thread: xdist's
    # execnet channel) leaves the permanent generation, so the count can only shrink.
    assert 0.99 * frozen < gc.get_freeze_count() <= frozen
    # Everything alive was moved: the collector's own lists are (almost) empty.
    assert frozen > 0.9 * loaded
    assert len(gc.get_objects()) < 0.1 * loaded
    # The collector still runs, and a reference cycle made afterwards is garbage it finds.
    assert gc.isenabled()
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None


def test_a_process_that_loads_the_wsgi_application_has_frozen_the_site() -> None:
    """In a process of its own, as a gunicorn worker loads it (reloading the module here would
    set Django up again in the test process)."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, inmail_site.wsgi; print(gc.get_freeze_count(), gc.isenabled())",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "inmail_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, enabled = loaded.stdout.split()
    assert int(frozen) > 10_000
    assert enabled == "True"
