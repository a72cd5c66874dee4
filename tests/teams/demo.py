"""Running `manage.py demo` and reading what it prints, for the demo tests."""

from __future__ import annotations

from io import StringIO

from django.apps import apps
from django.core.management import call_command


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out, stderr=out)
    return out.getvalue()


def printed_logins(output: str) -> dict[str, tuple[str, str]]:
    """{role: (username, password)} from lines like `  lead  username: x  password: y`."""
    logins = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) == 5 and fields[1] == "username:" and fields[3] == "password:":
            logins[fields[0]] = (fields[2], fields[4])
    return logins


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("teams", "ledger")
        for model in apps.get_app_config(app).get_models()
    }
