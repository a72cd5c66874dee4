"""No htmx fragment is ever a page of its own (issue 12, item 8): every endpoint that answers htmx
with a piece of a page answers a request made without htmx (a link opened in a new tab, a form
posted with JavaScript off) with the whole page, a redirect to it, or 405 for a GET it can't
serve."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import AlertKind, Notification
from ledger.services import Cause, inmail_send
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def pooled(org: Org, clock: Any) -> Seat:
    return make_seat(
        holder=org.recruiter, team=org.team, plan_code="recruiter_corporate", pool_access=True
    )


def endpoints(org: Org, seat: Seat) -> list[tuple[str, dict[str, Any]]]:
    """Each fragment endpoint's URL and what a form posts to it."""
    inmail = inmail_send(
        seat=seat,
        recipient="https://www.linkedin.com/in/ada-lovelace",
        subject="A role",
        body="Hello",
        cause=Cause.system("test"),
    ).inmail
    told = Notification.objects.create(
        user=org.lead,
        kind=AlertKind.POOL_LOW,
        key="k",
        title="Pool low",
        body="Pool low.",
        team=org.team,
        created_at=START,
    )
    return [
        (reverse("inmail_respond", args=[inmail.pk]), {"outcome": "replied"}),
        (reverse("inmail_withdraw", args=[inmail.pk]), {}),
        (reverse("team_seat_move", args=[org.team.pk, seat.pk]), {"credits": "5"}),
        (
            reverse("team_seat_settings", args=[org.team.pk, seat.pk]),
            {"monthly_allocation": "10", "pool_access": "on"},
        ),
        (reverse("notifications:mark_read", args=[told.pk]), {}),
    ]


def test_a_direct_get_of_a_fragment_endpoint_is_refused_not_answered_with_a_fragment(
    client: Client, org: Org, pooled: Seat
) -> None:
    client.force_login(org.lead)

    for url, _ in endpoints(org, pooled):
        response = client.get(url)
        assert response.status_code == 405, url
        assert b"<tr" not in response.content
        assert b"<article" not in response.content


def test_a_form_posted_without_htmx_gets_a_redirect_to_a_whole_page(
    client: Client, org: Org, pooled: Seat
) -> None:
    client.force_login(org.lead)

    for url, data in endpoints(org, pooled):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200, url
        assert len(response.redirect_chain) == 1, url
        assert response.content.decode().lstrip().lower().startswith("<!doctype html>"), url


def test_a_refused_form_posted_without_htmx_is_the_whole_page_with_the_reason(
    client: Client, org: Org, pooled: Seat
) -> None:
    client.force_login(org.lead)

    response = client.post(
        reverse("team_seat_move", args=[org.team.pk, pooled.pk]), {"credits": "0"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "Give a whole, non-zero number of credits." in html


def test_the_inmail_list_opened_directly_is_the_home_page_not_its_section(
    client: Client, org: Org, pooled: Seat
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("inmail_list")).content.decode()

    assert html.lstrip().lower().startswith("<!doctype html>")
    assert html.count('<section id="my-inmails"') == 1
