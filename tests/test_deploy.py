"""The systemd units and the env example in deploy/ (issue 10) match the code they run."""

from __future__ import annotations

import configparser
import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest
from django.conf import settings

DEPLOY = Path(settings.BASE_DIR) / "deploy"
# The virtualenv running the tests has what the units run from theirs.
VENV_BIN = Path(sys.executable).parent
UNITS = {
    "inmail-web.service": ("gunicorn", ["inmail_site.wsgi"]),
    "inmail-worker.service": ("celery", ["-A", "inmail_site", "worker"]),
    "inmail-beat.service": ("celery", ["-A", "inmail_site", "beat"]),
}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def settings_variables() -> set[str]:
    """Every environment variable inmail_site/settings.py reads."""
    source = (Path(settings.BASE_DIR) / "inmail_site" / "settings.py").read_text()
    return set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source))


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_is_restarted_whenever_it_stops_and_runs_sandboxed(name: str) -> None:
    service = unit(name)["Service"]

    assert (service["Restart"], service["RestartSec"]) == ("always", "5")
    assert unit(name)["Unit"]["StartLimitIntervalSec"] == "0"
    assert service["User"] == "inmail"
    assert service["WorkingDirectory"] == "/opt/inmail-ledger"
    assert service["EnvironmentFile"] == "/etc/inmail-ledger/env"
    assert (service["NoNewPrivileges"], service["ProtectSystem"], service["PrivateTmp"]) == (
        "yes",
        "strict",
        "yes",
    )
    assert service["ReadWritePaths"] == "/opt/inmail-ledger/var"
    assert unit(name)["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize(("name", "expected"), UNITS.items())
def test_each_unit_starts_a_command_and_module_that_exist(
    name: str, expected: tuple[str, list[str]]
) -> None:
    command, arguments = expected
    executable, *given = shlex.split(unit(name)["Service"]["ExecStart"])

    assert executable == f"/opt/inmail-ledger/.venv/bin/{command}"
    assert (VENV_BIN / command).exists()
    assert given[: len(arguments)] == arguments
    module = "inmail_site.wsgi" if command == "gunicorn" else "inmail_site.celery"
    assert importlib.util.find_spec(module) is not None
    # The task time limits are settings, so the command line must not override them.
    assert not any(argument.startswith("--time-limit") for argument in given)


def test_the_web_unit_serves_on_the_loopback_with_workers_and_a_timeout() -> None:
    arguments = shlex.split(unit("inmail-web.service")["Service"]["ExecStart"])

    assert arguments[arguments.index("--bind") + 1] == "127.0.0.1:8000"
    assert int(arguments[arguments.index("--workers") + 1]) >= 2
    assert int(arguments[arguments.index("--timeout") + 1]) == 30


def test_every_variable_in_the_env_example_is_one_the_settings_read() -> None:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    named = [
        match.group(1)
        for line in lines
        if (match := re.match(r"#? ?([A-Z][A-Z0-9_]*)=", line.strip()))
    ]

    assert len(named) == len(set(named))
    assert set(named) <= settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "TIME_ZONE"} <= set(named)
