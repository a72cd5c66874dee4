"""Purchases, bonus credits, cancellation, plan changes and adjustments (R11–R13, R15)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import (
    InsufficientCredits,
    LedgerValidationError,
    NotPurchasable,
    PurchaseLimitReached,
    SeatInactive,
)
from ledger.models import Account, Entry, EntryKind, Lot, LotSource, Purchase, Refresh, RefreshKind
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    purchase_record,
    seat_cancel,
    seat_change_plan,
)
from teams.models import Seat, SeatStatus
from tests.factories import plan
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


@pytest.fixture
def seat(time_machine: TimeMachineFixture) -> Seat:
    """A Recruiter Lite seat activated on 15 January 2025 (30 credits); now 20 January."""
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    time_machine.move_to(utc(2025, 1, 20, 11))
    return seat


# --- R11 purchases ------------------------------------------------------------------------------


def test_a_purchase_is_recorded_at_the_plans_price(seat: Seat) -> None:
    admin = person("admin")

    purchase = purchase_record(seat=seat, credits=5, cause=Cause(actor=admin, via="admin"))

    assert (purchase.credits, purchase.unit_price, purchase.total) == (
        5,
        Decimal("10.00"),
        Decimal("50.00"),
    )
    assert (purchase.at, purchase.actor) == (utc(2025, 1, 20, 11), admin)
    assert own_balance(seat) == 35
    entry = Entry.objects.get(lot=purchase.lot)
    assert (entry.kind, entry.amount, entry.balance_after, entry.actor) == (
        EntryKind.PURCHASE,
        5,
        35,
        admin,
    )


def test_a_purchase_uses_the_price_an_admin_set(seat: Seat) -> None:
    set_plan("recruiter_lite", purchase_price=Decimal("12.50"))

    purchase = purchase_record(seat=seat, credits=3, cause=SYSTEM)

    assert (purchase.unit_price, purchase.total) == (Decimal("12.50"), Decimal("37.50"))


def test_purchased_credits_never_expire(seat: Seat, time_machine: TimeMachineFixture) -> None:
    purchase = purchase_record(seat=seat, credits=5, cause=SYSTEM)
    assert (purchase.lot.source, purchase.lot.expires_at) == (LotSource.PURCHASE, None)

    time_machine.move_to(utc(2026, 6, 1))
    own_balance(seat)

    purchase.lot.refresh_from_db()
    assert purchase.lot.remaining == 5
    assert not Entry.objects.filter(lot=purchase.lot, kind=EntryKind.EXPIRY).exists()


@pytest.mark.parametrize("plan_code", ["sales_navigator_core", "sales_navigator_advanced"])
def test_sales_navigator_sells_no_extra_credits(
    time_machine: TimeMachineFixture, plan_code: str
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on(plan_code)
    before = footprint(seat)

    with pytest.raises(NotPurchasable) as refused:
        purchase_record(seat=seat, credits=5, cause=SYSTEM)

    assert refused.value.code == "not_purchasable"
    assert footprint(seat) == before
    assert not Purchase.objects.exists()


def test_purchases_stop_at_the_monthly_purchase_limit(seat: Seat) -> None:
    set_plan("recruiter_lite", monthly_purchase_limit=10)
    purchase_record(seat=seat, credits=6, cause=SYSTEM)
    purchase_record(seat=seat, credits=4, cause=SYSTEM)
    before = footprint(seat)

    with pytest.raises(PurchaseLimitReached) as refused:
        purchase_record(seat=seat, credits=1, cause=SYSTEM)

    assert refused.value.code == "purchase_limit_reached"
    assert footprint(seat) == before
    assert own_balance(seat) == 40


def test_a_purchase_that_would_pass_the_limit_is_refused_whole(seat: Seat) -> None:
    set_plan("recruiter_lite", monthly_purchase_limit=10)
    purchase_record(seat=seat, credits=6, cause=SYSTEM)

    with pytest.raises(PurchaseLimitReached):
        purchase_record(seat=seat, credits=5, cause=SYSTEM)
    assert own_balance(seat) == 36


def test_the_purchase_limit_starts_again_each_calendar_month(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    set_plan("recruiter_lite", monthly_purchase_limit=10)
    purchase_record(seat=seat, credits=10, cause=SYSTEM)

    time_machine.move_to(utc(2025, 1, 31, 23, 59, 59))
    with pytest.raises(PurchaseLimitReached):
        purchase_record(seat=seat, credits=1, cause=SYSTEM)
    time_machine.move_to(utc(2025, 2, 1))
    assert purchase_record(seat=seat, credits=10, cause=SYSTEM).credits == 10


@pytest.mark.parametrize("credits", [0, -3])
def test_a_purchase_needs_at_least_one_credit(seat: Seat, credits: int) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        purchase_record(seat=seat, credits=credits, cause=SYSTEM)

    assert refused.value.field == "credits"


def test_a_cancelled_seat_cannot_buy_credits(seat: Seat) -> None:
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        purchase_record(seat=seat, credits=5, cause=SYSTEM)
    assert not Purchase.objects.exists()


# --- R12 bonus ----------------------------------------------------------------------------------


def test_bonus_credits_expire_exactly_30_days_later(seat: Seat) -> None:
    entry = bonus_grant(seat=seat, credits=4, memo="Hiring sprint", cause=SYSTEM)

    assert (entry.kind, entry.amount, entry.balance_after, entry.memo) == (
        EntryKind.BONUS,
        4,
        34,
        "Hiring sprint",
    )
    assert (entry.lot.source, entry.lot.granted_at, entry.lot.expires_at) == (
        LotSource.BONUS,
        utc(2025, 1, 20, 11),
        utc(2025, 2, 19, 11),
    )


def test_bonus_credits_count_until_their_30th_day_and_not_after(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    bonus_grant(seat=seat, credits=4, memo="Hiring sprint", cause=SYSTEM)

    # The 15 February refresh has added 30 by then.
    time_machine.move_to(utc(2025, 2, 19, 10, 59, 59))
    assert own_balance(seat) == 64
    time_machine.move_to(utc(2025, 2, 19, 11))
    assert own_balance(seat) == 60


def test_a_bonus_needs_at_least_one_credit(seat: Seat) -> None:
    with pytest.raises(LedgerValidationError):
        bonus_grant(seat=seat, credits=0, memo="Nothing", cause=SYSTEM)


def test_a_cancelled_seat_gets_no_bonus(seat: Seat) -> None:
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        bonus_grant(seat=seat, credits=4, memo="Too late", cause=SYSTEM)


# --- R13 cancel and change plan ----------------------------------------------------------------


def test_cancelling_a_seat_forfeits_its_whole_balance(seat: Seat) -> None:
    purchase_record(seat=seat, credits=5, cause=SYSTEM)
    bonus_grant(seat=seat, credits=2, memo="Welcome", cause=SYSTEM)
    send(seat)
    assert own_balance(seat) == 36

    cancelled = seat_cancel(seat=seat, cause=SYSTEM)

    assert (cancelled.status, cancelled.cancelled_at) == (
        SeatStatus.CANCELLED,
        utc(2025, 1, 20, 11),
    )
    forfeits = Entry.objects.filter(account=account_of(seat), kind=EntryKind.FORFEIT)
    assert sum(forfeits.values_list("amount", flat=True)) == -36
    assert set(forfeits.values_list("at", flat=True)) == {utc(2025, 1, 20, 11)}
    assert account_of(seat).balance == 0
    assert not Lot.objects.filter(account=account_of(seat), remaining__gt=0).exists()


def test_a_cancelled_seat_receives_no_more_refreshes(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    seat_cancel(seat=seat, cause=SYSTEM)

    time_machine.move_to(utc(2025, 4, 1))
    own_balance(seat)

    assert account_of(seat).balance == 0
    assert not Refresh.objects.filter(account=account_of(seat), kind=RefreshKind.REFRESH).exists()


def test_a_seat_cannot_be_cancelled_twice(seat: Seat) -> None:
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        seat_cancel(seat=seat, cause=SYSTEM)
    assert Entry.objects.filter(kind=EntryKind.FORFEIT).count() == 1


def test_cancelling_a_seat_with_no_credits_writes_no_forfeit(seat: Seat) -> None:
    adjustment_post(seat=seat, credits=-30, reason="LinkedIn shows 0", cause=SYSTEM)

    seat_cancel(seat=seat, cause=SYSTEM)

    assert not Entry.objects.filter(kind=EntryKind.FORFEIT).exists()


def test_a_plan_change_forfeits_the_old_seat_and_activates_a_new_one(seat: Seat) -> None:
    purchase_record(seat=seat, credits=5, cause=SYSTEM)

    new = seat_change_plan(seat=seat, plan=plan("recruiter_professional"), cause=SYSTEM)

    seat.refresh_from_db()
    assert seat.status == SeatStatus.CANCELLED
    assert seat.replaced_by == new
    assert account_of(seat).balance == 0
    forfeited = Entry.objects.filter(account=account_of(seat), kind=EntryKind.FORFEIT)
    assert sum(forfeited.values_list("amount", flat=True)) == -35
    assert (new.status, new.plan.code, new.activated_on, new.anchor_day) == (
        SeatStatus.ACTIVE,
        "recruiter_professional",
        date(2025, 1, 20),
        20,
    )
    assert (new.holder_id, new.team_id) == (seat.holder_id, seat.team_id)


def test_a_new_seat_after_a_plan_change_holds_only_its_own_activation_grant(seat: Seat) -> None:
    new = seat_change_plan(seat=seat, plan=plan("recruiter_professional"), cause=SYSTEM)

    assert own_balance(new) == 100
    grant = Refresh.objects.get(account=account_of(new))
    assert (grant.kind, grant.period_on, grant.granted) == (
        RefreshKind.ACTIVATION,
        date(2025, 1, 20),
        100,
    )
    assert Entry.objects.get(account=account_of(new)).at == utc(2025, 1, 20)


def test_a_new_seat_refreshes_on_the_day_of_the_plan_change(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    new = seat_change_plan(seat=seat, plan=plan("premium_business"), cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 15))
    assert own_balance(new) == 15
    time_machine.move_to(utc(2025, 2, 20))
    assert own_balance(new) == 30


def test_a_plan_change_to_the_same_plan_is_refused(seat: Seat) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        seat_change_plan(seat=seat, plan=plan("recruiter_lite"), cause=SYSTEM)

    assert refused.value.field == "plan"
    seat.refresh_from_db()
    assert seat.status == SeatStatus.ACTIVE
    assert own_balance(seat) == 30


def test_a_cancelled_seat_cannot_change_plan(seat: Seat) -> None:
    seat_cancel(seat=seat, cause=SYSTEM)
    seats = Seat.objects.count()

    with pytest.raises(SeatInactive):
        seat_change_plan(seat=seat, plan=plan("recruiter_professional"), cause=SYSTEM)
    assert Seat.objects.count() == seats


def test_a_plan_change_into_a_pooled_plan_feeds_the_team_pool(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite", team=new_team())

    new = seat_change_plan(seat=seat, plan=plan("recruiter_corporate"), cause=SYSTEM)

    assert own_balance(new) == 0
    assert Account.objects.get(team=seat.team, kind="pool").balance == 150


# --- R15 adjustments ----------------------------------------------------------------------------


def test_a_positive_adjustment_adds_a_lot_and_records_who_and_why(seat: Seat) -> None:
    admin = person("admin")

    entries = adjustment_post(
        seat=seat, credits=5, reason="LinkedIn shows 35", cause=Cause(actor=admin, via="admin")
    )

    assert [(e.kind, e.amount, e.balance_after, e.actor, e.memo) for e in entries] == [
        (EntryKind.ADJUSTMENT, 5, 35, admin, "LinkedIn shows 35")
    ]
    assert (entries[0].lot.source, entries[0].lot.expires_at) == (
        LotSource.ADJUSTMENT,
        utc(2025, 4, 20, 11),
    )
    assert own_balance(seat) == 35


def test_a_negative_adjustment_takes_credits_in_spend_order(seat: Seat) -> None:
    bonus_grant(seat=seat, credits=2, memo="Welcome", cause=SYSTEM)

    entries = adjustment_post(seat=seat, credits=-5, reason="LinkedIn shows 27", cause=SYSTEM)

    assert [(e.lot.source, e.amount) for e in entries] == [
        (LotSource.BONUS, -2),
        (LotSource.GRANT, -3),
    ]
    assert [e.balance_after for e in entries] == [30, 27]
    assert own_balance(seat) == 27


def test_a_negative_adjustment_may_take_the_last_credit(seat: Seat) -> None:
    adjustment_post(seat=seat, credits=-30, reason="LinkedIn shows 0", cause=SYSTEM)

    assert own_balance(seat) == 0


def test_a_negative_adjustment_beyond_the_balance_is_refused(seat: Seat) -> None:
    before = footprint(seat)

    with pytest.raises(InsufficientCredits) as refused:
        adjustment_post(seat=seat, credits=-31, reason="LinkedIn shows -1", cause=SYSTEM)

    assert refused.value.code == "insufficient_credits"
    assert footprint(seat) == before


def test_an_adjustment_of_zero_credits_is_refused(seat: Seat) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        adjustment_post(seat=seat, credits=0, reason="Nothing", cause=SYSTEM)

    assert refused.value.field == "credits"


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_adjustment_without_a_reason_is_refused(seat: Seat, reason: str) -> None:
    before = footprint(seat)

    with pytest.raises(LedgerValidationError) as refused:
        adjustment_post(seat=seat, credits=3, reason=reason, cause=SYSTEM)

    assert refused.value.field == "reason"
    assert footprint(seat) == before


def test_a_cancelled_seat_cannot_be_adjusted(seat: Seat) -> None:
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        adjustment_post(seat=seat, credits=3, reason="LinkedIn shows 3", cause=SYSTEM)


def test_scheduled_entries_record_the_job_that_caused_them(
    seat: Seat, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 4, 20))
    own_balance(seat)

    # The actor column is nullable, which the stubs' row type does not say.
    causes: set[tuple[str, int | None, str]] = set(
        Entry.objects.filter(account=account_of(seat))
        .exclude(refresh__kind=RefreshKind.ACTIVATION)
        .values_list("kind", "actor", "cause")
    )
    assert causes == {(EntryKind.GRANT, None, "refresh"), (EntryKind.EXPIRY, None, "expiry")}
