"""Responses, refunds, withdrawals, reminders and response windows (R9, R10)."""

from __future__ import annotations

from datetime import date

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import AlreadyAnswered, LedgerValidationError
from ledger.models import Entry, EntryKind, InMail, InMailStatus, Lot, LotSource
from ledger.services import (
    Cause,
    inmail_record_response,
    inmail_withdraw,
    inmails_close_response_windows,
    inmails_record_reminders,
    seat_cancel,
)
from teams.models import Seat
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    own_balance,
    person,
    seat_on,
    send,
    set_plan,
    utc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seat(time_machine: TimeMachineFixture) -> Seat:
    """A Recruiter Lite seat activated on 15 January 2025."""
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    return seat_on("recruiter_lite")


@pytest.fixture
def sent(seat: Seat, time_machine: TimeMachineFixture) -> InMail:
    """A paid InMail sent on 20 January 2025 at 10:00."""
    time_machine.move_to(utc(2025, 1, 20, 10))
    return send(seat).inmail


def refunds() -> int:
    return Entry.objects.filter(kind=EntryKind.REFUND).count()


# --- R9 refunds -------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["accepted", "declined", "replied"])
def test_a_response_within_90_days_refunds_the_credit(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture, outcome: str
) -> None:
    time_machine.move_to(utc(2025, 1, 25, 16))

    answered = inmail_record_response(inmail=sent, outcome=outcome, cause=SYSTEM)

    assert (answered.status, answered.refunded) == (outcome, True)
    assert answered.responded_at == utc(2025, 1, 25, 16)
    assert own_balance(seat) == 30
    refund = Entry.objects.get(inmail=sent, kind=EntryKind.REFUND)
    assert (refund.at, refund.amount, refund.balance_after) == (utc(2025, 1, 25, 16), 1, 30)


def test_the_refund_is_a_new_lot_living_90_days_from_the_response(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 25, 16))

    inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    lot = Lot.objects.get(refund_of=sent)
    assert lot.account == account_of(seat)
    assert (lot.source, lot.initial, lot.remaining) == (LotSource.REFUND, 1, 1)
    assert (lot.granted_at, lot.expires_at) == (utc(2025, 1, 25, 16), utc(2025, 4, 25, 16))


def test_a_backdated_response_dates_the_refund_lot_at_the_response(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 10, 9))

    inmail_record_response(
        inmail=sent, outcome="replied", responded_at=utc(2025, 1, 22, 8), cause=SYSTEM
    )

    lot = Lot.objects.get(refund_of=sent)
    assert (lot.granted_at, lot.expires_at) == (utc(2025, 1, 22, 8), utc(2025, 4, 22, 8))
    # The entry is booked when recorded: the ledger is appended in time order.
    assert Entry.objects.get(lot=lot).at == utc(2025, 2, 10, 9)


def test_a_response_on_day_90_exactly_is_refunded(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 20, 10))
    balance = own_balance(seat)

    answered = inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    assert answered.refunded is True
    assert own_balance(seat) == balance + 1


def test_a_response_one_second_after_day_90_is_not_refunded(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 20, 10, 0, 1))
    balance = own_balance(seat)

    answered = inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    assert (answered.status, answered.refunded) == (InMailStatus.ACCEPTED, False)
    assert own_balance(seat) == balance
    assert refunds() == 0


def test_a_response_on_day_91_is_recorded_for_analytics_only(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 21, 10))
    balance = own_balance(seat)

    answered = inmail_record_response(inmail=sent, outcome="replied", cause=SYSTEM)

    assert (answered.status, answered.refunded) == (InMailStatus.REPLIED, False)
    assert answered.responded_at == utc(2025, 4, 21, 10)
    assert own_balance(seat) == balance
    assert refunds() == 0


def test_a_response_given_as_day_90_but_recorded_later_is_refunded(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 22, 9))

    answered = inmail_record_response(
        inmail=sent, outcome="accepted", responded_at=utc(2025, 4, 20, 10), cause=SYSTEM
    )

    assert answered.refunded is True
    assert Lot.objects.get(refund_of=sent).expires_at == utc(2025, 7, 19, 10)


def test_a_response_to_an_inmail_closed_as_no_response_inside_the_window_still_refunds(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 25, 9))
    assert inmails_close_response_windows() == 1
    sent.refresh_from_db()
    assert sent.status == InMailStatus.NO_RESPONSE
    balance = own_balance(seat)

    answered = inmail_record_response(
        inmail=sent, outcome="accepted", responded_at=utc(2025, 4, 10, 12), cause=SYSTEM
    )

    assert (answered.status, answered.refunded) == (InMailStatus.ACCEPTED, True)
    assert answered.responded_at == utc(2025, 4, 10, 12)
    assert own_balance(seat) == balance + 1


