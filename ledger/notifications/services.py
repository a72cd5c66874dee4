"""Every write a person makes to their notifications: reading them, choosing what they get.

(The alerts themselves are raised by `ledger.notifications.alerts`, run by the scheduled job.)
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ledger.models import Notification, NotificationPreference
from teams.models import User


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's notifications read; a second click keeps the first read time."""
    assert notification.user_id == user.pk
    # Conditional, so a double click keeps the first read time.
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; how many were."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def notification_preferences_update(
    *, user: User, values: dict[str, Any]
) -> NotificationPreference:
    """Save the user's choices; update_or_create, so two first saves at once don't collide."""
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults=values)
    return preference
