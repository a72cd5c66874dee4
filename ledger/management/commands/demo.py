"""`manage.py demo`: the demo organisation, idempotent, with its logins printed."""

from __future__ import annotations

import random
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from ledger.management.demo.builder import DemoBuilder
from ledger.management.demo.data import (
    ADMIN_USERNAME,
    DEMO_PASSWORD,
    DEMO_URL,
    LOGINS,
    REPLAY_SETTINGS,
    SEED,
    TEAMS,
)
from teams.models import Seat, Team, User


class Command(BaseCommand):
    help = (
        "Fill an empty database with six months of a believable demo organisation and print "
        "its logins."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write("demo data already present; nothing changed.")
            self._print_logins()
            return
        usernames = [ADMIN_USERNAME] + [
            person.username for team in TEAMS for person in (team.lead, *team.recruiters)
        ]
        if (
            Team.objects.exists()
            or Seat.objects.exists()
            or User.objects.filter(username__in=usernames).exists()
        ):
            self.stderr.write(
                "The database already holds teams, seats or demo usernames; the demo only fills "
                "an empty database, so nothing was added."
            )
            return
        # All or nothing: a demo that failed half-way must not look like a finished one.
        with transaction.atomic():
            builder = DemoBuilder(random.Random(SEED), now=timezone.now())  # noqa: S311 - demo data
            with override_settings(**REPLAY_SETTINGS):
                builder.replay()
            # Today's alerts are raised the way the job raises them, by mail if it sends mail.
            builder.raise_alerts()
            builder.read_notifications()
        self.stdout.write(self.style.SUCCESS(f"Demo organisation created: {builder.summary()}."))
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(
            f"\nOpen {DEMO_URL} and sign in with one of these "
            f'(every demo account\'s password is "{DEMO_PASSWORD}"):'
        )
        for role, username in LOGINS:
            self.stdout.write(f"  {role:<10} username: {username:<18} password: {DEMO_PASSWORD}")
