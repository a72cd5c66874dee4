"""The objects a web process loads once kept out of the garbage collector's full passes
(issue 15 goal 2: the pages' p95).

A loaded site is about a hundred thousand objects (modules, classes, functions, the URL
configuration, settings) that live as long as the process. CPython's full collection walks
every tracked object each time it runs, which a page's own allocations trigger every few
requests: 50–70 ms in the middle of a request, in a process that has served the pages (the
admin overview's p95 at a million InMails was 172–179 ms against a median of 104–108 ms,
every slow run one full collection; bench/RESULTS.md). `gc.freeze()` moves everything alive
at that moment to a permanent generation that collections skip; what requests allocate is
collected as before. Whatever loading left unreachable is collected first, so no garbage is
kept for good.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def freeze_loaded_objects() -> int:
    """Import every view (through the URL configuration), collect, then freeze what is alive.
    Returns how many objects are frozen. Called once a process has loaded the site
    (`inmail_site.wsgi`), before its first request."""
    get_resolver().url_patterns  # noqa: B018 - the property imports every view module
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