def test_a_second_response_is_refused_and_refunds_nothing_more(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 25, 16))
    inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    with pytest.raises(AlreadyAnswered) as refused:
        inmail_record_response(inmail=sent, outcome="replied", cause=SYSTEM)

    assert refused.value.code == "already_answered"
    sent.refresh_from_db()
    assert sent.status == InMailStatus.ACCEPTED
    assert refunds() == 1
    assert own_balance(seat) == 30


def test_an_open_profile_inmail_answered_refunds_nothing(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 10))
    free = send(seat, open_profile=True).inmail

    answered = inmail_record_response(inmail=free, outcome="accepted", cause=SYSTEM)

    assert (answered.status, answered.refunded) == (InMailStatus.ACCEPTED, False)
    assert own_balance(seat) == 30
    assert refunds() == 0


def test_a_refund_is_not_paid_to_a_cancelled_seat(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 22, 9))
    seat_cancel(seat=seat, cause=SYSTEM)

    time_machine.move_to(utc(2025, 1, 25, 16))
    answered = inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    assert (answered.status, answered.refunded) == (InMailStatus.ACCEPTED, False)
    assert account_of(seat).balance == 0
    assert refunds() == 0


def test_the_refund_entry_records_who_recorded_the_response(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    lead = person("lead")
    time_machine.move_to(utc(2025, 1, 25, 16))

    inmail_record_response(inmail=sent, outcome="accepted", cause=Cause(actor=lead, via="api"))

    refund = Entry.objects.get(inmail=sent, kind=EntryKind.REFUND)
    assert (refund.actor, refund.cause) == (lead, "api")


def test_a_refund_recorded_after_its_lot_would_have_expired_adds_nothing_spendable(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    # Answered on 25 January, recorded on 1 May: the refund lot lived until 25 April.
    time_machine.move_to(utc(2025, 5, 1, 9))
    balance = own_balance(seat)

    answered = inmail_record_response(
        inmail=sent, outcome="accepted", responded_at=utc(2025, 1, 25, 16), cause=SYSTEM
    )

    assert answered.refunded is True
    assert own_balance(seat) == balance
    lot = Lot.objects.get(refund_of=sent)
    assert lot.remaining == 0
    kinds = list(Entry.objects.filter(lot=lot).order_by("id").values_list("kind", "amount"))
    assert kinds == [(EntryKind.REFUND, 1), (EntryKind.EXPIRY, -1)]


def test_a_response_in_the_future_is_refused(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 25, 16))

    with pytest.raises(LedgerValidationError) as refused:
        inmail_record_response(
            inmail=sent, outcome="accepted", responded_at=utc(2025, 1, 25, 16, 0, 1), cause=SYSTEM
        )

    assert refused.value.field == "responded_at"
    sent.refresh_from_db()
    assert sent.status == InMailStatus.PENDING


def test_a_response_before_the_inmail_was_sent_is_refused(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 25, 16))

    with pytest.raises(LedgerValidationError) as refused:
        inmail_record_response(
            inmail=sent, outcome="accepted", responded_at=utc(2025, 1, 20, 9, 59, 59), cause=SYSTEM
        )

    assert refused.value.field == "responded_at"
    assert refunds() == 0


def test_a_response_at_the_instant_of_sending_is_accepted(seat: Seat, sent: InMail) -> None:
    answered = inmail_record_response(
        inmail=sent, outcome="replied", responded_at=sent.sent_at, cause=SYSTEM
    )

    assert answered.refunded is True


@pytest.mark.parametrize("outcome", ["pending", "withdrawn", "no_response", "maybe"])
def test_an_outcome_other_than_a_response_is_refused(
    seat: Seat, sent: InMail, outcome: str
) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        inmail_record_response(inmail=sent, outcome=outcome, cause=SYSTEM)

    assert refused.value.field == "outcome"


# --- withdrawal ------------------------------------------------------------------------------


def test_a_withdrawn_inmail_gets_nothing_back(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 21, 9))

    withdrawn = inmail_withdraw(inmail=sent, cause=SYSTEM)

    assert (withdrawn.status, withdrawn.closed_at) == (InMailStatus.WITHDRAWN, utc(2025, 1, 21, 9))
    assert own_balance(seat) == 29
    assert refunds() == 0


def test_a_withdrawn_inmail_cannot_be_answered(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 21, 9))
    inmail_withdraw(inmail=sent, cause=SYSTEM)

    with pytest.raises(AlreadyAnswered):
        inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    sent.refresh_from_db()
    assert (sent.status, sent.refunded) == (InMailStatus.WITHDRAWN, False)
    assert own_balance(seat) == 29


