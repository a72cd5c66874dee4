"""The main navigation: every section is one click away, and only admins see the console."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger.models import AlertKind, Notification
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def _nav(client: Client) -> str:
    html = client.get(reverse("home")).content.decode()
    return html[html.index('<nav class="container" aria-label="Main">') : html.index("</nav>")]


@pytest.mark.parametrize(
    ("role", "sees_csv"),
    [("admin", True), ("lead", True), ("recruiter", True), ("nobody", False)],
)
def test_everyone_reaches_notifications_and_whoever_may_see_a_seat_reaches_csv(
    org: Org, role: str, sees_csv: bool
) -> None:
    """Issue 12, item 8: someone without a seat isn't offered an import they can't use."""
    make_seat(holder=org.recruiter, team=org.team)
    client = Client()
    client.force_login(getattr(org, role))

    nav = _nav(client)

    assert (f'href="{reverse("csv:index")}"' in nav) is sees_csv
    assert f'href="{reverse("notifications:index")}"' in nav


@pytest.mark.parametrize(
    ("role", "sees_console"), [("admin", True), ("lead", False), ("recruiter", False)]
)
def test_only_admins_see_the_admin_console_link(org: Org, role: str, sees_console: bool) -> None:
    client = Client()
    client.force_login(getattr(org, role))

    assert (f'href="{reverse("manage:index")}"' in _nav(client)) is sees_console


def test_the_nav_counts_my_unread_notifications_only(org: Org) -> None:
    now = timezone.now()
    for key, read_at in (("a", None), ("b", None), ("c", now)):
        Notification.objects.create(
            user=org.recruiter,
            kind=AlertKind.LOW_BALANCE,
            key=key,
            title="t",
            body="b",
            created_at=now,
            read_at=read_at,
        )
    Notification.objects.create(
        user=org.lead, kind=AlertKind.LOW_BALANCE, key="x", title="t", body="b", created_at=now
    )
    client = Client()
    client.force_login(org.recruiter)

    assert 'aria-label="2 unread">2</span>' in _nav(client)


def test_the_current_section_is_marked_for_assistive_technology(org: Org) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    client = Client()
    client.force_login(org.admin)

    html = client.get(reverse("csv:index")).content.decode()

    assert f'<a href="{reverse("csv:index")}" aria-current="page">CSV</a>' in html
