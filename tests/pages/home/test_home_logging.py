"""The recruiter home: logging an InMail."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import Entry, EntryKind, InMail
from teams.models import Team
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.home.conftest import HomeSeats
from tests.pages.home.helpers import balance, card_ids, post_send, send, stat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


# --- logging an InMail -------------------------------------------------------------------------


def test_logging_an_inmail_spends_one_credit_and_updates_the_card(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter)

    assert response.status_code == 200
    html = response.content.decode()
    assert balance(seats.recruiter) == 29
    inmail = InMail.objects.get(seat=seats.recruiter)
    assert inmail.subject == "Principal engineer, platform"
    assert inmail.created_by == org.recruiter
    spend = Entry.objects.get(inmail=inmail, kind=EntryKind.SPEND)
    assert (spend.amount, spend.actor, spend.cause) == (-1, org.recruiter, "web")
    assert "1 credit spent from the seat&#x27;s own credits" in html
    # The card comes along out of band; the InMail list reloads on the event.
    assert f'id="seat-card-{seats.recruiter.pk}"' in html
    assert 'hx-swap-oob="true"' in html
    assert stat(html, seats.recruiter, "available") == "29"
    assert response["HX-Trigger"] == "ledger-updated"


def test_an_open_profile_inmail_costs_nothing(client: Client, org: Org, seats: HomeSeats) -> None:
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter, open_profile="on")

    assert response.status_code == 200
    assert balance(seats.recruiter) == 30
    assert InMail.objects.get(seat=seats.recruiter).credit_cost == 0
    assert "Open Profile, no credit spent" in response.content.decode()


def test_logging_without_htmx_redirects_home_with_the_message(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    html = client.get(reverse("home")).content.decode()
    assert "Logged the InMail to https://www.linkedin.com/in/grace-hopper/" in html
    assert balance(seats.recruiter) == 29


def test_a_teammates_recent_inmail_to_the_same_person_is_a_warning_not_a_refusal(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    send(seats.teammate, "https://linkedin.com/in/Grace-Hopper")
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{org.teammate} sent an InMail to this recipient on 2026-03-02." in html
    assert balance(seats.recruiter) == 29


def test_a_second_pending_inmail_to_the_same_person_is_refused_with_its_reason(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    send(seats.recruiter, "https://www.linkedin.com/in/grace-hopper/")
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter)

    assert response.status_code == 409
    assert (
        "This seat already has a pending InMail to this recipient; wait for an answer or "
        "withdraw it first." in response.content.decode()
    )
    assert balance(seats.recruiter) == 29
    assert InMail.objects.filter(seat=seats.recruiter).count() == 1


def test_sending_with_no_credit_left_is_refused_and_charges_nothing(
    client: Client, org: Org, clock: Any
) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team, plan_code="premium_career")
    for number in range(5):
        send(seat, f"linkedin.com/in/person-{number}")
    client.force_login(org.recruiter)

    response = post_send(client, seat)

    assert response.status_code == 409
    assert "No InMail credit is available for this seat." in response.content.decode()
    assert balance(seat) == 0
    assert InMail.objects.filter(seat=seat).count() == 5


def test_a_refusal_without_htmx_shows_the_home_page_with_the_sentence(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    send(seats.recruiter, "https://www.linkedin.com/in/grace-hopper/")
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter, htmx=False)

    assert response.status_code == 409
    html = response.content.decode()
    assert "This seat already has a pending InMail to this recipient" in html
    assert card_ids(html) == {seats.recruiter.pk}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
        ({"body": "x" * 1901}, "Ensure this value has at most 1900 characters (it has 1901)."),
        ({"body": ""}, "This field is required."),
        ({"recipient": "   "}, "This field is required."),
    ],
)
def test_invalid_messages_are_refused_with_the_field_error(
    client: Client, org: Org, seats: HomeSeats, fields: dict[str, Any], error: str
) -> None:
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter, **fields)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not InMail.objects.exists()
    assert balance(seats.recruiter) == 30


def test_a_subject_of_exactly_200_and_body_of_1900_characters_is_accepted(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter, subject="s" * 200, body="b" * 1900)

    assert response.status_code == 200
    assert balance(seats.recruiter) == 29


def test_the_form_counts_subject_and_body_characters(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert 'data-count-max="200"' in html
    assert 'data-count-max="1900"' in html
    assert 'id="subject-count"><span data-count>0/200</span>' in html
    assert 'id="body-count"><span data-count>0/1900</span>' in html
    for field in ("recipient", "subject", "body", "open_profile"):
        assert f'<label for="id_{field}"' in html


def test_nobody_can_log_an_inmail_on_someone_elses_seat(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    response = post_send(client, seats.teammate)

    assert response.status_code == 400
    assert not InMail.objects.exists()
    assert balance(seats.teammate) == 30


def test_a_script_in_recipient_and_subject_is_shown_as_text(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    sent = post_send(
        client,
        seats.recruiter,
        # A profile URL's query is free text (LinkedIn's tracking parameters).
        recipient="linkedin.com/in/ada?<script>alert('r')</script>",
        subject="<script>alert('s')</script>",
    )
    page = client.get(reverse("home"))

    for html in (sent.content.decode(), page.content.decode()):
        assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;s&#x27;)&lt;/script&gt;" in page.content.decode()
    assert "&lt;script&gt;alert(&#x27;r&#x27;)&lt;/script&gt;" in page.content.decode()


def test_a_script_in_a_team_name_is_escaped(client: Client, org: Org, clock: Any) -> None:
    team = Team.objects.create(name="<script>alert('x')</script> Sourcing")
    make_seat(holder=org.recruiter, team=team)
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Sourcing" in html


def test_posts_need_a_csrf_token(org: Org, seats: HomeSeats) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.recruiter)

    response = post_send(client, seats.recruiter)

    assert response.status_code == 403
    assert not InMail.objects.exists()


@pytest.mark.parametrize("name", ["inmail_send", "inmail_respond", "inmail_withdraw"])
def test_writes_refuse_get(client: Client, org: Org, seats: HomeSeats, name: str) -> None:
    inmail = send(seats.recruiter)
    client.force_login(org.recruiter)
    url = reverse(name) if name == "inmail_send" else reverse(name, args=[inmail.pk])

    assert client.get(url).status_code == 405
