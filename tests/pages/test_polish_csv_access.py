"""A person without a seat isn't offered a CSV import they can't use (issue 12, item 8): no link
in the navigation, a page that says why and what to ask an admin for, and an import that refuses
politely without reading the file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from time_machine import TimeMachineFixture

from ledger.models import InMail
from ledger.web.csv_views import SESSION_KEY
from teams.models import Membership, Role
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

NOT_IN_A_TEAM = (
    "You are not in a team yet, so there is no seat to import InMails into or export from: "
    "an admin must add you to a team and give you a seat."
)
NO_SEAT = (
    "You hold no seat, so there is no seat to import InMails into or export from: an admin "
    "must give you a seat."
)
NO_SEAT_AT_ALL = "No seat exists yet: activate one in the admin console before importing InMails."


@pytest.fixture(autouse=True)
def _now(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(datetime(2025, 6, 16, 12, 0, tzinfo=UTC), tick=False)


def nav(html: str) -> str:
    return html[html.index('<nav class="container" aria-label="Main">') : html.index("</nav>")]


def index_html(client: Client) -> str:
    response = client.get(reverse("csv:index"))
    assert response.status_code == 200
    return response.content.decode()


def history_file(seat_id: int) -> SimpleUploadedFile:
    text = f"seat,recipient,subject,body,sent_at\n{seat_id},ada,Hi,Body,2025-06-01\n"
    return SimpleUploadedFile("history.csv", text.encode())


@pytest.mark.parametrize(
    ("who", "reason"),
    [("nobody", NOT_IN_A_TEAM), ("recruiter", NO_SEAT), ("admin", NO_SEAT_AT_ALL)],
)
def test_without_a_seat_the_page_says_why_and_offers_neither_import_nor_export(
    client: Client, org: Org, who: str, reason: str
) -> None:
    client.force_login(getattr(org, who))

    html = index_html(client)

    assert f'<p class="notice" id="csv-unavailable">{reason}</p>' in html.replace("&#x27;", "'")
    assert 'id="import-form"' not in html
    assert 'id="export-inmails"' not in html
    assert 'id="export-entries"' not in html
    assert f'href="{reverse("csv:index")}"' not in nav(html)


def test_a_lead_of_a_team_with_seats_is_offered_the_import_without_a_seat_of_their_own(
    client: Client, org: Org
) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    client.force_login(org.lead)

    html = index_html(client)

    assert 'id="csv-unavailable"' not in html
    assert 'id="import-form"' in html
    assert 'id="export-inmails"' in html
    assert f'href="{reverse("csv:index")}" aria-current="page">CSV</a>' in nav(html)


def test_a_holder_is_offered_the_import_and_the_nav_link(client: Client, org: Org) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    client.force_login(org.recruiter)

    html = client.get(reverse("notifications:index")).content.decode()

    assert f'href="{reverse("csv:index")}"' in nav(html)
    assert 'id="import-form"' in index_html(client)


def test_an_upload_without_a_seat_is_refused_politely_and_keeps_nothing(
    client: Client, org: Org
) -> None:
    seat = make_seat(holder=org.outsider, team=org.other_team)
    client.force_login(org.nobody)

    response = client.post(reverse("csv:import"), {"file": history_file(seat.pk)})

    assert response.status_code == 403
    html = response.content.decode()
    assert NOT_IN_A_TEAM.replace("'", "&#x27;") in html
    assert 'id="import-form"' not in html
    assert SESSION_KEY not in client.session
    assert not InMail.objects.exists()


def test_a_pending_file_of_someone_who_lost_their_seats_is_dropped(
    client: Client, org: Org
) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team)
    client.force_login(org.lead)
    assert client.post(reverse("csv:import"), {"file": history_file(seat.pk)}).status_code == 302
    assert SESSION_KEY in client.session
    Membership.objects.filter(user=org.lead, team=org.team, role=Role.LEAD).update(
        role=Role.RECRUITER
    )

    preview = client.get(reverse("csv:import_preview"))

    assert preview.status_code == 302
    assert preview["Location"] == reverse("csv:index")
    assert SESSION_KEY not in client.session
    assert NO_SEAT in index_html(client).replace("&#x27;", "'")


def test_a_commit_of_someone_who_lost_their_seats_imports_nothing(client: Client, org: Org) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team)
    client.force_login(org.lead)
    client.post(reverse("csv:import"), {"file": history_file(seat.pk)})
    digest = client.session[SESSION_KEY]["digest"]
    Membership.objects.filter(user=org.lead, team=org.team).delete()

    response = client.post(reverse("csv:import_commit"), {"digest": digest})

    assert response.status_code == 302
    assert response["Location"] == reverse("csv:index")
    assert SESSION_KEY not in client.session
    assert not InMail.objects.exists()
    assert NOT_IN_A_TEAM in index_html(client).replace("&#x27;", "'")