def test_an_answered_inmail_cannot_be_withdrawn(seat: Seat, sent: InMail) -> None:
    inmail_record_response(inmail=sent, outcome="declined", cause=SYSTEM)

    with pytest.raises(AlreadyAnswered):
        inmail_withdraw(inmail=sent, cause=SYSTEM)


def test_an_inmail_cannot_be_withdrawn_twice(seat: Seat, sent: InMail) -> None:
    inmail_withdraw(inmail=sent, cause=SYSTEM)

    with pytest.raises(AlreadyAnswered):
        inmail_withdraw(inmail=sent, cause=SYSTEM)


# --- R10 response windows and reminders --------------------------------------------------------


def test_a_pending_inmail_is_closed_as_no_response_exactly_90_days_after_sending(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 5, 1))

    assert inmails_close_response_windows(until=utc(2025, 4, 20, 9, 59, 59)) == 0
    assert inmails_close_response_windows(until=utc(2025, 4, 20, 10)) == 1

    sent.refresh_from_db()
    assert (sent.status, sent.closed_at) == (InMailStatus.NO_RESPONSE, utc(2025, 4, 20, 10))
    assert sent.refunded is False


def test_closing_response_windows_late_dates_each_closure_at_its_deadline(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 8, 1))

    assert inmails_close_response_windows() == 1

    sent.refresh_from_db()
    assert sent.closed_at == utc(2025, 4, 20, 10)


def test_closing_response_windows_twice_closes_nothing_more(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 5, 1))
    inmails_close_response_windows()

    assert inmails_close_response_windows() == 0


def test_closing_a_response_window_charges_and_refunds_nothing(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 5, 1))
    entries = Entry.objects.count()

    inmails_close_response_windows()

    assert Entry.objects.count() == entries


def test_answered_and_withdrawn_inmails_are_not_closed_as_no_response(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 10))
    answered = send(seat, "linkedin.com/in/member-1").inmail
    withdrawn = send(seat, "linkedin.com/in/member-2").inmail
    inmail_record_response(inmail=answered, outcome="replied", cause=SYSTEM)
    inmail_withdraw(inmail=withdrawn, cause=SYSTEM)

    time_machine.move_to(utc(2025, 6, 1))
    assert inmails_close_response_windows() == 0


def test_a_reminder_is_recorded_3_days_after_sending(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 1))

    assert inmails_record_reminders(until=utc(2025, 1, 23, 9, 59, 59)) == 0
    assert inmails_record_reminders(until=utc(2025, 1, 23, 10)) == 1

    sent.refresh_from_db()
    assert sent.reminder_at == utc(2025, 1, 23, 10)
    assert sent.status == InMailStatus.PENDING


def test_recording_reminders_twice_records_nothing_more(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 2, 1))
    inmails_record_reminders()

    assert inmails_record_reminders() == 0
    sent.refresh_from_db()
    assert sent.reminder_at == utc(2025, 1, 23, 10)


def test_an_inmail_answered_within_3_days_gets_no_reminder(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 22, 10))
    inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 1))
    assert inmails_record_reminders() == 0
    sent.refresh_from_db()
    assert sent.reminder_at is None


def test_a_late_reminder_job_still_records_the_reminder_of_an_inmail_answered_after_day_3(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    # Pending on 23 January (day 3), answered on 25 January; the job only runs on 26 January.
    time_machine.move_to(utc(2025, 1, 25, 16))
    inmail_record_response(inmail=sent, outcome="accepted", cause=SYSTEM)

    time_machine.move_to(utc(2025, 1, 26, 9))
    assert inmails_record_reminders() == 1

    sent.refresh_from_db()
    assert sent.reminder_at == utc(2025, 1, 23, 10)


def test_a_response_after_the_window_to_an_inmail_closed_as_no_response_refunds_nothing(
    seat: Seat, sent: InMail, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 25, 9))
    inmails_close_response_windows()
    balance = own_balance(seat)

    answered = inmail_record_response(inmail=sent, outcome="replied", cause=SYSTEM)

    assert (answered.status, answered.refunded) == (InMailStatus.REPLIED, False)
    assert answered.closed_at == utc(2025, 4, 20, 10)
    assert own_balance(seat) == balance


def test_refunded_credits_count_towards_the_cap(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=None)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 4, 20, 9))
    inmail = send(seat).inmail
    inmail_record_response(inmail=inmail, outcome="accepted", cause=SYSTEM)
    assert own_balance(seat) == 120

    time_machine.move_to(utc(2025, 5, 15))
    assert own_balance(seat) == 120
    refresh = account_of(seat).refreshes.get(period_on=date(2025, 5, 15))
    assert (refresh.capped_before, refresh.granted, refresh.lost_to_cap) == (120, 0, 30)
