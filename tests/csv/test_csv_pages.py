"""The CSV pages under /csv/: export downloads, and the upload → preview → commit import."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from ledger.models import Account, Entry, ImportJob, InMail
from ledger.services import Cause, inmail_send
from ledger.web.csv_io.jobs import IMPORT_JOB_MAX_BYTES
from ledger.web.csv_views import SESSION_KEY
from teams.models import Seat, User
from tests.conftest import Org
from tests.csv.conftest import Seats

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

HEADER = "seat,recipient,subject,body,sent_at,status,responded_at\n"


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def send(seat: Seat, recipient: str, subject: str = "Hello") -> InMail:
    return inmail_send(
        seat=seat, recipient=recipient, subject=subject, body="Body", cause=Cause(seat.holder, "t")
    ).inmail


def downloaded_rows(response: TestResponse) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def upload(client: Client, content: bytes, name: str = "history.csv") -> TestResponse:
    return client.post(reverse("csv:import"), {"file": SimpleUploadedFile(name, content)})


def upload_text(client: Client, *rows: str) -> TestResponse:
    return upload(client, (HEADER + "".join(f"{row}\n" for row in rows)).encode())


def test_one_row_with_a_problem_is_counted_in_the_singular(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.recruiter)
    upload_text(client, f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,accepted,")

    html = client.get(reverse("csv:import_preview")).content.decode()

    assert "1 row read:\n  0 ready to import, 1 with problems." in html
    assert "An accepted InMail needs the response time." in html


def commit(client: Client) -> TestResponse:
    digest = client.session[SESSION_KEY]["digest"]
    return client.post(reverse("csv:import_commit"), {"digest": digest})


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("csv:index", "get"),
        ("csv:export_inmails", "get"),
        ("csv:export_entries", "get"),
        ("csv:import", "post"),
        ("csv:import_preview", "get"),
        ("csv:import_commit", "post"),
        ("csv:import_discard", "post"),
    ],
)
def test_every_csv_page_asks_an_anonymous_visitor_to_sign_in(
    client: Client, name: str, method: str
) -> None:
    response = getattr(client, method)(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["admin", "lead", "recruiter", "teammate", "outsider", "nobody"])
def test_the_index_page_offers_only_the_seats_the_person_may_see(
    client: Client, org: Org, seats: Seats, who: str
) -> None:
    user = getattr(org, who)
    visible = {
        "admin": [seats.lead, seats.recruiter, seats.teammate_pooled, seats.outsider],
        "lead": [seats.lead, seats.recruiter, seats.teammate_pooled],
        "recruiter": [seats.recruiter],
        "teammate": [seats.teammate_pooled],
        "outsider": [seats.outsider],
        "nobody": [],
    }[who]

    response = signed_in(client, user).get(reverse("csv:index"))

    assert response.status_code == 200
    html = response.content.decode()
    for seat in [seats.lead, seats.recruiter, seats.teammate_pooled, seats.outsider]:
        assert (f'data-seat-id="{seat.pk}"' in html) == (seat in visible)
    # Someone without a seat isn't offered an import they can't use (issue 12, item 8).
    assert ('enctype="multipart/form-data"' in html) is bool(visible)
    assert "csrfmiddlewaretoken" in html


def test_import_pages_answer_get_with_405(client: Client, org: Org) -> None:
    signed_in(client, org.recruiter)

    assert client.get(reverse("csv:import")).status_code == 405
    assert client.get(reverse("csv:import_commit")).status_code == 405
    assert client.post(reverse("csv:export_inmails")).status_code == 405


# --- export --------------------------------------------------------------------------------------


def test_inmail_export_is_a_streamed_attachment_of_what_the_person_may_see(
    client: Client, org: Org, seats: Seats
) -> None:
    own = send(seats.recruiter, "linkedin.com/in/ada", subject="=1+1")
    send(seats.lead, "linkedin.com/in/bob")
    send(seats.outsider, "linkedin.com/in/cy")

    response = signed_in(client, org.recruiter).get(reverse("csv:export_inmails"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="inmails-20250616-1200.csv"'
    rows = downloaded_rows(response)
    assert [(row["id"], row["subject"]) for row in rows] == [(str(own.pk), "'=1+1")]


def test_entry_export_includes_the_pool_for_the_lead_only(
    client: Client, org: Org, seats: Seats
) -> None:
    lead_rows = downloaded_rows(signed_in(client, org.lead).get(reverse("csv:export_entries")))
    recruiter_rows = downloaded_rows(
        signed_in(client, org.recruiter).get(reverse("csv:export_entries"))
    )

    pool = Account.objects.get(team=org.team, kind="pool")
    assert sum(row["account"] == "pool" for row in lead_rows) == pool.entries.count()
    assert {row["seat"] for row in recruiter_rows} == {str(seats.recruiter.pk)}


def test_export_filters_narrow_the_file(client: Client, org: Org, seats: Seats) -> None:
    send(seats.lead, "linkedin.com/in/ada")
    mine = send(seats.recruiter, "linkedin.com/in/bob")
    signed_in(client, org.lead)

    by_seat = client.get(reverse("csv:export_inmails"), {"seat": seats.recruiter.pk})
    by_kind = client.get(
        reverse("csv:export_entries"),
        {"kind": "spend", "team": str(org.team.pk), "since": "2025-06-16"},
    )

    assert [row["id"] for row in downloaded_rows(by_seat)] == [str(mine.pk)]
    assert {row["kind"] for row in downloaded_rows(by_kind)} == {"spend"}


@pytest.mark.parametrize("name", ["csv:export_inmails", "csv:export_entries"])
def test_exporting_a_seat_or_team_out_of_reach_is_a_404(
    client: Client, org: Org, seats: Seats, name: str
) -> None:
    signed_in(client, org.recruiter)

    assert client.get(reverse(name), {"seat": seats.lead.pk}).status_code == 404
    assert client.get(reverse(name), {"seat": 987654}).status_code == 404
    assert client.get(reverse(name), {"team": org.other_team.pk}).status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"seat": "abc"}, "Enter a whole number."),
        ({"seat": "99999999999999999999999"}, "less than or equal to"),
        ({"since": "yesterday"}, "Enter a valid date."),
        (
            {"since": "2025-06-10", "until": "2025-06-01"},
            "The end date comes before the start date.",
        ),
        ({"status": "lost"}, "Select a valid choice."),
    ],
)
def test_bad_export_filters_get_a_clear_400(
    client: Client, org: Org, seats: Seats, query: dict[str, str], message: str
) -> None:
    response = signed_in(client, org.recruiter).get(reverse("csv:export_inmails"), query)

    assert response.status_code == 400
    assert message in response.content.decode()


# --- import --------------------------------------------------------------------------------------


def test_import_a_valid_file_through_preview_and_commit(
    client: Client, org: Org, seats: Seats
) -> None:
    seat = seats.recruiter.pk
    entries_before = Entry.objects.count()
    signed_in(client, org.recruiter)

    uploaded = upload_text(
        client,
        f"{seat},linkedin.com/in/ada,Hi Ada,Body,2025-06-01,,",
        f"{seat},linkedin.com/in/bob,Hi Bob,Body,2025-05-01,replied,2025-05-03",
    )
    assert uploaded.status_code == 302
    assert uploaded["Location"] == reverse("csv:import_preview")

    preview = client.get(reverse("csv:import_preview"))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "2 rows read" in html
    assert "Hi Bob" in html
    assert 'id="import-commit"' in html
    assert InMail.objects.count() == 0

    committed = commit(client)

    assert committed.status_code == 302
    assert committed["Location"] == reverse("csv:index")
    assert InMail.objects.filter(seat_id=seat, imported=True, credit_cost=0).count() == 2
    assert Entry.objects.count() == entries_before
    assert Account.objects.get(seat_id=seat).balance == 30
    assert SESSION_KEY not in client.session
    index = client.get(reverse("csv:index")).content.decode()
    assert "Imported 2 InMails from history.csv" in index


def test_a_file_with_an_error_is_reported_row_by_row_and_cannot_be_committed(
    client: Client, org: Org, seats: Seats
) -> None:
    seat = seats.recruiter.pk
    signed_in(client, org.recruiter)
    upload_text(
        client,
        f"{seat},linkedin.com/in/ada,Hi,Body,2025-06-01,,",
        f"{seat},linkedin.com/in/bob,Hi,Body,2025-07-01,,",
        f"{seats.outsider.pk},linkedin.com/in/cy,Hi,Body,2025-06-01,,",
    )

    preview = client.get(reverse("csv:import_preview"))
    html = preview.content.decode()

    assert preview.status_code == 200
    assert "3 rows read:\n  1 ready to import, 2 with problems." in html
    assert 'id="import-problems"' in html
    assert '<tr data-row="3">' in html
    assert "It is in the future." in html
    assert '<tr data-row="4">' in html
    assert f"No seat you may log InMails for has the id {seats.outsider.pk}." in html
    assert 'id="import-commit"' not in html

    forced = commit(client)

    assert forced.status_code == 400
    assert InMail.objects.count() == 0


def test_the_preview_escapes_what_the_file_says(client: Client, org: Org, seats: Seats) -> None:
    signed_in(client, org.recruiter)
    upload_text(
        client,
        f"{seats.recruiter.pk},linkedin.com/in/ada,<script>alert(1)</script>,Body,2025-06-01,,",
    )

    html = client.get(reverse("csv:import_preview")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\x00\x01\x02\xff\xfe garbage", "binary data"),
        ("seat,recipient\n1,Grüße\n".encode("cp1252"), "not UTF-8"),
        (b"recipient,subject\nada,Hi\n", "lacks these columns"),
        (b'seat,recipient,subject,body,sent_at\n1,"ada,Hi,Body,2025-06-01\n', "quote"),
    ],
)
def test_an_unreadable_upload_gets_a_clear_400_and_nothing_is_kept(
    client: Client, org: Org, seats: Seats, content: bytes, message: str
) -> None:
    response = upload(signed_in(client, org.recruiter), content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_huge_upload_is_refused_without_being_read(
    client: Client, org: Org, seats: Seats
) -> None:
    # Over the page's own 5 MB a worker takes the file (issue 14); over 50 MB nobody does.
    big = HEADER.encode() + b"x" * IMPORT_JOB_MAX_BYTES

    response = upload(signed_in(client, org.recruiter), big)

    assert response.status_code == 400
    assert "larger than 50 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_without_a_file_is_a_400(client: Client, org: Org, seats: Seats) -> None:
    response = signed_in(client, org.recruiter).post(reverse("csv:import"), {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_a_bom_file_uploads(client: Client, org: Org, seats: Seats) -> None:
    content = (
        "\ufeff" + HEADER + f"{seats.recruiter.pk},linkedin.com/in/ada,Grüße,Body,2025-06-01,,\n"
    ).encode()
    signed_in(client, org.recruiter)

    assert upload(client, content).status_code == 302
    assert commit(client).status_code == 302
    assert InMail.objects.get().subject == "Grüße"


def test_a_commit_without_a_waiting_file_or_for_another_file_imports_nothing(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.recruiter)

    nothing = client.post(reverse("csv:import_commit"), {"digest": "x"})
    upload_text(client, f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,")
    stale = client.post(reverse("csv:import_commit"), {"digest": "not-the-previewed-file"})

    assert nothing.status_code == 302
    assert stale.status_code == 302
    assert InMail.objects.count() == 0
    assert "no longer waiting" in client.get(reverse("csv:index")).content.decode()


def test_the_preview_without_a_waiting_file_sends_back_to_the_index(
    client: Client, org: Org
) -> None:
    response = signed_in(client, org.recruiter).get(reverse("csv:import_preview"))

    assert response.status_code == 302
    assert response["Location"] == reverse("csv:index")


def test_discarding_forgets_the_file(client: Client, org: Org, seats: Seats) -> None:
    signed_in(client, org.recruiter)
    upload_text(client, f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,")

    response = client.post(reverse("csv:import_discard"))

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert InMail.objects.count() == 0


def test_a_file_is_imported_only_for_the_person_who_uploaded_it(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.lead)
    upload_text(client, f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,")
    digest = client.session[SESSION_KEY]["digest"]
    other = Client()
    signed_in(other, org.outsider)

    response = other.post(reverse("csv:import_commit"), {"digest": digest})

    assert response.status_code == 302
    assert InMail.objects.count() == 0


def test_a_send_racing_in_between_preview_and_commit_is_reported(
    client: Client, org: Org, seats: Seats
) -> None:
    signed_in(client, org.recruiter)
    upload_text(client, f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,")
    send(seats.recruiter, "linkedin.com/in/ada")

    response = commit(client)

    assert response.status_code == 400
    assert "is still pending on this seat" in response.content.decode()
    assert InMail.objects.filter(imported=True).count() == 0


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf",
        b"\r\n\r\n",
        b"seat\n",
        b'"',
        b"seat,recipient,subject,body,sent_at\n" + b"1," * 5000 + b"\n",
        b"seat,recipient,subject,body,sent_at\n-1,a,b,c,d\n",
        b"seat,recipient,subject,body,sent_at\n1e9,a,b,c,9999-12-31T23:59:59-12:00\n",
        b"seat,recipient,subject,body,sent_at\n\xd9\xa3,a,b,c,0001-01-01T00:00+14:00\n",
        b"seat,recipient,subject,body,sent_at,status,responded_at\n1,a,b,c,2025-01-01,replied,x\n",
        b"holder,recipient,subject,body,sent_at\n" + b"x" * 200_000 + b",a,b,c,2025-01-01\n",
    ],
)
def test_no_upload_makes_a_server_error(
    client: Client, org: Org, seats: Seats, content: bytes
) -> None:
    signed_in(client, org.lead)

    response = upload(client, content)
    if response.status_code == 302:
        response = client.get(reverse("csv:import_preview"))
        assert response.status_code == 200
        response = client.post(reverse("csv:import_commit"), {"digest": "whatever"})

    assert response.status_code < 500
    assert InMail.objects.count() == 0
