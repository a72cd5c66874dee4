"""The team page tests' instant, URLs and what they read back from the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.urls import reverse

from ledger.models import Account, AccountKind
from teams.models import Seat, Team

HTMX = {"HX-Request": "true"}
START = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)


def team_url(team: Team) -> str:
    return reverse("team_detail", args=[team.pk])


def move_url(team: Team, seat: Seat) -> str:
    return reverse("team_seat_move", args=[team.pk, seat.pk])


def settings_url(team: Team, seat: Seat) -> str:
    return reverse("team_seat_settings", args=[team.pk, seat.pk])


def own(seat: Seat) -> int:
    return Account.objects.get(seat=seat).balance


def pool(team: Team) -> int:
    return Account.objects.get(team=team, kind=AccountKind.POOL).balance


def seat_rows(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="team-seat-(\d+)"', html)}


def seat_row(html: str, seat: Seat) -> str:
    return html[html.index(f'id="team-seat-{seat.pk}"') :].split("</tr>")[0]
