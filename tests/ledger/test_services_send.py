"""Sending InMails: spend order, Open Profile and every rejection reason (R6–R8)."""

from __future__ import annotations

import pytest
from pytest_django import Settings
from time_machine import TimeMachineFixture

from ledger.exceptions import (
    DuplicatePending,
    InsufficientCredits,
    LedgerValidationError,
    SeatInactive,
    SendLimitReached,
)
from ledger.models import Entry, EntryKind, InMail, InMailStatus, Lot, LotSource, PaidFrom
from ledger.rules import normalise_recipient
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_withdraw,
    purchase_record,
    seat_cancel,
)
from teams.models import Seat
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    footprint,
    new_team,
    own_balance,
    person,
    seat_on,
    send,
    set_plan,
    utc,
)

pytestmark = pytest.mark.django_db


def spent_lot(inmail: InMail) -> Lot:
    return Entry.objects.get(inmail=inmail, kind=EntryKind.SPEND).lot


def drain_to(seat: Seat, credits: int) -> None:
    """Adjust the seat's balance down to `credits`."""
    held = own_balance(seat)
    adjustment_post(seat=seat, credits=credits - held, reason="Match LinkedIn", cause=SYSTEM)


# --- a paid send ------------------------------------------------------------------------------


def test_a_paid_inmail_takes_one_credit_from_the_seat(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 1, 20, 10, 30))

    result = send(seat, "https://www.linkedin.com/in/jane-doe/")

    inmail = result.inmail
    assert (inmail.status, inmail.credit_cost, inmail.paid_from) == (
        InMailStatus.PENDING,
        1,
        PaidFrom.SEAT,
    )
    assert inmail.sent_at == utc(2025, 1, 20, 10, 30)
    assert inmail.paid_account == account_of(seat)
    assert inmail.recipient == "https://www.linkedin.com/in/jane-doe/"
    assert result.warnings == []
    assert own_balance(seat) == 29
    spend = Entry.objects.get(inmail=inmail)
    assert (spend.kind, spend.at, spend.amount, spend.balance_after) == (
        EntryKind.SPEND,
        utc(2025, 1, 20, 10, 30),
        -1,
        29,
    )


