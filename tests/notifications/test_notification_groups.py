"""The notification list groups repeats (issue 12, item 8): alerts of one kind about one seat or
team show once, with how many times they came and the earlier ones folded under the latest;
marking a group read marks what it shows, never a repeat that came after."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.models import AlertKind, Notification
from ledger.notifications.selectors import (
    EARLIER_SHOWN,
    notification_group_of,
    notification_group_rows,
    notification_groups,
)
from ledger.notifications.views import PAGE_SIZE
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat
from tests.notifications.helpers import item, listed_ids, notify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

HTMX = {"HX-Request": "true"}


@pytest.fixture
def seat(org: Org, clock: Any) -> Seat:
    return make_seat(holder=org.recruiter, team=org.team)


def page_html(client: Client, **params: str) -> str:
    response = client.get(reverse("notifications:index"), params)
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_repeats_of_one_kind_about_one_seat_are_one_group_with_the_latest_on_top(
    client: Client, org: Org, seat: Seat
) -> None:
    oldest = notify(org.recruiter, seat=seat, title="9 credits left", days_ago=60, read=True)
    middle = notify(org.recruiter, seat=seat, title="7 credits left", days_ago=30)
    latest = notify(org.recruiter, seat=seat, title="4 credits left", days_ago=1)
    expiring = notify(org.recruiter, seat=seat, kind=AlertKind.EXPIRING, title="3 expire")
    client.force_login(org.recruiter)

    html = page_html(client)

    assert listed_ids(html) == [expiring.pk, latest.pk]
    group = item(html, latest)
    assert 'data-repeats="3"' in group
    assert "<strong>4 credits left</strong>" in group
    assert (
        "Balance running low · your Recruiter Lite seat in Talent North — 3 times, "
        "latest 2026-03-01 09:00, 2 unread."
    ) in text(group)
    earlier = re.findall(r"<li>(.*?)</li>", group, re.S)
    assert [text(line) for line in earlier] == [
        "2026-01-31 09:00 7 credits left (unread)",
        "2026-01-01 09:00 9 credits left",
    ]
    assert "The 2 earlier ones" in group
    assert "Mark these as read" in group
    assert f'data-notification-id="{oldest.pk}"' not in html
    assert f'data-notification-id="{middle.pk}"' not in html
    assert 'data-repeats="1"' in item(html, expiring)
    assert "times" not in text(item(html, expiring))


def test_the_same_kind_about_another_seat_or_the_pool_is_another_group(
    client: Client, org: Org, seat: Seat
) -> None:
    second = make_seat(holder=org.recruiter, team=org.other_team)
    on_first = notify(org.recruiter, seat=seat, days_ago=2)
    on_second = notify(org.recruiter, seat=second, days_ago=1)
    pool = notify(org.recruiter, kind=AlertKind.LOW_BALANCE, team=org.team)
    client.force_login(org.recruiter)

    assert listed_ids(page_html(client)) == [pool.pk, on_second.pk, on_first.pk]


def test_notifications_about_nothing_stand_alone(client: Client, org: Org) -> None:
    first = notify(org.recruiter, days_ago=1)
    second = notify(org.recruiter)
    client.force_login(org.recruiter)

    assert listed_ids(page_html(client)) == [second.pk, first.pk]


def test_a_long_group_lists_its_latest_earlier_ones_and_counts_the_rest(
    client: Client, org: Org, seat: Seat
) -> None:
    made = [notify(org.recruiter, seat=seat, days_ago=20 - day) for day in range(12)]
    client.force_login(org.recruiter)

    html = page_html(client)

    assert listed_ids(html) == [made[-1].pk]
    group = item(html, made[-1])
    assert len(re.findall(r"<li>", group)) == EARLIER_SHOWN
    assert "12 times" in text(group)
    assert f"… and {11 - EARLIER_SHOWN} more before these." in text(group)


def test_one_earlier_notification_is_spoken_of_in_the_singular(
    client: Client, org: Org, seat: Seat
) -> None:
    notify(org.recruiter, seat=seat, days_ago=3, read=True)
    latest = notify(org.recruiter, seat=seat, read=True)
    client.force_login(org.recruiter)

    group = text(item(page_html(client), latest))

    assert "— 2 times, latest 2026-03-02 09:00." in group
    assert "The earlier one" in group
    assert "unread" not in group
    assert "Mark as read" not in group


def test_pages_count_groups_not_notifications(client: Client, org: Org, seat: Seat) -> None:
    for repeat in range(3):
        notify(org.recruiter, seat=seat, days_ago=30 + repeat)
    alone = [notify(org.recruiter, days_ago=day / 10) for day in range(PAGE_SIZE + 1)]
    client.force_login(org.recruiter)

    first = page_html(client)
    second = page_html(client, page="2")

    assert listed_ids(first) == [n.pk for n in alone[:PAGE_SIZE]]
    assert len(listed_ids(second)) == 2
    assert "Page 1 of 2" in first


def test_the_list_reads_a_fixed_number_of_queries_however_many_groups(
    client: Client, org: Org, seat: Seat
) -> None:
    client.force_login(org.recruiter)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page_html(client)
        return len(captured)

    notify(org.recruiter, seat=seat)
    few = queries()
    other = make_seat(holder=org.recruiter, team=org.other_team)
    for kind in (AlertKind.EXPIRING, AlertKind.LOST_TO_CAP, AlertKind.QUALITY):
        for target in (seat, other):
            notify(org.recruiter, seat=target, kind=kind, days_ago=1)
            notify(org.recruiter, seat=target, kind=kind, days_ago=2)
    notify(org.recruiter, kind=AlertKind.POOL_LOW, team=org.other_team)

    assert queries() == few


# --- marking a group read ---------------------------------------------------------------------


def test_marking_a_group_read_marks_its_earlier_repeats_but_not_a_later_one(
    org: Org, seat: Seat, client: Client
) -> None:
    earlier = notify(org.recruiter, seat=seat, days_ago=2)
    shown = notify(org.recruiter, seat=seat, days_ago=1)
    later = notify(org.recruiter, seat=seat)
    other_kind = notify(org.recruiter, seat=seat, kind=AlertKind.EXPIRING, days_ago=1)
    client.force_login(org.recruiter)

    response = client.post(reverse("notifications:mark_read", args=[shown.pk]))

    assert response.status_code == 302
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {later.pk, other_kind.pk}
    for read in (earlier, shown):
        read.refresh_from_db()
        assert read.read_at == timezone.now()


def test_htmx_mark_read_answers_with_the_whole_group_read(
    client: Client, org: Org, seat: Seat
) -> None:
    notify(org.recruiter, seat=seat, days_ago=1)
    latest = notify(org.recruiter, seat=seat)
    notify(org.recruiter, title="Another alert")
    client.force_login(org.recruiter)

    response = client.post(reverse("notifications:mark_read", args=[latest.pk]), headers=HTMX)

    fragment = response.content.decode()
    assert fragment.lstrip().startswith(f'<article id="notification-{latest.pk}"')
    assert 'data-repeats="2"' in fragment
    assert "<mark>New</mark>" not in fragment
    assert "Mark" not in fragment.split("</article>")[0].split("<footer>")[1]
    assert '<span id="unread-summary" hx-swap-oob="true">1 unread</span>' in fragment


def test_htmx_mark_read_after_a_new_repeat_came_shows_it_on_top_still_unread(
    client: Client, org: Org, seat: Seat
) -> None:
    shown = notify(org.recruiter, seat=seat, days_ago=1)
    newer = notify(org.recruiter, seat=seat, title="2 credits left")
    client.force_login(org.recruiter)

    fragment = client.post(
        reverse("notifications:mark_read", args=[shown.pk]), headers=HTMX
    ).content.decode()

    assert fragment.lstrip().startswith(f'<article id="notification-{newer.pk}"')
    assert "<mark>New</mark>" in fragment
    assert "— 2 times, latest 2026-03-02 09:00, 1 unread." in text(fragment)


def test_a_group_of_someone_else_is_neither_read_nor_marked(
    client: Client, org: Org, seat: Seat
) -> None:
    mine = notify(org.recruiter, seat=seat)
    theirs = notify(org.lead, seat=seat, kind=AlertKind.QUALITY)
    client.force_login(org.lead)

    assert client.post(reverse("notifications:mark_read", args=[mine.pk])).status_code == 404
    assert listed_ids(page_html(client)) == [theirs.pk]
    mine.refresh_from_db()
    assert mine.read_at is None


def test_mark_all_read_counts_in_the_singular_for_one(client: Client, org: Org) -> None:
    notify(org.recruiter)
    client.force_login(org.recruiter)

    response = client.post(reverse("notifications:mark_all_read"), follow=True)

    assert "1 notification marked as read." in response.content.decode()


# --- the selector -------------------------------------------------------------------------------


def test_a_notifications_group_is_the_one_the_list_shows(org: Org, seat: Seat) -> None:
    first = notify(org.recruiter, seat=seat, days_ago=2, read=True)
    second = notify(org.recruiter, seat=seat, days_ago=1)
    notify(org.teammate, seat=seat)

    group = notification_group_of(first)
    (listed,) = notification_groups(org.recruiter, notification_group_rows(org.recruiter))

    assert (group.latest, group.earlier, group.count, group.unread) == (second, [first], 2, 1)
    assert (listed.latest, listed.earlier, listed.count, listed.unread) == (second, [first], 2, 1)
