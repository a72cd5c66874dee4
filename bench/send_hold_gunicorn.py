"""Gunicorn configuration for `bench/send_hold.sh`: each worker times every send through the API
from the moment its account group is locked (`_lock_seat_group` returns) to the end of its
commit, and the wait for that lock. SIGUSR2 forgets what was timed so far; SIGTERM writes one
line per send to $HOLD_DIR/hold.<pid> ("<wait ms> <hold ms>") and ends the worker. On a hot
pool every send locks the pool's account, so the sends follow one another and the pool's
throughput is at most 1 / the mean hold.

Measurement only: it wraps two functions of the running code, changes no answer, and is never
used by the product.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any


def post_worker_init(worker: Any) -> None:
    # Imported here: gunicorn reads this file before the worker has set Django up, and the
    # ledger's modules need the settings and the app registry (not an import cycle).
    from django.db.backends.base.base import BaseDatabaseWrapper

    from ledger.services import inmails

    marks: list[tuple[float, float]] = []
    state: dict[str, float] = {}
    lock = inmails._lock_seat_group  # type: ignore[attr-defined]

    def timed_lock(seat_id: int) -> Any:
        state["asked"] = time.perf_counter()
        group = lock(seat_id)
        state["locked"] = time.perf_counter()
        return group

    commit = BaseDatabaseWrapper.commit

    def timed_commit(self: BaseDatabaseWrapper) -> None:
        commit(self)
        if "locked" in state:
            done = time.perf_counter()
            marks.append((state["locked"] - state["asked"], done - state["locked"]))
        state.clear()

    inmails._lock_seat_group = timed_lock  # type: ignore[attr-defined]
    BaseDatabaseWrapper.commit = timed_commit  # type: ignore[method-assign]

    def write(*_: Any) -> None:
        with open(os.path.join(os.environ["HOLD_DIR"], f"hold.{os.getpid()}"), "w") as out:
            out.writelines(f"{wait * 1000:.3f} {hold * 1000:.3f}\n" for wait, hold in marks)
        os._exit(0)

    for stop in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(stop, write)
    signal.signal(signal.SIGUSR2, lambda *_: marks.clear())  # the warm-up's sends
