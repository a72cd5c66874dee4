"""Reads of a person's notifications: the list, with repeats grouped.

An alert that holds again (a low balance in the next period, more credits expiring next week)
is a new notification each time, so the same few subjects fill the list. The list shows one
group per kind of alert and subject, a seat or a team: its latest notification, how many times
it came, and the earlier ones folded under it. A notification about neither stands alone.

Groups are counted and paginated in the database (one GROUP BY), and a page's notifications are
read in one query that keeps at most `EARLIER_SHOWN` earlier ones per group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from ledger.models import Notification
from teams.models import User

# Earlier notifications of a group listed under its latest one; the rest are counted.
EARLIER_SHOWN = 5

# (kind, seat id, team id, the notification's own id when it is about neither, else 0)
GroupKey = tuple[str, int | None, int | None, int]


def _alone() -> Case:
    """A notification about no seat and no team is a group of its own: its id; else 0."""
    return Case(
        When(seat__isnull=True, team__isnull=True, then=F("pk")),
        default=Value(0),
        output_field=IntegerField(),
    )


def repeats_of(notification: Notification) -> Q:
    """The notifications of the same group as this one (itself included)."""
    if notification.seat_id is None and notification.team_id is None:
        return Q(pk=notification.pk)
    return Q(
        user_id=notification.user_id,
        kind=notification.kind,
        seat_id=notification.seat_id,
        team_id=notification.team_id,
    )


def up_to(notification: Notification) -> Q:
    """Notifications raised no later than this one (ties broken by id, as the list is)."""
    return Q(created_at__lt=notification.created_at) | Q(
        created_at=notification.created_at, pk__lte=notification.pk
    )


def notification_group_rows(user: User) -> QuerySet[Any]:
    """One row per group of the user's notifications, the latest group first: its key, when it
    last came, how many it holds and how many are unread. Paginate this."""
    return (
        Notification.objects.filter(user=user)
        .annotate(alone=_alone())
        .values("kind", "seat_id", "team_id", "alone")
        .annotate(
            latest_at=Max("created_at"),
            latest_id=Max("pk"),
            total=Count("pk"),
            unread=Count("pk", filter=Q(read_at__isnull=True)),
        )
        .order_by("-latest_at", "-latest_id")
    )


@dataclass(frozen=True)
class NotificationGroup:
    """Notifications of one kind about one seat or team, or one notification about neither."""

    latest: Notification
    # The ones before `latest`, newest first: at most EARLIER_SHOWN of them.
    earlier: list[Notification]
    count: int
    unread: int

    @property
    def earlier_not_shown(self) -> int:
        return self.count - 1 - len(self.earlier)


def _key(notification: Notification) -> GroupKey:
    alone = notification.pk if notification.seat_id is None and notification.team_id is None else 0
    return (notification.kind, notification.seat_id, notification.team_id, alone)


def notification_groups(user: User, rows: Iterable[dict[str, Any]]) -> list[NotificationGroup]:
    """The groups of these rows (a page of `notification_group_rows`), in their order."""
    rows = list(rows)
    if not rows:
        return []
    wanted = Q()
    for row in rows:
        if row["alone"]:
            wanted |= Q(pk=row["alone"])
        else:
            wanted |= Q(kind=row["kind"], seat_id=row["seat_id"], team_id=row["team_id"])
    numbered = (
        Notification.objects.filter(wanted, user=user)
        .annotate(
            alone=_alone(),
            place=Window(
                RowNumber(),
                partition_by=[F("kind"), F("seat_id"), F("team_id"), F("alone")],
                order_by=[F("created_at").desc(), F("pk").desc()],
            ),
        )
        .filter(place__lte=EARLIER_SHOWN + 1)
        .select_related("seat__plan", "seat__holder", "seat__team", "team")
        .order_by("-created_at", "-pk")
    )
    members: dict[GroupKey, list[Notification]] = defaultdict(list)
    for notification in numbered:
        members[_key(notification)].append(notification)
    groups = []
    for row in rows:
        found = members.get((row["kind"], row["seat_id"], row["team_id"], row["alone"]))
        if not found:  # deleted between the two reads
            continue
        groups.append(
            NotificationGroup(
                latest=found[0], earlier=found[1:], count=row["total"], unread=row["unread"]
            )
        )
    return groups


def notification_group_of(notification: Notification) -> NotificationGroup:
    """The group this notification belongs to, as the list shows it now."""
    user = notification.user
    rows = notification_group_rows(user).filter(
        kind=notification.kind,
        seat_id=notification.seat_id,
        team_id=notification.team_id,
        alone=_key(notification)[3],
    )
    groups = notification_groups(user, rows)
    assert groups, "a notification is in its own group"
    return groups[0]
