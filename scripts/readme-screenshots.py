#!/usr/bin/env python3
"""Render the README's pictures of the three main pages from the demo data.

    .venv/bin/python scripts/readme-screenshots.py [--database var/readme-demo.sqlite3]

Fills a SQLite database of its own with `manage.py demo` (a temporary one, or `--database`,
which a later run reuses instead of replaying the demo's six months again: that takes
minutes), serves it in this process on Django's live-server thread, and has Debian's headless
Chromium sign in as the demo recruiter, lead and admin to take a 1280×900 picture of the top
of each one's main page: docs/screenshots/recruiter-home.png, team.png and admin.png;
team-analytics.png, the team page scrolled to its charts; burndown.png, the recruiter's seat card
scrolled to its run-out dates and burn-down chart; overview.png, the admin's organisation
overview; and candidate.png, the lead's page of a candidate several of the team wrote to.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 900
MAX_BYTES = 400 * 1024


@dataclass(frozen=True)
class Shot:
    file: str
    username: str
    path: str
    ready: str  # a selector that is on the page once it has rendered
    # A selector to scroll to the top of the picture; None for the top of the page.
    top: str | None = None


def _configure(database: Path) -> None:
    """Settings come from the environment, so this must run before Django is imported."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "inmail_site.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DEBUG"] = "false"
    # Served over plain HTTP on 127.0.0.1: none of production's HTTPS-only defaults.
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ[name] = "false"
    os.environ["SECURE_HSTS_SECONDS"] = "0"
    # The demo raises alerts: no tasks to a broker, no emails printed or sent.
    os.environ["LEDGER_PUBLISH_TASKS"] = "false"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"


def _fill_with_demo() -> list[Shot]:
    from django.core.management import call_command

    from ledger.management.demo.data import LOGINS
    from teams.models import Membership, Role

    call_command("migrate", interactive=False, verbosity=0)
    print("Filling the database with the demo (minutes the first time)…", flush=True)
    call_command("demo", stdout=io.StringIO())
    logins = dict(LOGINS)
    team = Membership.objects.filter(user__username=logins["lead"], role=Role.LEAD).first()
    assert team is not None, "the demo lead leads no team"
    return [
        Shot("recruiter-home.png", logins["recruiter"], "/", ".seat-card"),
        Shot("team.png", logins["lead"], f"/teams/{team.team_id}/", "#team-ledger"),
        Shot(
            "team-analytics.png",
            logins["lead"],
            f"/teams/{team.team_id}/",
            "canvas",
            top="#analytics-title",
        ),
        Shot("admin.png", logins["admin"], "/manage/", "table.seats"),
        Shot("burndown.png", logins["recruiter"], "/", "canvas[data-burndown]", top=".burndown"),
        Shot("overview.png", logins["admin"], "/overview/", ".overview-stats"),
        Shot(
            "candidate.png",
            logins["lead"],
            f"/candidates/?recipient={_much_contacted(team.team_id)}",
            "table",
        ),
    ]


def _much_contacted(team_id: int) -> str:
    """A recipient that the most seats of the team wrote to (the candidate page's best case)."""
    from urllib.parse import quote

    from django.db.models import Count

    from ledger.models import InMail

    row = (
        InMail.objects.filter(seat__team_id=team_id)
        .values("recipient_key")
        .annotate(seats=Count("seat", distinct=True))
        .order_by("-seats", "recipient_key")
        .first()
    )
    assert row is not None, "the demo team sent no InMail"
    recipient = InMail.objects.filter(recipient_key=row["recipient_key"]).values_list(
        "recipient", flat=True
    )[0]
    return quote(recipient, safe="")


def _take(base_url: str, shots: list[Shot]) -> None:
    from playwright.sync_api import expect, sync_playwright

    from ledger.management.demo.data import DEMO_PASSWORD

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        for shot in shots:
            context = browser.new_context(
                base_url=base_url,
                viewport={"width": WIDTH, "height": HEIGHT},
                device_scale_factor=1,
                locale="en-US",
                reduced_motion="reduce",
            )
            page = context.new_page()
            page.goto(f"/accounts/login/?next={shot.path}")
            page.get_by_label("Username").fill(shot.username)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator(shot.ready).first).to_be_visible()
            page.wait_for_load_state("networkidle")
            if shot.top:
                page.locator(shot.top).evaluate(
                    "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 24)"
                )
            path = OUT / shot.file
            page.screenshot(path=path, animations="disabled")
            size = path.stat().st_size
            print(f"{path.relative_to(ROOT)}: {size // 1024} KB")
            assert size < MAX_BYTES, f"{path} is over {MAX_BYTES // 1024} KB"
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, help="a SQLite file to fill, or reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="readme-screenshots-") as scratch:
        database = (args.database or Path(scratch) / "demo.sqlite3").resolve()
        _configure(database)

        import django

        django.setup()
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.test.testcases import LiveServerThread
        from django.test.utils import override_settings

        shots = _fill_with_demo()
        # Serve the static files from the source tree, as in development (nothing collected).
        with override_settings(
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
            ALLOWED_HOSTS=["127.0.0.1"],
        ):
            server = LiveServerThread("127.0.0.1", StaticFilesHandler)
            server.daemon = True
            server.start()
            server.is_ready.wait()
            if server.error:
                raise server.error
            try:
                # The ORM work is done: from here on only the server thread touches the
                # database, so Playwright's event loop in this thread bothers no one.
                _take(f"http://127.0.0.1:{server.port}", shots)
            finally:
                server.terminate()


if __name__ == "__main__":
    main()
