"""Notification pages: a person's own alerts, marking them read, and their preferences."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.models import AlertKind, EmailStatus, Notification, NotificationPreference
from ledger.notifications.alerts import alerts_raise
from ledger.notifications.views import PAGE_SIZE, unread_notifications
from teams.models import User
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

LISTED = re.compile(r'data-notification-id="(\d+)"')


def notify(
    user: User, title: str = "3 credits expire on 2026-05-01", **fields: object
) -> Notification:
    """A notification as `alerts_raise` stores it; `minutes_ago` dates it."""
    minutes_ago = int(fields.pop("minutes_ago", 0))  # type: ignore[call-overload]
    values: dict[str, object] = {
        "kind": AlertKind.EXPIRING,
        "key": f"test:{Notification.objects.count()}",
        "body": "Your Recruiter Lite seat has 3 InMail credits expiring on 2026-05-01.",
        "created_at": timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    }
    return Notification.objects.create(user=user, title=title, **values)


def listed_ids(html: str) -> list[int]:
    return [int(pk) for pk in LISTED.findall(html)]


def page_html(client: Client, name: str = "notifications:index", **params: str) -> str:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "notifications:index", ()),
        ("get", "notifications:preferences", ()),
        ("post", "notifications:preferences", ()),
        ("post", "notifications:mark_all_read", ()),
        ("post", "notifications:mark_read", (1,)),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, method: str, name: str, args: tuple[int, ...]
) -> None:
    url = reverse(name, args=args)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_marking_read_is_a_post(client: Client, org: Org) -> None:
    mine = notify(org.recruiter)
    client.force_login(org.recruiter)

    assert client.get(reverse("notifications:mark_read", args=[mine.pk])).status_code == 405
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    mine.refresh_from_db()
    assert mine.read_at is None


# --- the list ---------------------------------------------------------------------------------


def test_list_shows_only_my_notifications_newest_first_with_unread_highlighted(
    client: Client, org: Org
) -> None:
    older = notify(org.recruiter, "Older alert", minutes_ago=60, read_at=timezone.now())
    newer = notify(org.recruiter, "Newer alert", minutes_ago=5)
    notify(org.teammate, "A teammate's alert")
    client.force_login(org.recruiter)

    html = page_html(client)

    assert listed_ids(html) == [newer.pk, older.pk]
    assert "A teammate&#x27;s alert" not in html
    assert "1 unread" in html
    newer_item = html[html.index(f'id="notification-{newer.pk}"') :].split("</article>")[0]
    older_item = html[html.index(f'id="notification-{older.pk}"') :].split("</article>")[0]
    assert 'class="notification unread"' in newer_item
    assert "<mark>New</mark>" in newer_item
    assert "Mark as read" in newer_item
    assert "unread" not in older_item
    assert "<mark>" not in older_item
    assert "Mark as read" not in older_item
    assert "Credits expiring within 7 days" in newer_item


def test_list_is_paginated(client: Client, org: Org) -> None:
    made = [notify(org.recruiter, f"Alert {i}", minutes_ago=i) for i in range(PAGE_SIZE + 3)]
    client.force_login(org.recruiter)

    first = page_html(client)
    second = page_html(client, page="2")

    assert listed_ids(first) == [n.pk for n in made[:PAGE_SIZE]]
    assert listed_ids(second) == [n.pk for n in made[PAGE_SIZE:]]
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    # A page number out of range shows the last page rather than an error.
    assert listed_ids(page_html(client, page="99")) == listed_ids(second)


def test_an_empty_list_says_so(client: Client, org: Org) -> None:
    client.force_login(org.nobody)

    html = page_html(client)

    assert listed_ids(html) == []
    assert "No notifications yet" in html
    assert "Mark all as read" not in html


def test_markup_in_titles_and_bodies_is_escaped(client: Client, org: Org) -> None:
    notify(
        org.recruiter,
        title="<script>alert('title')</script>",
        body="<img src=x onerror=alert('body')>",
    )
    client.force_login(org.recruiter)

    html = page_html(client)

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#x27;body&#x27;)&gt;" in html


# --- marking read -----------------------------------------------------------------------------


def test_marking_one_read_keeps_the_others_unread(client: Client, org: Org) -> None:
    first, second = notify(org.recruiter), notify(org.recruiter)
    client.force_login(org.recruiter)

    response = client.post(
        reverse("notifications:mark_read", args=[first.pk]), {"next": "/notifications/?page=1"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/notifications/?page=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None


def test_marking_read_twice_keeps_the_first_read_time(client: Client, org: Org) -> None:
    read_at = timezone.now() - timedelta(days=2)
    mine = notify(org.recruiter, read_at=read_at)
    client.force_login(org.recruiter)

    client.post(reverse("notifications:mark_read", args=[mine.pk]))

    mine.refresh_from_db()
    assert mine.read_at == read_at


def test_marking_read_never_redirects_to_another_site(client: Client, org: Org) -> None:
    mine = notify(org.recruiter)
    client.force_login(org.recruiter)

    response = client.post(
        reverse("notifications:mark_read", args=[mine.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("notifications:index")


def test_htmx_mark_read_answers_with_the_updated_notification(client: Client, org: Org) -> None:
    mine = notify(org.recruiter, "Balance low")
    client.force_login(org.recruiter)

    response = client.post(
        reverse("notifications:mark_read", args=[mine.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith(f'<article id="notification-{mine.pk}"')
    assert "Balance low" in fragment
    assert "<mark>New</mark>" not in fragment
    assert "<html" not in fragment


def test_htmx_mark_read_updates_the_unread_counts_in_place(client: Client, org: Org) -> None:
    first, _ = notify(org.recruiter, "One"), notify(org.recruiter, "Two")
    client.force_login(org.recruiter)

    fragment = client.post(
        reverse("notifications:mark_read", args=[first.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    badge = '<span class="badge" aria-label="1 unread">1</span>'
    assert f'<span id="nav-unread" hx-swap-oob="true"> {badge}</span>' in fragment
    assert '<span id="unread-summary" hx-swap-oob="true">1 unread</span>' in fragment


def test_someone_elses_notification_is_not_found(client: Client, org: Org) -> None:
    theirs = notify(org.teammate)
    client.force_login(org.recruiter)

    response = client.post(reverse("notifications:mark_read", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_even_an_admin_cannot_mark_someone_elses_notification(client: Client, org: Org) -> None:
    theirs = notify(org.recruiter)
    client.force_login(org.admin)

    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert listed_ids(page_html(client)) == []


def test_mark_all_read_marks_only_mine(client: Client, org: Org) -> None:
    mine = [notify(org.recruiter), notify(org.recruiter)]
    theirs = notify(org.teammate)
    client.force_login(org.recruiter)

    response = client.post(reverse("notifications:mark_all_read"), follow=True)

    assert response.redirect_chain == [(reverse("notifications:index"), 302)]
    assert "2 notifications marked as read." in response.content.decode()
    assert all(
        read_at is not None
        for read_at in Notification.objects.filter(pk__in=[n.pk for n in mine]).values_list(
            "read_at", flat=True
        )
    )
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_htmx_mark_all_read_asks_htmx_to_reload_the_list(client: Client, org: Org) -> None:
    notify(org.recruiter)
    client.force_login(org.recruiter)

    response = client.post(reverse("notifications:mark_all_read"), headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("notifications:index")
    assert not Notification.objects.filter(user=org.recruiter, read_at__isnull=True).exists()


# --- the unread count for the navigation ------------------------------------------------------


def test_unread_count_is_one_query_and_counts_only_my_unread(org: Org) -> None:
    notify(org.recruiter)
    notify(org.recruiter)
    notify(org.recruiter, read_at=timezone.now())
    notify(org.teammate)
    request = RequestFactory().get("/")
    request.user = org.recruiter

    with CaptureQueriesContext(connection) as queries:
        context = unread_notifications(request)

    assert context == {"unread_notifications": 2}
    assert len(queries) == 1
    assert "COUNT(" in queries[0]["sql"].upper()


def test_unread_count_is_absent_for_anonymous_visitors() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    assert unread_notifications(request) == {}


# --- preferences ------------------------------------------------------------------------------


def test_preferences_show_the_defaults_without_saving_anything(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    html = page_html(client, "notifications:preferences")

    assert not NotificationPreference.objects.filter(user=org.recruiter).exists()
    assert 'name="low_balance_threshold" value="10"' in html
    for field in ("email", "low_balance", "expiring", "lost_to_cap", "pool_low", "quality"):
        assert re.search(rf'<input type="checkbox" name="{field}"[^>]* checked', html), field
        assert f'<label for="id_{field}">' in html, field
    assert '<label for="id_low_balance_threshold">' in html


def _save_preferences(client: Client, **changes: str) -> object:
    form = {
        "email": "on",
        "low_balance": "on",
        "low_balance_threshold": "10",
        "expiring": "on",
        "lost_to_cap": "on",
        "pool_low": "on",
        "quality": "on",
        **changes,
    }
    return client.post(
        reverse("notifications:preferences"), {k: v for k, v in form.items() if v != ""}
    )


def test_preferences_are_saved(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    response = _save_preferences(client, email="", expiring="", low_balance_threshold="25")

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == reverse("notifications:preferences")  # type: ignore[index]
    saved = NotificationPreference.objects.get(user=org.recruiter)
    assert (saved.email, saved.expiring, saved.low_balance, saved.low_balance_threshold) == (
        False,
        False,
        True,
        25,
    )
    html = page_html(client, "notifications:preferences")
    assert "Notification preferences saved." in html
    assert 'name="low_balance_threshold" value="25"' in html
    assert re.search(r'<input type="checkbox" name="expiring"[^>]*>', html)
    assert not re.search(r'<input type="checkbox" name="expiring"[^>]* checked', html)


def test_saving_again_updates_the_same_preferences(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    _save_preferences(client, low_balance_threshold="25")
    _save_preferences(client, low_balance_threshold="5")

    assert NotificationPreference.objects.filter(user=org.recruiter).count() == 1
    assert NotificationPreference.objects.get(user=org.recruiter).low_balance_threshold == 5


@pytest.mark.parametrize("threshold", ["0", "-3", "10001", "ten", ""])
def test_an_invalid_threshold_is_a_form_error_and_saves_nothing(
    client: Client, org: Org, threshold: str
) -> None:
    client.force_login(org.recruiter)

    response = client.post(
        reverse("notifications:preferences"), {"low_balance_threshold": threshold, "email": "on"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Give a whole number of credits from 1 to 10,000." in html
    assert 'aria-invalid="true"' in html
    assert not NotificationPreference.objects.filter(user=org.recruiter).exists()


def test_saved_preferences_decide_what_the_alert_job_raises(client: Client, org: Org) -> None:
    # Recruiter Lite grants 30 credits: below a threshold of 40, above the default of 10.
    recruiter_seat = make_seat(holder=org.recruiter, team=org.team)
    teammate_seat = make_seat(holder=org.teammate, team=org.team)
    client.force_login(org.recruiter)
    _save_preferences(client, low_balance_threshold="40", email="")
    client.force_login(org.teammate)
    _save_preferences(client, low_balance_threshold="40", low_balance="")

    alerts_raise()

    raised = Notification.objects.get(user=org.recruiter, kind=AlertKind.LOW_BALANCE)
    assert raised.seat == recruiter_seat
    assert raised.title == "30 credits left on your Recruiter Lite seat"
    # Email was switched off: the alert is in-app only.
    assert raised.email_status == EmailStatus.OFF
    # The teammate switched low-balance alerts off, so nothing was raised for their seat.
    assert not Notification.objects.filter(user=org.teammate).exists()
    assert not Notification.objects.filter(seat=teammate_seat).exists()

    client.force_login(org.recruiter)
    html = page_html(client)
    assert "30 credits left on your Recruiter Lite seat" in html
