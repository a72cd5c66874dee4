"""Operations: every call that writes entries groups them in one operation (issue 11, rule 5).

A service call's own entries form one operation with its kind, actor and via; what it applied
first because it was due (R17) is a `catch_up` operation of the system, one per due instant. A
move's legs share their operation and sum to zero, and `ledger_check` says when they don't.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from ledger.exceptions import InsufficientCredits, PoolInsufficient
from ledger.models import MOVE_KINDS, AccountKind, Entry, EntryKind, Operation
from ledger.selectors import ledger_discrepancies
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_withdraw,
    pool_transfer,
    purchase_record,
    seat_activate,
    seat_cancel,
    seat_change_plan,
)
from teams.models import Seat, Team, User
from tests.factories import plan
from tests.ledger.helpers import account_of, new_team, person, seat_on, send, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> User:
    return person("ops-admin")


@pytest.fixture
def by_admin(admin: User) -> Cause:
    return Cause(actor=admin, via="api")


def operations_since(last_id: int) -> list[Operation]:
    return list(Operation.objects.filter(pk__gt=last_id).order_by("at", "id"))


def last_operation_id() -> int:
    return Operation.objects.order_by("-id").values_list("id", flat=True).first() or 0


def the_one_new_operation(before: int) -> Operation:
    new = operations_since(before)
    assert len(new) == 1, [(op.kind, op.at) for op in new]
    return new[0]


def entry_kinds(operation: Operation) -> list[tuple[str, int]]:
    return list(operation.entries.order_by("id").values_list("kind", "amount"))


@pytest.fixture
def lite(time_machine: TimeMachineFixture) -> Seat:
    """A Recruiter Lite seat (30 credits) activated on 15 January 2025; now 20 January."""
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 1, 20, 10, 30), tick=False)
    return seat


# --- one operation per call, with its kind, actor and via --------------------------------------


def test_a_paid_send_is_one_inmail_send_operation_of_its_actor_and_via(
    lite: Seat, admin: User, by_admin: Cause
) -> None:
    before = last_operation_id()

    sent = send(lite, cause=by_admin)

    operation = the_one_new_operation(before)
    assert (operation.kind, operation.actor, operation.via) == ("inmail.send", admin, "api")
    assert operation.at == utc(2025, 1, 20, 10, 30)
    assert entry_kinds(operation) == [(EntryKind.SPEND, -1)]
    assert operation.entries.get().inmail == sent.inmail


def test_an_open_profile_send_moves_no_credit_and_writes_no_operation(
    lite: Seat, by_admin: Cause
) -> None:
    before = last_operation_id()

    send(lite, open_profile=True, cause=by_admin)

    assert operations_since(before) == []


def test_a_refunded_response_is_one_inmail_response_operation(
    lite: Seat, admin: User, by_admin: Cause
) -> None:
    sent = send(lite)
    before = last_operation_id()

    inmail_record_response(inmail=sent.inmail, outcome="replied", cause=by_admin)

    operation = the_one_new_operation(before)
    assert (operation.kind, operation.actor, operation.via) == ("inmail.response", admin, "api")
    assert entry_kinds(operation) == [(EntryKind.REFUND, 1)]


def test_a_withdrawal_moves_no_credit_and_writes_no_operation(lite: Seat, by_admin: Cause) -> None:
    sent = send(lite)
    before = last_operation_id()

    inmail_withdraw(inmail=sent.inmail, cause=by_admin)

    assert operations_since(before) == []


def test_purchase_bonus_and_adjustment_are_one_operation_each(
    lite: Seat, admin: User, by_admin: Cause
) -> None:
    seat = lite
    before = last_operation_id()

    purchase_record(seat=seat, credits=5, cause=by_admin)
    bonus_grant(seat=seat, credits=2, memo="Hiring sprint", cause=by_admin)
    adjustment_post(seat=seat, credits=-3, reason="LinkedIn shows 3 fewer", cause=by_admin)

    operations = operations_since(before)
    assert [(op.kind, op.actor, op.via, op.memo) for op in operations] == [
        ("purchase", admin, "api", f"Purchased 5 at {seat.plan.purchase_price}"),
        ("bonus", admin, "api", "Hiring sprint"),
        ("adjustment", admin, "api", "LinkedIn shows 3 fewer"),
    ]
    assert entry_kinds(operations[0]) == [(EntryKind.PURCHASE, 5)]
    assert entry_kinds(operations[1]) == [(EntryKind.BONUS, 2)]
    # The bonus expires first, so it goes first (R6): two entries, one operation.
    assert entry_kinds(operations[2]) == [(EntryKind.ADJUSTMENT, -2), (EntryKind.ADJUSTMENT, -1)]


def test_an_adjustment_spread_over_two_lots_is_one_operation(lite: Seat, by_admin: Cause) -> None:
    bonus_grant(seat=lite, credits=2, memo="Welcome", cause=by_admin)
    before = last_operation_id()

    entries = adjustment_post(seat=lite, credits=-5, reason="LinkedIn shows 27", cause=by_admin)

    operation = the_one_new_operation(before)
    assert len(entries) == 2
    assert {entry.operation_id for entry in entries} == {operation.pk}
    assert operation.entries.aggregate(total=Sum("amount"))["total"] == -5


def test_activation_cancellation_and_plan_change_are_one_operation_each(
    admin: User, by_admin: Cause, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    holder, team = person(), new_team()
    before = last_operation_id()

    seat = seat_activate(holder=holder, team=team, plan=plan("recruiter_lite"), cause=by_admin)
    activation = the_one_new_operation(before)
    assert (activation.kind, activation.actor, activation.via) == ("seat.activate", admin, "api")
    # The grant is dated at the activation's start of day, and so is its operation.
    assert activation.at == utc(2025, 1, 15)
    assert entry_kinds(activation) == [(EntryKind.GRANT, 30)]

    before = last_operation_id()
    new_seat = seat_change_plan(seat=seat, plan=plan("recruiter_professional"), cause=by_admin)
    change = the_one_new_operation(before)
    assert (change.kind, change.actor, change.via) == ("seat.change_plan", admin, "api")
    forfeit, grant = entry_kinds(change)
    assert forfeit == (EntryKind.FORFEIT, -30)
    assert grant[0] == EntryKind.GRANT
    assert {e.account.seat_id for e in change.entries.select_related("account")} == {
        seat.pk,
        new_seat.pk,
    }

    before = last_operation_id()
    seat_cancel(seat=new_seat, cause=by_admin)
    cancellation = the_one_new_operation(before)
    assert cancellation.kind == "seat.cancel"
    assert [kind for kind, _ in entry_kinds(cancellation)] == [EntryKind.FORFEIT]


# --- moves ------------------------------------------------------------------------------------


@pytest.fixture
def team(db: None) -> Team:
    return new_team("Talent North")


@pytest.fixture
def pooled(team: Team, time_machine: TimeMachineFixture) -> Seat:
    """The team's first Recruiter Corporate seat, activated on 10 January 2025; now 12 January."""
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 1, 12, 9), tick=False)
    return seat


