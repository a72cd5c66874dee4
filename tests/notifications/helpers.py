"""Notifications as the alert job stores them, made directly so a test chooses each one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import count

from django.utils import timezone

from ledger.models import AlertKind, Notification
from teams.models import Seat, Team, User

_keys = count()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def notify(
    user: User,
    *,
    kind: str = AlertKind.LOW_BALANCE,
    seat: Seat | None = None,
    team: Team | None = None,
    title: str = "4 credits left on your Recruiter Lite seat",
    days_ago: float = 0,
    read: bool = False,
) -> Notification:
    created_at = timezone.now() - timedelta(days=days_ago)
    return Notification.objects.create(
        user=user,
        kind=kind,
        key=f"test:{next(_keys)}",
        title=title,
        body=f"{title}.",
        seat=seat,
        team=team if team is not None or seat is None else seat.team,
        created_at=created_at,
        read_at=created_at if read else None,
    )


def listed_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-notification-id="(\d+)"', html)]


def item(html: str, notification: Notification) -> str:
    """One group's markup, found by its latest notification."""
    return html[html.index(f'id="notification-{notification.pk}"') :].split("</article>")[0]
