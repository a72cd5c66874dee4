"""analytics_cost.py's organisation: 10 teams of 20 seats activated through the services, then
a year of InMails and the ledger they imply, simulated (bench/datagen.py) and loaded with COPY.
analytics_cost.py's docstring describes it.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from datagen import AccountLedger, Rows, SimLot, load_rows

NOW = datetime(2025, 6, 16, 10, 0, tzinfo=UTC)
HISTORY_START = datetime(2024, 6, 16, 9, 0, tzinfo=UTC)
ACTIVATION_SPREAD_DAYS = 14
TEAMS = 10
SEATS_PER_TEAM = 20
PLANS = [("recruiter_professional", 0.6), ("recruiter_lite", 0.4)]
HEAVY_SHARE = 0.02
OPEN_PROFILE_SHARE = 0.15
HEAVY_OPEN_PROFILE_SHARE = 0.30
ANSWER_RATE = 0.27
# R22: the template of InMail n is BENCH_TEMPLATES[n % 5] ("" = none).
BENCH_TEMPLATES = ("", "Intro short", "Intro long", "Referral", "Follow-up")
WITHDRAW_RATE = 0.03
RESPONSE_WINDOW_DAYS = 90
REMINDER_AFTER_DAYS = 3

SHORT_SUBJECTS = [
    "Quick question",
    "A role for you",
    "Staff engineer at Acme",
    "Your work on payments",
    "Coffee next week?",
    "Platform lead opening",
]
LONG_SUBJECTS = [
    "A senior role on our platform team you may like",
    "Would you consider leading our new data engineering group?",
    "Your talk on distributed systems caught our attention",
    "We are hiring a head of product for our Berlin office",
]
BODY_TEXT = (
    "Hi, I came across your profile and your work on large systems stood out. We are growing "
    "the team that builds our core platform and I think the role would suit your experience: "
    "you would own the design of services used by millions of people, work with a small group "
    "of senior engineers and have real say in what we build next. The position is remote "
    "friendly, with an office in the city centre for those who like one. Compensation is "
    "competitive and includes equity. Would you be open to a short call next week to talk it "
    "through? I am happy to share more details in writing first if you prefer. "
)


# --------------------------------------------------------------------------------------------
# The organisation: people and seats, through the services
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    admin: int
    leads: list[int]
    heavy_seat: int


def build_people(rng: random.Random) -> People:
    """Admin, leads, recruiters, teams; every seat activated through `seat_activate`."""
    import time_machine
    from django.contrib.auth.hashers import make_password

    from ledger.services import Cause, seat_activate
    from teams.models import Membership, Plan, Role, Team, User

    cause = Cause.system("bench")
    unusable = make_password(None)
    with time_machine.travel(HISTORY_START, tick=False):
        admin = User.objects.create(
            username="bench-admin", password=unusable, is_staff=True, first_name="Ada"
        )
        teams = [Team.objects.create(name=f"Bench team {t + 1:02d}") for t in range(TEAMS)]
        leads = User.objects.bulk_create(
            [
                User(username=f"bench-lead-{t + 1:02d}", password=unusable, first_name="Lead")
                for t in range(TEAMS)
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(user=lead, team=team, role=Role.LEAD)
                for lead, team in zip(leads, teams, strict=True)
            ]
        )
        recruiters = User.objects.bulk_create(
            [
                User(
                    username=f"bench-recruiter-{n:03d}",
                    password=unusable,
                    first_name="Recruiter",
                    last_name=f"{n:03d}",
                )
                for n in range(TEAMS * SEATS_PER_TEAM)
            ]
        )
        plans = {plan.code: plan for plan in Plan.objects.all()}
        codes = [code for code, share in PLANS for _ in range(round(share * 10))]
        first_day = HISTORY_START.date() - timedelta(days=ACTIVATION_SPREAD_DAYS)
        heavy_seat = 0
        started = time.perf_counter()
        print(f"Activating {len(recruiters)} seats with seat_activate…", flush=True)
        for index, holder in enumerate(recruiters):
            # The heavy recruiter (index 0, team 1) needs Recruiter Professional's credits.
            code = PLANS[0][0] if index == 0 else codes[rng.randrange(len(codes))]
            seat = seat_activate(
                holder=holder,
                team=teams[index // SEATS_PER_TEAM],
                plan=plans[code],
                activated_on=first_day + timedelta(days=rng.randrange(ACTIVATION_SPREAD_DAYS + 1)),
                cause=cause,
            )
            if index == 0:
                heavy_seat = seat.pk
        print(f"  activated in {time.perf_counter() - started:.1f} s", flush=True)
    return People(admin=admin.pk, leads=[lead.pk for lead in leads], heavy_seat=heavy_seat)


# --------------------------------------------------------------------------------------------
# The history: InMails and the ledger entries they imply, simulated and loaded with COPY
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str
    responded_at: datetime | None
    closed_at: datetime | None
    reminder_at: datetime | None


@dataclass(frozen=True)
class Message:
    sent_at: datetime
    subject: str
    body: str
    open_profile: bool
    outcome: Outcome


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    imported: int = 0
    open_profile: int = 0
    refunds: int = 0


def send_instants(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """`count` instants in (start, end): working days and hours mostly (local time)."""
    from ledger import schedule

    tz = schedule.org_tz()
    first, last = schedule.local_date(start), schedule.local_date(end)
    span = (last - first).days
    found: list[datetime] = []
    while len(found) < count:
        day = first + timedelta(days=rng.randrange(span + 1))
        if day.weekday() >= 5 and rng.random() < 0.9:
            continue
        minutes = rng.randrange(8 * 60, 19 * 60) if rng.random() < 0.92 else rng.randrange(24 * 60)
        at = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(
            minutes=minutes, seconds=rng.randrange(60)
        )
        if start < at < end:
            found.append(at)
    return sorted(found)


def message(
    rng: random.Random, sent_at: datetime, *, open_share: float, team_factor: float
) -> Message:
    """One InMail's content and what became of it by NOW."""
    from ledger import schedule

    open_profile = rng.random() < open_share
    roll = rng.random()
    if roll < 0.50:
        length = rng.randrange(120, 400)
        factor = 1.15
    elif roll < 0.85:
        length = rng.randrange(400, 1000)
        factor = 1.0
    else:
        length = rng.randrange(1000, 1900)
        factor = 0.7
    body = (BODY_TEXT * 4)[:length].rstrip() + "."
    if rng.random() < 0.55:
        subject = rng.choice(SHORT_SUBJECTS)
        factor *= 1.05
    else:
        subject = rng.choice(LONG_SUBJECTS)
        factor *= 0.94
    if open_profile:
        factor *= 0.8
    deadline = schedule.add_days(sent_at, RESPONSE_WINDOW_DAYS)
    reminder_due = schedule.add_days(sent_at, REMINDER_AFTER_DAYS)
    status, responded_at, closed_at = "pending", None, None
    if rng.random() < WITHDRAW_RATE:
        withdrawn_at = sent_at + timedelta(hours=rng.uniform(2, 24 * 10))
        if withdrawn_at <= NOW:
            status, closed_at = "withdrawn", withdrawn_at
    elif rng.random() < ANSWER_RATE * factor * team_factor:
        band = rng.random()
        if band < 0.70:
            hours = min(rng.expovariate(1 / 40), 24 * 14)
        elif band < 0.90:
            hours = rng.uniform(24 * 5, 24 * 30)
        elif band < 0.98:
            hours = rng.uniform(24 * 30, 24 * 90)
        else:
            hours = rng.uniform(24 * 90, 24 * 120)
        answered_at = sent_at + timedelta(hours=max(hours, 0.2))
        if answered_at <= NOW:
            status = rng.choices(["accepted", "replied", "declined"], [45, 35, 20])[0]
            responded_at = answered_at
            # An answer after the window closed leaves the closing (no_response) date.
            closed_at = answered_at if answered_at <= deadline else deadline
    if status == "pending" and deadline <= NOW:
        status, closed_at = "no_response", deadline
    pending_at_reminder = closed_at is None or closed_at > reminder_due
    reminder_at = reminder_due if reminder_due <= NOW and pending_at_reminder else None
    return Message(
        sent_at, subject, body, open_profile, Outcome(status, responded_at, closed_at, reminder_at)
    )


