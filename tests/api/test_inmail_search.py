"""Finding InMails through the API (issue 12, item 4): `GET /inmails/?recipient=` in any
spelling, `?q=` in the recipient and subject, each within what the user may see; and a send
to something that is neither a profile URL nor a member id refused with 400 on `recipient`.

The clock starts at 15 January 2025, 09:00 UTC."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import Entry, InMail
from ledger.rules import NOT_A_RECIPIENT
from tests.api.conftest import World, inmail_body, send
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db

GRACE = "https://www.linkedin.com/in/grace-hopper/"


@pytest.fixture
def sent(world: World, time_machine: TimeMachineFixture) -> dict[str, InMail]:
    """Grace written to from three seats of two teams, and two other people."""
    grace_by_recruiter = send(world.seat, GRACE, subject="Staff engineer, payments")
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    grace_by_lead = send(world.lead_seat, "linkedin.com/in/Grace-Hopper", subject="Compilers?")
    grace_by_outsider = send(world.outsider_seat, "uk.linkedin.com/in/grace-hopper?trk=x")
    ada = send(world.seat, "https://www.linkedin.com/in/ada-lovelace", subject="Analytical role")
    urn = send(world.pooled_seat, "urn:li:member:4711", subject="100% remote_ok")
    return {
        "grace_by_recruiter": grace_by_recruiter,
        "grace_by_lead": grace_by_lead,
        "grace_by_outsider": grace_by_outsider,
        "ada": ada,
        "urn": urn,
    }


def ids(client: APIClient, **query: str) -> list[int]:
    answer = client.get("/api/v1/inmails/", query)
    assert answer.status_code == 200, answer.json()
    return [row["id"] for row in answer.json()["results"]]


# --- ?recipient= ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        GRACE,
        "http://linkedin.com/in/GRACE-HOPPER",
        "  www.linkedin.com/in/grace-hopper/?originalSubdomain=uk#experience  ",
        "https://de.linkedin.com/in/grace-hopper/en",
    ],
)
def test_recipient_finds_one_person_in_any_spelling_within_what_the_user_sees(
    sent: dict[str, InMail],
    as_admin: APIClient,
    as_lead: APIClient,
    as_recruiter: APIClient,
    spelling: str,
) -> None:
    assert ids(as_recruiter, recipient=spelling) == [sent["grace_by_recruiter"].pk]
    assert ids(as_lead, recipient=spelling) == [
        sent["grace_by_lead"].pk,
        sent["grace_by_recruiter"].pk,
    ]
    assert ids(as_admin, recipient=spelling) == [
        sent["grace_by_outsider"].pk,
        sent["grace_by_lead"].pk,
        sent["grace_by_recruiter"].pk,
    ]


def test_recipient_is_matched_as_a_whole_person_not_as_text(
    sent: dict[str, InMail], as_admin: APIClient
) -> None:
    assert ids(as_admin, recipient="linkedin.com/in/grace") == []
    assert ids(as_admin, recipient="urn:li:member:04711") == [sent["urn"].pk]
    assert ids(as_admin, recipient="not a url at all !!") == []


def test_recipient_combines_with_the_other_filters(
    sent: dict[str, InMail], as_admin: APIClient, world: World
) -> None:
    assert ids(as_admin, recipient=GRACE, seat=str(world.lead_seat.pk)) == [
        sent["grace_by_lead"].pk
    ]
    assert ids(as_admin, recipient=GRACE, team=str(world.team.pk)) == [
        sent["grace_by_lead"].pk,
        sent["grace_by_recruiter"].pk,
    ]
    assert ids(as_admin, recipient=GRACE, sent_before="2025-01-16T00:00:00Z") == [
        sent["grace_by_recruiter"].pk
    ]


# --- ?q= -----------------------------------------------------------------------------------------


def test_q_finds_text_in_the_subject_or_the_recipient_ignoring_case(
    sent: dict[str, InMail], as_admin: APIClient, as_recruiter: APIClient
) -> None:
    assert ids(as_admin, q="COMPILERS") == [sent["grace_by_lead"].pk]
    assert ids(as_admin, q="lovelace") == [sent["ada"].pk]
    assert ids(as_admin, q="analytical ROLE") == [sent["ada"].pk]
    # The recruiter sees their own InMails only, the lead's subject included in none.
    assert ids(as_recruiter, q="compilers") == []
    assert ids(as_recruiter, q="payments") == [sent["grace_by_recruiter"].pk]


def test_q_holding_a_profile_url_finds_that_person_however_they_were_written(
    sent: dict[str, InMail], as_admin: APIClient
) -> None:
    assert ids(as_admin, q="https://www.linkedin.com/in/GRACE-HOPPER") == [
        sent["grace_by_outsider"].pk,
        sent["grace_by_lead"].pk,
        sent["grace_by_recruiter"].pk,
    ]


def test_q_reads_percent_and_underscore_as_themselves(
    sent: dict[str, InMail], as_admin: APIClient
) -> None:
    assert ids(as_admin, q="100%") == [sent["urn"].pk]
    assert ids(as_admin, q="e_o") == [sent["urn"].pk]
    assert ids(as_admin, q="%") == [sent["urn"].pk]


def test_recipient_and_q_together_narrow_each_other(
    sent: dict[str, InMail], as_admin: APIClient
) -> None:
    assert ids(as_admin, recipient=GRACE, q="payments") == [
        sent["grace_by_outsider"].pk,
        sent["grace_by_recruiter"].pk,
    ]
    assert ids(as_admin, recipient=GRACE, q="analytical") == []


def test_blank_search_values_search_nothing(sent: dict[str, InMail], as_admin: APIClient) -> None:
    assert len(ids(as_admin, q="", recipient="  ")) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [({"q": "x" * 201}, "q"), ({"recipient": "x" * 256}, "recipient")],
)
def test_a_search_longer_than_its_limit_is_a_400_naming_it(
    world: World, as_admin: APIClient, query: dict[str, str], field: str
) -> None:
    answer = as_admin.get("/api/v1/inmails/", query)

    assert answer.status_code == 400
    assert list(answer.json()) == [field]


def test_the_schema_documents_recipient_and_q() -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    parameters = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/v1/inmails/"]["get"]["parameters"]
    }

    # A blank value is allowed (and searches nothing): the schema says "text, or empty".
    assert parameters["recipient"]["schema"]["oneOf"][0]["maxLength"] == 255
    assert parameters["q"]["schema"]["oneOf"][0]["maxLength"] == 200
    assert "duplicate check" in parameters["recipient"]["description"]


# --- sending: the recipient is checked -----------------------------------------------------------


@pytest.mark.parametrize(
    "recipient",
    [
        "not a url at all !!",
        "member-1",
        "4711",
        "https://www.linkedin.com/company/acme",
        "https://linkedin.com.example.org/in/jane",
        "https://lnkd.in/abc123",
        "ftp://www.linkedin.com/in/jane",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/in/jane doe",
        "urn:li:member:jane",
    ],
)
def test_a_send_to_something_that_is_no_profile_is_a_400_and_charges_nothing(
    world: World, as_recruiter: APIClient, recipient: str
) -> None:
    entries = Entry.objects.count()

    answer = as_recruiter.post(
        "/api/v1/inmails/", inmail_body(world.seat, recipient), format="json"
    )

    assert answer.status_code == 400
    assert answer.json() == {"recipient": [NOT_A_RECIPIENT]}
    assert not InMail.objects.exists()
    assert Entry.objects.count() == entries


@pytest.mark.parametrize(
    "recipient",
    [
        "https://www.linkedin.com/in/jane-doe-4b2a1c/",
        "http://uk.linkedin.com/in/jane-doe",
        "https://www.linkedin.com/in/j%C3%A9r%C3%B4me-dupont?trk=people",
        "https://www.linkedin.com/in/Jérôme-Dupont",
        "https://www.linkedin.com/pub/jane-doe/12/345/678",
        "https://www.linkedin.com/sales/lead/ACwAAAB1c2VyMTIzNDU2Nzg5,NAME_SEARCH,x1y2",
        "https://www.linkedin.com/talent/profile/AEMAABcdEfGhIjKlMnOp?project=42",
        "urn:li:member:123456789",
        "ACoAABcdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ],
)
def test_a_send_to_a_profile_url_or_member_id_is_logged_as_written(
    world: World, as_recruiter: APIClient, recipient: str
) -> None:
    answer = as_recruiter.post(
        "/api/v1/inmails/", inmail_body(world.seat, recipient), format="json"
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["recipient"] == recipient.strip()


def test_the_teammate_warning_sees_through_the_spelling(
    world: World, as_teammate: APIClient
) -> None:
    send(world.pooled_seat, "https://www.linkedin.com/in/j%C3%A9r%C3%B4me-dupont/")

    answer = as_teammate.post(
        "/api/v1/inmails/",
        inmail_body(world.pooled_seat_2, "linkedin.com/in/JÉRÔME-Dupont"),
        format="json",
    )

    assert answer.status_code == 201
    warnings: list[dict[str, Any]] = answer.json()["warnings"]
    assert [warning["code"] for warning in warnings] == ["recipient_contacted_by_teammate"]
