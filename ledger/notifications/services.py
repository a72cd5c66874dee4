"""Every write a person makes to their notifications: reading them, choosing what they get.

(The alerts themselves are raised by `ledger.notifications.alerts`, run by the scheduled job.)
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ledger.models import Notification, NotificationPreference
from ledger.notifications.selectors import repeats_of, up_to
from teams.models import PersonalSettings, User
from teams.services import audit_record


def notification_mark_read(*, user: User, notification: Notification) -> int:
    """Mark one of the user's notifications read, with the earlier repeats grouped under it in
    the list (same kind, same seat or team); how many were unread.

    Repeats raised after it stay unread: the person hasn't seen them yet. Conditional, so a
    double click keeps the first read time.
    """
    assert notification.user_id == user.pk
    return (
        Notification.objects.filter(repeats_of(notification), up_to(notification))
        .filter(user=user, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; how many were."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def notification_preferences_update(
    *, user: User, values: dict[str, Any]
) -> NotificationPreference:
    """Save the user's choices; update_or_create, so two first saves at once don't collide.

    `more_thresholds` and `pool_thresholds` (lists of whole credits), when given, are the
    person's further low-balance thresholds for their seats and for the pools they lead
    (issue 14, item 4), kept in `teams.PersonalSettings`.

    What really changed is audited (`notification_preferences.update`), so an admin can tell
    when someone turned an alert off or moved a threshold.
    """
    values = dict(values)
    personal = {
        field: sorted(set(values.pop(name)), reverse=True)
        for name, field in (
            ("more_thresholds", "low_balance_thresholds"),
            ("pool_thresholds", "pool_thresholds"),
        )
        if name in values
    }
    before = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )
    old = {field: getattr(before, field) for field in values}
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults=values)
    changes = {
        field: (old[field], getattr(preference, field))
        for field in values
        if old[field] != getattr(preference, field)
    }
    if personal:
        settings_before = PersonalSettings.objects.filter(user=user).first() or PersonalSettings(
            user=user
        )
        old_personal = {field: getattr(settings_before, field) for field in personal}
        PersonalSettings.objects.update_or_create(user=user, defaults=personal)
        changes |= {
            field: (old_personal[field], new)
            for field, new in personal.items()
            if list(old_personal[field] or []) != new
        }
    if changes:
        audit_record(
            actor=user, action="notification_preferences.update", obj=preference, changes=changes
        )
    return preference