@dataclass
class History:
    rows: Rows
    tally: Tally
    accounts: list[Any]  # the seat accounts, with balance, synced_until and next_due_at set
    existing_lots: list[SimLot]  # lots seat_activate created, with what remains of them


def simulate(rng: random.Random, inmails: int, people: People) -> History:
    """Each seat's year: its sends, answers, refreshes, refunds and expiries, in time order."""
    from django.db.models import Max

    from ledger import schedule
    from ledger.models import Account, Entry, InMail, Lot, Operation, Refresh

    models = [Refresh, InMail, Lot, Operation, Entry]
    rows = Rows(
        next_id={m: (m._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1 for m in models}
    )
    tally = Tally()
    existing_lots: list[SimLot] = []
    accounts = list(Account.objects.select_related("seat__plan", "seat__holder").order_by("pk"))
    # How many InMails each seat sends: the heavy one a fixed share, the rest by weight.
    others = [a for a in accounts if a.seat_id != people.heavy_seat]
    heavy_count = round(inmails * HEAVY_SHARE)
    weights = [rng.uniform(0.4, 1.6) for _ in others]
    total_weight = sum(weights)
    counts = {
        a.pk: int((inmails - heavy_count) * w / total_weight)
        for a, w in zip(others, weights, strict=True)
    }
    for account in itertools.islice(
        itertools.cycle(others), inmails - heavy_count - sum(counts.values())
    ):
        counts[account.pk] += 1
    team_factor = {t: rng.uniform(0.8, 1.2) for t in {a.team_id for a in accounts}}
    recipient_number = itertools.count(1)
    for account in accounts:
        seat = account.seat
        assert seat is not None
        heavy = seat.pk == people.heavy_seat
        count = heavy_count if heavy else counts[account.pk]
        sends = [
            message(
                rng,
                at,
                open_share=HEAVY_OPEN_PROFILE_SHARE if heavy else OPEN_PROFILE_SHARE,
                team_factor=team_factor[account.team_id],
            )
            for at in send_instants(rng, count, account.synced_until, NOW)
        ]
        existing_lots += simulate_account(rows, tally, schedule, account, sends, recipient_number)
    return History(rows, tally, accounts, existing_lots)


def expiry(expires_at: datetime | None) -> datetime:
    assert expires_at is not None, "the benchmark's plans all have a credit lifetime"
    return expires_at


def simulate_account(
    rows: Rows,
    tally: Tally,
    schedule: Any,
    account: Any,
    sends: list[Message],
    recipient_number: Iterator[int],
) -> list[SimLot]:
    """One seat account's year in time order; sets the account's balance and due instants
    (saved later) and returns the lots that were already in the database."""
    from ledger.models import InMail, InMailTag, Lot, Refresh
    from ledger.rules import normalise_recipient
    from ledger.services.catch_up_rules import expiry_memo

    seat = account.seat
    plan = seat.plan
    holder = seat.holder_id
    existing = [
        SimLot(lot.pk, lot.granted_at, expiry(lot.expires_at), lot.remaining, None)
        for lot in Lot.objects.filter(account=account, remaining__gt=0).order_by("pk")
    ]
    ledger = AccountLedger(
        rows,
        schedule,
        account=account.pk,
        lifetime=plan.credit_lifetime_days,
        until=NOW,
        cause="web",
        balance=account.balance,
        lots=existing,
    )

    def refresh_at(k: int) -> datetime:
        at: datetime = schedule.start_of_day(
            schedule.refresh_date(account.anchor_on, account.refresh, k)
        )
        return at

    for lot in existing:
        ledger.push(lot.expires_at, 0, "expiry", lot)
    ledger.push(refresh_at(1), 1, "refresh", 1)
    for planned in sends:
        ledger.push(planned.sent_at, 2, "send", planned)
    last_refresh = 0
    while ledger.events:
        at, kind, payload = ledger.pop()
        if kind == "expiry":
            ledger.expire(at, payload, expiry_memo)
        elif kind == "refresh":
            k = payload
            last_refresh = k
            capped = sum(lot.remaining for lot in ledger.lots)
            granted = min(plan.monthly_credits, max(0, plan.max_balance - capped))
            excess = max(0, capped - plan.max_balance)
            refresh = rows.add(
                Refresh,
                account_id=account.pk,
                kind="refresh",
                period_on=schedule.local_date(at),
                due_at=at,
                seat_id=None,
                monthly=plan.monthly_credits,
                cap=plan.max_balance,
                capped_before=capped,
                granted=granted,
                lost_to_cap=plan.monthly_credits - granted + excess,
                created_at=at,
            )
            if granted:
                lot = ledger.new_lot(at, granted, "grant")
                memo = f"Monthly refresh: {granted} of {plan.monthly_credits}"
                ledger.post(
                    at, "grant", granted, lot.pk, refresh=refresh, cause="refresh", memo=memo
                )
            ledger.lose_to_cap(at, excess, refresh)
            ledger.push(refresh_at(k + 1), 1, "refresh", k + 1)
        elif kind == "send":
            send: Message = payload
            paid_from = None if send.open_profile else ledger.first_to_spend(at)
            imported = not send.open_profile and paid_from is None
            number = next(recipient_number)
            recipient = f"https://www.linkedin.com/in/bench-candidate-{number}"
            outcome = send.outcome
            refunded = (
                paid_from is not None
                and outcome.responded_at is not None
                and outcome.responded_at <= schedule.add_days(at, RESPONSE_WINDOW_DAYS)
            )
            inmail = rows.add(
                InMail,
                seat_id=seat.pk,
                recipient=recipient,
                recipient_key=normalise_recipient(recipient),
                subject=send.subject,
                body=send.body,
                open_profile=send.open_profile,
                status=outcome.status,
                sent_at=at,
                responded_at=outcome.responded_at,
                reminder_at=outcome.reminder_at,
                closed_at=outcome.closed_at,
                credit_cost=1 if paid_from is not None else 0,
                paid_from="seat" if paid_from is not None else None,
                paid_account_id=account.pk if paid_from is not None else None,
                refunded=refunded,
                imported=imported,
                created_by_id=None if imported else holder,
                created_at=at,
                sender_id=holder,  # R19: the holder when it was sent
                template=BENCH_TEMPLATES[number % len(BENCH_TEMPLATES)],  # R22
            )
            # R22: two InMails in three carry a tag, one in five a second one.
            if number % 3:
                rows.add(InMailTag, inmail_id=inmail, tag=f"bench-{number % 7}")
            if number % 5 == 0:
                rows.add(InMailTag, inmail_id=inmail, tag="follow-up")
            tally.statuses[outcome.status] += 1
            tally.imported += imported
            tally.open_profile += send.open_profile
            if paid_from is not None:
                ledger.take(paid_from, 1)
                ledger.post(at, "spend", -1, paid_from.pk, inmail=inmail, actor=holder)
            if refunded:
                assert outcome.responded_at is not None
                ledger.push(outcome.responded_at, 2, "refund", (inmail, outcome.status))
        elif kind == "refund":
            inmail, status = payload
            lot = ledger.new_lot(at, 1, "refund", refund_of=inmail)
            tally.refunds += 1
            memo = f"Answered ({status}) within {RESPONSE_WINDOW_DAYS} days"
            ledger.post(at, "refund", 1, lot.pk, inmail=inmail, actor=holder, memo=memo)
    account.balance = ledger.balance
    account.synced_until = NOW
    account.next_due_at = min([refresh_at(last_refresh + 1), *ledger.expiries()])
    return existing


def load(history: History) -> None:
    """COPY the new rows, then save the accounts and the activation lots they spent from."""
    from ledger.models import Account, Entry, InMail, InMailTag, Lot, Operation, Refresh

    def save_accounts() -> None:
        for lot in history.existing_lots:
            Lot.objects.filter(pk=lot.pk).update(remaining=lot.remaining)
        Account.objects.bulk_update(history.accounts, ["balance", "synced_until", "next_due_at"])

    load_rows(
        history.rows,
        [Refresh, InMail, InMailTag, Lot, Operation, Entry],
        line="  loaded {rows:>8,} rows into {table} in {seconds:.1f} s",
        then=save_accounts,
    )


def build(inmails: int, seed: int) -> dict[str, Any]:
    """People through the services, the year simulated and loaded; checked. Set-up facts."""
    import time_machine

    from ledger.selectors import ledger_discrepancies
    from ledger.services import ledger_tick

    rng = random.Random(seed)
    started = time.perf_counter()
    people = build_people(rng)
    activated = time.perf_counter() - started
    print(f"Simulating {inmails:,} InMails and their ledger…", flush=True)
    history = simulate(rng, inmails, people)
    simulated = time.perf_counter() - started - activated
    print("Loading with COPY…", flush=True)
    load(history)
    loaded = time.perf_counter() - started - activated - simulated
    with time_machine.travel(NOW, tick=False):
        report = ledger_tick()
    print(f"Tick at now: {report}", flush=True)
    found = ledger_discrepancies()
    assert not found, f"ledger_check found {len(found)} discrepancies, first {found[:5]}"
    print("ledger_discrepancies(): none.", flush=True)
    return {
        "activate": activated,
        "simulate": simulated,
        "load": loaded,
        "tick": report,
        "tally": history.tally,
    }
