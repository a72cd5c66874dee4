"""Reassigning a seat (R19): it changes hands whole, InMails keep their sender, the history
is kept, and who sees the seat follows the current holder."""

from __future__ import annotations

from datetime import date

import pytest
from time_machine import TimeMachineFixture

from ledger import analytics
from ledger.exceptions import LedgerValidationError, SeatInactive
from ledger.models import Entry, InMail, InMailStatus, Lot
from ledger.selectors import ledger_discrepancies, seat_balance
from ledger.services import (
    Cause,
    inmail_record_response,
    seat_cancel,
    seat_reassign,
)
from teams.models import AuditEvent, Membership, Role, SeatHolding, User
from teams.selectors import seats_visible_to, user_can_act_on_seat
from tests.factories import MembershipFactory
from tests.ledger.helpers import (
    SYSTEM,
    account_of,
    new_team,
    own_balance,
    person,
    seat_on,
    send,
    utc,
)

pytestmark = pytest.mark.django_db


def admin_cause(username: str = "ops") -> Cause:
    admin = person(username)
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    admin.refresh_from_db()
    return Cause(actor=admin, via="test")


def test_the_first_holding_starts_at_activation_by_whoever_activated_the_seat(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann = person("ann")

    seat = seat_on(holder=ann, activated_on=date(2025, 3, 4))

    holding = SeatHolding.objects.get(seat=seat)
    assert (holding.holder, holding.since, holding.until, holding.by) == (
        ann,
        utc(2025, 3, 4),
        None,
        None,  # the tests' seats are activated by the system
    )


def test_a_reassigned_seat_keeps_its_credits_lots_anchor_and_pending_inmails(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    team = new_team("North")
    seat = seat_on(holder=ann, team=team)
    pending = send(seat, "linkedin.com/in/jane-doe").inmail
    lots_before = list(Lot.objects.filter(account=account_of(seat)).values_list("pk", "remaining"))
    entries_before = Entry.objects.count()
    cause = admin_cause()

    time_machine.move_to(utc(2025, 3, 12, 15), tick=False)
    reassigned = seat_reassign(seat=seat, holder=bob, cause=cause, memo="Ann moved to sales")

    assert reassigned.holder == bob
    assert (reassigned.anchor_day, reassigned.plan.code, reassigned.status) == (
        10,
        "recruiter_lite",
        "active",
    )
    assert own_balance(seat) == 29
    assert Entry.objects.count() == entries_before  # nothing forfeited, nothing moved
    assert list(Lot.objects.filter(account=account_of(seat)).values_list("pk", "remaining")) == (
        lots_before
    )
    pending.refresh_from_db()
    assert (pending.seat_id, pending.status, pending.sender) == (seat.pk, "pending", ann)
    assert ledger_discrepancies() == []


def test_the_holding_history_closes_the_old_holding_and_opens_the_new_one_at_one_instant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob, cid = person("ann"), person("bob"), person("cid")
    seat = seat_on(holder=ann)
    cause = admin_cause()

    time_machine.move_to(utc(2025, 4, 2, 8), tick=False)
    seat_reassign(seat=seat, holder=bob, cause=cause)
    time_machine.move_to(utc(2025, 5, 6, 17), tick=False)
    seat_reassign(seat=seat, holder=cid, cause=cause, memo="  Cover for Bob  ")

    history = list(
        SeatHolding.objects.filter(seat=seat).values_list("holder__username", "since", "until")
    )
    assert history == [
        ("ann", utc(2025, 3, 10), utc(2025, 4, 2, 8)),
        ("bob", utc(2025, 4, 2, 8), utc(2025, 5, 6, 17)),
        ("cid", utc(2025, 5, 6, 17), None),
    ]
    last = SeatHolding.objects.get(seat=seat, until__isnull=True)
    assert (last.by, last.memo) == (cause.actor, "Cover for Bob")


def test_the_new_holder_joins_the_team_as_a_recruiter_and_a_lead_keeps_their_role(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("North")
    seat = seat_on(holder=person("ann"), team=team)
    outsider, lead = person("bob"), person("lea")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    cause = admin_cause()

    seat_reassign(seat=seat, holder=outsider, cause=cause)
    seat_reassign(seat=seat, holder=lead, cause=cause)

    assert Membership.objects.get(user=outsider, team=team).role == Role.RECRUITER
    assert Membership.objects.get(user=lead, team=team).role == Role.LEAD
    # The previous holders stay members: they may hold other seats of the team.
    assert Membership.objects.filter(team=team).count() == 3


def test_who_sees_and_acts_on_the_seat_follows_the_new_holder_at_once(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    seat = seat_on(holder=ann)
    assert user_can_act_on_seat(ann, seat)

    seat_reassign(seat=seat, holder=bob, cause=admin_cause())
    seat.refresh_from_db()

    assert list(seats_visible_to(bob)) == [seat]
    assert list(seats_visible_to(ann)) == []
    assert user_can_act_on_seat(bob, seat)
    assert not user_can_act_on_seat(ann, seat)


def test_the_new_holder_answers_a_pending_inmail_and_the_refund_returns_to_the_seat(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    seat = seat_on(holder=ann)
    pending = send(seat).inmail
    seat_reassign(seat=seat, holder=bob, cause=admin_cause())

    time_machine.move_to(utc(2025, 3, 14, 9), tick=False)
    answered = inmail_record_response(
        inmail=pending, outcome="accepted", cause=Cause(actor=bob, via="test")
    )

    assert answered.refunded is True
    assert own_balance(seat) == 30
    assert answered.sender == ann


def test_inmails_sent_after_the_reassignment_are_the_new_holders(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    seat = seat_on(holder=ann)
    before = send(seat, "linkedin.com/in/first").inmail
    seat_reassign(seat=seat, holder=bob, cause=admin_cause())

    # Logged by an admin on the seat's behalf: the sender is still the holder.
    after = send(seat, "linkedin.com/in/second", cause=admin_cause("ops2")).inmail

    assert (before.sender, after.sender) == (ann, bob)


def test_analytics_by_recruiter_credit_each_inmail_to_its_sender(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("North")
    ann, bob = person("ann"), person("bob")
    seat = seat_on(holder=ann, team=team)
    for n in range(3):
        send(seat, f"linkedin.com/in/ann-{n}")
    seat_reassign(seat=seat, holder=bob, cause=admin_cause())
    send(seat, "linkedin.com/in/bob-0")
    lead = person("lea")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)

    rows = analytics.response_rates(
        analytics.breakdown_inmails(lead, "recruiter"), group_by="recruiter"
    )
    bobs_rows = analytics.response_rates(
        analytics.breakdown_inmails(bob, "recruiter"), group_by="recruiter"
    )

    assert {row.key: row.sent for row in rows} == {"ann": 3, "bob": 1}
    # Bob holds the seat now, but Ann's InMails on it are not his row, nor shown to him.
    assert [(row.key, row.sent) for row in bobs_rows] == [("bob", 1)]


def test_reassigning_to_the_current_holder_is_refused(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann = person("ann")
    seat = seat_on(holder=ann)

    with pytest.raises(LedgerValidationError) as refusal:
        seat_reassign(seat=seat, holder=ann, cause=admin_cause())

    assert refusal.value.field == "holder"
    assert SeatHolding.objects.filter(seat=seat).count() == 1
    assert not AuditEvent.objects.filter(action="seat.reassign").exists()


def test_reassigning_to_someone_who_cant_sign_in_is_refused(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on(holder=person("ann"))
    gone = person("gone")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    gone.refresh_from_db()

    with pytest.raises(LedgerValidationError) as refusal:
        seat_reassign(seat=seat, holder=gone, cause=admin_cause())

    assert refusal.value.field == "holder"
    seat.refresh_from_db()
    assert seat.holder.username == "ann"


def test_reassigning_a_cancelled_seat_is_refused_and_changes_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("North")
    seat = seat_on(holder=person("ann"), team=team)
    seat_cancel(seat=seat, cause=SYSTEM)
    bob = person("bob")

    with pytest.raises(SeatInactive):
        seat_reassign(seat=seat, holder=bob, cause=admin_cause())

    seat.refresh_from_db()
    assert seat.holder.username == "ann"
    assert not Membership.objects.filter(user=bob).exists()
    assert SeatHolding.objects.filter(seat=seat).count() == 1


def test_a_reassignment_is_in_the_audit_trail_with_its_memo(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    seat = seat_on(holder=ann)
    cause = admin_cause()

    seat_reassign(seat=seat, holder=bob, cause=cause, memo="Parental leave cover")

    event = AuditEvent.objects.get(action="seat.reassign")
    assert (event.actor, event.seat_id, event.object_type, event.object_id) == (
        cause.actor,
        seat.pk,
        "seat",
        seat.pk,
    )
    assert event.changes == {"holder": [ann.pk, bob.pk], "memo": [None, "Parental leave cover"]}


def test_a_user_may_hold_several_seats_and_sees_each(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("North")
    bob = person("bob")
    own = seat_on(holder=bob, team=team)
    other = seat_on(holder=person("ann"), team=team)

    seat_reassign(seat=other, holder=bob, cause=admin_cause())

    assert set(seats_visible_to(bob)) == {own, other}
    assert seat_balance(other).seat.holder == bob


def test_a_pooled_seat_keeps_its_allocation_and_pool_access(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("Pool")
    seat = seat_on("recruiter_corporate", holder=person("ann"), team=team, monthly_allocation=20)
    seat_on("recruiter_corporate", holder=person("cid"), team=team)
    before = seat_balance(seat)

    seat_reassign(seat=seat, holder=person("bob"), cause=admin_cause())

    after = seat_balance(seat)
    assert (after.seat.monthly_allocation, after.seat.pool_access) == (20, True)
    assert (after.own, after.pool_available) == (before.own, before.pool_available)


def test_an_inmail_imported_later_names_the_holder_when_it_was_sent(
    time_machine: TimeMachineFixture,
) -> None:
    from ledger.services import HistoricInMail, inmails_import

    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    seat = seat_on(holder=ann, activated_on=date(2025, 1, 1))
    time_machine.move_to(utc(2025, 3, 20, 9), tick=False)
    cause = admin_cause()
    seat_reassign(seat=seat, holder=bob, cause=cause)
    time_machine.move_to(utc(2025, 3, 25, 9), tick=False)

    assert cause.actor is not None
    inmails_import(
        user=cause.actor,
        rows=[
            HistoricInMail(
                line=2,
                seat=seat,
                recipient="linkedin.com/in/old",
                subject="Hi",
                body="Hello",
                sent_at=utc(2025, 2, 1, 9),
                open_profile=False,
                status=InMailStatus.PENDING,
                responded_at=None,
            ),
            HistoricInMail(
                line=3,
                seat=seat,
                recipient="linkedin.com/in/new",
                subject="Hi",
                body="Hello",
                sent_at=utc(2025, 3, 20, 10),
                open_profile=False,
                status=InMailStatus.PENDING,
                responded_at=None,
            ),
        ],
        cause=cause,
    )

    senders = dict(InMail.objects.values_list("recipient", "sender__username"))
    assert senders == {"linkedin.com/in/old": "ann", "linkedin.com/in/new": "bob"}
