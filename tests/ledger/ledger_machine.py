"""The ledger state machine's base: an organisation, the calendar arithmetic written again
independently of the engine, and the invariants checked after every step (see
tests/ledger/test_properties.py for the operations and what is checked)."""

from __future__ import annotations

import calendar
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant

from ledger.exceptions import LedgerError
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
    Purchase,
    Refresh,
    RefreshKind,
)
from ledger.selectors import account_balance_as_of, ledger_discrepancies
from ledger.services import Cause
from teams.models import Seat
from tests.factories import make_seat

if TYPE_CHECKING:
    from tests.conftest import Org


# A Saturday morning in a leap year: anchor days 29–31 meet February 29 within the run.
START = datetime(2024, 2, 10, 8, 30)
RESPONSE_WINDOW_DAYS = 90
BONUS_LIFETIME_DAYS = 30
NON_POOLED_PLANS = ("recruiter_lite", "premium_career", "sales_navigator_core")
POOLED_PLAN = "recruiter_corporate"
CHANGE_PLAN_TARGETS = (*NON_POOLED_PLANS, "premium_business", POOLED_PLAN)
# Mostly valid; now and then empty or over 200 characters (refused, nothing charged: R8).
SUBJECTS = st.integers(0, 9).map(
    lambda pick: {0: "", 1: "x" * 201}.get(pick, "Head of Data at Acme")
)
RECIPIENT_SPELLINGS = (
    "https://www.linkedin.com/in/Candidate-{}/?trk=people-search",
    "linkedin.com/in/candidate-{}",
)
RESPONSES = (InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED)
ANSWERED = (*RESPONSES, InMailStatus.WITHDRAWN)
OUTFLOWS_THAT_MOVE = (EntryKind.TRANSFER, EntryKind.ALLOCATION)


# --------------------------------------------------------------------------------------------
# Calendar arithmetic, written here again rather than imported so the test does not share the
# engine's mistakes.
# --------------------------------------------------------------------------------------------


def org_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def org_day(instant: datetime) -> date:
    return timezone.localtime(instant).date()


def days_after(instant: datetime, days: int) -> datetime:
    """Calendar days on the organisation's wall clock (credit lifetimes, response windows)."""
    tz = timezone.get_default_timezone()
    wall = timezone.localtime(instant).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=tz)


def scheduled_refreshes(anchor: date, rule_: str, last_day: date) -> list[date]:
    """Refresh dates after `anchor` up to `last_day`: the k-th month from the anchor (R3)."""
    dates: list[date] = []
    k = 1
    while True:
        year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + k, 12)
        month = month_index + 1
        if rule_ == AccountRefresh.MONTH_START:
            day = date(year, month, 1)
        else:
            day = date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))
        if day > last_day:
            return dates
        dates.append(day)
        k += 1


def spend_order_key(lot: Lot) -> tuple[Any, ...]:
    """R6 within one account: soonest expiry first, then oldest; never-expiring lots last."""
    never = lot.expires_at is None
    return (never, lot.expires_at if not never else None, lot.granted_at, lot.pk)


def recipient_key(person: int) -> str:
    return f"linkedin:in/candidate-{person}"


