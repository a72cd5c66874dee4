"""The loaded site is frozen out of the garbage collector's full passes (inmail_site/heap.py),
and what is allocated afterwards is still collected."""

from __future__ import annotations

import gc
import importlib
import weakref
from collections.abc import Iterator

import pytest

import inmail_site.wsgi
from inmail_site.heap import freeze_loaded_objects


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
    assert gc.get_freeze_count() == 0
    loaded = len(gc.get_objects())

    frozen = freeze_loaded_objects()

    assert frozen == gc.get_freeze_count()
    # Everything alive was moved: the collector's own lists are (almost) empty.
    assert frozen > 0.9 * loaded
    assert len(gc.get_objects()) < 0.1 * loaded
    # A reference cycle made afterwards is garbage the collector still finds.
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None


def test_loading_the_wsgi_application_freezes_the_site(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0

    importlib.reload(inmail_site.wsgi)

    assert gc.get_freeze_count() > 10_000
    assert callable(inmail_site.wsgi.application)
