"""A redis-server of a test's own, on a free port, which the test may stop and start again.

Tests of what happens when Redis goes away (tests/api/test_outages.py), and of what the app
keeps in Redis between requests and jobs (tests/ledger/test_alert_pass_queue.py), use it through the
`own_redis` fixture (tests/conftest.py) as the app's cache and Celery broker: a Redis they may
stop, with nothing else in it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


REDIS_NO_DISK = ("--save", "", "--appendonly", "no")


class RedisServer:
    """A redis-server of this test's own, which the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (CI installs and starts Redis)"
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments
            [binary, *("--port", str(self.port), "--bind", "127.0.0.1"), *REDIS_NO_DISK],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the test's redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stored_keys(self) -> list[str]:
        return [str(key) for key in redis.Redis.from_url(self.url).keys("*")]