class LedgerMachineBase(RuleBasedStateMachine):
    """The organisation the machine runs on, what it has seen, and the invariants checked
    after every step; the operations (rules) are in tests/ledger/test_properties.py."""

    def __init__(self, org: Org) -> None:
        super().__init__()
        self.org = org
        self.cause = Cause(actor=org.admin, via="property-test")
        self.ready = False
        # Each example runs in a savepoint rolled back in teardown, so examples never meet.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._travel = time_machine.travel(timezone.make_aware(START), tick=False)
        self._clock = self._travel.start()
        self.now = timezone.now()
        self.seat_ids: list[int] = []
        self.inmail_ids: list[int] = []
        self.pool_anchor: date | None = None
        # seat id -> [(instant set, allocation)], to know the allocation in force at a refresh.
        self.allocations: dict[int, list[tuple[datetime, int | None]]] = {}
        # Balances of every account observed right after the jobs ran at an instant (and every
        # later step at that same instant): what `account_balance_as_of` must give back.
        self.observed: dict[datetime, dict[int, int]] = {}
        self.jobs_ran_at: datetime | None = None
        self.last_checked_refresh = 0
        self.active_seats = 0

    # ---------------------------------------------------------------- building the organisation

    @initialize(data=st.data())
    def build_organisation(self, data: st.DataObject) -> None:
        org = self.org
        today = org_day(self.now)
        holders = [org.recruiter, org.teammate, org.lead]
        for plan_code, holder in zip(NON_POOLED_PLANS, holders, strict=True):
            days_ago = data.draw(st.integers(0, 75), label=f"{plan_code} activated days ago")
            self._track_new_seat(
                make_seat(
                    plan_code=plan_code,
                    holder=holder,
                    team=org.team,
                    activated_on=today - timedelta(days=days_ago),
                )
            )
        # Pooled seats join before the pool's first refresh (a later one would have to wait for
        # the day after a refresh); the pool then catches up months during the run.
        pool_days_ago = data.draw(st.integers(0, 27), label="pool started days ago")
        pool_start = today - timedelta(days=pool_days_ago)
        self.pool_anchor = pool_start
        pooled = data.draw(st.integers(2, 3), label="pooled seats")
        for index, holder in enumerate(holders[:pooled]):
            joined = 0 if index == 0 else data.draw(st.integers(0, pool_days_ago))
            self._track_new_seat(
                make_seat(
                    plan_code=POOLED_PLAN,
                    holder=holder,
                    team=org.team,
                    activated_on=pool_start + timedelta(days=joined),
                    pool_access=data.draw(st.booleans(), label="pool access"),
                    monthly_allocation=data.draw(
                        st.one_of(st.none(), st.integers(0, 60)), label="allocation"
                    ),
                )
            )
        self.ready = True

    def _track_new_seat(self, seat: Seat) -> None:
        self.seat_ids.append(seat.pk)
        self.active_seats += 1
        if seat.plan.pooled:
            self.allocations[seat.pk] = [(self.now, seat.monthly_allocation)]

    # ---------------------------------------------------------------- helpers

    def _seat(self, index: int) -> Seat:
        return Seat.objects.select_related("plan").get(pk=self.seat_ids[index % len(self.seat_ids)])

    def _pooled_seat(self, index: int) -> Seat:
        pooled = sorted(self.allocations)
        return Seat.objects.select_related("plan").get(pk=pooled[index % len(pooled)])

    def _ledger_state(self) -> tuple[Any, ...]:
        return (
            Entry.objects.count(),
            list(
                Account.objects.order_by("pk").values_list(
                    "pk", "balance", "synced_until", "next_due_at", "is_open"
                )
            ),
            list(Lot.objects.order_by("pk").values_list("pk", "remaining")),
            Refresh.objects.count(),
            Purchase.objects.count(),
            list(InMail.objects.order_by("pk").values_list("pk", "status", "refunded")),
            list(Seat.objects.order_by("pk").values_list("pk", "status", "monthly_allocation")),
        )

    def _attempt(self, operation: Callable[[], Any]) -> tuple[Any, LedgerError | None]:
        """Run a service; a refusal must be a `LedgerError` that changed nothing at all."""
        before = self._ledger_state()
        try:
            return operation(), None
        except LedgerError as error:
            refusal = error
        assert self._ledger_state() == before, f"{refusal!r} left the ledger changed"
        return None, refusal

    def _seat_account(self, seat: Seat) -> Account:
        return Account.objects.get(seat=seat)

    def _pool(self) -> Account:
        return Account.objects.get(kind=AccountKind.POOL, team=self.org.team)

    def _allocation_at(self, seat_id: int, instant: datetime) -> int:
        in_force = [value for set_at, value in self.allocations[seat_id] if set_at <= instant]
        return (in_force[-1] or 0) if in_force else 0

    def _seat_active_at(self, seat: Seat, instant: datetime) -> bool:
        activated = org_midnight(seat.activated_on) < instant
        return activated and (seat.cancelled_at is None or seat.cancelled_at > instant)

    def _capped_balance_at(self, account_ids: list[int], instant: datetime) -> int:
        """Non-purchased credits held just before a refresh at `instant`, from the entries.

        Expiries dated at the instant count (they apply before the refresh); nothing else
        dated at a refresh instant can precede it.
        """
        total = 0
        for entry in Entry.objects.filter(account_id__in=account_ids, at__lte=instant).exclude(
            lot__source=LotSource.PURCHASE
        ):
            if entry.at < instant or entry.kind == EntryKind.EXPIRY:
                total += entry.amount
        return total

    def _check_observed_at(self, instant: datetime) -> None:
        accounts = Account.objects.in_bulk(list(self.observed[instant]))
        for account_id, seen in self.observed[instant].items():
            as_of = account_balance_as_of(accounts[account_id], instant)
            assert as_of == seen, (
                f"account #{account_id}: balance as of {instant} is {as_of}, "
                f"but {seen} was observed then (R1)"
            )

    # ---------------------------------------------------------------- invariants

    @invariant()
    def balances_seen_after_the_jobs_are_recorded(self) -> None:
        if self.ready and self.jobs_ran_at == self.now:
            self.observed[self.now] = dict(Account.objects.values_list("pk", "balance"))

    @invariant()
    def nothing_is_negative_and_the_cache_matches_the_entries(self) -> None:
        if not self.ready:
            return
        assert not Lot.objects.filter(remaining__lt=0).exists()
        assert not Account.objects.filter(balance__lt=0).exists()
        assert ledger_discrepancies() == []

    @invariant()
    def every_credit_of_every_lot_is_accounted_for(self) -> None:
        if not self.ready:
            return
        lots = Lot.objects.in_bulk()
        entries_of: dict[int, list[Entry]] = defaultdict(list)
        for entry in Entry.objects.order_by("at", "pk"):
            assert entry.at <= self.now, f"entry #{entry.pk} is dated in the future"
            entries_of[entry.lot_id].append(entry)
        children: dict[int, list[Lot]] = defaultdict(list)
        for lot in lots.values():
            if lot.moved_from_id is not None:
                children[lot.moved_from_id].append(lot)
        for lot in lots.values():
            entries = entries_of[lot.pk]
            assert entries, f"lot #{lot.pk} has no entry"
            first, rest = entries[0], entries[1:]
            assert first.amount == lot.initial, f"lot #{lot.pk}: its credits came in unbooked"
            assert all(entry.amount < 0 for entry in rest), f"lot #{lot.pk} grew after creation"
            assert all(entry.at >= lot.granted_at for entry in entries)
            left = -sum(entry.amount for entry in rest)
            assert lot.initial == lot.remaining + left, f"lot #{lot.pk} lost or made credits"
            moved_out = sorted(-e.amount for e in rest if e.kind in OUTFLOWS_THAT_MOVE)
            assert moved_out == sorted(child.initial for child in children[lot.pk]), (
                f"lot #{lot.pk}: credits moved out don't match the lots they became"
            )
            for child in children[lot.pk]:
                assert child.account_id != lot.account_id
                assert (child.source, child.granted_at, child.expires_at) == (
                    lot.source,
                    lot.granted_at,
                    lot.expires_at,
                ), "a moved lot keeps its source, grant and expiry (R14)"
            expiries = [entry for entry in rest if entry.kind == EntryKind.EXPIRY]
            if expiries:
                assert expiries == [entries[-1]], f"lot #{lot.pk} used after it expired"
                assert lot.remaining == 0
                assert lot.expires_at is not None
                assert expiries[0].at >= lot.expires_at, f"lot #{lot.pk} expired early"
            if lot.expires_at is not None:
                for entry in rest:
                    if entry.kind != EntryKind.EXPIRY:
                        assert entry.at < lot.expires_at, (
                            f"entry #{entry.pk} ({entry.kind}) took credits from lot "
                            f"#{lot.pk} after it expired at {lot.expires_at} (R5)"
                        )

    @invariant()
    def every_refresh_obeys_the_cap_and_pays_allocations(self) -> None:
        if not self.ready:
            return
        unchecked = Refresh.objects.filter(pk__gt=self.last_checked_refresh).order_by("pk")
        for refresh in unchecked.select_related("account__seat__plan", "seat__plan"):
            self._check_refresh(refresh)
            self.last_checked_refresh = refresh.pk

    def _check_refresh(self, refresh: Refresh) -> None:
        account = refresh.account
        grants = Entry.objects.filter(refresh=refresh, kind=EntryKind.GRANT)
        trims = Entry.objects.filter(refresh=refresh, kind=EntryKind.LOST_TO_CAP)
        granted = sum(entry.amount for entry in grants)
        trimmed = -sum(entry.amount for entry in trims)
        assert refresh.granted == granted
        assert refresh.granted == min(refresh.monthly, max(0, refresh.cap - refresh.capped_before))
        if refresh.kind == RefreshKind.ACTIVATION:
            new_seat = refresh.seat
            assert new_seat is not None
            assert refresh.monthly == new_seat.plan.monthly_credits
            if account.kind == AccountKind.POOL:
                # Every pooled seat active at the activation, the new one and any activated
                # earlier the same day included (R14: plan cap × active pooled seats).
                sharing = [
                    seat
                    for seat in Seat.objects.filter(
                        team=account.team,
                        plan__pooled=True,
                        pk__lte=new_seat.pk,
                        activated_on__lte=new_seat.activated_on,
                    ).select_related("plan")
                    if seat.cancelled_at is None or seat.cancelled_at > new_seat.created_at
                ]
                cap = sum(seat.plan.max_balance for seat in sharing)
            else:
                cap = new_seat.plan.max_balance
                assert refresh.capped_before == 0
            assert refresh.cap == cap, (
                f"the activation of seat #{new_seat.pk} on {new_seat.activated_on} was capped "
                f"at {refresh.cap}; the cap then was {cap} (R4, R14)"
            )
            assert trimmed == 0
            assert refresh.lost_to_cap == refresh.monthly - refresh.granted
            return
        at = refresh.due_at
        assert at == org_midnight(refresh.period_on), "a refresh happens at 00:00 (R3)"
        if account.kind == AccountKind.SEAT:
            assert account.seat is not None
            plan = account.seat.plan
            members = [account.pk]
            monthly, cap = plan.monthly_credits, plan.max_balance
        else:
            seats = [
                seat
                for seat in Seat.objects.filter(team=account.team, plan__pooled=True)
                .select_related("plan")
                .order_by("pk")
                if self._seat_active_at(seat, at)
            ]
            members = [
                account.pk,
                *Account.objects.filter(seat__in=seats).values_list("pk", flat=True),
            ]
            monthly = sum(seat.plan.monthly_credits for seat in seats)
            cap = sum(seat.plan.max_balance for seat in seats)
        assert (refresh.monthly, refresh.cap) == (monthly, cap), (
            f"refresh #{refresh.pk} on {refresh.period_on}: monthly/cap "
            f"{refresh.monthly}/{refresh.cap}, expected {monthly}/{cap} (R4, R14)"
        )
        assert refresh.capped_before == self._capped_balance_at(members, at), (
            f"refresh #{refresh.pk} on {refresh.period_on} saw a capped balance of "
            f"{refresh.capped_before}; the entries say {self._capped_balance_at(members, at)}"
        )
        expected_trim = max(0, refresh.capped_before - cap) if monthly else 0
        assert trimmed == expected_trim, "credits above the cap expire at the refresh (R4)"
        assert refresh.lost_to_cap == refresh.monthly - refresh.granted + trimmed
        if account.kind == AccountKind.POOL:
            self._check_allocations(account, seats, at)

    def _check_allocations(self, pool: Account, seats: list[Seat], at: datetime) -> None:
        """Each active pooled seat receives its allocation in force at the refresh (R14, R17)."""
        for seat in seats:
            expected = self._allocation_at(seat.pk, at)
            moved = sum(
                entry.amount
                for entry in Entry.objects.filter(
                    account__seat=seat, at=at, kind=EntryKind.ALLOCATION
                )
            )
            assert moved <= expected, (
                f"seat #{seat.pk} received {moved} credits at the pool refresh of {at}, but its "
                f"allocation then was {expected} (it was changed later)"
            )
            if moved < expected:
                assert account_balance_as_of(pool, at) == 0, (
                    f"seat #{seat.pk} received {moved} of its allocation of {expected} "
                    "while the pool still held credits"
                )

    def _check_every_refresh_date_applied_once(self) -> None:
        today = org_day(self.now)
        for account in Account.objects.select_related("seat__plan"):
            anchor: date | None
            schedule_rule: str
            if account.kind == AccountKind.POOL:
                # R14: on the anchor day of its first pooled seat.
                anchor, schedule_rule, last_day = self.pool_anchor, "billing_day", today
            elif account.refresh == AccountRefresh.NONE:
                continue
            else:
                seat = account.seat
                assert seat is not None
                anchor, schedule_rule = seat.activated_on, seat.plan.refresh
                last_day = org_day(seat.cancelled_at) if seat.cancelled_at else today
            assert anchor is not None
            applied = list(
                Refresh.objects.filter(account=account, kind=RefreshKind.REFRESH)
                .order_by("period_on")
                .values_list("period_on", flat=True)
            )
            assert applied == scheduled_refreshes(anchor, schedule_rule, last_day), (
                f"{account}: refreshed on {applied}, scheduled "
                f"{scheduled_refreshes(anchor, schedule_rule, last_day)} (R3, R17)"
            )

    # ---------------------------------------------------------------- end of an example

    def teardown(self) -> None:
        try:
            if self.ready:
                for instant in sorted(self.observed):
                    self._check_observed_at(instant)
                out = io.StringIO()
                call_command("ledger_check", stdout=out, stderr=out)
                assert "0 differences" in out.getvalue()
        finally:
            self._travel.stop()
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)
