"""Finding a candidate in the pages (issue 12, item 4): a candidate's page shows who in the
viewer's teams wrote to the person, when, from which seat and how it ended, as far as the viewer
may see; the search finds InMails by recipient and subject; recipients link to their page; the
send form checks a recipient as it is typed, and refuses one that is no profile.

Grace Hopper was written to by the recruiter (2 March 2026, answered), the teammate (20 Feb),
the lead (10 Feb) and the outsider of another team (1 March)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import Entry, InMail
from ledger.rules import NOT_A_RECIPIENT
from ledger.services import Cause, inmail_record_response
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.home.helpers import HTMX, post_send, send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GRACE = "https://www.linkedin.com/in/grace-hopper/"


@dataclass
class Sent:
    recruiter_seat: Seat
    teammate_seat: Seat
    recruiter: InMail
    teammate: InMail
    lead: InMail
    outsider: InMail


@pytest.fixture
def clock_start() -> datetime:
    return datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sent(org: Org, clock: Any) -> Sent:
    recruiter_seat = make_seat(holder=org.recruiter, team=org.team)
    teammate_seat = make_seat(holder=org.teammate, team=org.team)
    lead_seat = make_seat(holder=org.lead, team=org.team)
    outsider_seat = make_seat(holder=org.outsider, team=org.other_team)
    clock.move_to(datetime(2026, 2, 10, 9, tzinfo=UTC))
    lead = send(lead_seat, "linkedin.com/in/Grace-Hopper", subject="Lead's own words")
    clock.move_to(datetime(2026, 2, 20, 9, tzinfo=UTC))
    teammate = send(teammate_seat, "uk.linkedin.com/in/grace-hopper", subject="Teammate secret")
    clock.move_to(datetime(2026, 3, 1, 9, tzinfo=UTC))
    outsider = send(outsider_seat, GRACE, subject="Other team's pitch")
    clock.move_to(START)
    recruiter = send(recruiter_seat, GRACE, subject="Principal engineer, platform")
    clock.move_to(datetime(2026, 3, 2, 15, 30, tzinfo=UTC))
    inmail_record_response(inmail=recruiter, outcome="replied", cause=Cause.system("test"))
    recruiter.refresh_from_db()
    return Sent(recruiter_seat, teammate_seat, recruiter, teammate, lead, outsider)


def candidate_page(client: Client, recipient: str) -> tuple[int, str]:
    response = client.get(reverse("candidates"), {"recipient": recipient})
    return response.status_code, response.content.decode()


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-inmail-id="(\d+)"', html)]


# --- a candidate's page ------------------------------------------------------------------------


def test_a_recruiter_sees_their_own_inmails_and_what_the_teammate_warning_says(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)

    status, html = candidate_page(client, "linkedin.com/in/GRACE-HOPPER?trk=x")

    assert status == 200
    assert row_ids(html) == [sent.recruiter.pk]
    assert "Principal engineer, platform" in html
    assert "Replied" in html
    assert "2026-03-02 15:30" in html
    assert "Recruiter Lite · Talent North" in html
    # Of the teammates: what a send would warn of now (the latest, with its day), nothing more.
    assert f"{org.teammate} sent an InMail to this recipient on 2026-02-20." in html
    for hidden in ("Teammate secret", "Lead's own words", "Other team's pitch", str(org.outsider)):
        assert hidden not in html


def test_a_lead_sees_every_inmail_of_their_team_and_nothing_of_another(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.lead)

    status, html = candidate_page(client, GRACE)

    assert status == 200
    assert row_ids(html) == [sent.recruiter.pk, sent.teammate.pk, sent.lead.pk]
    assert "Teammate secret" in html
    assert str(org.teammate) in html
    assert "Other team's pitch" not in html
    assert "Contacted by a teammate" not in html  # every contact is a row already
    assert "3 InMails, the last sent on 2026-03-02." in html


def test_an_admin_sees_every_inmail_to_the_person(client: Client, org: Org, sent: Sent) -> None:
    client.force_login(org.admin)

    status, html = candidate_page(client, "https://de.linkedin.com/in/grace-hopper/en")

    assert status == 200
    assert row_ids(html) == [sent.recruiter.pk, sent.outsider.pk, sent.teammate.pk, sent.lead.pk]


def test_a_teammates_contact_older_than_90_days_is_not_shown_to_a_recruiter(
    client: Client, org: Org, sent: Sent, clock: Any
) -> None:
    clock.move_to(datetime(2026, 5, 21, 9, 0, 1, tzinfo=UTC))  # 90 days after 20 Feb, and a second
    client.force_login(org.recruiter)

    _, html = candidate_page(client, GRACE)

    assert "Contacted by a teammate" not in html
    assert row_ids(html) == [sent.recruiter.pk]


def test_a_person_nobody_visible_wrote_to_has_an_empty_page(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.outsider)

    status, html = candidate_page(client, "linkedin.com/in/ada-lovelace")

    assert status == 200
    assert row_ids(html) == []
    assert "No InMail to this person that you can see." in html


@pytest.mark.parametrize(
    ("recipient", "message"),
    [("", "This field is required."), ("\x00", "Null characters are not allowed.")],
)
def test_a_blank_or_unreadable_recipient_is_a_400_not_an_error(
    client: Client, org: Org, recipient: str, message: str
) -> None:
    client.force_login(org.recruiter)

    status, html = candidate_page(client, recipient)

    assert status == 400
    assert message in html


def test_a_recipient_stored_before_the_check_still_has_its_page(
    client: Client, org: Org, sent: Sent
) -> None:
    InMail.objects.filter(pk=sent.recruiter.pk).update(
        recipient="not a url at all !!", recipient_key="not a url at all !!"
    )
    client.force_login(org.recruiter)

    status, html = candidate_page(client, "Not a URL at all !!")

    assert status == 200
    assert row_ids(html) == [sent.recruiter.pk]
    assert NOT_A_RECIPIENT in html


def test_the_candidate_page_needs_a_sign_in(client: Client) -> None:
    response = client.get(reverse("candidates"), {"recipient": GRACE})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the search --------------------------------------------------------------------------------


def search(client: Client, **query: str) -> tuple[int, str]:
    response = client.get(reverse("candidates"), query)
    return response.status_code, response.content.decode()


def test_the_search_finds_subjects_and_recipients_within_what_the_user_sees(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.lead)

    _, by_subject = search(client, q="SECRET")
    _, by_recipient = search(client, q="grace-hop")

    assert row_ids(by_subject) == [sent.teammate.pk]
    assert row_ids(by_recipient) == [sent.recruiter.pk, sent.teammate.pk, sent.lead.pk]
    link = f"{reverse('candidates')}?recipient={quote(GRACE, safe='')}"
    assert f'href="{link}"' in by_recipient


def test_a_recruiter_searches_their_own_inmails_only(client: Client, org: Org, sent: Sent) -> None:
    client.force_login(org.recruiter)

    _, html = search(client, q="secret")

    assert row_ids(html) == []
    assert "No InMail you can see has “secret” in its recipient or subject." in html
    assert "Whether a teammate wrote to someone recently is on that person" in html


def test_a_search_for_a_profile_offers_that_persons_page(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)

    _, html = search(client, q="www.linkedin.com/in/Grace-Hopper")

    assert row_ids(html) == [sent.recruiter.pk]
    page = f"{reverse('candidates')}?recipient={quote('www.linkedin.com/in/Grace-Hopper', safe='')}"
    assert f'href="{page}" data-candidate-link' in html


def test_results_come_twenty_to_a_page(client: Client, org: Org, clock: Any) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team)
    for number in range(21):
        send(seat, f"linkedin.com/in/person-{number}", subject=f"Data role {number}")
    client.force_login(org.recruiter)

    _, first = search(client, q="data role")
    _, second = search(client, q="data role", page="2")

    assert len(row_ids(first)) == 20
    assert len(row_ids(second)) == 1
    assert "21 InMails" in first
    assert "?q=data%20role&amp;page=2" in first


def test_an_empty_search_shows_the_box_only(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    status, html = search(client)

    assert status == 200
    assert 'id="id_candidate_q"' in html
    assert "InMails matching" not in html


def test_a_search_longer_than_200_characters_is_a_form_error(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    status, html = search(client, q="x" * 201)

    assert status == 400
    assert "Ensure this value has at most 200 characters (it has 201)." in html


def test_every_page_carries_the_search_box_in_the_navigation(client: Client, org: Org) -> None:
    client.force_login(org.lead)

    html = client.get(reverse("notifications:index")).content.decode()

    assert (
        f'action="{reverse("candidates")}" role="search" aria-label="Quick candidate search"'
        in html
    )
    assert 'name="q"' in html


# --- the home page: links, the send form -------------------------------------------------------


def test_the_recipient_cell_of_my_inmails_links_to_the_candidate(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    link = f"{reverse('candidates')}?recipient={quote(GRACE, safe='')}"
    assert f'<a href="{link}">{GRACE}</a>' in html


def test_the_send_form_checks_the_recipient_as_it_is_typed(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    field = re.search(r'<input[^>]*name="recipient"[^>]*>', html)
    assert field is not None
    assert f'hx-get="{reverse("inmail_recipient_check")}"' in field.group(0)
    assert 'hx-trigger="input changed delay:400ms"' in field.group(0)
    assert 'hx-include="#send-form [name=seat]"' in field.group(0)
    assert 'aria-describedby="id_recipient_helptext recipient-check"' in field.group(0)
    assert '<div id="recipient-check" class="recipient-check" aria-live="polite"></div>' in html


def check(client: Client, seat: Seat | str | None, recipient: str) -> str:
    query = {"recipient": recipient}
    if seat is not None:
        query["seat"] = str(seat.pk if isinstance(seat, Seat) else seat)
    response = client.get(reverse("inmail_recipient_check"), query, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_the_check_warns_of_a_teammates_recent_contact(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)

    html = check(client, sent.recruiter_seat, "https://uk.linkedin.com/in/Grace-Hopper")

    assert f"{org.teammate} sent an InMail to this recipient on 2026-02-20." in html
    assert "notice warning" in html


def test_the_check_says_why_a_recipient_cant_be_sent_to(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)

    with_seat = check(client, sent.recruiter_seat, "not a url at all !!")
    without_seat = check(client, None, "not a url at all !!")

    assert NOT_A_RECIPIENT in with_seat
    assert NOT_A_RECIPIENT in without_seat


@pytest.mark.parametrize("typed", ["", "   ", "linkedin.com/in/ada-lovelace"])
def test_the_check_says_nothing_when_there_is_nothing_to_say(
    client: Client, org: Org, sent: Sent, typed: str
) -> None:
    client.force_login(org.recruiter)

    assert "notice" not in check(client, sent.recruiter_seat, typed)


@pytest.mark.parametrize("seat", ["teammate", "9" * 30, "-1", "x"])
def test_the_check_reads_no_seat_but_the_users_own(
    client: Client, org: Org, sent: Sent, seat: str
) -> None:
    client.force_login(org.recruiter)
    given = sent.teammate_seat if seat == "teammate" else seat

    html = check(client, given, GRACE)

    # A seat that isn't the user's own tells nothing: no warning from another's point of view.
    assert "notice" not in html


def test_a_page_send_to_no_profile_is_a_field_error_and_charges_nothing(
    client: Client, org: Org, sent: Sent
) -> None:
    client.force_login(org.recruiter)
    entries = Entry.objects.count()

    response = post_send(client, sent.recruiter_seat, recipient="not a url at all !!")

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<ul class="errorlist" id="id_recipient_error"><li>{NOT_A_RECIPIENT}</li></ul>' in html
    assert Entry.objects.count() == entries
    assert not InMail.objects.filter(recipient="not a url at all !!").exists()
