"""Any CSV in (issue 14, item 3): the mapping of a file's columns to ours, guessed from the
header, with its date format detected or chosen, a time zone, status words, saved mappings,
the preview of the rows as they will be read, and the same all-or-nothing commit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ledger.models import InMail
from ledger.web.csv_io.mapping import (
    ColumnMapping,
    DateFormatError,
    detect_date_format,
    guess_columns,
    guess_status,
    parse_date,
)
from ledger.web.csv_views import SESSION_KEY
from teams.models import AuditEvent, PersonalSettings, User
from tests.conftest import Org
from tests.csv.conftest import Seats

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

CRM_HEADER = "Profile URL,Date sent,Title,Message,Outcome,Reply date,Recruiter,Labels\n"
UTC_ZONE = ZoneInfo("UTC")


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def upload(client: Client, text: str) -> TestResponse:
    return client.post(
        reverse("csv:import"), {"file": SimpleUploadedFile("crm.csv", text.encode())}
    )


def mapping_post(client: Client, **changes: str) -> TestResponse:
    data = {
        "col_recipient": "Profile URL",
        "col_sent_at": "Date sent",
        "col_subject": "Title",
        "col_body": "Message",
        "col_status": "Outcome",
        "col_responded_at": "Reply date",
        "col_holder": "Recruiter",
        "col_tags": "Labels",
        "date_format": "mdy",
        "time_zone": "UTC",
    }
    data.update(changes)
    return client.post(reverse("csv:import_mapping"), data)


def crm_file(*rows: str) -> str:
    return CRM_HEADER + "".join(f"{row}\n" for row in rows)


# --- guessing ----------------------------------------------------------------------------------


def test_the_mapping_is_guessed_from_common_header_names() -> None:
    header = ["LinkedIn URL", "Sent", "Subject", "Message", "Outcome", "Reply date", "Email", "X"]
    assert guess_columns(header) == {
        "recipient": "LinkedIn URL",
        "sent_at": "Sent",
        "subject": "Subject",
        "body": "Message",
        "status": "Outcome",
        "responded_at": "Reply date",
        "template": "",
        "tags": "",
        "holder": "Email",
        "seat": "",
        "open_profile": "",
    }


def test_a_column_is_guessed_for_one_field_only() -> None:
    # "Date" could be sent_at; "Date sent" is the better name and comes first in the synonyms.
    guessed = guess_columns(["date", "Date sent", "Recruiter", "Sender"])
    assert (guessed["sent_at"], guessed["holder"]) == ("Date sent", "Recruiter")


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Accepted", "accepted"),
        ("Replied", "replied"),
        ("No reply", "no_response"),
        ("No response", "no_response"),
        ("", "pending"),
        ("maybe", ""),
    ],
)
def test_status_words_are_guessed(word: str, status: str) -> None:
    assert guess_status(word) == status


# --- date formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2025-06-13", "2025-06-14T09:30:00+02:00"], "iso"),
        (["06/13/2025", "06/01/2025 9:30 AM"], "mdy"),
        (["13/06/2025 14:05", "01/06/2025"], "dmy"),
        (["06/05/2025", "01/02/2025"], None),  # every day and month 12 or less: ask
        (["13/06/2025", "06/13/2025"], None),  # no one format reads both
        (["", " "], "iso"),
    ],
)
def test_the_date_format_is_detected_from_the_rows(values: list[str], expected: str | None) -> None:
    assert detect_date_format(values) == expected


def test_dates_are_read_in_the_chosen_format_and_time_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    assert parse_date("06/13/2025 9:30 PM", "mdy", new_york) == datetime(
        2025, 6, 14, 1, 30, tzinfo=UTC
    )
    assert parse_date("13.06.2025 09:30:15", "dmy", UTC_ZONE) == datetime(
        2025, 6, 13, 9, 30, 15, tzinfo=UTC
    )
    assert parse_date("2025-06-13", "iso", new_york) == datetime(2025, 6, 13, 4, tzinfo=UTC)
    # A time zone in the value wins over the chosen one.
    assert parse_date("2025-06-13T09:00+02:00", "iso", new_york) == datetime(
        2025, 6, 13, 7, tzinfo=UTC
    )
    for bad, form in (("13/13/2025", "mdy"), ("06/13/2025", "dmy"), ("13:00 PM", "mdy")):
        with pytest.raises(DateFormatError):
            parse_date(bad, form, UTC_ZONE)


# --- the pages ---------------------------------------------------------------------------------


def test_a_file_with_our_own_columns_needs_no_mapping(
    client: Client, org: Org, seats: Seats
) -> None:
    text = (
        "seat,recipient,subject,body,sent_at\n"
        f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,B,2025-06-02\n"
    )
    response = upload(signed_in(client, org.recruiter), text)
    assert response["Location"] == reverse("csv:import_preview")
    assert "mapping" not in client.session[SESSION_KEY]


def test_another_file_goes_through_the_guessed_mapping_to_the_preview_and_commit(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.recruiter)
    response = upload(
        client,
        crm_file(
            "linkedin.com/in/ada,06/13/2025 9:30 AM,Hi Ada,Body,Accepted,06/14/2025,"
            "Recruiter@Example.com,java; senior",
            "linkedin.com/in/bo,06/02/2025,Hi Bo,Body,No reply,,recruiter,",
        ),
    )
    assert response["Location"] == reverse("csv:import_mapping")
    page = client.get(reverse("csv:import_mapping")).content.decode()
    assert '<option value="Profile URL" selected>' in page
    assert '<option value="mdy" selected>' in page  # 06/13 can only be month first
    assert "Status “Accepted” means" in page
    assert 'id="ambiguous-dates"' not in page

    # "No reply" would be no_response, which a recent InMail can't be yet: pending.
    response = mapping_post(
        client, time_zone="America/New_York", status_0="accepted", status_1="pending"
    )
    assert response.status_code == 302, response.content.decode()
    preview = client.get(reverse("csv:import_preview")).content.decode()
    assert "2 rows read" in preview
    assert "2 ready to import" in preview
    assert "2025-06-13 13:30" in preview  # 9:30 in New York, shown in UTC
    assert "java, senior" in preview
    assert 'id="change-mapping"' in preview

    digest = client.session[SESSION_KEY]["digest"]
    client.post(reverse("csv:import_commit"), {"digest": digest})
    rows = InMail.objects.filter(imported=True).order_by("sent_at")
    assert [(m.recipient, m.status, m.seat_id, m.sent_at) for m in rows] == [
        ("linkedin.com/in/bo", "pending", seats.recruiter.pk, datetime(2025, 6, 2, 4, tzinfo=UTC)),
        (
            "linkedin.com/in/ada",
            "accepted",
            seats.recruiter.pk,
            datetime(2025, 6, 13, 13, 30, tzinfo=UTC),
        ),
    ]


def test_ambiguous_dates_are_asked_for(client: Client, org: Org, seats: Seats) -> None:
    signed_in(client, org.recruiter)
    upload(client, crm_file("linkedin.com/in/ada,06/05/2025,Hi,Body,,,recruiter,"))
    page = client.get(reverse("csv:import_mapping")).content.decode()
    assert 'id="ambiguous-dates"' in page
    response = mapping_post(client, date_format="")
    assert response.status_code == 400
    assert "could be read as MM/DD/YYYY or as DD/MM/YYYY: choose which" in response.content.decode()
    assert mapping_post(client, date_format="dmy").status_code == 302
    assert "2025-05-06" in client.get(reverse("csv:import_preview")).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"col_recipient": ""}, "Choose the column that holds the recipient."),
        ({"col_holder": ""}, "Choose the sender&#x27;s column (or the seat id&#x27;s)."),
        ({"col_body": "Title"}, "The column “Title” is chosen for two fields."),
        ({"date_format": "dmy"}, "“06/13/2025” is not written DD/MM/YYYY"),
        ({"status_0": "", "col_status": "Labels"}, "Choose what the status “x” means."),
        ({"time_zone": "Mars/Base"}, "Select a valid choice."),
        ({"col_sent_at": "Nope"}, "Select a valid choice."),
    ],
)
def test_a_bad_mapping_is_a_form_error_and_keeps_nothing(
    client: Client, org: Org, seats: Seats, changes: dict[str, str], message: str
) -> None:
    signed_in(client, org.recruiter)
    upload(
        client, crm_file("linkedin.com/in/ada,06/13/2025,Hi,Body,Accepted,06/14/2025,recruiter,x")
    )
    response = mapping_post(client, **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "mapping" not in client.session[SESSION_KEY]
    assert not PersonalSettings.objects.exists()


def test_a_row_the_mapping_cant_read_is_a_problem_in_the_preview(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.recruiter)
    upload(
        client,
        crm_file(
            "linkedin.com/in/ada,06/13/2025,Hi,Body,,,recruiter,",
            "linkedin.com/in/bo,06/13/2025,Hi,Body,,,stranger@example.com,",
        ),
    )
    # The form checks the first rows' dates; a later bad cell is the preview's problem.
    session = client.session
    session[SESSION_KEY]["mapping"] = ColumnMapping(
        columns={
            "recipient": "Profile URL",
            "sent_at": "Date sent",
            "subject": "Title",
            "body": "Message",
            "holder": "Recruiter",
        },
        date_format="dmy",
    ).as_json()
    session.save()
    preview = client.get(reverse("csv:import_preview")).content.decode()
    assert "&#x27;06/13/2025&#x27; is not a date written DD/MM/YYYY" in preview
    assert "No seat you may log InMails for is held by &#x27;stranger@example.com&#x27;" in preview
    assert 'id="import-commit"' not in preview


def test_a_mapping_saved_by_name_is_offered_next_time(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.recruiter)
    upload(
        client, crm_file("linkedin.com/in/ada,06/13/2025,Hi,Body,Accepted,06/14/2025,recruiter,")
    )
    assert mapping_post(client, save_as=" CRM export ", col_tags="").status_code == 302
    saved = PersonalSettings.objects.get(user=org.recruiter).csv_mappings
    assert list(saved) == ["CRM export"]
    assert saved["CRM export"]["columns"]["recipient"] == "Profile URL"
    assert saved["CRM export"]["status_values"] == {"Accepted": "accepted"}
    audit = AuditEvent.objects.get(action="csv_mapping.save")
    assert (audit.actor, list(audit.changes)) == (org.recruiter, ["CRM export"])
    assert audit.changes["CRM export"][0] is None

    client.post(reverse("csv:import_discard"))
    upload(
        client, crm_file("linkedin.com/in/ada,06/05/2025,Hi,Body,Accepted,06/06/2025,recruiter,")
    )
    page = client.get(reverse("csv:import_mapping")).content.decode()
    assert '<option value="CRM export">CRM export</option>' in page
    assert 'id="ambiguous-dates"' in page
    page = client.get(reverse("csv:import_mapping"), {"saved": "CRM export"}).content.decode()
    assert '<option value="mdy" selected>' in page
    assert '<option value="Labels">Labels</option>' in page  # tags left unmapped, as saved
    # Another person doesn't see it.
    signed_in(client, org.lead)
    upload(client, crm_file("linkedin.com/in/ada,06/13/2025,Hi,Body,,,lead,"))
    assert "CRM export" not in client.get(reverse("csv:import_mapping")).content.decode()


def test_a_file_with_too_few_columns_is_still_refused_at_the_upload(
    client: Client, org: Org, seats: Seats
) -> None:
    response = upload(signed_in(client, org.recruiter), "a,b,c,d\n1,2,3,4\n")
    assert response.status_code == 400
    assert "lacks these columns" in response.content.decode()
    assert SESSION_KEY not in client.session
