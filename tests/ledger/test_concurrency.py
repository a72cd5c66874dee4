"""Real concurrency on PostgreSQL: row locks, not luck, keep the ledger exact (R16, R18).

Each test releases its threads together from a barrier. Django gives every thread its own
database connection, so these are truly concurrent transactions on the server; each thread
closes its connection when it is done. The clock is frozen with time_machine, which patches
time for every thread at once, so all threads agree on "now" (and one test moves it forward
while the others work).

The tests commit for real (`transaction=True`), so the database is flushed after each one,
taking the plan catalog (seeded by a data migration) with it: tests/conftest.py seeds it again
before each such test, and pytest-django runs them after every test that rolls back.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from ledger.exceptions import AlreadyAnswered, LedgerError
from ledger.models import (
    Account,
    AccountKind,
    AccountRefresh,
    Entry,
    EntryKind,
    InMail,
    InMailStatus,
    Lot,
    Refresh,
    RefreshKind,
)
from ledger.selectors import ledger_discrepancies, pool_balance, seat_balance
from ledger.services import (
    Cause,
    IdempotentAnswer,
    SentInMail,
    adjustment_post,
    bonus_grant,
    idempotent_call,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    inmails_close_response_windows,
    ledger_bring_all_up_to_date,
    pool_transfer,
    purchase_record,
    request_fingerprint,
    seat_cancel,
    seat_update_settings,
)
from teams.models import Seat, Team, User
from tests.factories import TeamFactory, UserFactory, make_seat

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2025, 3, 10, 9, 0)
POOLED = "recruiter_corporate"
CAUSE = Cause.system("concurrency-test")
SUBJECT = "Staff engineer, payments"
BODY = "Would you be open to a short call this week?"
RESPONSES = (InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED)


# --------------------------------------------------------------------------------------------
# Threads and checks
# --------------------------------------------------------------------------------------------


def run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            # Connect before the barrier so the calls themselves start together.
            connection.ensure_connection()
            barrier.wait(timeout=60)
            return call()
        except Exception as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as executor:
        return list(executor.map(run, calls))


def kinds(outcomes: Sequence[Any]) -> Counter[str]:
    return Counter(type(outcome).__name__ for outcome in outcomes)


def assert_ledger_consistent() -> None:
    """The cache matches the entries, nothing is negative, every charge and refund is single."""
    assert ledger_discrepancies() == []
    assert not Lot.objects.filter(remaining__lt=0).exists()
    assert not Account.objects.filter(balance__lt=0).exists()
    spends = dict(
        Entry.objects.filter(kind=EntryKind.SPEND)
        .values("inmail")
        .annotate(n=Count("id"))
        .values_list("inmail", "n")
    )
    refunds = dict(
        Entry.objects.filter(kind=EntryKind.REFUND)
        .values("inmail")
        .annotate(n=Count("id"))
        .values_list("inmail", "n")
    )
    for pk, cost, refunded in InMail.objects.values_list("pk", "credit_cost", "refunded"):
        assert spends.get(pk, 0) == cost, f"InMail #{pk} charged {spends.get(pk, 0)} times"
        assert refunds.get(pk, 0) == int(refunded), f"InMail #{pk} refunded {refunds.get(pk)}"
    duplicated = (
        Refresh.objects.filter(kind=RefreshKind.REFRESH)
        .values("account", "period_on")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicated.exists(), list(duplicated)


def send(seat: Seat, person: int | str, *, open_profile: bool = False) -> SentInMail:
    return inmail_send(
        seat=seat,
        recipient=f"https://www.linkedin.com/in/candidate-{person}/",
        subject=SUBJECT,
        body=BODY,
        open_profile=open_profile,
        cause=CAUSE,
    )


def refresh_dates(anchor: date, rule: str, last_day: date) -> list[date]:
    """Refresh dates after `anchor` up to `last_day` (R3), computed independently."""
    from calendar import monthrange

    dates: list[date] = []
    k = 1
    while True:
        year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + k, 12)
        month = month_index + 1
        day = (
            1 if rule == AccountRefresh.MONTH_START else min(anchor.day, monthrange(year, month)[1])
        )
        if date(year, month, day) > last_day:
            return dates
        dates.append(date(year, month, day))
        k += 1


@pytest.fixture
def team() -> Team:
    return TeamFactory.create(name="Talent North")


@pytest.fixture
def holders() -> list[User]:
    return [UserFactory.create(username=f"holder{i}") for i in range(6)]


# --------------------------------------------------------------------------------------------
# The last credit, one pool, one response, one idempotency key
# --------------------------------------------------------------------------------------------


def test_fifty_simultaneous_sends_for_the_last_credit_charge_it_exactly_once(
    clock: time_machine.Traveller, team: Team, holders: list[User]
) -> None:
    seat = make_seat(plan_code="recruiter_lite", holder=holders[0], team=team)
    adjustment_post(seat=seat, credits=-29, reason="Leave exactly one credit", cause=CAUSE)
    assert seat_balance(seat).available == 1

    outcomes = run_together([partial(send, seat, person) for person in range(50)])

    assert kinds(outcomes) == {"SentInMail": 1, "InsufficientCredits": 49}, kinds(outcomes)
    account = Account.objects.get(seat=seat)
    assert account.balance == 0
    assert Entry.objects.filter(account=account, kind=EntryKind.SPEND).count() == 1
    assert InMail.objects.filter(seat=seat).count() == 1
    assert_ledger_consistent()


def test_twenty_seats_spending_one_pool_of_37_credits_get_exactly_37(
    clock: time_machine.Traveller, team: Team, holders: list[User]
) -> None:
    seats = [
        make_seat(plan_code=POOLED, holder=holders[i % 5], team=team, pool_access=True)
        for i in range(20)
    ]
    # A 21st seat takes all but 37 of the pool's 21 × 150 credits and is cancelled with them.
    spare = make_seat(plan_code=POOLED, holder=holders[5], team=team)
    pool = Account.objects.get(kind=AccountKind.POOL, team=team)
    pool_transfer(team=team, seat=spare, credits=pool.balance - 37, cause=CAUSE)
    seat_cancel(seat=spare, cause=CAUSE)
    balance = pool_balance(team)
    assert balance is not None
    assert balance.available == 37
    assert {s.own for s in balance.seats} == {0}

    def three_sends(seat: Seat) -> list[Any]:
        outcomes: list[Any] = []
        for attempt in range(3):
            try:
                outcomes.append(send(seat, f"{seat.pk}-{attempt}"))
            except LedgerError as refusal:
                outcomes.append(refusal)
        return outcomes

    per_seat = run_together([partial(three_sends, seat) for seat in seats])

    outcomes = [outcome for seat_outcomes in per_seat for outcome in seat_outcomes]
    assert kinds(outcomes) == {"SentInMail": 37, "InsufficientCredits": 23}, kinds(per_seat)
    pool.refresh_from_db()
    assert pool.balance == 0
    assert Entry.objects.filter(account=pool, kind=EntryKind.SPEND).count() == 37
    assert not Account.objects.filter(seat__in=seats).exclude(balance=0).exists()
    assert InMail.objects.filter(seat__in=seats, paid_from="pool").count() == 37
    assert_ledger_consistent()


@pytest.mark.parametrize("answers", [2, 10])
def test_the_same_response_recorded_concurrently_refunds_once(
    clock: time_machine.Traveller, team: Team, holders: list[User], answers: int
) -> None:
    seat = make_seat(plan_code="recruiter_lite", holder=holders[0], team=team)
    inmail = send(seat, "jane").inmail
    clock.shift(timedelta(days=3))

    outcomes = run_together(
        [
            partial(
                inmail_record_response,
                inmail=inmail,
                outcome=RESPONSES[i % len(RESPONSES)],
                cause=CAUSE,
            )
            for i in range(answers)
        ]
    )

    assert kinds(outcomes) == {"InMail": 1, "AlreadyAnswered": answers - 1}, kinds(outcomes)
    (answered,) = [outcome for outcome in outcomes if isinstance(outcome, InMail)]
    assert all(
        isinstance(outcome, AlreadyAnswered) for outcome in outcomes if outcome is not answered
    )
    inmail.refresh_from_db()
    assert inmail.refunded
    assert inmail.status == answered.status
    assert Entry.objects.filter(inmail=inmail, kind=EntryKind.REFUND).count() == 1
    assert Account.objects.get(seat=seat).balance == 30
    assert_ledger_consistent()


def test_the_same_idempotency_key_sent_concurrently_sends_one_inmail(
    clock: time_machine.Traveller, team: Team, holders: list[User]
) -> None:
    seat = make_seat(plan_code="recruiter_lite", holder=holders[0], team=team)
    request = {"seat": seat.pk, "recipient": "linkedin.com/in/jane", "subject": SUBJECT}

    def post_inmail() -> IdempotentAnswer:
        return idempotent_call(
            scope=f"inmails:user#{holders[0].pk}",
            key="3f0c9a7e-retry",
            fingerprint=request_fingerprint("POST", "/api/v1/inmails", request),
            operation=lambda: (201, {"id": send(seat, "jane").inmail.pk}),
        )

    answers = run_together([post_inmail] * 10)

    assert kinds(answers) == {"IdempotentAnswer": 10}, answers
    inmail = InMail.objects.get(seat=seat)
    assert {(answer.status_code, answer.body["id"]) for answer in answers} == {(201, inmail.pk)}
    assert sorted(answer.replayed for answer in answers) == [False] + [True] * 9
    assert Account.objects.get(seat=seat).balance == 29
    assert_ledger_consistent()


def test_the_first_pooled_seats_of_a_team_activated_at_once_share_one_pool(
    clock: time_machine.Traveller, team: Team, holders: list[User]
) -> None:
    activated = run_together(
        [
            partial(make_seat, plan_code=POOLED, holder=holder, team=team, pool_access=True)
            for holder in holders[:4]
        ]
    )

    assert kinds(activated) == {"Seat": 4}, activated
    pool = Account.objects.get(kind=AccountKind.POOL, team=team)
    assert pool.balance == 4 * 150
    assert Refresh.objects.filter(account=pool, kind=RefreshKind.ACTIVATION).count() == 4
    assert_ledger_consistent()


# --------------------------------------------------------------------------------------------
# Jobs running twice at once (R17, R18)
# --------------------------------------------------------------------------------------------

# (plan, activated days before START, allocation for pooled seats): 20 seats of their own on
# every kind of schedule, anchor days 29–31 included, and a pool of 10.
CATCH_UP_SEATS: list[tuple[str, int, int | None]] = [
    *(
        (plan, days_back, None)
        for plan, days_back in zip(
            [
                "recruiter_lite",
                "premium_career",
                "premium_business",
                "sales_navigator_core",
                "sales_navigator_advanced",
                "recruiter_professional",
            ]
            * 4,
            [0, 9, 10, 11, 12, 20, 28, 29, 30, 31, 38, 39, 40, 41, 45, 59, 60, 69, 70, 71],
            strict=False,
        )
    ),
    *((POOLED, 10, allocation) for allocation in (None, 0, 5, 10, 20, 40, 60, 80, 100, 150)),
]


def build_catch_up_organisation(team: Team, holders: list[User]) -> list[Seat]:
    """Thirty seats with some history, all brought up to date at START."""
    seats = []
    for index, (plan, days_back, allocation) in enumerate(CATCH_UP_SEATS):
        seat = make_seat(
            plan_code=plan,
            holder=holders[index % len(holders)],
            team=team,
            activated_on=timezone.localdate() - timedelta(days=days_back),
            monthly_allocation=allocation,
        )
        if index % 3 == 0 and seat.plan.purchasable:
            purchase_record(seat=seat, credits=10, cause=CAUSE)
        if index % 4 == 0:
            bonus_grant(seat=seat, credits=5, memo="Hiring sprint", cause=CAUSE)
        seats.append(seat)
    return seats


def ledger_of(team: Team, seats: list[Seat]) -> list[Any]:
    """Everything the ledger says about a team, with ids replaced by positions."""
    accounts = [Account.objects.get(seat=seat) for seat in seats]
    accounts.append(Account.objects.get(kind=AccountKind.POOL, team=team))
    return [
        (
            account.balance,
            list(
                account.entries.order_by("at", "id").values_list(
                    "at",
                    "kind",
                    "amount",
                    "balance_after",
                    "lot__source",
                    "lot__granted_at",
                    "lot__expires_at",
                )
            ),
            list(
                account.refreshes.order_by("due_at", "id").values_list(
                    "kind", "period_on", "monthly", "cap", "capped_before", "granted", "lost_to_cap"
                )
            ),
        )
        for account in accounts
    ]


def test_two_catch_up_jobs_running_at_once_apply_every_refresh_exactly_once(
    clock: time_machine.Traveller, holders: list[User]
) -> None:
    workers = 2
    late = timezone.make_aware(START + timedelta(days=125))
    raced_team = TeamFactory.create(name="Raced")
    raced = build_catch_up_organisation(raced_team, holders)
    clock.move_to(late)

    outcomes = run_together([partial(ledger_bring_all_up_to_date, until=late)] * workers)

    assert kinds(outcomes) == {"int": workers}, outcomes
    expected = 0
    for account in Account.objects.filter(team=raced_team).select_related("seat"):
        if account.kind == AccountKind.POOL:
            expected += len(
                refresh_dates(
                    START.date() - timedelta(days=10), AccountRefresh.BILLING_DAY, late.date()
                )
            )
        elif account.refresh != AccountRefresh.NONE:
            assert account.seat is not None
            expected += len(refresh_dates(account.seat.activated_on, account.refresh, late.date()))
    applied = Refresh.objects.filter(account__team=raced_team, kind=RefreshKind.REFRESH)
    assert applied.count() == expected
    assert_ledger_consistent()
    assert not Lot.objects.filter(remaining__gt=0, expires_at__lte=late).exists()

    # The same organisation built again and brought up to date by one run: the same ledger.
    clock.move_to(timezone.make_aware(START))
    alone_team = TeamFactory.create(name="Alone")
    alone = build_catch_up_organisation(alone_team, holders)
    clock.move_to(late)
    ledger_bring_all_up_to_date(until=late)
    assert ledger_of(raced_team, raced) == ledger_of(alone_team, alone)
    assert_ledger_consistent()


# --------------------------------------------------------------------------------------------
# Everything at once on one pool group
# --------------------------------------------------------------------------------------------


def test_sends_answers_transfers_and_refreshes_racing_on_one_pool_stay_consistent(
    clock: time_machine.Traveller, team: Team, holders: list[User]
) -> None:
    seats = [
        make_seat(
            plan_code=POOLED,
            holder=holders[i],
            team=team,
            pool_access=i != 4,
            monthly_allocation=allocation,
        )
        for i, allocation in enumerate((None, 5, 10, 20, 30))
    ]
    solo = make_seat(plan_code="recruiter_lite", holder=holders[5], team=team)
    failures: list[BaseException] = []
    done = Counter[str]()
    tally = threading.Lock()
    over = threading.Event()

    def guarded(work: Callable[[random.Random], None], seed: int) -> None:
        """Repeat `work` until time has run its course; a rule saying no is fine."""
        rng = random.Random(seed)
        while not over.is_set():
            outcome = work.__name__
            try:
                work(rng)
            except LedgerError as refusal:
                outcome = type(refusal).__name__
            except Exception as error:  # a deadlock, a constraint violated: the test fails
                failures.append(error)
                over.set()
            with tally:
                done[outcome] += 1

    def sending(rng: random.Random) -> None:
        send(rng.choice([*seats, solo]), rng.randrange(12), open_profile=rng.random() < 0.2)

    def answering(rng: random.Random) -> None:
        pending = list(
            InMail.objects.filter(seat__team=team, status=InMailStatus.PENDING).values_list(
                "pk", flat=True
            )
        )
        if pending:
            inmail = InMail.objects.get(pk=rng.choice(pending))
            if rng.random() < 0.15:
                inmail_withdraw(inmail=inmail, cause=CAUSE)
            else:
                inmail_record_response(inmail=inmail, outcome=rng.choice(RESPONSES), cause=CAUSE)

    def moving(rng: random.Random) -> None:
        seat = rng.choice(seats)
        if rng.random() < 0.2:
            seat_update_settings(seat=seat, monthly_allocation=rng.randrange(40), cause=CAUSE)
        else:
            pool_transfer(
                team=team, seat=seat, credits=rng.choice([-5, -2, -1, 1, 3, 8]), cause=CAUSE
            )

    def jobs(rng: random.Random) -> None:
        ledger_bring_all_up_to_date()
        inmails_close_response_windows()
        seat_balance(rng.choice(seats))

    def time_passing() -> None:
        # Two days every 100 ms while the others work: over 120 days pool refreshes, expiries
        # and 90-day closures fall due in the middle of their transactions.
        try:
            for _ in range(60):
                time.sleep(0.1)
                clock.shift(timedelta(days=2))
        finally:
            over.set()

    workers = [sending, sending, sending, answering, answering, moving, jobs]
    outcomes = run_together(
        [partial(guarded, work, seed) for seed, work in enumerate(workers)] + [time_passing]
    )

    assert kinds(outcomes) == {"NoneType": len(workers) + 1}, outcomes
    assert failures == [], failures
    assert min(done[work.__name__] for work in workers) > 0, done
    ledger_bring_all_up_to_date()
    assert_ledger_consistent()
    now = timezone.now()
    assert not Lot.objects.filter(remaining__gt=0, expires_at__lte=now).exists()
    pool = Account.objects.get(kind=AccountKind.POOL, team=team)
    refreshed = list(
        Refresh.objects.filter(account=pool, kind=RefreshKind.REFRESH)
        .order_by("period_on")
        .values_list("period_on", flat=True)
    )
    assert refreshed == refresh_dates(seats[0].activated_on, AccountRefresh.BILLING_DAY, now.date())
    # The race exercised every kind of movement, not just a few sends.
    happened = set(Entry.objects.values_list("kind", flat=True).distinct())
    assert {
        EntryKind.GRANT,
        EntryKind.SPEND,
        EntryKind.REFUND,
        EntryKind.TRANSFER,
        EntryKind.ALLOCATION,
        EntryKind.EXPIRY,
    } <= happened, happened
