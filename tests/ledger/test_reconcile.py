"""Reconciling a seat with what LinkedIn shows (R21): the ledger's figure at the instant, the
difference, and an admin resolving it by adjusting or dismissing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import (
    AlreadyResolved,
    InsufficientCredits,
    LedgerValidationError,
    SeatInactive,
)
from ledger.models import Entry, EntryKind, Reconciliation, ReconciliationStatus
from ledger.selectors import ledger_discrepancies
from ledger.services import (
    Cause,
    adjustment_post,
    pool_transfer,
    reconciliation_record,
    reconciliation_resolve,
    seat_cancel,
)
from teams.models import AuditEvent, Seat, User
from tests.ledger.helpers import (
    SYSTEM,
    new_team,
    own_balance,
    person,
    seat_on,
    send,
    utc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> Cause:
    ops = person("ops")
    User.objects.filter(pk=ops.pk).update(is_staff=True)
    ops.refresh_from_db()
    return Cause(actor=ops, via="test")


def record(seat: Seat, linkedin: object, observed_at: datetime | None = None) -> Reconciliation:
    return reconciliation_record(
        seat=seat, linkedin_balance=linkedin, cause=SYSTEM, observed_at=observed_at
    )


def test_the_same_figure_as_the_ledger_is_matched(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    send(seat)

    matched = record(seat, 29)

    assert (
        matched.ledger_balance,
        matched.difference,
        matched.status,
        matched.observed_at,
    ) == (29, 0, ReconciliationStatus.MATCHED, utc(2025, 3, 10, 9))


def test_a_forgotten_inmail_shows_as_an_open_difference_of_minus_one(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    send(seat)

    opened = record(seat, 28)

    assert (opened.linkedin_balance, opened.ledger_balance, opened.difference, opened.status) == (
        28,
        29,
        -1,
        ReconciliationStatus.OPEN,
    )


def test_a_past_instant_is_compared_with_the_ledger_as_it_stood_then(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 3, 12, 9), tick=False)
    send_at_noon = utc(2025, 3, 12, 12)
    time_machine.move_to(send_at_noon, tick=False)
    send(seat)
    time_machine.move_to(utc(2025, 3, 15, 9), tick=False)
    send(seat, "linkedin.com/in/second")

    before_noon = record(seat, 30, observed_at=utc(2025, 3, 12, 11))
    at_noon = record(seat, 29, observed_at=send_at_noon)

    assert (before_noon.ledger_balance, before_noon.status) == (30, "matched")
    assert (at_noon.ledger_balance, at_noon.status) == (29, "matched")


def test_the_ledger_figure_counts_the_pool_the_seat_may_draw_on(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("Pool")
    drawing = seat_on("recruiter_corporate", team=team)
    seat_on("recruiter_corporate", team=team)
    pool_transfer(team=team, seat=drawing, credits=20, cause=SYSTEM)

    reconciliation = record(drawing, 300)

    # Its own 20 and the pool's 280 (two seats' 150, less the 20 moved).
    assert (reconciliation.ledger_balance, reconciliation.difference) == (300, 0)


def test_expired_credits_do_not_count_even_before_the_expiry_job_has_run(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("premium_career", activated_on=date(2025, 1, 10))
    # 90 days later the January credits expired; three refreshes granted 5 each since.
    time_machine.move_to(utc(2025, 4, 12, 9), tick=False)

    reconciliation = record(seat, 15)

    assert (reconciliation.ledger_balance, reconciliation.status) == (15, "matched")


@pytest.mark.parametrize("bad", [-1, 1.5, "7", None, True, 1_000_001])
def test_a_linkedin_balance_that_is_not_a_whole_number_from_0_is_refused(
    bad: object, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    with pytest.raises(LedgerValidationError) as refusal:
        record(seat, bad)

    assert refusal.value.field == "linkedin_balance"
    assert not Reconciliation.objects.exists()


def test_an_instant_in_the_future_or_before_the_activation_is_refused(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite", activated_on=date(2025, 3, 5))

    with pytest.raises(LedgerValidationError) as future:
        record(seat, 30, observed_at=utc(2025, 3, 10, 9, 1))
    with pytest.raises(LedgerValidationError) as early:
        record(seat, 30, observed_at=utc(2025, 3, 4, 23, 59))
    at_activation = record(seat, 30, observed_at=utc(2025, 3, 5))

    assert (future.value.field, early.value.field) == ("observed_at", "observed_at")
    assert at_activation.status == "matched"


def test_a_cancelled_seat_is_not_reconciled(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        record(seat, 0)


def test_adjust_posts_the_difference_now_with_the_reason_and_a_link(
    time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    opened = record(seat, 27, observed_at=utc(2025, 3, 10, 8))
    time_machine.move_to(utc(2025, 3, 11, 9), tick=False)

    resolved = reconciliation_resolve(
        reconciliation=opened,
        action="adjust",
        reason="  Three InMails sent from the app  ",
        cause=admin,
    )

    assert (resolved.status, resolved.resolved_by, resolved.resolved_at, resolved.reason) == (
        ReconciliationStatus.ADJUSTED,
        admin.actor,
        utc(2025, 3, 11, 9),
        "Three InMails sent from the app",
    )
    adjustment = resolved.adjustment
    assert adjustment is not None
    assert (adjustment.kind, adjustment.amount, adjustment.at, adjustment.actor) == (
        EntryKind.ADJUSTMENT,
        -3,
        utc(2025, 3, 11, 9),
        admin.actor,
    )
    assert adjustment.memo == f"Reconciliation #{opened.pk}: Three InMails sent from the app"
    assert own_balance(seat) == 27
    assert ledger_discrepancies() == []


def test_adjust_adds_credits_when_linkedin_shows_more(
    time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    send(seat)
    opened = record(seat, 30)  # the InMail was never sent after all

    reconciliation_resolve(reconciliation=opened, action="adjust", reason="Not sent", cause=admin)

    assert own_balance(seat) == 30


def test_an_adjustment_below_the_seats_own_balance_is_refused_and_stays_open(
    time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("Pool")
    seat = seat_on("recruiter_corporate", team=team)
    pool_transfer(team=team, seat=seat, credits=5, cause=SYSTEM)
    opened = record(seat, 140)  # 155 in the ledger: 5 own, 150 in the pool
    entries = Entry.objects.count()

    with pytest.raises(InsufficientCredits):
        reconciliation_resolve(reconciliation=opened, action="adjust", reason="Fix", cause=admin)

    opened.refresh_from_db()
    assert (opened.status, opened.adjustment, opened.resolved_at) == ("open", None, None)
    assert Entry.objects.count() == entries


def test_dismiss_closes_it_and_leaves_the_ledger_alone(
    time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    opened = record(seat, 31)
    entries = Entry.objects.count()

    resolved = reconciliation_resolve(
        reconciliation=opened, action="dismiss", reason="Misread the screen", cause=admin
    )

    assert (resolved.status, resolved.adjustment, resolved.reason) == (
        ReconciliationStatus.DISMISSED,
        None,
        "Misread the screen",
    )
    assert Entry.objects.count() == entries
    assert own_balance(seat) == 30


def test_a_resolved_or_matched_reconciliation_is_already_resolved(
    time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    matched = record(seat, 30)
    opened = record(seat, 31)
    reconciliation_resolve(reconciliation=opened, action="adjust", reason="Bonus", cause=admin)

    with pytest.raises(AlreadyResolved) as again:
        reconciliation_resolve(reconciliation=opened, action="adjust", reason="Twice", cause=admin)
    with pytest.raises(AlreadyResolved):
        reconciliation_resolve(reconciliation=matched, action="dismiss", reason="x", cause=admin)

    assert again.value.code == "already_resolved"
    assert own_balance(seat) == 31


@pytest.mark.parametrize(
    ("action", "reason", "field"),
    [
        ("adjust", "   ", "reason"),
        ("dismiss", "", "reason"),
        ("delete", "Because", "action"),
        ("dismiss", "x" * 501, "reason"),
    ],
)
def test_a_resolution_needs_a_known_action_and_a_reason(
    action: str, reason: str, field: str, time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    opened = record(seat_on("recruiter_lite"), 31)

    with pytest.raises(LedgerValidationError) as refusal:
        reconciliation_resolve(reconciliation=opened, action=action, reason=reason, cause=admin)

    assert refusal.value.field == field
    opened.refresh_from_db()
    assert opened.status == "open"


def test_recording_and_resolving_are_in_the_audit_trail(
    time_machine: TimeMachineFixture, admin: Cause
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    opened = reconciliation_record(seat=seat, linkedin_balance=28, cause=admin)
    resolved = reconciliation_resolve(
        reconciliation=opened, action="adjust", reason="Two sent from mobile", cause=admin
    )

    trail = list(
        AuditEvent.objects.filter(seat=seat).order_by("pk").values_list("action", "changes")
    )
    assert trail == [
        (
            "reconciliation.create",
            {
                "observed_at": [None, "2025-03-10T09:00:00+00:00"],
                "linkedin_balance": [None, 28],
                "ledger_balance": [None, 30],
                "status": [None, "open"],
            },
        ),
        (
            "reconciliation.resolve",
            {
                "status": ["open", "adjusted"],
                "reason": ["", "Two sent from mobile"],
                "adjustment": [None, resolved.adjustment_id],
            },
        ),
    ]


def test_a_negative_adjustment_larger_than_the_own_balance_is_insufficient_credits(
    time_machine: TimeMachineFixture,
) -> None:
    """The clarification on negative adjustments (pool credits don't count), through R15."""
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("Pool")
    seat = seat_on("recruiter_corporate", team=team)
    pool_transfer(team=team, seat=seat, credits=4, cause=SYSTEM)

    with pytest.raises(InsufficientCredits):
        adjustment_post(seat=seat, credits=-5, reason="Too many", cause=SYSTEM)
    adjustment_post(seat=seat, credits=-4, reason="All of it", cause=SYSTEM)

    assert own_balance(seat) == 0
