"""Random sequences of ledger operations over simulated months never break the ledger's invariants.

A hypothesis state machine builds a small organisation (a Recruiter Lite, a Premium Career and a
Sales Navigator Core seat, and a team pool of two or three Recruiter Corporate seats with
allocations), then moves the clock forward by hours or weeks while sending, answering and
withdrawing InMails, buying, granting, adjusting and moving credits, changing allocations,
cancelling and re-planning seats, and running the jobs late or on time.

After every step it checks, independently of the engine's own arithmetic where it can:

* nothing is negative, and `ledger_discrepancies()` finds nothing (`ledger_check` at the end);
* every credit of every lot is accounted for: one entry brought the lot's credits in, and
  `initial == remaining + credits that left it`, where credits moved to another account left
  through a transfer or allocation entry and arrived as a child lot (`moved_from`) with the same
  source, grant and expiry (R1, R14);
* no credit leaves a lot at or after its expiry except by the expiry itself (R5);
* every refresh grants `min(monthly, max(0, cap − capped balance))` of the right monthly and cap,
  the capped balance it saw is the one the entries give, what the cap kept back is recorded, and
  pool allocations move the allocation in force when the refresh was due (R4, R14, R17);
* once the jobs have run, every scheduled refresh date (anchor-day arithmetic, R3) has exactly
  one refresh and no lot that has expired still holds credits (R5, R17);
* each paid send took the first spendable lot in spend order, own account before pool (R6),
  and each answer refunds exactly when R9 says so;
* a balance read "as of" an earlier instant equals the balance the run observed then (R1);
* every refusal is a `LedgerError` that leaves the ledger exactly as it was, for a reason that
  holds (the seat really is cancelled, the credits really are gone, the pending InMail to that
  recipient really is still inside its 90-day window).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule, run_state_machine_as_test

from ledger.exceptions import (
    AlreadyAnswered,
    DuplicatePending,
    InsufficientCredits,
    LedgerError,
    LedgerValidationError,
    NotPurchasable,
    PoolInsufficient,
    SeatInactive,
)
from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    EntryKind,
    InMail,
    InMailStatus,
    Lot,
    LotSource,
    PaidFrom,
    Refresh,
    RefreshKind,
)
from ledger.selectors import pool_balance, seat_balance
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    inmails_close_response_windows,
    ledger_bring_all_up_to_date,
    pool_transfer,
    purchase_record,
    seat_cancel,
    seat_change_plan,
    seat_update_settings,
)
from teams.models import Plan, Seat, SeatStatus
from tests.factories import make_seat
from tests.ledger.ledger_machine import (
    ANSWERED,
    BONUS_LIFETIME_DAYS,
    CHANGE_PLAN_TARGETS,
    POOLED_PLAN,
    RECIPIENT_SPELLINGS,
    RESPONSE_WINDOW_DAYS,
    RESPONSES,
    START,
    SUBJECTS,
    LedgerMachineBase,
    days_after,
    org_midnight,
    recipient_key,
    scheduled_refreshes,
    spend_order_key,
)

if TYPE_CHECKING:
    from tests.conftest import Org


class LedgerMachine(LedgerMachineBase):
    """The operations: time and jobs, InMails, credits in and out, seats and reads."""

    # ---------------------------------------------------------------- time and jobs

    @rule(
        step=st.one_of(
            st.integers(1, 23).map(lambda hours: timedelta(hours=hours)),
            st.integers(1, 40).map(lambda days: timedelta(days=days)),
        )
    )
    def time_passes(self, step: timedelta) -> None:
        self.now += step
        self._clock.move_to(self.now)

    @rule()
    def jobs_bring_everything_up_to_date(self) -> None:
        ledger_bring_all_up_to_date(until=self.now)
        self.jobs_ran_at = self.now
        assert not Lot.objects.filter(remaining__gt=0, expires_at__lte=self.now).exists(), (
            "an expired lot still holds credits after the jobs ran (R5)"
        )
        assert not Account.objects.filter(is_open=True, next_due_at__lte=self.now).exists()
        self._check_every_refresh_date_applied_once()

    @rule()
    def jobs_close_response_windows(self) -> None:
        inmails_close_response_windows(until=self.now)
        assert not InMail.objects.filter(
            status=InMailStatus.PENDING,
            sent_at__lte=days_after(self.now, -RESPONSE_WINDOW_DAYS),
        ).exists()

    # ---------------------------------------------------------------- InMails

    @rule(
        index=st.integers(0, 20),
        person=st.integers(0, 2),
        spelling=st.integers(0, len(RECIPIENT_SPELLINGS) - 1),
        open_profile=st.booleans(),
        subject=SUBJECTS,
    )
    def send(
        self, index: int, person: int, spelling: int, open_profile: bool, subject: str
    ) -> None:
        seat = self._seat(index)
        key = recipient_key(person)
        sent, refusal = self._attempt(
            lambda: inmail_send(
                seat=seat,
                recipient=RECIPIENT_SPELLINGS[spelling].format(person),
                subject=subject,
                body="We are hiring; would you like to talk?",
                open_profile=open_profile,
                cause=self.cause,
            )
        )
        if refusal is not None:
            self._check_send_refusal(seat, key, subject, refusal)
            return
        inmail = sent.inmail
        assert 1 <= len(subject) <= 200
        assert inmail.recipient_key == key
        self.inmail_ids.append(inmail.pk)
        spends = list(Entry.objects.filter(inmail=inmail, kind=EntryKind.SPEND))
        if open_profile:
            assert spends == [], "an Open Profile InMail costs nothing (R7)"
            assert inmail.credit_cost == 0
            assert inmail.paid_from is None
            return
        assert len(spends) == 1
        (spend,) = spends
        assert spend.amount == -1
        assert spend.at == self.now
        assert inmail.credit_cost == 1
        assert inmail.paid_account_id == spend.account_id
        self._check_spend_order(seat, inmail, spend)

    def _check_send_refusal(self, seat: Seat, key: str, subject: str, refusal: LedgerError) -> None:
        if not subject.strip() or len(subject) > 200:
            assert isinstance(refusal, LedgerValidationError), refusal
        elif seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif isinstance(refusal, DuplicatePending):
            window_opened_after = days_after(self.now, -RESPONSE_WINDOW_DAYS)
            still_pending = InMail.objects.filter(
                seat=seat,
                recipient_key=key,
                status=InMailStatus.PENDING,
                sent_at__gt=window_opened_after,
            )
            assert still_pending.exists(), (
                "duplicate_pending refused a send although the earlier InMail to this recipient "
                "is past its 90-day window: on time, the closing job would have made it "
                "no_response and the send would have gone through (R10, R17)"
            )
        elif isinstance(refusal, InsufficientCredits):
            balance = seat_balance(seat)
            assert balance.available == 0, (
                f"insufficient_credits with {balance.own} own and {balance.pool_available} "
                "pool credits available"
            )
        else:
            raise AssertionError(f"unexpected refusal of a send: {refusal!r}")

    def _check_spend_order(self, seat: Seat, inmail: InMail, spend: Entry) -> None:
        """The charged lot was the first spendable one at that instant: own lots, then pool."""
        charged = spend.lot
        own = self._seat_account(seat)
        accounts = [own]
        if seat.pool_access:
            accounts.append(self._pool())
        candidates: list[Lot] = []
        for account in accounts:
            lots = []
            for lot in Lot.objects.filter(account=account):
                # Before the spend the charged lot held one credit more.
                held = lot.remaining + (1 if lot.pk == charged.pk else 0)
                if held > 0 and (lot.expires_at is None or lot.expires_at > self.now):
                    lots.append(lot)
            candidates.extend(sorted(lots, key=spend_order_key))
        assert candidates, "a credit was spent where none was spendable"
        assert candidates[0].pk == charged.pk, (
            f"spent lot #{charged.pk} ({charged.source}, expires {charged.expires_at}) but "
            f"lot #{candidates[0].pk} ({candidates[0].source}, expires "
            f"{candidates[0].expires_at}) comes first in spend order (R6)"
        )
        expected_from = PaidFrom.SEAT if charged.account_id == own.pk else PaidFrom.POOL
        assert inmail.paid_from == expected_from

    @precondition(lambda self: self.inmail_ids)
    @rule(
        index=st.integers(0, 200),
        outcome=st.sampled_from(RESPONSES),
        days_after_sending=st.one_of(st.none(), st.integers(0, 120)),
    )
    def respond(self, index: int, outcome: str, days_after_sending: int | None) -> None:
        inmail = InMail.objects.get(pk=self.inmail_ids[index % len(self.inmail_ids)])
        responded_at = self.now
        if days_after_sending is not None:
            responded_at = min(self.now, days_after(inmail.sent_at, days_after_sending))
        payer_open = inmail.paid_account is not None and inmail.paid_account.is_open
        answered, refusal = self._attempt(
            lambda: inmail_record_response(
                inmail=inmail, outcome=outcome, responded_at=responded_at, cause=self.cause
            )
        )
        if inmail.status in ANSWERED:
            assert isinstance(refusal, AlreadyAnswered), refusal
            return
        assert refusal is None, f"{refusal!r} refused an answer to a {inmail.status} InMail"
        within_window = responded_at <= days_after(inmail.sent_at, RESPONSE_WINDOW_DAYS)
        refund_due = inmail.credit_cost == 1 and within_window and payer_open
        assert answered.status == outcome
        assert answered.refunded == refund_due, (
            f"refunded={answered.refunded}, but R9 says {refund_due} (paid={inmail.credit_cost}, "
            f"answered {responded_at - inmail.sent_at} after sending)"
        )
        refunds = list(Entry.objects.filter(inmail=inmail, kind=EntryKind.REFUND))
        assert len(refunds) == (1 if refund_due else 0)
        if refund_due:
            (refund,) = refunds
            assert refund.amount == 1
            assert refund.account_id == inmail.paid_account_id, "refund to the payer (R9, R14)"
            assert refund.lot.source == LotSource.REFUND
            lifetime = Seat.objects.get(pk=inmail.seat_id).plan.credit_lifetime_days
            assert lifetime is not None
            assert refund.lot.expires_at == days_after(responded_at, lifetime)

    @precondition(lambda self: self.inmail_ids)
    @rule(index=st.integers(0, 200))
    def withdraw(self, index: int) -> None:
        inmail = InMail.objects.get(pk=self.inmail_ids[index % len(self.inmail_ids)])
        withdrawn, refusal = self._attempt(lambda: inmail_withdraw(inmail=inmail, cause=self.cause))
        if inmail.status == InMailStatus.PENDING:
            assert refusal is None, refusal
            assert withdrawn.status == InMailStatus.WITHDRAWN
            assert not Entry.objects.filter(inmail=inmail, kind=EntryKind.REFUND).exists()
        else:
            assert isinstance(refusal, AlreadyAnswered), refusal

    # ---------------------------------------------------------------- credits in and out

    @rule(index=st.integers(0, 20), credits=st.integers(1, 15))
    def purchase(self, index: int, credits: int) -> None:
        seat = self._seat(index)
        bought, refusal = self._attempt(
            lambda: purchase_record(seat=seat, credits=credits, cause=self.cause)
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif not seat.plan.purchasable:
            assert isinstance(refusal, NotPurchasable), refusal
        else:
            assert refusal is None, refusal
            assert bought.lot.expires_at is None, "purchased credits never expire (R11)"
            assert bought.lot.initial == credits
            assert bought.total == seat.plan.purchase_price * Decimal(credits)

    @rule(index=st.integers(0, 20), credits=st.integers(1, 15))
    def bonus(self, index: int, credits: int) -> None:
        seat = self._seat(index)
        entry, refusal = self._attempt(
            lambda: bonus_grant(seat=seat, credits=credits, memo="Q1 push", cause=self.cause)
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
            return
        assert refusal is None, refusal
        assert entry.amount == credits
        assert entry.lot.expires_at == days_after(self.now, BONUS_LIFETIME_DAYS), "R12"

    @rule(
        index=st.integers(0, 20),
        credits=st.integers(-40, 40).filter(lambda credits: credits != 0),
    )
    def adjust(self, index: int, credits: int) -> None:
        seat = self._seat(index)
        entries, refusal = self._attempt(
            lambda: adjustment_post(
                seat=seat, credits=credits, reason="Match LinkedIn", cause=self.cause
            )
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif isinstance(refusal, InsufficientCredits):
            assert credits < 0
            assert seat_balance(seat).own < -credits
        else:
            assert refusal is None, refusal
            assert sum(entry.amount for entry in entries) == credits
            assert all(entry.actor_id == self.org.admin.pk for entry in entries), "R15"

    @rule(
        index=st.integers(0, 20),
        credits=st.integers(-60, 60).filter(lambda credits: credits != 0),
    )
    def move_between_pool_and_seat(self, index: int, credits: int) -> None:
        seat = self._pooled_seat(index)
        last_entry = Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        moved, refusal = self._attempt(
            lambda: pool_transfer(team=self.org.team, seat=seat, credits=credits, cause=self.cause)
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif isinstance(refusal, PoolInsufficient):
            assert credits > 0
            pool = pool_balance(self.org.team)
            assert pool is not None
            assert pool.available < credits
        elif isinstance(refusal, InsufficientCredits):
            assert credits < 0
            assert seat_balance(seat).own < -credits
        else:
            assert refusal is None, refusal
            assert moved.seat_own == self._seat_account(seat).balance
            assert moved.pool_available == self._pool().balance
            here = Entry.objects.filter(pk__gt=last_entry, kind=EntryKind.TRANSFER)
            assert sum(e.amount for e in here.filter(account__seat=seat)) == credits
            assert sum(e.amount for e in here.filter(account=self._pool())) == -credits

    @rule(index=st.integers(0, 20), allocation=st.one_of(st.none(), st.integers(0, 60)))
    def set_allocation(self, index: int, allocation: int | None) -> None:
        seat = self._pooled_seat(index)
        _, refusal = self._attempt(
            lambda: seat_update_settings(seat=seat, monthly_allocation=allocation, cause=self.cause)
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
            return
        assert refusal is None, refusal
        self.allocations[seat.pk].append((self.now, allocation))

    # ---------------------------------------------------------------- seats

    @precondition(lambda self: self.active_seats > 3)
    @rule(index=st.integers(0, 20))
    def cancel(self, index: int) -> None:
        seat = self._seat(index)
        cancelled, refusal = self._attempt(lambda: seat_cancel(seat=seat, cause=self.cause))
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
            return
        assert refusal is None, refusal
        self.active_seats -= 1
        self._check_forfeited(cancelled)

    def _check_forfeited(self, seat: Seat) -> None:
        account = self._seat_account(seat)
        assert account.balance == 0, "cancelling forfeits the whole balance (R13)"
        assert not account.is_open
        assert not Lot.objects.filter(account=account, remaining__gt=0).exists()

    @rule(index=st.integers(0, 20), plan_code=st.sampled_from(CHANGE_PLAN_TARGETS))
    def change_plan(self, index: int, plan_code: str) -> None:
        seat = self._seat(index)
        plan = Plan.objects.get(code=plan_code)
        new_seat, refusal = self._attempt(
            lambda: seat_change_plan(seat=seat, plan=plan, cause=self.cause)
        )
        if seat.plan_id == plan.pk:
            assert isinstance(refusal, LedgerValidationError), refusal
        elif seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        else:
            assert refusal is None, refusal
        if refusal is not None:
            return
        old = Seat.objects.get(pk=seat.pk)
        assert old.replaced_by_id == new_seat.pk
        self._check_forfeited(old)
        self.active_seats -= 1
        activation = Refresh.objects.get(kind=RefreshKind.ACTIVATION, seat=new_seat)
        assert activation.monthly == plan.monthly_credits
        self._track_new_seat(new_seat)
        if plan.pooled:
            # R2 dates a pooled seat's grant at 00:00 of today in the pool (or at the pool's
            # last entry if later): balances seen earlier today no longer hold as of then.
            granted_at = Entry.objects.get(refresh=activation).at if activation.granted else None
            pool = self._pool()
            for instant, balances in self.observed.items():
                if granted_at is not None and instant >= granted_at:
                    balances.pop(pool.pk, None)

    # ---------------------------------------------------------------- reads

    @rule(index=st.integers(0, 20))
    def read_balance(self, index: int) -> None:
        seat = self._seat(index)
        balance = seat_balance(seat)
        account = self._seat_account(seat)
        assert balance.own == account.balance
        assert all(lot.expires_at is None or lot.expires_at > self.now for lot in balance.lots), (
            "an expired lot is shown as holding credits (R5)"
        )
        assert balance.own == sum(lot.remaining for lot in balance.lots)
        assert [lot.id for lot in balance.lots] == [
            lot.pk
            for lot in sorted(
                Lot.objects.filter(account=account, remaining__gt=0), key=spend_order_key
            )
        ]
        may_draw = seat.pool_access and seat.status == SeatStatus.ACTIVE
        expected_pool = self._pool().balance if may_draw else 0
        assert balance.pool_available == expected_pool
        assert balance.available == balance.own + expected_pool

    @precondition(lambda self: any(instant < self.now for instant in self.observed))
    @rule(data=st.data())
    def read_balance_in_the_past(self, data: st.DataObject) -> None:
        instant = data.draw(
            st.sampled_from(sorted(t for t in self.observed if t < self.now)), label="as of"
        )
        self._check_observed_at(instant)
        seat = self._seat(data.draw(st.integers(0, 20), label="seat"))
        account = self._seat_account(seat)
        if account.pk in self.observed[instant]:
            as_of = seat_balance(seat, as_of=instant)
            assert as_of.own == self.observed[instant][account.pk]


@pytest.mark.django_db
def test_random_operations_over_months_keep_every_ledger_invariant(org: Org) -> None:
    class LedgerMachineOfThisOrganisation(LedgerMachine):
        def __init__(self) -> None:
            super().__init__(org)

    run_state_machine_as_test(
        LedgerMachineOfThisOrganisation,
        settings=settings(
            max_examples=15,
            stateful_step_count=40,
            deadline=None,
            # No shrinking: a step costs tens of milliseconds, so shrinking a 40-step run takes
            # minutes; every assertion says what broke, and the failing run is printed whole.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


# --------------------------------------------------------------------------------------------
# Counterexamples the state machine found, pinned so they don't depend on the random search.
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_late_closing_job_never_turns_a_send_into_duplicate_pending(org: Org) -> None:
    """R10 closes the first InMail 90 days after sending; R17: a late job never fails a send."""
    cause = Cause(actor=org.admin, via="test")
    with time_machine.travel(timezone.make_aware(START), tick=False) as clock:
        seat = make_seat(plan_code="recruiter_lite", holder=org.recruiter, team=org.team)

        def send_to_jane() -> InMail:
            return inmail_send(
                seat=seat,
                recipient="linkedin.com/in/jane-doe",
                subject="Head of Data",
                body="Shall we talk?",
                cause=cause,
            ).inmail

        send_to_jane()
        clock.shift(timedelta(days=RESPONSE_WINDOW_DAYS, hours=1))

        second = send_to_jane()

        assert second.credit_cost == 1
        assert InMail.objects.filter(seat=seat, status=InMailStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_a_late_pool_refresh_pays_the_allocation_in_force_when_it_was_due(org: Org) -> None:
    """R14 moves the allocation at each refresh; R17: a late run leaves the on-time ledger."""
    cause = Cause(actor=org.admin, via="test")
    with time_machine.travel(timezone.make_aware(START), tick=False) as clock:
        seat = make_seat(
            plan_code=POOLED_PLAN, holder=org.recruiter, team=org.team, monthly_allocation=10
        )
        first_refresh_on = scheduled_refreshes(
            seat.activated_on, AccountRefresh.BILLING_DAY, seat.activated_on + timedelta(days=31)
        )[0]
        refresh_at = org_midnight(first_refresh_on)
        clock.move_to(refresh_at + timedelta(hours=9))
        # After the refresh was due, before any job applied it: the next month's allocation.
        seat_update_settings(seat=seat, monthly_allocation=50, cause=cause)

        ledger_bring_all_up_to_date()

        allocated = Entry.objects.filter(
            account__seat=seat, kind=EntryKind.ALLOCATION, at=refresh_at
        )
        assert sum(entry.amount for entry in allocated) == 10


@pytest.mark.django_db
def test_pooled_seats_activated_the_same_day_each_bring_their_monthly_credits(org: Org) -> None:
    """R14: the pool's cap is 600 × its active pooled seats; five seats fit 5 × 150 easily."""
    with time_machine.travel(timezone.make_aware(START), tick=False):
        for holder in (org.recruiter, org.teammate, org.lead, org.admin, org.outsider):
            make_seat(plan_code=POOLED_PLAN, holder=holder, team=org.team)

        pool = Account.objects.get(kind=AccountKind.POOL, team=org.team)
        assert pool.balance == 5 * 150
        assert not Refresh.objects.filter(account=pool, lost_to_cap__gt=0).exists()