def test_the_spend_entry_records_who_sent_it(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    holder = person("recruiter")
    seat = seat_on("recruiter_lite", holder=holder)

    inmail = send(seat, cause=Cause(actor=holder, via="web")).inmail

    spend = Entry.objects.get(inmail=inmail)
    assert (spend.actor, spend.cause) == (holder, "web")
    assert inmail.created_by == holder


def test_the_last_credit_can_be_spent(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    drain_to(seat, 1)

    inmail = send(seat).inmail

    assert inmail.credit_cost == 1
    assert own_balance(seat) == 0


def test_after_the_last_credit_the_next_send_is_refused_and_charges_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    drain_to(seat, 1)
    send(seat, "linkedin.com/in/member-1")
    before = footprint(seat)

    with pytest.raises(InsufficientCredits) as refused:
        send(seat, "linkedin.com/in/member-2")

    assert refused.value.code == "insufficient_credits"
    assert footprint(seat) == before


def test_thirty_sends_spend_a_lite_seat_to_zero(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    for n in range(30):
        send(seat, f"linkedin.com/in/member-{n}")

    assert own_balance(seat) == 0
    with pytest.raises(InsufficientCredits):
        send(seat, "linkedin.com/in/member-30")


# --- R6 spend order ----------------------------------------------------------------------------


def test_the_lot_that_expires_soonest_is_spent_first(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 2, 1, 9))
    bonus_grant(seat=seat, credits=2, memo="Welcome", cause=SYSTEM)

    lot = spent_lot(send(seat, "linkedin.com/in/member-1").inmail)

    # The bonus lives 30 days (to 3 March); the grant lives until 15 April.
    assert (lot.source, lot.expires_at) == (LotSource.BONUS, utc(2025, 3, 3, 9))


def test_an_older_grant_is_spent_before_a_newer_one(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 2, 20, 9))

    lot = spent_lot(send(seat).inmail)

    assert lot.granted_at == utc(2025, 1, 15)


def test_between_lots_expiring_together_the_older_one_is_spent_first(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", credit_lifetime_days=40)
    time_machine.move_to(utc(2025, 1, 1, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 1, 2, 10))
    answered = send(seat, "linkedin.com/in/member-a").inmail
    time_machine.move_to(utc(2025, 1, 20, 10))
    # Expires 19 February 10:00, granted 20 January.
    bonus_grant(seat=seat, credits=1, memo="Welcome", cause=SYSTEM)
    time_machine.move_to(utc(2025, 1, 21, 10))
    # Expires 19 February 10:00 too, but granted earlier (10 January), and recorded later.
    inmail_record_response(
        inmail=answered, outcome="accepted", responded_at=utc(2025, 1, 10, 10), cause=SYSTEM
    )
    drain_to(seat, 2)

    lot = spent_lot(send(seat, "linkedin.com/in/member-b").inmail)

    assert (lot.source, lot.granted_at, lot.expires_at) == (
        LotSource.REFUND,
        utc(2025, 1, 10, 10),
        utc(2025, 2, 19, 10),
    )


def test_purchased_credits_that_never_expire_are_spent_last(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    purchase_record(seat=seat, credits=5, cause=SYSTEM)
    time_machine.move_to(utc(2025, 2, 20, 9))

    lots = [spent_lot(send(seat, f"linkedin.com/in/member-{n}").inmail) for n in range(61)]

    assert [lot.granted_at for lot in lots[:30]] == [utc(2025, 1, 15)] * 30
    assert [lot.granted_at for lot in lots[30:60]] == [utc(2025, 2, 15)] * 30
    assert lots[60].source == LotSource.PURCHASE
    assert own_balance(seat) == 4


def test_a_seat_never_spends_another_seats_credits(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    team = new_team()
    seat = seat_on("recruiter_lite", team=team)
    seat_on("recruiter_lite", team=team)
    drain_to(seat, 0)

    with pytest.raises(InsufficientCredits):
        send(seat)


# --- R7 Open Profile ---------------------------------------------------------------------------


def test_an_open_profile_inmail_costs_nothing_but_is_tracked(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    entries = Entry.objects.count()

    inmail = send(seat, open_profile=True).inmail

    assert (inmail.open_profile, inmail.credit_cost, inmail.paid_from) == (True, 0, None)
    assert inmail.paid_account is None
    assert inmail.status == InMailStatus.PENDING
    assert InMail.objects.filter(seat=seat).count() == 1
    assert own_balance(seat) == 30
    assert Entry.objects.count() == entries


def test_an_open_profile_inmail_can_be_sent_with_no_credits_left(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    drain_to(seat, 0)

    inmail = send(seat, open_profile=True).inmail

    assert inmail.credit_cost == 0
    assert own_balance(seat) == 0


def test_open_profile_inmails_count_towards_the_monthly_send_limit(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", monthly_send_limit=3)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    for n in range(3):
        send(seat, f"linkedin.com/in/member-{n}", open_profile=True)

    with pytest.raises(SendLimitReached):
        send(seat, "linkedin.com/in/member-3", open_profile=True)
    assert own_balance(seat) == 30


# --- R8 rejections -----------------------------------------------------------------------------


def test_a_cancelled_seat_cannot_send(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    seat_cancel(seat=seat, cause=SYSTEM)
    before = footprint(seat)

    with pytest.raises(SeatInactive) as refused:
        send(seat)

    assert refused.value.code == "seat_inactive"
    assert footprint(seat) == before


def test_a_cancelled_seat_cannot_send_to_an_open_profile_either(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        send(seat, open_profile=True)
    assert not InMail.objects.exists()


def test_a_send_with_no_credit_is_refused_and_charges_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    drain_to(seat, 0)
    before = footprint(seat)

    with pytest.raises(InsufficientCredits) as refused:
        send(seat)

    assert refused.value.code == "insufficient_credits"
    assert footprint(seat) == before
    assert not InMail.objects.exists()


def test_a_second_pending_inmail_to_the_same_recipient_is_refused(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    send(seat, "https://www.linkedin.com/in/Jane-Doe/?trk=1")
    before = footprint(seat)

    with pytest.raises(DuplicatePending) as refused:
        send(seat, "linkedin.com/in/jane-doe")

    assert refused.value.code == "duplicate_pending"
    assert footprint(seat) == before
    assert own_balance(seat) == 29


def test_a_pending_open_profile_inmail_also_blocks_a_duplicate(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    send(seat, "linkedin.com/in/member-42", open_profile=True)

    with pytest.raises(DuplicatePending):
        send(seat, " https://www.LinkedIn.com/in/MEMBER-42/ ")


@pytest.mark.parametrize(
    "pasted",
    [
        "https://www.linkedin.com/in/Jane-Doe/?trk=1",
        "http://linkedin.com/in/jane-doe",
        "www.linkedin.com/in/JANE-DOE/",
        "linkedin.com/in/jane-doe#about",
        "  https://uk.linkedin.com/in/jane-doe  ",
    ],
)
def test_a_profile_url_is_recognised_however_it_was_pasted(pasted: str) -> None:
    assert normalise_recipient(pasted) == normalise_recipient("linkedin.com/in/jane-doe")


def test_different_profiles_are_different_recipients() -> None:
    assert normalise_recipient("linkedin.com/in/jane-doe") != normalise_recipient(
        "linkedin.com/in/jane-doe-2"
    )


@pytest.mark.parametrize("pasted", ["https://[linkedin.com/in/x", "[::1"])
def test_text_that_is_no_url_is_compared_as_given(pasted: str) -> None:
    assert normalise_recipient(f"  {pasted.upper()} ") == pasted.lower()


def test_a_recipient_that_is_neither_url_nor_member_id_is_refused() -> None:
    seat = seat_on("recruiter_lite")
    with pytest.raises(LedgerValidationError, match="neither a profile URL nor a member id"):
        send(seat, "https://[linkedin.com/in/x")
    assert not InMail.objects.exists()


def test_after_an_answer_the_same_recipient_can_be_written_to_again(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    first = send(seat).inmail
    inmail_record_response(inmail=first, outcome="declined", cause=SYSTEM)

    second = send(seat).inmail

    assert second.status == InMailStatus.PENDING
    assert second.pk != first.pk


def test_after_a_withdrawal_the_same_recipient_can_be_written_to_again(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    inmail_withdraw(inmail=send(seat).inmail, cause=SYSTEM)

    assert send(seat).inmail.status == InMailStatus.PENDING
    assert own_balance(seat) == 28


def test_two_seats_may_each_have_a_pending_inmail_to_one_recipient(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    first, second = seat_on("recruiter_lite"), seat_on("recruiter_lite")
    send(first)

    assert send(second).inmail.status == InMailStatus.PENDING


def test_the_monthly_send_limit_refuses_the_next_inmail_and_charges_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", monthly_send_limit=3)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    for n in range(3):
        send(seat, f"linkedin.com/in/member-{n}")
    before = footprint(seat)

    with pytest.raises(SendLimitReached) as refused:
        send(seat, "linkedin.com/in/member-3")

    assert refused.value.code == "send_limit_reached"
    assert footprint(seat) == before
    assert own_balance(seat) == 27


def test_the_send_limit_is_per_calendar_month(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", monthly_send_limit=3)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    for n in range(3):
        send(seat, f"linkedin.com/in/member-{n}")

    time_machine.move_to(utc(2025, 1, 31, 23, 59, 59))
    with pytest.raises(SendLimitReached):
        send(seat, "linkedin.com/in/member-3")
    time_machine.move_to(utc(2025, 2, 1))
    assert send(seat, "linkedin.com/in/member-3").inmail.credit_cost == 1


def test_withdrawn_inmails_still_count_towards_the_send_limit(
    time_machine: TimeMachineFixture,
) -> None:
    set_plan("recruiter_lite", monthly_send_limit=2)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    inmail_withdraw(inmail=send(seat, "linkedin.com/in/member-1").inmail, cause=SYSTEM)
    send(seat, "linkedin.com/in/member-2")

    with pytest.raises(SendLimitReached):
        send(seat, "linkedin.com/in/member-3")


def test_the_send_limit_is_per_seat(time_machine: TimeMachineFixture) -> None:
    set_plan("recruiter_lite", monthly_send_limit=1)
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    first, second = seat_on("recruiter_lite"), seat_on("recruiter_lite")
    send(first, "linkedin.com/in/member-1")

    assert send(second, "linkedin.com/in/member-1").inmail.credit_cost == 1


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [
        ("", "Hello there", "subject"),
        ("   ", "Hello there", "subject"),
        ("S" * 201, "Hello there", "subject"),
        ("Hello", "", "body"),
        ("Hello", " \n ", "body"),
        ("Hello", "B" * 1901, "body"),
    ],
)
def test_an_invalid_subject_or_body_is_refused_and_charges_nothing(
    time_machine: TimeMachineFixture, subject: str, body: str, field: str
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    before = footprint(seat)

    with pytest.raises(LedgerValidationError) as refused:
        send(seat, subject=subject, body=body)

    assert refused.value.field == field
    assert footprint(seat) == before


def test_a_subject_of_exactly_200_and_a_body_of_exactly_1900_characters_are_accepted(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    inmail = send(seat, subject="S" * 200, body="B" * 1900).inmail
    inmail.refresh_from_db()

    assert (len(inmail.subject), len(inmail.body)) == (200, 1900)
    assert own_balance(seat) == 29


@pytest.mark.parametrize("recipient", ["", "   ", "x" * 256])
def test_an_empty_or_too_long_recipient_is_refused(
    time_machine: TimeMachineFixture, recipient: str
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")

    with pytest.raises(LedgerValidationError) as refused:
        send(seat, recipient)

    assert refused.value.field == "recipient"
    assert own_balance(seat) == 30


# --- R8 teammate warning ------------------------------------------------------------------------


def test_a_teammates_inmail_to_the_same_recipient_within_90_days_is_a_warning(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 10), tick=False)
    team = new_team()
    mine = seat_on("recruiter_lite", team=team, holder=person("recruiter"))
    theirs = seat_on("recruiter_lite", team=team, holder=person("teammate"))
    send(theirs, "https://www.linkedin.com/in/Jane-Doe/")

    time_machine.move_to(utc(2025, 4, 20, 10))
    result = send(mine, "linkedin.com/in/jane-doe")

    assert [warning["code"] for warning in result.warnings] == ["recipient_contacted_by_teammate"]
    assert result.inmail.credit_cost == 1
    assert result.inmail.status == InMailStatus.PENDING


def test_a_teammates_inmail_91_days_ago_gives_no_warning(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 20, 10), tick=False)
    team = new_team()
    mine = seat_on("recruiter_lite", team=team, holder=person("recruiter"))
    theirs = seat_on("recruiter_lite", team=team, holder=person("teammate"))
    send(theirs, "linkedin.com/in/jane-doe")

    time_machine.move_to(utc(2025, 4, 21, 10))
    assert send(mine, "linkedin.com/in/jane-doe").warnings == []


def test_an_inmail_from_another_team_gives_no_warning(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 20, 10), tick=False)
    mine = seat_on("recruiter_lite", team=new_team())
    outsider = seat_on("recruiter_lite", team=new_team())
    send(outsider, "linkedin.com/in/jane-doe")

    assert send(mine, "linkedin.com/in/jane-doe").warnings == []


def test_the_holders_own_earlier_inmail_gives_no_teammate_warning(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 20, 10), tick=False)
    team = new_team()
    holder = person("recruiter")
    old_seat = seat_on("sales_navigator_core", team=team, holder=holder)
    new_seat = seat_on("recruiter_lite", team=team, holder=holder)
    send(old_seat, "linkedin.com/in/jane-doe")

    assert send(new_seat, "linkedin.com/in/jane-doe").warnings == []


def test_a_seat_with_no_credits_can_send_at_the_instant_of_its_refresh(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    drain_to(seat, 0)

    time_machine.move_to(utc(2025, 2, 14, 23, 59, 59))
    with pytest.raises(InsufficientCredits):
        send(seat, "linkedin.com/in/member-1")
    # No job has run: the send itself applies the refresh first.
    time_machine.move_to(utc(2025, 2, 15))
    assert send(seat, "linkedin.com/in/member-1").inmail.credit_cost == 1
    assert own_balance(seat) == 29


def test_the_send_limit_month_starts_at_local_midnight(
    time_machine: TimeMachineFixture, settings: Settings
) -> None:
    settings.TIME_ZONE = "America/New_York"
    set_plan("recruiter_lite", monthly_send_limit=1)
    time_machine.move_to(utc(2025, 1, 15, 15), tick=False)
    seat = seat_on("recruiter_lite")
    # 03:00 UTC on 1 February is 22:00 on 31 January in New York.
    time_machine.move_to(utc(2025, 2, 1, 3))
    send(seat, "linkedin.com/in/member-1")

    time_machine.move_to(utc(2025, 2, 1, 4, 59, 59))
    with pytest.raises(SendLimitReached):
        send(seat, "linkedin.com/in/member-2")
    time_machine.move_to(utc(2025, 2, 1, 5))
    assert send(seat, "linkedin.com/in/member-2").inmail.credit_cost == 1
