"""The tick's batched catch-up writes exactly the ledger the per-group catch-up writes (R17).

`ledger_bring_all_up_to_date_batched` (what `ledger_tick` runs on PostgreSQL) works many
groups in one transaction from state read in bulk; `ledger_bring_all_up_to_date` brings one
group up to date at a time through `catch_up._bring_up_to_date`. Each test builds a history,
runs the per-group catch-up inside a savepoint, records what it wrote, rolls it back, runs the
batched one and compares, entry by entry: kinds, amounts, instants, balances after, lots (new
lots by their place among the account's new lots), refreshes with what the cap kept back,
operations, and the accounts' cached state.

The batch path needs row locks and COPY: these tests run on PostgreSQL (CI's database).
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.exceptions import LedgerError
from ledger.models import Account, Entry, Lot, Operation, Refresh
from ledger.selectors import ledger_discrepancies
from ledger.services import (
    Cause,
    accounts_bring_up_to_date,
    adjustment_post,
    batch_catch_up,
    bonus_grant,
    inmail_send,
    ledger_bring_all_up_to_date,
    ledger_bring_all_up_to_date_batched,
    ledger_tick,
    pool_transfer,
    purchase_record,
    seat_cancel,
    seat_update_settings,
)
from teams.models import Plan, Seat, Team
from tests.factories import TeamFactory, make_seat
from tests.ledger.ledger_machine import NON_POOLED_PLANS, POOLED_PLAN

pytestmark = pytest.mark.postgres

CAUSE = Cause.system("test")
# Anchor days 31, 30, 29 and 1 among them; the history starts on the last activation.
ACTIVATION_DAYS = (
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 1, 15),
    date(2025, 1, 29),
    date(2025, 1, 30),
    date(2025, 1, 31),
)
START = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# What a catch-up wrote, comparable across two runs (ids differ; their order doesn't)
# --------------------------------------------------------------------------------------------


class _Marks:
    def __init__(self) -> None:
        self.entry = _last(Entry)
        self.lot = _last(Lot)
        self.refresh = _last(Refresh)
        self.operation = _last(Operation)


def _last(model: Any) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _written(marks: _Marks) -> dict[str, Any]:
    """What was written since `marks`, with new rows named by account and rank, not by id."""
    new_lots = list(Lot.objects.filter(pk__gt=marks.lot).order_by("pk"))
    lot_names: dict[int, tuple[Any, ...]] = {}
    per_account: dict[int, int] = defaultdict(int)
    for lot in new_lots:
        lot_names[lot.pk] = ("new", lot.account_id, per_account[lot.account_id])
        per_account[lot.account_id] += 1

    def lot_name(pk: int | None) -> Any:
        return lot_names.get(pk, pk) if pk is not None else None

    refreshes = list(Refresh.objects.filter(pk__gt=marks.refresh).order_by("pk"))
    refresh_names = {r.pk: (r.account_id, r.kind, r.period_on) for r in refreshes}
    entries = list(Entry.objects.filter(pk__gt=marks.entry).order_by("account_id", "pk"))
    operation_accounts: dict[int, set[int]] = defaultdict(set)
    for entry in entries:
        operation_accounts[entry.operation_id].add(entry.account_id)
    operations = {
        op.pk: (
            op.at,
            op.kind,
            op.actor_id,
            op.via,
            op.memo,
            tuple(sorted(operation_accounts[op.pk])),
        )
        for op in Operation.objects.filter(pk__gt=marks.operation)
    }
    return {
        "entries": [
            (
                e.account_id,
                e.at,
                e.kind,
                e.amount,
                e.balance_after,
                lot_name(e.lot_id),
                refresh_names.get(e.refresh_id, e.refresh_id) if e.refresh_id else None,
                e.inmail_id,
                e.actor_id,
                e.cause,
                e.memo,
                operations.get(e.operation_id, e.operation_id),
            )
            for e in entries
        ],
        "operations": sorted(operations.values()),
        "new lots": sorted(
            (
                lot_names[lot.pk],
                lot.source,
                lot.granted_at,
                lot.expires_at,
                lot.initial,
                lot.remaining,
                lot_name(lot.moved_from_id),
                lot.refund_of_id,
            )
            for lot in new_lots
        ),
        "old lots": list(
            Lot.objects.filter(pk__lte=marks.lot).order_by("pk").values_list("pk", "remaining")
        ),
        "refreshes": sorted(
            (
                r.account_id,
                r.kind,
                r.period_on,
                r.due_at,
                r.seat_id,
                r.monthly,
                r.cap,
                r.capped_before,
                r.granted,
                r.lost_to_cap,
            )
            for r in refreshes
        ),
        "accounts": list(
            Account.objects.order_by("pk").values_list(
                "pk", "balance", "synced_until", "next_due_at", "is_open"
            )
        ),
    }


class _Rollback(Exception):
    pass


def _per_group_then_batched(
    until: datetime, batch_size: int
) -> tuple[dict[str, Any], dict[str, Any], int, int]:
    """Both catch-ups from the same state: what each wrote and the groups each reported."""
    marks = _Marks()
    with contextlib.suppress(_Rollback), transaction.atomic():
        per_group_groups = ledger_bring_all_up_to_date(until=until)
        per_group = _written(marks)
        raise _Rollback
    marks = _Marks()
    batched_groups = ledger_bring_all_up_to_date_batched(until=until, batch_size=batch_size)
    batched = _written(marks)
    return per_group, batched, per_group_groups, batched_groups


def _assert_same(per_group: dict[str, Any], batched: dict[str, Any]) -> None:
    for part in per_group:
        assert batched[part] == per_group[part], part


# --------------------------------------------------------------------------------------------
# Random histories
# --------------------------------------------------------------------------------------------

ACTIONS = ("send", "bonus", "purchase", "adjust", "transfer", "allocation", "cancel", "catch_up")


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    return {
        # Plan terms: a cap of one to three months, lifetimes short, long or endless, so the
        # cap trims and lots expire at refresh instants.
        "caps": draw(st.lists(st.sampled_from([1, 2, 3]), min_size=4, max_size=4)),
        "lifetimes": draw(
            st.lists(st.sampled_from([28, 59, 90, 120, None]), min_size=4, max_size=4)
        ),
        "solo": draw(
            st.lists(
                st.tuples(st.sampled_from(NON_POOLED_PLANS), st.sampled_from(ACTIVATION_DAYS)),
                max_size=4,
            )
        ),
        "pooled": draw(
            st.lists(
                st.tuples(
                    st.sampled_from(ACTIVATION_DAYS), st.sampled_from([None, 0, 10, 80, 150])
                ),
                max_size=4,
            )
        ),
        "events": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 150),
                    st.sampled_from(ACTIONS),
                    st.integers(0, 7),
                    st.integers(1, 200),
                ),
                max_size=20,
            )
        ),
        "late_days": draw(st.integers(0, 200)),
        "batch_size": draw(st.sampled_from([1, 2, 3, 500])),
    }


def _set_plan_terms(caps: list[int], lifetimes: list[int | None]) -> None:
    for code, cap, lifetime in zip((*NON_POOLED_PLANS, POOLED_PLAN), caps, lifetimes, strict=False):
        plan = Plan.objects.get(code=code)
        plan.max_balance = plan.monthly_credits * cap
        plan.credit_lifetime_days = lifetime
        plan.save(update_fields=["max_balance", "credit_lifetime_days"])


def _build(history: dict[str, Any], traveller: Any) -> tuple[list[Seat], Team]:
    _set_plan_terms(history["caps"], history["lifetimes"])
    solo_team = TeamFactory.create(name="Solo")
    pool_team = TeamFactory.create(name="Corporate")
    seats = [
        make_seat(plan_code=code, team=solo_team, activated_on=day) for code, day in history["solo"]
    ]
    for day, allocation in sorted(history["pooled"], key=lambda pooled: pooled[0]):
        # A pool refuses a seat older than its last refresh, or an allocation above its grant.
        with contextlib.suppress(LedgerError):
            seats.append(
                make_seat(
                    plan_code=POOLED_PLAN,
                    team=pool_team,
                    activated_on=day,
                    monthly_allocation=allocation,
                )
            )
    for number, (day, action, target, credits) in enumerate(sorted(history["events"])):
        traveller.move_to(START + timedelta(days=day, hours=number % 5))
        if not seats:
            break
        seat = Seat.objects.get(pk=seats[target % len(seats)].pk)
        with contextlib.suppress(LedgerError):
            _act(action, seat, pool_team, credits, number)
    return seats, pool_team


def _act(action: str, seat: Seat, pool_team: Team, credits: int, number: int) -> None:
    if action == "send":
        inmail_send(
            seat=seat,
            recipient=f"linkedin.com/in/member-{number}",
            subject="A role you may like",
            body="Would this be worth a conversation?",
            cause=CAUSE,
        )
    elif action == "bonus":
        bonus_grant(seat=seat, credits=credits, memo="Bonus", cause=CAUSE)
    elif action == "purchase":
        purchase_record(seat=seat, credits=credits % 20 + 1, cause=CAUSE)
    elif action == "adjust":
        adjustment_post(seat=seat, credits=-(credits % 30 + 1), reason="Correction", cause=CAUSE)
    elif action == "transfer":
        pool_transfer(team=pool_team, seat=seat, credits=credits % 50 + 1, cause=CAUSE)
    elif action == "allocation":
        seat_update_settings(seat=seat, cause=CAUSE, monthly_allocation=credits)
    elif action == "cancel":
        seat_cancel(seat=seat, cause=CAUSE)
    else:
        accounts_bring_up_to_date([Account.objects.get(seat=seat)])


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=histories())
def test_the_batched_catch_up_writes_what_the_per_group_catch_up_writes(
    history: dict[str, Any],
) -> None:
    with transaction.atomic(), time_machine.travel(START, tick=False) as traveller:
        _build(history, traveller)
        until = START + timedelta(days=150 + history["late_days"])
        traveller.move_to(until)
        per_group, batched, per_group_groups, batched_groups = _per_group_then_batched(
            until, history["batch_size"]
        )
        _assert_same(per_group, batched)
        assert batched_groups == per_group_groups
        assert ledger_discrepancies() == []
        transaction.set_rollback(True)


# --------------------------------------------------------------------------------------------
# The edge cases, each on its own
# --------------------------------------------------------------------------------------------


def _compare_at(until: datetime, batch_size: int = 500) -> dict[str, Any]:
    per_group, batched, _, _ = _per_group_then_batched(until, batch_size)
    _assert_same(per_group, batched)
    assert ledger_discrepancies() == []
    return batched


@pytest.mark.django_db
def test_anchor_day_31_and_a_lot_expiring_at_the_refresh_instant() -> None:
    with time_machine.travel(datetime(2024, 1, 31, 12, tzinfo=UTC), tick=False) as traveller:
        make_seat(plan_code="recruiter_lite", activated_on=date(2024, 1, 31))
        traveller.move_to(datetime(2024, 5, 2, 8, tzinfo=UTC))
        batched = _compare_at(datetime(2024, 5, 2, 8, tzinfo=UTC))

    rows = [(e[1], e[2], e[3], e[4]) for e in batched["entries"]]
    assert rows == [
        (datetime(2024, 2, 29, tzinfo=UTC), "grant", 30, 60),
        (datetime(2024, 3, 31, tzinfo=UTC), "grant", 30, 90),
        # Jan 31 + 90 days = Apr 30, the April refresh's instant: the expiry comes first.
        (datetime(2024, 4, 30, tzinfo=UTC), "expiry", -30, 60),
        (datetime(2024, 4, 30, tzinfo=UTC), "grant", 30, 90),
    ]


@pytest.mark.django_db
def test_the_cap_boundary_and_lost_to_cap() -> None:
    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=UTC), tick=False) as traveller:
        Plan.objects.filter(code="premium_career").update(credit_lifetime_days=None)
        at_cap = make_seat(plan_code="premium_career", activated_on=date(2025, 1, 10))
        over_cap = make_seat(plan_code="premium_career", activated_on=date(2025, 1, 10))
        # Bonuses live 30 days: given five days before the refresh, they count at it.
        traveller.move_to(datetime(2025, 2, 5, 9, tzinfo=UTC))
        bonus_grant(seat=at_cap, credits=5, memo="To the cap", cause=CAUSE)  # 5 + 5 = 10, then 5
        bonus_grant(seat=over_cap, credits=20, memo="Over the cap", cause=CAUSE)
        traveller.move_to(datetime(2025, 2, 10, 12, tzinfo=UTC))
        batched = _compare_at(datetime(2025, 2, 10, 12, tzinfo=UTC))

    kinds = {e[2] for e in batched["entries"]}
    assert "lost_to_cap" in kinds
    assert sum(r[-1] for r in batched["refreshes"]) > 0


@pytest.mark.django_db
def test_a_pool_with_allocations_and_a_seat_cancelled_half_way() -> None:
    with time_machine.travel(datetime(2025, 1, 5, 9, tzinfo=UTC), tick=False) as traveller:
        team = TeamFactory.create(name="Pool")
        seats = [
            make_seat(
                plan_code=POOLED_PLAN,
                team=team,
                activated_on=date(2025, 1, day),
                monthly_allocation=allocation,
            )
            for day, allocation in ((3, 40), (5, None), (5, 300))
        ]
        traveller.move_to(datetime(2025, 3, 20, 9, tzinfo=UTC))
        seat_cancel(seat=seats[1], cause=CAUSE)
        traveller.move_to(datetime(2025, 7, 1, 9, tzinfo=UTC))
        batched = _compare_at(datetime(2025, 7, 1, 9, tzinfo=UTC))

    assert {"allocation", "grant", "expiry"} <= {e[2] for e in batched["entries"]}


@pytest.mark.django_db
def test_the_tick_on_postgresql_takes_the_batched_path() -> None:
    with time_machine.travel(datetime(2025, 1, 5, 9, tzinfo=UTC), tick=False) as traveller:
        make_seat(plan_code="recruiter_lite", activated_on=date(2025, 1, 5))
        traveller.move_to(datetime(2025, 3, 5, 9, tzinfo=UTC))
        calls: list[int] = []
        real = batch_catch_up._write

        def counted(simulation: Any, now: datetime) -> None:
            calls.append(len(simulation.entries))
            real(simulation, now)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(batch_catch_up, "_write", counted)
            report = ledger_tick()
    assert report.groups == 1
    assert calls
    assert calls[0] > 0


# --------------------------------------------------------------------------------------------
# With sends at the same time (real transactions)
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_batched_tick_and_sends_at_once_keep_the_ledger_exact() -> None:
    """Sends on the same seats while the tick runs in small batches: each seat's month is
    applied once (by the tick or by the send that got there first), nothing waits forever, and
    the ledger reads as a tick alone would have written it."""
    begin = datetime(2025, 1, 10, 9, tzinfo=UTC)
    with time_machine.travel(begin, tick=False) as traveller:
        team = TeamFactory.create(name="Pool")
        solo_team = TeamFactory.create(name="Solo")
        seats = [
            make_seat(plan_code="recruiter_lite", team=solo_team, activated_on=date(2025, 1, 10))
            for _ in range(12)
        ]
        seats += [
            make_seat(
                plan_code=POOLED_PLAN,
                team=team,
                activated_on=date(2025, 1, 10),
                monthly_allocation=20,
            )
            for _ in range(4)
        ]
        traveller.move_to(begin + timedelta(days=100))
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def ticker() -> None:
            try:
                barrier.wait()
                ledger_bring_all_up_to_date_batched(batch_size=2)
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        def sender(offset: int) -> None:
            try:
                barrier.wait()
                for index in range(offset, len(seats), 2):
                    with contextlib.suppress(LedgerError):
                        inmail_send(
                            seat=Seat.objects.get(pk=seats[index].pk),
                            recipient=f"linkedin.com/in/member-{index}",
                            subject="A role you may like",
                            body="Would this be worth a conversation?",
                            cause=CAUSE,
                        )
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        with ThreadPoolExecutor(3) as pool:
            for future in [pool.submit(ticker), pool.submit(sender, 0), pool.submit(sender, 1)]:
                future.result()
        assert errors == []
        assert ledger_discrepancies() == []
        assert not Account.objects.filter(
            is_open=True, next_due_at__lte=begin + timedelta(days=100)
        ).exists()
        # Every refresh date was applied exactly once, whoever applied it.
        periods = list(
            Refresh.objects.filter(kind="refresh").values_list("account_id", "period_on")
        )
        assert len(periods) == len(set(periods))
        solo_accounts = Account.objects.filter(seat__in=seats[:12])
        for account in solo_accounts:
            assert sorted(
                account.refreshes.filter(kind="refresh").values_list("period_on", flat=True)
            ) == [date(2025, 2, 10), date(2025, 3, 10), date(2025, 4, 10)]
