"""Every way a recipient enters checks it the same way (issue 12, item 4): a send, a CSV
import row, and the check a form runs while the recipient is typed, which also gives R8's
teammate warning before anything is sent. Rows stored before the check keep working."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import LedgerValidationError
from ledger.models import Entry, InMail, InMailStatus
from ledger.rules import NOT_A_RECIPIENT, WARNING_TEAMMATE
from ledger.services import Cause, inmail_record_response, inmails_import
from ledger.services.inmails import inmail_recipient_warnings
from ledger.web.csv_io import decode_upload, preview_import
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat
from tests.ledger.helpers import SYSTEM, footprint, send, utc

pytestmark = pytest.mark.django_db

GRACE = "https://www.linkedin.com/in/grace-hopper/"


@dataclass
class Seats:
    recruiter: Seat
    recruiter_second: Seat
    teammate: Seat
    outsider: Seat


@pytest.fixture
def seats(org: Org, time_machine: TimeMachineFixture) -> Seats:
    """Seats activated on 1 March 2026; the clock then stands at 2 March, 10:00 UTC."""
    time_machine.move_to(utc(2026, 3, 1, 8), tick=False)
    activated = date(2026, 3, 1)
    made = Seats(
        recruiter=make_seat(holder=org.recruiter, team=org.team, activated_on=activated),
        recruiter_second=make_seat(
            plan_code="premium_business", holder=org.recruiter, team=org.team
        ),
        teammate=make_seat(holder=org.teammate, team=org.team, activated_on=activated),
        outsider=make_seat(holder=org.outsider, team=org.other_team, activated_on=activated),
    )
    time_machine.move_to(utc(2026, 3, 2, 10), tick=False)
    return made


# --- a send ---------------------------------------------------------------------------------------


def test_a_send_to_no_profile_is_refused_on_recipient_and_changes_nothing(seats: Seats) -> None:
    before = footprint(seats.recruiter)

    with pytest.raises(LedgerValidationError) as refused:
        send(seats.recruiter, "not a url at all !!")

    assert (refused.value.field, refused.value.message) == ("recipient", NOT_A_RECIPIENT)
    assert footprint(seats.recruiter) == before
    assert not InMail.objects.exists()


def test_a_send_keeps_the_recipient_as_written_and_stores_its_key(seats: Seats) -> None:
    inmail = send(seats.recruiter, "  https://uk.linkedin.com/in/Grace-Hopper?trk=x ").inmail

    assert (inmail.recipient, inmail.recipient_key) == (
        "https://uk.linkedin.com/in/Grace-Hopper?trk=x",
        "linkedin:in/grace-hopper",
    )


def test_rows_stored_before_the_check_still_answer_and_compare_as_written(
    seats: Seats,
) -> None:
    send(seats.recruiter, GRACE)
    # An InMail logged before recipients were checked.
    legacy = InMail.objects.get()
    InMail.objects.filter(pk=legacy.pk).update(
        recipient="not a url at all !!", recipient_key="not a url at all !!"
    )

    answered = inmail_record_response(inmail=legacy, outcome="accepted", cause=SYSTEM)
    again = send(seats.recruiter, GRACE).inmail

    assert (answered.status, answered.refunded) == (InMailStatus.ACCEPTED, True)
    assert again.recipient_key == "linkedin:in/grace-hopper"


# --- the check while typing -----------------------------------------------------------------------


def test_while_typing_a_recipient_that_is_no_profile_gets_the_send_refusal(
    seats: Seats,
) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        inmail_recipient_warnings(seat=seats.recruiter, recipient="jane doe")

    assert (refused.value.field, refused.value.message) == ("recipient", NOT_A_RECIPIENT)


def test_while_typing_a_teammates_contact_within_90_days_warns_with_the_date(
    org: Org, seats: Seats, time_machine: TimeMachineFixture
) -> None:
    send(seats.teammate, "linkedin.com/in/GRACE-HOPPER")
    time_machine.move_to(utc(2026, 5, 31, 9), tick=False)  # 89 days 23 hours later

    warnings = inmail_recipient_warnings(seat=seats.recruiter, recipient=GRACE)

    assert warnings == [
        {
            "code": WARNING_TEAMMATE,
            "detail": f"{org.teammate} sent an InMail to this recipient on 2026-03-02.",
        }
    ]


def test_while_typing_the_warning_is_the_one_the_send_then_gives(
    seats: Seats, time_machine: TimeMachineFixture
) -> None:
    send(seats.teammate, GRACE)
    time_machine.move_to(utc(2026, 3, 20, 9), tick=False)

    typed = inmail_recipient_warnings(seat=seats.recruiter, recipient=GRACE)
    sent = send(seats.recruiter, GRACE)

    assert typed == sent.warnings
    assert len(typed) == 1


def test_while_typing_nothing_is_written(seats: Seats) -> None:
    send(seats.teammate, GRACE)
    entries, inmails = Entry.objects.count(), InMail.objects.count()

    inmail_recipient_warnings(seat=seats.recruiter, recipient=GRACE)

    assert (Entry.objects.count(), InMail.objects.count()) == (entries, inmails)


@pytest.mark.parametrize(
    ("who", "moved_to"),
    [
        ("teammate", utc(2026, 5, 31, 10, 0, 1)),  # 90 days and a second later
        ("own second seat", utc(2026, 3, 3, 10)),
        ("outsider", utc(2026, 3, 3, 10)),
    ],
)
def test_while_typing_no_warning_past_90_days_for_ones_own_seats_or_another_team(
    seats: Seats, time_machine: TimeMachineFixture, who: str, moved_to: datetime
) -> None:
    sender = {
        "teammate": seats.teammate,
        "own second seat": seats.recruiter_second,
        "outsider": seats.outsider,
    }[who]
    send(sender, GRACE)
    time_machine.move_to(moved_to, tick=False)

    assert inmail_recipient_warnings(seat=seats.recruiter, recipient=GRACE) == []


# --- a CSV import ---------------------------------------------------------------------------------

HEADER = "seat,recipient,subject,body,sent_at\n"


def test_an_import_row_with_no_profile_is_a_row_problem_and_nothing_is_kept(
    org: Org, seats: Seats
) -> None:
    seat = seats.recruiter.pk
    text = decode_upload(
        (
            HEADER
            + f"{seat},linkedin.com/in/ada,Hi,Body,2026-01-05\n"
            + f"{seat},not a url at all !!,Hi,Body,2026-01-06\n"
            + f"{seat},urn:li:member:4711,Hi,Body,2026-01-07\n"
            + f"{seat},Ada Lovelace,Hi,Body,2026-01-08\n"
        ).encode()
    )

    preview = preview_import(org.recruiter, text)

    assert [(p.line, p.column, p.message) for p in preview.problems] == [
        (3, "recipient", NOT_A_RECIPIENT),
        (5, "recipient", NOT_A_RECIPIENT),
    ]
    assert not preview.can_commit
    assert not InMail.objects.exists()


def test_an_import_of_profile_urls_and_member_ids_keeps_each_key(org: Org, seats: Seats) -> None:
    seat = seats.recruiter.pk
    text = decode_upload(
        (
            HEADER
            + f"{seat},https://www.linkedin.com/in/Ada-Lovelace/,Hi,Body,2026-01-05\n"
            + f"{seat},urn:li:member:4711,Hi,Body,2026-01-06\n"
        ).encode()
    )
    preview = preview_import(org.recruiter, text)

    imported = inmails_import(
        user=org.recruiter, rows=preview.rows, cause=Cause(org.recruiter, "t")
    )

    assert imported == 2
    assert list(InMail.objects.order_by("sent_at").values_list("recipient_key", flat=True)) == [
        "linkedin:in/ada-lovelace",
        "urn:li:member:4711",
    ]
