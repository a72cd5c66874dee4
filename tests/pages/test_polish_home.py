"""Polish of the recruiter home (issue 12, item 8): `/inmails/` opened directly is a whole page,
and withdrawing an Open Profile InMail speaks of no credit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import Account, InMail, InMailStatus
from ledger.services import Cause, inmail_send
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def seat(org: Org, clock: Any) -> Seat:
    return make_seat(holder=org.recruiter, team=org.team)


def send(seat: Seat, recipient: str, *, open_profile: bool = False) -> InMail:
    return inmail_send(
        seat=seat,
        recipient=recipient,
        subject="A role you may like",
        body="Hello, would you talk about a role?",
        open_profile=open_profile,
        cause=Cause.system("test"),
    ).inmail


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-inmail-id="(\d+)"', html)]


def own_balance(seat: Seat) -> int:
    return Account.objects.get(seat=seat).balance


# --- /inmails/ opened directly ----------------------------------------------------------------


def test_inmails_opened_directly_is_the_whole_home_page_with_its_filters(
    client: Client, org: Org, seat: Seat
) -> None:
    paid = send(seat, "linkedin.com/in/paid")
    free = send(seat, "linkedin.com/in/free", open_profile=True)
    client.force_login(org.recruiter)

    response = client.get(reverse("inmail_list"), {"status": "pending", "page": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert '<nav class="container" aria-label="Main">' in html
    assert "<h1>My credits</h1>" in html
    assert f'id="seat-card-{seat.pk}"' in html
    assert listed(html) == [free.pk, paid.pk]
    assert 'aria-current="page">Home</a>' in html
    assert "HX-Push-Url" not in response
    assert "HX-Request" in response["Vary"]


def test_inmails_opened_directly_keeps_the_filter_and_its_error(
    client: Client, org: Org, seat: Seat
) -> None:
    send(seat, "linkedin.com/in/pending")
    client.force_login(org.recruiter)

    html = client.get(
        reverse("inmail_list"), {"sent_from": "2026-03-05", "sent_to": "2026-03-03"}
    ).content.decode()

    assert "<h1>My credits</h1>" in html
    assert "The end of the range comes before its start." in html
    assert 'value="2026-03-05"' in html


def test_inmails_through_htmx_stays_the_fragment(client: Client, org: Org, seat: Seat) -> None:
    inmail = send(seat, "linkedin.com/in/pending")
    client.force_login(org.recruiter)

    response = client.get(reverse("inmail_list"), {"status": "pending"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="my-inmails"')
    assert "<html" not in html
    assert listed(html) == [inmail.pk]
    assert response["HX-Push-Url"] == reverse("home") + "?status=pending"
    assert "HX-Request" in response["Vary"]


def test_inmails_opened_directly_without_a_seat_is_the_welcome_page(
    client: Client, org: Org
) -> None:
    client.force_login(org.nobody)

    response = client.get(reverse("inmail_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "You hold no active InMail seat" in html
    assert "<!doctype html>" in html.lower()


def test_inmails_opened_directly_asks_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get(reverse("inmail_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- withdrawing an Open Profile InMail ---------------------------------------------------------


def test_withdrawing_an_open_profile_inmail_speaks_of_no_credit(
    client: Client, org: Org, seat: Seat
) -> None:
    inmail = send(seat, "linkedin.com/in/open", open_profile=True)
    client.force_login(org.recruiter)

    response = client.post(reverse("inmail_withdraw", args=[inmail.pk]), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.WITHDRAWN
    assert own_balance(seat) == 30
    assert '<p class="notice success" role="status" data-autofocus>Withdrawn.</p>' in html
    assert "credit" not in html.split("</tr>")[0].lower()


def test_withdrawing_an_open_profile_inmail_without_htmx_flashes_no_credit(
    client: Client, org: Org, seat: Seat
) -> None:
    inmail = send(seat, "linkedin.com/in/open", open_profile=True)
    client.force_login(org.recruiter)

    response = client.post(reverse("inmail_withdraw", args=[inmail.pk]), follow=True)

    html = response.content.decode()
    assert '<p class="message success">Withdrawn.</p>' in html
    assert "The credit is not given back" not in html


def test_withdrawing_a_paid_inmail_still_says_the_credit_is_kept(
    client: Client, org: Org, seat: Seat
) -> None:
    inmail = send(seat, "linkedin.com/in/paid")
    client.force_login(org.recruiter)

    html = client.post(reverse("inmail_withdraw", args=[inmail.pk]), headers=HTMX).content.decode()

    assert "Withdrawn. The credit is not given back." in html
    assert own_balance(seat) == 29


def test_only_a_paid_inmails_withdraw_button_warns_of_its_credit(
    client: Client, org: Org, seat: Seat
) -> None:
    paid = send(seat, "linkedin.com/in/paid")
    free = send(seat, "linkedin.com/in/free", open_profile=True)
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    def confirm_of(inmail: InMail) -> str:
        row = html[html.index(f'id="inmail-{inmail.pk}"') :].split("</tr>")[0]
        found = re.search(r'hx-confirm="([^"]*)"', row)
        assert found is not None
        return found.group(1)

    assert confirm_of(paid) == "Withdraw this InMail? Its credit is not given back."
    assert confirm_of(free) == "Withdraw this InMail?"
