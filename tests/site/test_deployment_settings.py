"""Deployment defaults: with only DEBUG=0, SECRET_KEY and ALLOWED_HOSTS set, the site is served
over https only (redirect, secure cookies, HSTS), and `check --deploy` has nothing to say; each
protection can be switched off by its own variable."""

from __future__ import annotations

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = BASE_DIR / "inmail_site" / "settings.py"
# Each is a setting read from the variable of the same name.
SWITCHES = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)
ENVIRONMENT = [
    "DEBUG",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    *SWITCHES,
]


def settings_under(monkeypatch: pytest.MonkeyPatch, **variables: str) -> dict[str, Any]:
    """The settings module as it reads with exactly these security variables set."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_check_deploy_passes_with_only_debug_secret_key_and_allowed_hosts_set() -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_with_debug_off_every_https_protection_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_under(monkeypatch, DEBUG="0")

    assert {name: settings[name] for name in SWITCHES} == dict.fromkeys(SWITCHES, True)
    assert settings["SECURE_HSTS_SECONDS"] == 31_536_000
    assert settings["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]
    # Trusting a proxy's header is a decision for whoever knows the proxy.
    assert settings["SECURE_PROXY_SSL_HEADER"] is None


def test_with_debug_on_the_local_run_stays_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_under(monkeypatch, DEBUG="1")

    assert {name: settings[name] for name in SWITCHES} == dict.fromkeys(SWITCHES, False)
    assert settings["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_protection_can_be_switched_off_alone(
    monkeypatch: pytest.MonkeyPatch, switch: str
) -> None:
    settings = settings_under(monkeypatch, DEBUG="0", **{switch: "0"})

    assert settings[switch] is False
    assert all(settings[other] is True for other in SWITCHES if other != switch)


def test_hsts_lifetime_is_set_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_under(monkeypatch, DEBUG="0", SECURE_HSTS_SECONDS="3600")

    assert settings["SECURE_HSTS_SECONDS"] == 3600


def test_the_proxy_header_is_a_name_and_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_under(
        monkeypatch, DEBUG="0", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https"
    )

    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_a_proxy_header_without_its_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER"):
        settings_under(monkeypatch, DEBUG="0", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
