"""The recruiter home: responses and withdrawals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import Entry, EntryKind, InMailStatus
from ledger.services import Cause, inmail_record_response, inmail_withdraw
from tests.conftest import Org
from tests.pages.home.conftest import HomeSeats
from tests.pages.home.helpers import HTMX, balance, send, stat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


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


@pytest.mark.parametrize(
    ("name", "data"), [("inmail_respond", {"outcome": "replied"}), ("inmail_withdraw", {})]
)
def test_a_row_actions_card_comes_out_of_band_inside_a_template(
    client: Client, org: Org, seats: HomeSeats, name: str, data: dict[str, str]
) -> None:
    """The answer's main content is a <tr>, parsed in a table context where the card (with its
    lots table) isn't valid: only inside a <template> does it reach its place whole (issue 12)."""
    inmail = send(seats.recruiter)
    client.force_login(org.recruiter)

    response = client.post(reverse(name, args=[inmail.pk]), data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode().strip()
    assert html.startswith(f'<tr id="inmail-{inmail.pk}"')
    row, rest = html.split("</tr>\n", 1)
    assert "<table" not in row
    assert "seat-card" not in row
    card = re.fullmatch(
        rf'\s*<template>\s*(<article id="seat-card-{seats.recruiter.pk}"[^>]* '
        r'hx-swap-oob="true">.*</article>)\s*</template>\s*',
        rest,
        flags=re.DOTALL,
    )
    assert card is not None, rest[:300]
    assert card.group(1).count("<table") == 1


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
