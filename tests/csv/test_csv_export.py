"""CSV export: scope, filters, formula safety and streaming."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta

import pytest
from time_machine import TimeMachineFixture

from ledger.models import Account, Entry, InMail, InMailStatus
from ledger.services import Cause, inmail_record_response, seat_reassign
from ledger.web import csv_io
from ledger.web.csv_io import ExportFilters, export_inmails
from tests.conftest import Org
from tests.csv.conftest import NOW, Seats
from tests.csv.helpers import entry_rows, inmail_rows, send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- export: scope -------------------------------------------------------------------------------


def test_recruiter_exports_only_their_own_inmails(org: Org, seats: Seats) -> None:
    mine = send(seats.recruiter, "linkedin.com/in/ada")
    send(seats.lead, "linkedin.com/in/bob")
    send(seats.outsider, "linkedin.com/in/cy")

    assert [int(row["id"]) for row in inmail_rows(org.recruiter)] == [mine.pk]


def test_lead_exports_every_inmail_of_their_team_and_none_of_another(
    org: Org, seats: Seats
) -> None:
    ids = [
        send(seats.lead, "linkedin.com/in/ada").pk,
        send(seats.recruiter, "linkedin.com/in/bob").pk,
        send(seats.teammate_pooled, "linkedin.com/in/cy").pk,
    ]
    send(seats.outsider, "linkedin.com/in/dee")

    assert sorted(int(row["id"]) for row in inmail_rows(org.lead)) == sorted(ids)


def test_a_person_without_seats_exports_only_the_header(org: Org, seats: Seats) -> None:
    send(seats.recruiter, "linkedin.com/in/ada")

    assert inmail_rows(org.nobody) == []
    assert entry_rows(org.nobody) == []
    assert "".join(export_inmails(org.nobody, ExportFilters())).strip() == (
        "\ufeff" + ",".join(csv_io.INMAIL_COLUMNS)
    )


def test_the_holder_column_is_who_sent_it_even_after_a_reassignment(
    time_machine: TimeMachineFixture, org: Org, seats: Seats
) -> None:
    before = send(seats.recruiter, "linkedin.com/in/ada")
    successor = UserFactory.create(username="successor")
    time_machine.shift(timedelta(hours=1))
    seat_reassign(seat=seats.recruiter, holder=successor, cause=Cause(org.admin, "test"))
    seats.recruiter.refresh_from_db()
    time_machine.shift(timedelta(hours=1))
    after = send(seats.recruiter, "linkedin.com/in/bob")

    rows = {row["id"]: row["holder"] for row in inmail_rows(org.admin)}

    assert rows == {str(before.pk): "recruiter", str(after.pk): "successor"}


def test_admin_exports_every_inmail(org: Org, seats: Seats) -> None:
    send(seats.recruiter, "linkedin.com/in/ada")
    send(seats.outsider, "linkedin.com/in/bob")

    assert len(inmail_rows(org.admin)) == 2


def test_an_inmail_row_holds_every_column_as_recorded(org: Org, seats: Seats) -> None:
    inmail = send(seats.recruiter, "https://www.linkedin.com/in/ada", "Hi Ada", "Line one\nTwo")

    (row,) = inmail_rows(org.recruiter)

    assert row == {
        "id": str(inmail.pk),
        "seat": str(seats.recruiter.pk),
        "holder": "recruiter",
        "team": "Talent North",
        "recipient": "https://www.linkedin.com/in/ada",
        "subject": "Hi Ada",
        "body": "Line one\nTwo",
        "open_profile": "false",
        "status": "pending",
        "sent_at": "2025-06-16T12:00:00+00:00",
        "responded_at": "",
        "credit_cost": "1",
        "paid_from": "seat",
        "refunded": "false",
        "imported": "false",
        "template": "",  # R22
        "tags": "",
    }


def test_instants_are_written_in_the_organisations_time_zone(
    org: Org, seats: Seats, settings: object
) -> None:
    send(seats.recruiter, "linkedin.com/in/ada")
    settings.TIME_ZONE = "Europe/Paris"  # type: ignore[attr-defined]

    (row,) = inmail_rows(org.recruiter)

    assert row["sent_at"] == "2025-06-16T14:00:00+02:00"


def test_lead_exports_their_team_pool_entries_and_a_recruiter_does_not(
    org: Org, seats: Seats
) -> None:
    pool = Account.objects.get(team=org.team, kind="pool")

    lead_accounts = {(row["account"], row["team"]) for row in entry_rows(org.lead)}
    recruiter_rows = entry_rows(org.recruiter)

    assert ("pool", "Talent North") in lead_accounts
    assert Entry.objects.filter(account=pool).count() == sum(
        1 for row in entry_rows(org.lead) if row["account"] == "pool"
    )
    assert {row["seat"] for row in recruiter_rows} == {str(seats.recruiter.pk)}
    assert all(row["account"] == "seat" for row in recruiter_rows)
    assert entry_rows(org.outsider) == [
        row for row in entry_rows(org.outsider) if row["seat"] == str(seats.outsider.pk)
    ]
    assert not any(row["team"] == "Talent North" for row in entry_rows(org.outsider))


def test_entry_rows_keep_numbers_as_numbers(org: Org, seats: Seats) -> None:
    inmail = send(seats.recruiter, "linkedin.com/in/ada")

    grant, spend = entry_rows(org.recruiter)

    assert (grant["kind"], grant["amount"], grant["balance_after"]) == ("grant", "30", "30")
    assert (spend["kind"], spend["amount"], spend["balance_after"]) == ("spend", "-1", "29")
    assert spend["inmail"] == str(inmail.pk)
    assert spend["actor"] == "recruiter"
    assert spend["lot_source"] == "grant"
    assert spend["at"] == "2025-06-16T12:00:00+00:00"
    assert grant["lot_expires_at"] == "2025-08-30T00:00:00+00:00"


# --- export: filters -----------------------------------------------------------------------------


def test_inmail_export_filters_by_seat_team_status_and_dates(
    org: Org, seats: Seats, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(datetime(2025, 6, 10, 9, 0, tzinfo=UTC), tick=False)
    early = send(seats.lead, "linkedin.com/in/ada")
    time_machine.move_to(NOW, tick=False)
    late = send(seats.recruiter, "linkedin.com/in/bob")
    answered = send(seats.recruiter, "linkedin.com/in/cy")
    inmail_record_response(inmail=answered, outcome="replied", cause=Cause(org.recruiter, "t"))

    def ids(**filters: object) -> list[int]:
        return [int(row["id"]) for row in inmail_rows(org.lead, **filters)]

    assert ids(seat=seats.lead) == [early.pk]
    assert ids(team=org.team) == [early.pk, late.pk, answered.pk]
    assert ids(status="replied") == [answered.pk]
    assert ids(until=date(2025, 6, 10)) == [early.pk]
    assert ids(since=date(2025, 6, 11)) == [late.pk, answered.pk]
    assert ids(since=date(2025, 6, 16), until=date(2025, 6, 16)) == [late.pk, answered.pk]


def test_entry_export_filters_by_kind(org: Org, seats: Seats) -> None:
    send(seats.recruiter, "linkedin.com/in/ada")

    assert [row["kind"] for row in entry_rows(org.recruiter, kind="spend")] == ["spend"]


# --- export: formula injection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "written"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\n=1+1", "'\n=1+1"),
        (" =1+1", "' =1+1"),
        ("|calc'!A0", "'|calc'!A0"),
        ("\uff1dSUM(A1:A9)", "'\uff1dSUM(A1:A9)"),  # ＝ full-width
        ("\uff0b1", "'\uff0b1"),  # ＋
        ("\uff0d1", "'\uff0d1"),  # －
        ("\uff20x", "'\uff20x"),  # ＠
        ("Hello = world", "Hello = world"),
        ("Café ＝ 1", "Café ＝ 1"),
    ],
)
def test_text_cells_that_a_spreadsheet_would_run_are_escaped(
    org: Org, seats: Seats, subject: str, written: str
) -> None:
    inmail = send(seats.recruiter, "linkedin.com/in/ada", subject=subject)
    # Recipients are checked since issue 12; one stored before can still read as a formula.
    InMail.objects.filter(pk=inmail.pk).update(recipient='=HYPERLINK("http://x")')

    (row,) = inmail_rows(org.recruiter)

    assert row["subject"] == written
    assert row["recipient"] == '\'=HYPERLINK("http://x")'
    assert row["credit_cost"] == "1"


# --- export: streaming ---------------------------------------------------------------------------


def test_a_large_export_streams_in_pieces(org: Org, seats: Seats) -> None:
    InMail.objects.bulk_create(
        InMail(
            seat=seats.recruiter,
            sender_id=seats.recruiter.holder_id,
            recipient=f"linkedin.com/in/member-{n}",
            recipient_key=f"linkedin:in/member-{n}",
            subject="History",
            body="Body",
            status=InMailStatus.NO_RESPONSE,
            sent_at=NOW - timedelta(days=100, minutes=n),
            imported=True,
        )
        for n in range(3000)
    )

    lines = export_inmails(org.recruiter, ExportFilters())

    assert inspect.isgenerator(lines)
    header = next(lines)
    assert header == "\ufeff" + ",".join(csv_io.INMAIL_COLUMNS) + "\r\n"
    pieces = list(lines)
    assert len(pieces) == 3000 // csv_io.EXPORT_ROWS_PER_PIECE
    assert sum(piece.count("\r\n") for piece in pieces) == 3000
