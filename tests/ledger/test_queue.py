"""Publishing a follow-up job by name finds its task in a web process too.

A service publishes the alert pass by task name (ledger/queue.py). Celery finds a task by name
only once its module is imported; pytest imports every module while collecting, so the check
runs in a fresh process that loads Django and the WSGI application as gunicorn does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledger.queue import SEND_ALERTS

ROOT = Path(__file__).resolve().parents[2]

WEB_PROCESS = """
import sys
from inmail_site.wsgi import application
from celery import current_app
print(sys.argv[1] in current_app.tasks)
"""


def test_a_web_process_knows_the_tasks_a_service_publishes_by_name() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "inmail_site.settings"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WEB_PROCESS, SEND_ALERTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