@pytest.mark.parametrize("credits", [25, -1])
def test_a_transfer_is_one_operation_whose_legs_sum_to_zero(
    team: Team, pooled: Seat, admin: User, by_admin: Cause, credits: int
) -> None:
    if credits < 0:
        pool_transfer(team=team, seat=pooled, credits=5, cause=by_admin)
    before = last_operation_id()

    pool_transfer(team=team, seat=pooled, credits=credits, cause=by_admin)

    operation = the_one_new_operation(before)
    assert (operation.kind, operation.actor, operation.via) == ("pool.transfer", admin, "api")
    legs = list(operation.entries.values_list("account__kind", "kind", "amount"))
    assert {kind for _, kind, _ in legs} == {EntryKind.TRANSFER}
    assert sum(amount for _, _, amount in legs) == 0
    assert sum(amount for account, _, amount in legs if account == AccountKind.SEAT) == credits


def test_a_pool_refresh_and_its_allocations_are_one_catch_up_operation_that_moves_nothing_out(
    team: Team, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=team, monthly_allocation=10)
    before = last_operation_id()
    time_machine.move_to(utc(2025, 2, 12, 9), tick=False)

    send(seat)

    catch_up, sent = operations_since(before)
    assert (catch_up.kind, catch_up.actor, catch_up.via) == ("catch_up", None, "system")
    assert catch_up.at == utc(2025, 2, 10)
    allocations = catch_up.entries.filter(kind__in=MOVE_KINDS)
    assert sorted(allocations.values_list("amount", flat=True)) == [-10, 10]
    assert set(catch_up.entries.values_list("kind", "cause")) == {
        (EntryKind.GRANT, "refresh"),
        (EntryKind.ALLOCATION, "refresh"),
    }
    assert sent.kind == "inmail.send"


# --- catch-up ---------------------------------------------------------------------------------


def test_a_send_that_first_applies_a_due_refresh_writes_a_catch_up_then_its_own_operation(
    lite: Seat, admin: User, by_admin: Cause, time_machine: TimeMachineFixture
) -> None:
    before = last_operation_id()
    time_machine.move_to(utc(2025, 2, 15, 10), tick=False)

    send(lite, cause=by_admin)

    catch_up, sent = operations_since(before)
    assert (catch_up.kind, catch_up.actor, catch_up.via) == ("catch_up", None, "system")
    assert catch_up.at == utc(2025, 2, 15)
    assert [
        (kind, amount, cause)
        for kind, amount, cause in catch_up.entries.values_list("kind", "amount", "cause")
    ] == [(EntryKind.GRANT, 30, "refresh")]
    assert (sent.kind, sent.actor, sent.at) == ("inmail.send", admin, utc(2025, 2, 15, 10))
    assert entry_kinds(sent) == [(EntryKind.SPEND, -1)]


