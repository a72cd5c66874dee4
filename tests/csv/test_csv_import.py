"""CSV import of InMail history: reading the file, seats and duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger.models import Account, Entry, InMail
from ledger.services import Cause, ImportRejected, inmail_record_response, inmails_import
from ledger.web import csv_io
from ledger.web.csv_io import ImportFileError, decode_upload, preview_import
from teams.models import User
from tests.conftest import Org
from tests.csv.conftest import Seats
from tests.csv.helpers import HEADER, send
from tests.factories import make_seat

pytestmark = pytest.mark.django_db


# --- import: reading the file --------------------------------------------------------------------


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(f"{row}\n" for row in rows)).encode()


def preview(user: User, raw: bytes) -> csv_io.ImportPreview:
    return preview_import(user, decode_upload(raw))


def problems_of(result: csv_io.ImportPreview) -> list[tuple[int, str]]:
    return [(problem.line, problem.column) for problem in result.problems]


def test_a_valid_file_imports_every_row_uncharged_and_leaves_the_ledger_alone(
    org: Org, seats: Seats
) -> None:
    seat = seats.recruiter.pk
    entries_before = Entry.objects.count()
    account = Account.objects.get(seat=seats.recruiter)
    result = preview(
        org.recruiter,
        csv_bytes(
            f"{seat},linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/bob,Hi,Body,2025-01-10T09:30:00+01:00,true,replied,"
            "2025-01-12T10:00:00+01:00",
            f"{seat},linkedin.com/in/cy,Hi,Body,2024-12-01 08:00,false,pending,",
        ),
    )

    assert result.problems == []
    assert result.can_commit

    imported = inmails_import(user=org.recruiter, rows=result.rows, cause=Cause(org.recruiter, "t"))

    assert imported == 3
    inmails = list(InMail.objects.filter(seat=seats.recruiter).order_by("sent_at"))
    assert [(i.status, i.imported, i.credit_cost, i.paid_from) for i in inmails] == [
        ("no_response", True, 0, None),
        ("replied", True, 0, None),
        ("pending", True, 0, None),
    ]
    old, replied, recent = inmails
    # A pending InMail whose 90-day window ended is closed as the closing job would close it.
    assert old.closed_at == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert replied.sent_at == datetime(2025, 1, 10, 8, 30, tzinfo=UTC)
    assert replied.responded_at == datetime(2025, 1, 12, 9, 0, tzinfo=UTC)
    assert replied.open_profile
    assert recent.sent_at == datetime(2025, 6, 1, tzinfo=UTC)
    assert recent.recipient_key == "linkedin:in/ada"
    assert recent.created_by == org.recruiter
    assert Entry.objects.count() == entries_before
    account.refresh_from_db()
    assert account.balance == 30


def test_every_problem_is_reported_with_its_row_and_nothing_is_importable(
    org: Org, seats: Seats
) -> None:
    seat = seats.recruiter.pk
    result = preview(
        org.recruiter,
        csv_bytes(
            f"{seat},linkedin.com/in/ok,Hi,Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/a,{'s' * 201},Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/b,Hi,,2025-06-01,,,",
            f"{seat},linkedin.com/in/c,Hi,Body,2025-06-17,,,",
            f"{seat},linkedin.com/in/d,Hi,Body,01/06/2025,,,",
            f"{seat},linkedin.com/in/e,Hi,Body,2025-06-01,maybe,,",
            f"{seat},linkedin.com/in/f,Hi,Body,2025-06-01,,lost,",
            f"{seat},linkedin.com/in/g,Hi,Body,2025-06-01,,accepted,",
            f"{seat},linkedin.com/in/h,Hi,Body,2025-06-01,,pending,2025-06-02",
            f"{seat},linkedin.com/in/i,Hi,Body,2025-06-01,,replied,2025-05-30",
            f"{seat},linkedin.com/in/j,Hi,Body,2025-06-01,,replied,2025-06-17",
            f"{seat},linkedin.com/in/k,Hi,Body,2025-06-01,,no_response,",
            ",linkedin.com/in/l,Hi,Body,2025-06-01,,,",
            f"{seat},,Hi,Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/m,Hi,{'b' * 1901},2025-06-01,,,",
            f"{seat},linkedin.com/in/n,Hi,Body,1999-06-01,,,",
        ),
    )

    assert problems_of(result) == [
        (3, "subject"),
        (4, "body"),
        (5, "sent_at"),
        (6, "sent_at"),
        (7, "open_profile"),
        (8, "status"),
        (9, "responded_at"),
        (10, "responded_at"),
        (11, "responded_at"),
        (12, "responded_at"),
        (13, "status"),
        (14, "seat"),
        (15, "recipient"),
        (16, "body"),
        (17, "sent_at"),
    ]
    assert not result.can_commit
    with pytest.raises(ImportRejected) as rejected:
        inmails_import(user=org.recruiter, rows=result.rows, cause=Cause(org.recruiter, "t"))
    assert [problem.line for problem in rejected.value.problems][:2] == [3, 4]
    assert InMail.objects.count() == 0


def test_a_byte_order_mark_and_semicolons_are_read(org: Org, seats: Seats) -> None:
    header = "\ufeffSeat;Recipient;Subject;Body;Sent at\n"
    raw = f"{header}{seats.recruiter.pk};linkedin.com/in/ada;Grüße;Body;2025-06-01\n".encode()

    result = preview(org.recruiter, raw)

    assert result.problems == []
    assert [row.subject for row in result.rows] == ["Grüße"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"  \r\n", "empty"),
        ("seat,recipient\n1,Grüße\n".encode("latin-1"), "not UTF-8"),
        ("seat,recipient\n".encode("utf-16"), "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        decode_upload(raw)


def test_a_file_over_the_size_limit_is_refused() -> None:
    with pytest.raises(ImportFileError, match="larger than 5 MB"):
        decode_upload(b"a" * (csv_io.IMPORT_MAX_BYTES + 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("recipient,subject,body,sent_at\nada,Hi,Body,2025-06-01\n", "seat or holder"),
        ("seat,subject\n1,Hi\n", "recipient, body, sent_at"),
        ("1,ada,Hi,Body,2025-06-01\n", "lacks these columns"),
        ("seat,seat,recipient,subject,body,sent_at\n", "twice: seat"),
        (",,,\n1,2,3,4\n", "header row"),
        ('seat,recipient,subject,body,sent_at\n1,ada,"Hi,Body,2025-06-01\n', "quote"),
    ],
)
def test_a_file_without_a_usable_header_or_with_broken_quoting_is_refused(
    org: Org, text: str, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        preview_import(org.recruiter, text)


def test_a_header_without_rows_has_nothing_to_import(org: Org) -> None:
    result = preview_import(org.recruiter, HEADER + ",,,,,,,\n")

    assert result.total == 0
    assert not result.can_commit
    assert problems_of(result) == [(0, "file")]


def test_too_many_rows_are_refused(org: Org, seats: Seats, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_io.imports, "IMPORT_MAX_ROWS", 2)
    row = f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,\n"

    with pytest.raises(ImportFileError, match="more than 2 rows"):
        preview_import(org.recruiter, HEADER + row * 3)


def test_extra_cells_and_unknown_columns(org: Org, seats: Seats) -> None:
    text = (
        "seat,recipient,subject,body,sent_at,notes\n"
        f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,ok\n"
        f"{seats.recruiter.pk},linkedin.com/in/bob,Hi,Body,2025-06-01,ok,surprise\n"
    )

    result = preview_import(org.recruiter, text)

    assert result.ignored_columns == ["notes"]
    assert problems_of(result) == [(3, "row")]


# --- import: seats and duplicates ----------------------------------------------------------------


def test_a_seat_out_of_reach_reads_like_a_seat_that_does_not_exist(org: Org, seats: Seats) -> None:
    result = preview(
        org.recruiter,
        csv_bytes(
            f"{seats.outsider.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
            f"{seats.lead.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
            "999999,linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
        ),
    )

    messages = [problem.message for problem in result.problems]
    assert messages == [
        f"No seat you may log InMails for has the id {seats.outsider.pk}.",
        f"No seat you may log InMails for has the id {seats.lead.pk}.",
        "No seat you may log InMails for has the id 999999.",
    ]


def test_a_lead_imports_for_their_team_seats(org: Org, seats: Seats) -> None:
    result = preview(
        org.lead,
        csv_bytes(
            f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
            f"{seats.teammate_pooled.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
        ),
    )

    assert result.can_commit
    assert inmails_import(user=org.lead, rows=result.rows, cause=Cause(org.lead, "t")) == 2


def test_a_holder_username_names_their_seat(org: Org, seats: Seats) -> None:
    header = "holder,recipient,subject,body,sent_at\n"
    result = preview(
        org.lead,
        csv_bytes(
            "recruiter,linkedin.com/in/ada,Hi,Body,2025-06-01",
            "outsider,linkedin.com/in/ada,Hi,Body,2025-06-01",
            header=header,
        ),
    )

    assert [row.seat for row in result.rows] == [seats.recruiter]
    assert [(p.line, p.column, p.message) for p in result.problems] == [
        (3, "holder", "No seat you may log InMails for is held by 'outsider'.")
    ]


def test_a_holder_with_two_seats_needs_the_seat_unless_only_one_was_active(
    org: Org, seats: Seats
) -> None:
    second = make_seat(holder=org.recruiter, team=org.team, activated_on=date(2025, 6, 10))
    header = "holder,recipient,subject,body,sent_at\n"

    result = preview(
        org.recruiter,
        csv_bytes(
            "recruiter,linkedin.com/in/ada,Hi,Body,2025-06-05",
            "recruiter,linkedin.com/in/bob,Hi,Body,2025-06-12",
            header=header,
        ),
    )

    assert [row.seat for row in result.rows] == [seats.recruiter]
    assert [(p.line, p.column) for p in result.problems] == [(3, "seat")]
    assert str(second.pk) in result.problems[0].message


def test_a_row_repeating_another_or_a_recorded_inmail_is_reported(org: Org, seats: Seats) -> None:
    seat = seats.recruiter.pk
    first = preview(org.recruiter, csv_bytes(f"{seat},linkedin.com/in/ada,Hi,Body,2025-01-01,,,"))
    inmails_import(user=org.recruiter, rows=first.rows, cause=Cause(org.recruiter, "t"))
    recorded = InMail.objects.get()

    result = preview(
        org.recruiter,
        csv_bytes(
            f"{seat},https://www.linkedin.com/in/ADA/,Hi,Body,2025-01-01,,,",
            f"{seat},linkedin.com/in/bob,Hi,Body,2025-02-01,,,",
            f"{seat},linkedin.com/in/Bob,Hi again,Body,2025-02-01T00:00:00+00:00,,,",
        ),
    )

    assert [(p.line, p.message) for p in result.problems] == [
        (2, f"Already recorded as InMail #{recorded.pk}."),
        (4, "Row 3 is the same InMail (seat, recipient, sent)."),
    ]


def test_a_second_pending_inmail_to_one_recipient_is_a_row_problem_not_a_crash(
    org: Org, seats: Seats
) -> None:
    send(seats.recruiter, "https://linkedin.com/in/ada")
    seat = seats.recruiter.pk

    result = preview(
        org.recruiter,
        csv_bytes(
            f"{seat},linkedin.com/in/ADA/,Hi,Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/bob,Hi,Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/bob,Hi,Body,2025-06-02,,pending,",
            f"{seat},linkedin.com/in/bob,Hi,Body,2025-06-03,,declined,2025-06-04",
        ),
    )

    assert [(p.line, p.column) for p in result.problems] == [(2, "recipient"), (4, "recipient")]
    assert "is still pending on this seat" in result.problems[0].message
    assert "Row 3 is already a pending InMail" in result.problems[1].message


def test_the_import_checks_again_and_keeps_nothing_if_a_send_raced_in(
    org: Org, seats: Seats
) -> None:
    seat = seats.recruiter.pk
    result = preview(
        org.recruiter,
        csv_bytes(
            f"{seat},linkedin.com/in/bob,Hi,Body,2025-06-01,,,",
            f"{seat},linkedin.com/in/ada,Hi,Body,2025-06-01,,,",
        ),
    )
    assert result.can_commit
    send(seats.recruiter, "linkedin.com/in/ada")

    with pytest.raises(ImportRejected) as rejected:
        inmails_import(user=org.recruiter, rows=result.rows, cause=Cause(org.recruiter, "t"))

    assert [(p.line, p.column) for p in rejected.value.problems] == [(3, "recipient")]
    assert InMail.objects.filter(imported=True).count() == 0


def test_the_import_checks_the_user_may_still_act_on_the_seat(org: Org, seats: Seats) -> None:
    result = preview(
        org.lead, csv_bytes(f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,")
    )

    with pytest.raises(ImportRejected):
        inmails_import(user=org.outsider, rows=result.rows, cause=Cause(org.outsider, "t"))

    assert InMail.objects.count() == 0


def test_an_imported_pending_inmail_answered_later_gets_no_refund(org: Org, seats: Seats) -> None:
    result = preview(
        org.recruiter, csv_bytes(f"{seats.recruiter.pk},linkedin.com/in/ada,Hi,Body,2025-06-01,,,")
    )
    inmails_import(user=org.recruiter, rows=result.rows, cause=Cause(org.recruiter, "t"))
    entries_before = Entry.objects.count()

    answered = inmail_record_response(
        inmail=InMail.objects.get(), outcome="accepted", cause=Cause(org.recruiter, "t")
    )

    assert answered.status == "accepted"
    assert not answered.refunded
    assert Entry.objects.count() == entries_before


def test_an_empty_import_is_refused(org: Org) -> None:
    with pytest.raises(ImportRejected):
        inmails_import(user=org.recruiter, rows=[], cause=Cause(org.recruiter, "t"))
