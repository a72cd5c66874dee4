"""The ledger state machine (tests/ledger/test_properties.py) with issue 13's operations mixed
in: seats change hands (R19), get usage limits (R20) and are reconciled with LinkedIn (R21).

On top of every invariant of the base machine (balances derivable from the entries,
`ledger_discrepancies()` empty, every refusal harmless), after every step:

* a reassignment forfeits nothing and writes no entry; each seat has exactly one open holding,
  its holdings follow one another without a gap, and the open one is the seat's holder;
* every InMail's sender is the holder of its seat when it was sent (from the holdings);
* a paid send is refused with `usage_limit_reached` exactly when the seat's paid InMails of its
  usage period (worked out here again from the calendar) have reached its limit, and no seat
  ever holds more uses than its limit beyond what it had used when the limit was set;
* a reconciliation's ledger figure is the seat's available credits at its instant, summed here
  from the entries, its difference and status follow; an adjustment posts exactly the
  difference, or is refused for a seat whose own credits can't cover it, leaving it open.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule, run_state_machine_as_test

from ledger.exceptions import (
    AlreadyResolved,
    InsufficientCredits,
    LedgerError,
    LedgerValidationError,
    SeatInactive,
    UsageLimitReached,
)
from ledger.models import (
    Account,
    AccountRefresh,
    Entry,
    EntryKind,
    InMail,
    OperationKind,
    Reconciliation,
)
from ledger.services import (
    inmail_send,
    reconciliation_record,
    reconciliation_resolve,
    seat_reassign,
    seat_set_usage_limit,
)
from teams.models import Seat, SeatHolding, SeatStatus, User
from tests.ledger.ledger_machine import org_day, org_midnight, scheduled_refreshes
from tests.ledger.test_properties import LedgerMachine

if TYPE_CHECKING:
    from tests.conftest import Org


class LifecycleMachine(LedgerMachine):
    """The base machine's operations, and reassignments, usage limits and reconciliations."""

    def __init__(self, org: Org) -> None:
        super().__init__(org)
        # seat id -> (period start, uses then) when its limit was last set: a lower limit may
        # leave a seat above it for the rest of that period, never further above.
        self.used_when_limited: dict[int, tuple[datetime, int]] = {}
        self.reconciliation_ids: list[int] = []
        self.people = [org.recruiter, org.teammate, org.lead, org.outsider, org.nobody]

    def _last_entry(self) -> int:
        return Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    # ---------------------------------------------------------------- R20, worked out again

    def _period_start(self, seat: Seat) -> datetime:
        """The start of the seat's usage period now: the last refresh of the schedule that
        grants its credits (the pool's for a pooled seat), or its activation before one."""
        rule_: str
        if seat.plan.pooled:
            assert self.pool_anchor is not None
            anchor, rule_ = self.pool_anchor, AccountRefresh.BILLING_DAY
        else:
            anchor, rule_ = seat.activated_on, seat.plan.refresh
        past = [
            org_midnight(day)
            for day in scheduled_refreshes(anchor, rule_, org_day(self.now))
            if org_midnight(day) <= self.now
        ]
        activated = org_midnight(seat.activated_on)
        return max([activated, *past])

    def _used(self, seat: Seat) -> int:
        return InMail.objects.filter(
            seat=seat,
            credit_cost=1,
            imported=False,
            sent_at__gte=self._period_start(seat),
            sent_at__lte=self.now,
        ).count()

    def _check_send_refusal(self, seat: Seat, key: str, subject: str, refusal: LedgerError) -> None:
        if isinstance(refusal, UsageLimitReached):
            seat.refresh_from_db()
            assert seat.monthly_usage_limit is not None
            assert self._used(seat) >= seat.monthly_usage_limit, (
                f"usage_limit_reached with {self._used(seat)} of {seat.monthly_usage_limit} used"
            )
            return
        super()._check_send_refusal(seat, key, subject, refusal)

    @rule(index=st.integers(0, 20), limit=st.one_of(st.none(), st.integers(0, 3)))
    def set_usage_limit(self, index: int, limit: int | None) -> None:
        seat = self._seat(index)
        _, refusal = self._attempt(
            lambda: seat_set_usage_limit(seat=seat, limit=limit, cause=self.cause)
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
            return
        assert refusal is None, refusal
        self.used_when_limited[seat.pk] = (self._period_start(seat), self._used(seat))

    def _limited_seats(self) -> list[Seat]:
        return list(
            Seat.objects.filter(pk__in=self.seat_ids, monthly_usage_limit__isnull=False)
            .select_related("plan")
            .order_by("pk")
        )

    @precondition(lambda self: self.ready and self._limited_seats())
    @rule(index=st.integers(0, 20), person=st.integers(0, 10**6))
    def paid_send_at_the_limit(self, index: int, person: int) -> None:
        """A paid send is refused with usage_limit_reached exactly when the limit is reached."""
        limited = self._limited_seats()
        seat = limited[index % len(limited)]
        used, limit = self._used(seat), seat.monthly_usage_limit
        _, refusal = self._attempt(
            lambda: inmail_send(
                seat=seat,
                recipient=f"linkedin.com/in/limit-{person}",
                subject="Staff engineer",
                body="Open to a chat?",
                cause=self.cause,
            )
        )
        reached = limit is not None and used >= limit
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif reached:
            assert isinstance(refusal, UsageLimitReached), refusal
        else:
            assert not isinstance(refusal, UsageLimitReached), f"{used} of {limit}: {refusal!r}"

    @invariant()
    def usage_never_goes_above_the_limit(self) -> None:
        if not self.ready:
            return
        for seat in Seat.objects.filter(
            status=SeatStatus.ACTIVE, monthly_usage_limit__isnull=False
        ).select_related("plan"):
            assert seat.monthly_usage_limit is not None
            start = self._period_start(seat)
            set_in, used_then = self.used_when_limited.get(seat.pk, (None, 0))
            allowed = max(seat.monthly_usage_limit, used_then if set_in == start else 0)
            assert self._used(seat) <= allowed, (
                f"seat #{seat.pk} used {self._used(seat)} paid InMails this period with a limit "
                f"of {seat.monthly_usage_limit} (R20)"
            )

    # ---------------------------------------------------------------- R19

    @rule(index=st.integers(0, 20), person=st.integers(0, 4))
    def reassign(self, index: int, person: int) -> None:
        seat = self._seat(index)
        holder: User = self.people[person]
        last_entry = self._last_entry()
        balances_before = list(Account.objects.order_by("pk").values_list("pk", "balance"))
        reassigned, refusal = self._attempt(
            lambda: seat_reassign(seat=seat, holder=holder, cause=self.cause)
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif seat.holder_id == holder.pk:
            assert isinstance(refusal, LedgerValidationError), refusal
        else:
            assert refusal is None, refusal
            assert reassigned.holder == holder
            # R19: nothing forfeited, nothing moved; only what was due was applied first.
            written = Entry.objects.filter(pk__gt=last_entry)
            assert not written.exclude(operation__kind=OperationKind.CATCH_UP).exists(), (
                "a reassignment wrote an entry of its own"
            )
            if not written.exists():
                balances = list(Account.objects.order_by("pk").values_list("pk", "balance"))
                assert balances == balances_before

    @invariant()
    def every_seat_has_one_unbroken_holding_history(self) -> None:
        if not self.ready:
            return
        holdings: dict[int, list[SeatHolding]] = {}
        for holding in SeatHolding.objects.order_by("seat_id", "since", "pk"):
            holdings.setdefault(holding.seat_id, []).append(holding)
        for seat in Seat.objects.all():
            history = holdings.get(seat.pk, [])
            assert history, f"seat #{seat.pk} has no holding"
            assert history[0].since == org_midnight(seat.activated_on)
            assert [h.until for h in history[:-1]] == [h.since for h in history[1:]], (
                f"seat #{seat.pk}: its holdings leave a gap or overlap"
            )
            assert history[-1].until is None
            assert history[-1].holder_id == seat.holder_id

    @invariant()
    def every_inmail_names_the_holder_when_it_was_sent(self) -> None:
        if not self.ready:
            return
        for inmail in InMail.objects.filter(imported=False):
            # Sent at the very instant the seat changed hands, either holder may be right.
            holders = set(
                SeatHolding.objects.filter(seat_id=inmail.seat_id, since__lte=inmail.sent_at)
                .exclude(until__lt=inmail.sent_at)
                .values_list("holder_id", flat=True)
            )
            assert inmail.sender_id in holders, (
                f"InMail #{inmail.pk} names user #{inmail.sender_id}; the seat was held by "
                f"{sorted(holders)} when it was sent (R19)"
            )

    # ---------------------------------------------------------------- R21

    def _available_at(self, seat: Seat, instant: datetime) -> int:
        """The seat's own credits, and its pool's if it may draw on it, from the entries."""
        own = Entry.objects.filter(account__seat=seat, at__lte=instant).aggregate(s=Sum("amount"))
        total = int(own["s"] or 0)
        if seat.plan.pooled and seat.pool_access:
            pool = Entry.objects.filter(account=self._pool(), at__lte=instant)
            total += int(pool.aggregate(s=Sum("amount"))["s"] or 0)
        return total

    @rule(index=st.integers(0, 20), off_by=st.integers(-3, 3), past=st.booleans())
    def reconcile(self, index: int, off_by: int, past: bool) -> None:
        seat = self._seat(index)
        earlier = [instant for instant in self.observed if instant < self.now]
        observed_at = max(earlier) if past and earlier else None
        instant = observed_at or self.now
        linkedin = max(0, self._available_at(seat, instant) + off_by)
        recorded, refusal = self._attempt(
            lambda: reconciliation_record(
                seat=seat, linkedin_balance=linkedin, observed_at=observed_at, cause=self.cause
            )
        )
        if seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
            return
        if isinstance(refusal, LedgerValidationError):
            assert refusal.field == "observed_at"
            assert instant < org_midnight(seat.activated_on)
            return
        assert refusal is None, refusal
        assert recorded.ledger_balance == self._available_at(seat, instant), "R21 figure"
        assert recorded.difference == linkedin - recorded.ledger_balance
        assert (recorded.status == "matched") == (recorded.difference == 0)
        self.reconciliation_ids.append(recorded.pk)

    @precondition(lambda self: self.reconciliation_ids)
    @rule(index=st.integers(0, 100), adjust=st.booleans())
    def resolve(self, index: int, adjust: bool) -> None:
        reconciliation = Reconciliation.objects.select_related("seat").get(
            pk=self.reconciliation_ids[index % len(self.reconciliation_ids)]
        )
        own_before = self._seat_account(reconciliation.seat).balance
        last_entry = self._last_entry()
        resolved, refusal = self._attempt(
            lambda: reconciliation_resolve(
                reconciliation=reconciliation,
                action="adjust" if adjust else "dismiss",
                reason="Checked against LinkedIn",
                cause=self.cause,
            )
        )
        if reconciliation.status != "open":
            assert isinstance(refusal, AlreadyResolved), refusal
        elif not adjust:
            assert refusal is None, refusal
            assert resolved.status == "dismissed"
            assert not Entry.objects.filter(pk__gt=last_entry, kind=EntryKind.ADJUSTMENT).exists()
        elif reconciliation.seat.status == SeatStatus.CANCELLED:
            assert isinstance(refusal, SeatInactive), refusal
        elif isinstance(refusal, InsufficientCredits):
            assert reconciliation.difference < 0
            assert self._seat_account(reconciliation.seat).balance < -reconciliation.difference
            reconciliation.refresh_from_db()
            assert reconciliation.status == "open"
        else:
            assert refusal is None, refusal
            assert resolved.status == "adjusted"
            posted = Entry.objects.filter(pk__gt=last_entry, kind=EntryKind.ADJUSTMENT)
            assert sum(entry.amount for entry in posted) == reconciliation.difference
            assert resolved.adjustment_id == min(entry.pk for entry in posted)
            account = self._seat_account(reconciliation.seat)
            caught_up = Entry.objects.filter(pk__gt=last_entry).exclude(kind=EntryKind.ADJUSTMENT)
            assert account.balance == own_before + reconciliation.difference + sum(
                entry.amount for entry in caught_up.filter(account=account)
            )


@pytest.mark.django_db
def test_reassignments_limits_and_reconciliations_keep_every_ledger_invariant(org: Org) -> None:
    class LifecycleMachineOfThisOrganisation(LifecycleMachine):
        def __init__(self) -> None:
            super().__init__(org)

    run_state_machine_as_test(
        LifecycleMachineOfThisOrganisation,
        settings=settings(
            max_examples=12,
            stateful_step_count=40,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
