"""The recruiter home: balance cards, logging an InMail, responses, withdrawals, my InMails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ledger.models import Account, Entry, EntryKind, InMail, InMailStatus
from ledger.services import Cause, inmail_record_response, inmail_send, inmail_withdraw
from teams.models import Seat, Team, User
from tests.conftest import Org
from tests.factories import TeamFactory, UserFactory, make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

HTMX = {"HX-Request": "true"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class HomeSeats:
    lead: Seat
    recruiter: Seat
    teammate: Seat
    outsider: Seat


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seats(org: Org, clock: Any) -> HomeSeats:
    return HomeSeats(
        lead=make_seat(holder=org.lead, team=org.team),
        recruiter=make_seat(holder=org.recruiter, team=org.team),
        teammate=make_seat(holder=org.teammate, team=org.team),
        outsider=make_seat(holder=org.outsider, team=org.other_team),
    )


def send(seat: Seat, recipient: str = "linkedin.com/in/ada", **fields: Any) -> InMail:
    return inmail_send(
        seat=seat,
        recipient=recipient,
        subject=fields.pop("subject", "A role you may like"),
        body=fields.pop("body", "Hello, would you talk about a role?"),
        cause=Cause.system("test"),
        **fields,
    ).inmail


def balance(seat: Seat) -> int:
    return Account.objects.get(seat=seat).balance


def card_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="seat-card-(\d+)"', html)}


def stat(html: str, seat: Seat, name: str) -> str:
    card = html[html.index(f'id="seat-card-{seat.pk}"') :]
    match = re.search(rf'data-stat="{name}">(.*?)</dd>', card, re.S)
    assert match, name
    return match.group(1).strip()


def post_send(client: Client, seat: Seat, *, htmx: bool = True, **fields: Any) -> Any:
    data = {
        "seat": seat.pk,
        "recipient": "https://www.linkedin.com/in/grace-hopper/",
        "subject": "Principal engineer, platform",
        "body": "Hi Grace, we are building a new platform team.",
        **fields,
    }
    return client.post(reverse("inmail_send"), data, headers=HTMX if htmx else None)


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["home", "inmail_list", "team_list", "inmail_send", "inmail_respond", "inmail_withdraw"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, name: str) -> None:
    url = (
        reverse(name, args=[1]) if name in ("inmail_respond", "inmail_withdraw") else reverse(name)
    )

    response = (
        client.post(url)
        if name.startswith("inmail_") and name != "inmail_list"
        else client.get(url)
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_recruiter_home_shows_a_card_for_their_own_seat_only(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert card_ids(html) == {seats.recruiter.pk}
    # Recruiter Lite: 30 at activation, refreshing on the 2nd with 30 more (cap 120).
    assert stat(html, seats.recruiter, "available") == "30"
    assert stat(html, seats.recruiter, "own") == "30"
    assert "no pool access" in stat(html, seats.recruiter, "pool")
    assert stat(html, seats.recruiter, "next-refresh") == "Apr 2 <small>+30</small>"
    assert stat(html, seats.recruiter, "expiring-7d") == "0"
    assert stat(html, seats.recruiter, "expiring-30d") == "0"
    assert "not at this pace" in stat(html, seats.recruiter, "run-out")
    assert "2026-05-31" in html  # the activation lot's expiry, 90 days on


@pytest.mark.parametrize("who", ["lead", "teammate"])
def test_a_lead_or_teammate_home_shows_only_their_own_seat(
    client: Client, org: Org, seats: HomeSeats, who: str
) -> None:
    client.force_login(getattr(org, who))

    html = client.get(reverse("home")).content.decode()

    assert card_ids(html) == {getattr(seats, who).pk}
    assert "linkedin.com/in/ada" not in html


def test_home_lists_only_my_inmails_never_a_teammates(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    mine = send(seats.recruiter, "linkedin.com/in/mine")
    send(seats.teammate, "linkedin.com/in/theirs")
    send(seats.lead, "linkedin.com/in/leads")
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert set(map(int, re.findall(r'data-inmail-id="(\d+)"', html))) == {mine.pk}


def test_admin_without_a_seat_gets_a_page_pointing_to_every_team(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.admin)

    html = client.get(reverse("home")).content.decode()

    assert "You hold no active InMail seat" in html
    assert reverse("team_detail", args=[org.team.pk]) in html
    assert reverse("team_detail", args=[org.other_team.pk]) in html
    assert card_ids(html) == set()


def test_lead_without_a_seat_gets_a_link_to_their_team_page(client: Client, org: Org) -> None:
    client.force_login(org.lead)

    html = client.get(reverse("home")).content.decode()

    assert "You hold no active InMail seat" in html
    assert reverse("team_detail", args=[org.team.pk]) in html
    assert reverse("team_detail", args=[org.other_team.pk]) not in html


def test_someone_in_no_team_is_told_an_admin_adds_seats(client: Client, org: Org) -> None:
    client.force_login(org.nobody)

    html = client.get(reverse("home")).content.decode()

    assert "An admin adds seats and team memberships." in html


def test_pages_load_their_libraries_from_our_static_files_never_a_cdn(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert "/static/vendor/htmx.org/htmx.min.js" in html
    assert "/static/vendor/chart.js/chart.umd.js" in html
    assert "/static/vendor/pico/pico.min.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # htmx sends the CSRF token with every request it makes.
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'", html)
    assert 'class="skip-link" href="#main"' in html


# --- balances brought up to date -------------------------------------------------------------


def test_balance_shown_is_brought_up_to_date_when_the_refresh_job_is_late(
    client: Client, org: Org, seats: HomeSeats, clock: Any
) -> None:
    clock.shift(timedelta(days=40))
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    # 30 at activation and 30 at the refresh of April 2 (cap 120).
    assert stat(html, seats.recruiter, "own") == "60"
    assert balance(seats.recruiter) == 60


def test_pooled_seat_shows_the_pool_and_its_allocation_after_a_late_pool_refresh(
    client: Client, org: Org, clock: Any
) -> None:
    pooled_team = TeamFactory.create(name="Pooled")
    make_seat(holder=org.lead, team=pooled_team, plan_code="recruiter_corporate")
    seat = make_seat(
        holder=org.recruiter,
        team=pooled_team,
        plan_code="recruiter_corporate",
        monthly_allocation=20,
        pool_access=True,
    )
    clock.shift(timedelta(days=40))
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    # Two activations (150 each) and one refresh of both seats (300), less the allocation.
    assert stat(html, seat, "own") == "20"
    assert stat(html, seat, "pool") == str(150 + 150 + 300 - 20)
    assert stat(html, seat, "available") == str(600)
    assert stat(html, seat, "next-refresh") == "May 2 <small>+20</small>"


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
        recipient="<script>alert('r')</script>",
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


# --- responses and withdrawals -----------------------------------------------------------------


def test_a_response_within_90_days_gives_the_credit_back(
    client: Client, org: Org, seats: HomeSeats, clock: Any
) -> None:
    inmail = send(seats.recruiter)
    assert balance(seats.recruiter) == 29
    clock.shift(timedelta(days=10))
    client.force_login(org.recruiter)

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]), {"outcome": "accepted"}, headers=HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.ACCEPTED
    assert inmail.refunded
    assert balance(seats.recruiter) == 30
    assert "Recorded: Accepted. 1 credit refunded." in html
    assert f'id="inmail-{inmail.pk}"' in html
    assert stat(html, seats.recruiter, "available") == "30"
    refund = Entry.objects.get(inmail=inmail, kind=EntryKind.REFUND)
    assert (refund.amount, refund.actor, refund.cause) == (1, org.recruiter, "web")


def test_a_response_with_a_past_answer_time_is_recorded_at_that_time(
    client: Client, org: Org, seats: HomeSeats, clock: Any
) -> None:
    inmail = send(seats.recruiter)
    clock.shift(timedelta(days=10))
    client.force_login(org.recruiter)

    client.post(
        reverse("inmail_respond", args=[inmail.pk]),
        {"outcome": "replied", "responded_at": "2026-03-05T14:30"},
        headers=HTMX,
    )

    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.REPLIED
    assert inmail.responded_at == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)


def test_a_response_after_90_days_is_recorded_without_a_refund(
    client: Client, org: Org, seats: HomeSeats, clock: Any
) -> None:
    inmail = send(seats.recruiter)
    clock.shift(timedelta(days=95))
    client.force_login(org.recruiter)
    before = client.get(reverse("home")).content.decode()
    own_before = balance(seats.recruiter)

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]), {"outcome": "declined"}, headers=HTMX
    )

    assert response.status_code == 200
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.DECLINED
    assert not inmail.refunded
    assert balance(seats.recruiter) == own_before
    assert "Recorded: Declined." in response.content.decode()
    assert "1 credit refunded" not in response.content.decode()
    assert "No response" in before  # the window closed on day 90


def test_a_response_in_the_future_is_refused_and_changes_nothing(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    inmail = send(seats.recruiter)
    client.force_login(org.recruiter)

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]),
        {"outcome": "accepted", "responded_at": "2026-04-01T10:00"},
        headers=HTMX,
    )

    assert response.status_code == 400
    assert "A response can&#x27;t be in the future." in response.content.decode()
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.PENDING
    assert balance(seats.recruiter) == 29


def test_an_unknown_outcome_is_a_form_error(client: Client, org: Org, seats: HomeSeats) -> None:
    inmail = send(seats.recruiter)
    client.force_login(org.recruiter)

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]), {"outcome": "withdrawn"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_answering_twice_is_refused_with_the_reason(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    inmail = send(seats.recruiter)
    inmail_record_response(inmail=inmail, outcome="accepted", cause=Cause.system("test"))
    client.force_login(org.recruiter)

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]), {"outcome": "replied"}, headers=HTMX
    )

    assert response.status_code == 409
    assert "This InMail was already answered (accepted)." in response.content.decode()
    assert balance(seats.recruiter) == 30
    assert Entry.objects.filter(inmail=inmail, kind=EntryKind.REFUND).count() == 1


def test_withdrawing_keeps_the_credit_spent(client: Client, org: Org, seats: HomeSeats) -> None:
    inmail = send(seats.recruiter)
    client.force_login(org.recruiter)

    response = client.post(reverse("inmail_withdraw", args=[inmail.pk]), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.WITHDRAWN
    assert balance(seats.recruiter) == 29
    assert "Withdrawn. The credit is not given back." in html
    assert "Record response" not in html
    assert stat(html, seats.recruiter, "available") == "29"


def test_withdrawing_twice_is_refused_and_changes_nothing(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    inmail = send(seats.recruiter)
    inmail_withdraw(inmail=inmail, cause=Cause.system("test"))
    client.force_login(org.recruiter)

    response = client.post(reverse("inmail_withdraw", args=[inmail.pk]), headers=HTMX)

    assert response.status_code == 409
    assert "This InMail was already withdrawn." in response.content.decode()
    assert balance(seats.recruiter) == 29


def test_row_actions_without_htmx_redirect_home_with_a_message(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    inmail = send(seats.recruiter)
    client.force_login(org.recruiter)

    response = client.post(reverse("inmail_withdraw", args=[inmail.pk]))

    assert response.status_code == 302
    assert (
        "Withdrawn. The credit is not given back." in client.get(reverse("home")).content.decode()
    )


@pytest.mark.parametrize("who", ["teammate", "outsider", "nobody"])
@pytest.mark.parametrize("name", ["inmail_respond", "inmail_withdraw"])
def test_someone_elses_inmail_is_not_found(
    client: Client, org: Org, seats: HomeSeats, who: str, name: str
) -> None:
    inmail = send(seats.recruiter)
    client.force_login(getattr(org, who))

    response = client.post(reverse(name, args=[inmail.pk]), {"outcome": "accepted"}, headers=HTMX)

    assert response.status_code == 404
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.PENDING
    assert balance(seats.recruiter) == 29


@pytest.mark.parametrize("who", ["lead", "admin"])
def test_a_lead_or_admin_may_record_a_response_for_a_team_seat(
    client: Client, org: Org, seats: HomeSeats, who: str
) -> None:
    inmail = send(seats.recruiter)
    client.force_login(getattr(org, who))

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]), {"outcome": "replied"}, headers=HTMX
    )

    assert response.status_code == 200
    assert balance(seats.recruiter) == 30
    # Not their seat: no balance card of it comes back.
    assert "seat-card-" not in response.content.decode()


# --- my InMails: filters and pages -------------------------------------------------------------


@pytest.fixture
def history(org: Org, seats: HomeSeats, clock: Any) -> list[InMail]:
    """25 InMails, one a day from March 2; the 3rd answered, the 5th withdrawn."""
    sent = []
    for day in range(25):
        sent.append(send(seats.recruiter, f"linkedin.com/in/person-{day}"))
        clock.shift(timedelta(days=1))
    inmail_record_response(inmail=sent[2], outcome="replied", cause=Cause.system("test"))
    inmail_withdraw(inmail=sent[4], cause=Cause.system("test"))
    return sent


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-inmail-id="(\d+)"', html)]


def test_my_inmails_are_paginated_newest_first(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    first = client.get(reverse("home")).content.decode()
    second = client.get(reverse("inmail_list"), {"page": 2}, headers=HTMX)

    assert listed(first) == [inmail.pk for inmail in reversed(history)][:20]
    assert listed(second.content.decode()) == [inmail.pk for inmail in reversed(history)][20:]
    assert "Page 1 of 2 · 25 InMails" in first
    assert second["HX-Push-Url"] == reverse("home") + "?page=2"


def test_my_inmails_filter_by_status(client: Client, org: Org, history: list[InMail]) -> None:
    client.force_login(org.recruiter)

    replied = client.get(reverse("inmail_list"), {"status": "replied"}).content.decode()
    withdrawn = client.get(reverse("home"), {"status": "withdrawn"}).content.decode()

    assert listed(replied) == [history[2].pk]
    assert listed(withdrawn) == [history[4].pk]


def test_my_inmails_filter_by_sent_date_range(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    html = client.get(
        reverse("inmail_list"), {"sent_from": "2026-03-03", "sent_to": "2026-03-05"}
    ).content.decode()

    assert listed(html) == [history[3].pk, history[2].pk, history[1].pk]


def test_a_reversed_date_range_is_a_filter_error(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    html = client.get(
        reverse("inmail_list"), {"sent_from": "2026-03-05", "sent_to": "2026-03-03"}
    ).content.decode()

    assert "The end of the range comes before its start." in html


def test_my_inmails_filter_by_seat(client: Client, org: Org, seats: HomeSeats) -> None:
    second_team = TeamFactory.create(name="Second")
    other_seat = make_seat(holder=org.recruiter, team=second_team)
    send(seats.recruiter, "linkedin.com/in/one")
    there = send(other_seat, "linkedin.com/in/two")
    client.force_login(org.recruiter)

    html = client.get(reverse("home"), {"seat": other_seat.pk}).content.decode()

    assert listed(html) == [there.pk]
    assert card_ids(html) == {seats.recruiter.pk, other_seat.pk}


def test_my_response_rates_by_month(client: Client, org: Org, history: list[InMail]) -> None:
    client.force_login(org.recruiter)

    response = client.get(reverse("home"))
    html = response.content.decode()

    # Sent in March (all 25); one answered, none sent 30 days ago: 1 of 1 counted.
    march = response.context["rates_by_month"][0]
    assert (march.label, march.sent, march.answered_30d, march.response_rate) == (
        "Mar 2026",
        25,
        1,
        1.0,
    )
    assert '<script id="rates-chart-data" type="application/json">' in html
    assert '"data": [100.0]' in html


# --- bounded queries -------------------------------------------------------------------------


def test_home_reads_a_bounded_number_of_queries_however_much_history(
    client: Client,
    org: Org,
    clock: Any,
    django_assert_max_num_queries: Any,
) -> None:
    team = TeamFactory.create(name="Big pool")
    seat = make_seat(
        holder=org.recruiter, team=team, plan_code="recruiter_corporate", pool_access=True
    )
    for _ in range(19):
        make_seat(holder=UserFactory.create(), team=team, plan_code="recruiter_corporate")
    for number in range(30):
        send(seat, f"linkedin.com/in/p-{number}")
    client.force_login(org.recruiter)
    client.get(reverse("home"))  # sessions and the like warm up

    with django_assert_max_num_queries(20):
        assert client.get(reverse("home")).status_code == 200


def test_home_queries_do_not_grow_with_the_team(client: Client, org: Org, clock: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_for(team_size: int, holder: User) -> int:
        team = TeamFactory.create()
        seat = make_seat(holder=holder, team=team, plan_code="recruiter_corporate")
        for _ in range(team_size - 1):
            make_seat(holder=UserFactory.create(), team=team, plan_code="recruiter_corporate")
        send(seat)
        client.force_login(holder)
        client.get(reverse("home"))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("home"))
        return len(queries)

    assert count_for(2, UserFactory.create()) == count_for(20, UserFactory.create())
