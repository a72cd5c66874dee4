"""One worker's cost of an API send, in process: what `../shared/bench/send_throughput.sh`
spends per request, without the network and the other workers.

Usage (from the project's root, PostgreSQL and Redis running):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_profile \
        .venv/bin/python bench/send_profile.py [--sends 500] [--profile 40] [--setup]

`--setup` drops and builds the database with the shared benchmark's organisation
(`../shared/bench/send_setup.py`: 300 spread seats and a 20-seat pool). Then it sends `--sends`
InMails through Django's WSGI handler exactly as wrk does (token, Idempotency-Key, JSON), on
random spread seats, and prints the median and p90 wall and the mean CPU time per send; with
`--profile N` it prints cProfile's top N functions by cumulative time of a second round.
The server settings are the benchmark's (DEBUG=0, the Redis broker).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "bench"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_profile"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DB)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    env.update(
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY", "bench-profile-secret-key-not-for-production-0123"),
        ALLOWED_HOSTS="127.0.0.1,testserver",
        THROTTLE_WRITES="100000000/min",
        THROTTLE_AUTH_TOKEN="1000/min",  # noqa: S106 (a rate, not a password)
        CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
    )
    return env


def _setup(env: dict[str, str]) -> None:
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc"]
    drop = f"drop database if exists {name} with (force)"
    subprocess.run([*psql, drop, "-c", f"create database {name}"], check=True)  # noqa: S603
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
    subprocess.run(migrate, env=env, check=True, cwd=ROOT)  # noqa: S603
    setup = [sys.executable, str(SHARED / "send_setup.py"), "300", "20"]
    out = subprocess.run(  # noqa: S603
        setup, env=env, check=True, cwd=ROOT, capture_output=True, text=True
    ).stdout
    (ROOT / ".bench_profile_setup").write_text(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--pool", action="store_true", help="send from the pooled seats")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--callers", nargs="*", default=[])
    parser.add_argument("--callees", nargs="*", default=[], help="functions to break down")
    args = parser.parse_args()
    env = _environment()
    saved = ROOT / ".bench_profile_setup"
    if args.setup or not saved.exists():
        _setup(env)
    token, spread, pool = saved.read_text().split("\n")[:3]
    seats = [int(s) for s in (pool if args.pool else spread).split(",")]
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inmail_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    tag = random.randrange(10**9)
    counter = iter(range(10**9))

    def send() -> int:
        n = next(counter)
        key = f"{tag}-{n}"
        body = json.dumps(
            {
                "seat": random.choice(seats),
                "recipient": f"https://www.linkedin.com/in/cand-{key}",
                "subject": "Quick question",
                "body": "Hi, would this role be worth a conversation?",
            }
        ).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/inmails/",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Token {token}",
            "HTTP_IDEMPOTENCY_KEY": key,
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        chunks = handler(environ, lambda s, h: status.append(s))  # type: ignore[arg-type]
        b"".join(chunks)
        return int(status[0].split()[0])

    for _ in range(30):  # warm: connections, caches, the token
        assert send() == 201
    walls, cpu0 = [], time.process_time()
    for _ in range(args.sends):
        t = time.perf_counter()
        code = send()
        walls.append((time.perf_counter() - t) * 1000)
        assert code == 201, code
    cpu = (time.process_time() - cpu0) * 1000 / args.sends
    walls.sort()
    load = Path("/proc/loadavg").read_text().split()[0]
    which = "pool" if args.pool else "spread"
    print(
        f"{args.sends} sends ({which}): median {statistics.median(walls):.2f} ms, "
        f"p90 {walls[int(len(walls) * 0.9)]:.2f} ms, CPU {cpu:.2f} ms per send (load {load})"
    )
    if args.profile:
        profile = cProfile.Profile(time.process_time)  # CPU: waits are not our cost
        profile.enable()
        for _ in range(args.sends):
            send()
        profile.disable()
        stats = pstats.Stats(profile)
        stats.sort_stats(args.sort).print_stats(args.profile)
        for name in args.callees:
            stats.print_callees(name)
        for name in args.callers:
            stats.print_callers(name)


if __name__ == "__main__":
    main()