def test_each_due_instant_caught_up_late_is_its_own_operation(
    lite: Seat, time_machine: TimeMachineFixture
) -> None:
    """Three refreshes and the first grant's expiry, applied by one send months late, read as
    they would have had the job run on time."""
    before = last_operation_id()
    time_machine.move_to(utc(2025, 4, 20, 10), tick=False)

    send(lite)

    operations = operations_since(before)
    assert [(op.kind, op.at) for op in operations] == [
        ("catch_up", utc(2025, 2, 15)),
        ("catch_up", utc(2025, 3, 15)),
        ("catch_up", utc(2025, 4, 15)),
        ("inmail.send", utc(2025, 4, 20, 10)),
    ]
    assert all(
        entry.at == operation.at for operation in operations for entry in operation.entries.all()
    )


def test_a_refused_call_leaves_no_operation_not_even_its_catch_up(
    team: Team, pooled: Seat, by_admin: Cause, time_machine: TimeMachineFixture
) -> None:
    before = last_operation_id()
    time_machine.move_to(utc(2025, 2, 12, 9), tick=False)

    with pytest.raises(PoolInsufficient):
        pool_transfer(team=team, seat=pooled, credits=10_000, cause=by_admin)
    with pytest.raises(InsufficientCredits):
        adjustment_post(seat=pooled, credits=-1, reason="Nothing to take", cause=by_admin)

    assert operations_since(before) == []


def test_a_send_costs_one_insert_of_its_operation_and_nothing_more(lite: Seat) -> None:
    send(lite, "linkedin.com/in/first")

    with CaptureQueriesContext(connection) as queries:
        send(lite, "linkedin.com/in/second")

    statements = [query["sql"] for query in queries.captured_queries]
    assert sum('INSERT INTO "ledger_operation"' in sql for sql in statements) == 1
    # 16 before operations (two of them the test's savepoint), 17 with them; 6 since issue 15
    # (the test's savepoint, the group's lock, one read, the lot's take with the InMail, the
    # operation and the entry in one statement, the account): the operation adds no statement.
    # SQLite has no data-modifying CTEs, so the InMail, the take, the operation and the entry
    # are four.
    assert len(statements) == (6 if connection.vendor == "postgresql" else 9)


# --- ledger_check -----------------------------------------------------------------------------


def test_ledger_check_passes_with_operations(
    team: Team, pooled: Seat, by_admin: Cause, time_machine: TimeMachineFixture
) -> None:
    pool_transfer(team=team, seat=pooled, credits=5, cause=by_admin)
    time_machine.move_to(utc(2025, 4, 20, 10), tick=False)
    send(pooled)

    assert ledger_discrepancies() == []


def test_ledger_check_names_a_move_operation_whose_legs_do_not_sum_to_zero(
    team: Team, pooled: Seat, by_admin: Cause
) -> None:
    pool_transfer(team=team, seat=pooled, credits=5, cause=by_admin)
    leg = Entry.objects.filter(kind=EntryKind.TRANSFER, amount=5).get()
    # A third leg, appended past the services (appending is all the trigger allows).
    Entry.objects.create(
        account=leg.account,
        at=leg.at,
        kind=EntryKind.TRANSFER,
        amount=1,
        balance_after=leg.balance_after + 1,
        lot=leg.lot,
        cause="shell",
        operation=leg.operation,
    )
    err = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("ledger_check", stdout=StringIO(), stderr=err)

    assert failed.value.returncode == 1
    assert f"operation #{leg.operation_id} move legs: the entries say 0, the cache says 1" in (
        err.getvalue()
    )


def test_ledger_check_names_an_entry_that_belongs_to_no_operation(lite: Seat) -> None:
    entry = Entry.objects.get(account=account_of(lite))
    missing = last_operation_id() + 1000
    # The foreign key is checked at commit; the savepoint is rolled back before then.
    with transaction.atomic():
        orphan = Entry.objects.create(
            account=entry.account,
            at=entry.at,
            kind=EntryKind.BONUS,
            amount=1,
            balance_after=entry.balance_after + 1,
            lot=entry.lot,
            cause="shell",
            operation_id=missing,
        )
        found = [str(d) for d in ledger_discrepancies()]
        transaction.set_rollback(True)

    assert f"entry #{orphan.pk} belongs to no operation: the entries say 0, the cache says 1" in (
        found
    )
