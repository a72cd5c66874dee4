"""How the analytics and the busiest pages scale with a year of InMail history.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev \\
        .venv/bin/python bench/analytics_cost.py --inmails 100000

The benchmark never touches the database named in DATABASE_URL: it builds its own,
`inmail_bench_analytics_<N>` on the same server (created through the `postgres` database), and
keeps it; a later run with the same N reuses it (a comment on the database records a finished
build) and `--rebuild` builds it again. Everything it measures only reads.

The organisation, on a frozen clock (time_machine), "now" being Monday 16 June 2025, 10:00:

- 10 teams of 20 seats, each with a lead who holds no seat, and one admin (`is_staff`). Seats
  are on Recruiter Professional (60 %) and Recruiter Lite (40 %), activated through
  `ledger.services.seat_activate` on dates spread over the two weeks before 16 June 2024. No
  pooled plans: every InMail is paid from its seat's own credits.
- N InMails sent from activation until now, on working days and hours mostly, over the seats
  in proportion to a random weight per seat; one recruiter of team 1 ("heavy") sends 2 % of
  them (2,000 at N=100,000). Open Profile (free) 15 % (30 % for the heavy recruiter); bodies
  under 400 characters 50 %, 400–999 35 %, 1,000+ 15 %; subjects of up to five words 55 %.
- Outcomes: about 27 % are answered (more for short bodies and subjects, fewer for long
  bodies and Open Profile; accepted, replied, declined), most within days, some after 30 or
  even 90 days; 3 % are withdrawn; the rest are `no_response` once their 90-day window is over,
  else `pending` (so pending InMails are those of the last 90 days). Reminders are recorded
  as the tick would have.
- The ledger those imply, simulated with the ledger's rules (monthly grants on the billing day
  under the cap, each spend from the lot that expires first, a refund lot for each paid InMail
  answered within 90 days, expiries 90 days after a grant) and loaded with COPY. A paid InMail
  sent when its seat had no credit left is kept as imported history (`imported=True`, no
  charge: analytics only), as a CSV import would have recorded it; how many is printed and
  written to the results.

After building, one `ledger_tick()` at "now" must find nothing to do, and
`ledger.selectors.ledger_discrepancies()` (what `manage.py ledger_check` runs) must find
nothing wrong. Then each case below runs once to warm up and five times timed: median wall
time, SQL statements (through `connection.execute_wrapper`) and the time spent in them.

- `response_rates` for every group_by over the whole organisation (the admin's scope) and over
  team 1 (its lead's scope, `team=`); `response_totals` over both;
- `credit_flows` for the last 30 days and the last 12 months, organisation and team 1;
  `monthly_credit_flows(months=12)` for team 1;
- the team page of team 1 for its lead, and the recruiter home of the heavy recruiter (Django
  test Client, `force_login`; static files through the plain storage, since the benchmark does
  not run `collectstatic`);
- `GET /api/v1/inmails/?page_size=500` and `GET /api/v1/analytics/response-rates/?group_by=
  month` as the admin (DRF APIClient, `force_authenticate`).

The results replace this N's subsection of "## Analytics and pages" in bench/RESULTS.md, and
the section's summary table is rebuilt from every N's subsection.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import os
import platform
import random
import re
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Analytics and pages"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inmail_site.settings")

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
WITHDRAW_RATE = 0.03
RESPONSE_WINDOW_DAYS = 90
REMINDER_AFTER_DAYS = 3
WARMUP = 1
RUNS = 5
BUILT_COMMENT = "inmail bench analytics: built, {n} InMails, seed {seed}"

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
# The benchmark's own database
# --------------------------------------------------------------------------------------------


def database_url(name: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1/x")
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def maintenance_dsn(url: str) -> str:
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/postgres"))


def database_comment(url: str, name: str) -> str | None:
    """The comment on database `name`, "" when it has none, None when it doesn't exist."""
    import psycopg

    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        found = admin.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
            "FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return None if found is None else str(found[0])


def recreate_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def mark_built(url: str, name: str, comment: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")


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


@dataclass
class Rows:
    """Rows to load, per model, as dicts keyed by field attname; ids continue the tables'."""

    next_id: dict[Any, int]
    by_model: dict[Any, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, model: Any, **values: Any) -> int:
        pk = self.next_id[model]
        self.next_id[model] = pk + 1
        values["id"] = pk
        self.by_model[model].append(values)
        return pk


@dataclass
class SimLot:
    pk: int
    granted_at: datetime
    expires_at: datetime
    remaining: int
    row: dict[str, Any] | None  # None: a lot already in the database (the activation grant)


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
    from ledger.models import Account, Entry, InMail, Lot, Refresh

    models = [Refresh, InMail, Lot, Entry]
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
    from ledger.models import Entry, InMail, Lot, Refresh
    from ledger.rules import normalise_recipient

    seat = account.seat
    plan = seat.plan
    lifetime = plan.credit_lifetime_days
    holder = seat.holder_id
    lots = [
        SimLot(lot.pk, lot.granted_at, expiry(lot.expires_at), lot.remaining, None)
        for lot in Lot.objects.filter(account=account, remaining__gt=0).order_by("pk")
    ]
    existing = list(lots)
    events: list[tuple[datetime, int, int, str, Any]] = []
    sequence = itertools.count()

    def push(at: datetime, priority: int, kind: str, payload: Any) -> None:
        # At one instant expiries come first, then the refresh, then everything else (R17).
        if at <= NOW:
            heapq.heappush(events, (at, priority, next(sequence), kind, payload))

    def post(at: datetime, kind: str, amount: int, lot: int, **extra: Any) -> None:
        account.balance += amount
        rows.add(
            Entry,
            account_id=account.pk,
            at=at,
            kind=kind,
            amount=amount,
            balance_after=account.balance,
            lot_id=lot,
            inmail_id=extra.get("inmail"),
            refresh_id=extra.get("refresh"),
            actor_id=extra.get("actor"),
            cause=extra.get("cause", "web"),
            memo=extra.get("memo", ""),
            created_at=at,
        )

    def new_lot(at: datetime, credits: int, source: str, refund_of: int | None = None) -> SimLot:
        expires_at = schedule.add_days(at, lifetime)
        values = {
            "account_id": account.pk,
            "source": source,
            "granted_at": at,
            "expires_at": expires_at,
            "initial": credits,
            "remaining": credits,
            "moved_from_id": None,
            "refund_of_id": refund_of,
            "created_at": at,
        }
        pk = rows.add(Lot, **values)
        lot = SimLot(pk, at, expires_at, credits, rows.by_model[Lot][-1])
        lots.append(lot)
        push(expires_at, 0, "expiry", lot)
        return lot

    def take(lot: SimLot, credits: int) -> None:
        lot.remaining -= credits
        if lot.row is not None:
            lot.row["remaining"] = lot.remaining

    def refresh_at(k: int) -> datetime:
        at: datetime = schedule.start_of_day(
            schedule.refresh_date(account.anchor_on, account.refresh, k)
        )
        return at

    for lot in lots:
        push(lot.expires_at, 0, "expiry", lot)
    push(refresh_at(1), 1, "refresh", 1)
    for planned in sends:
        push(planned.sent_at, 2, "send", planned)
    last_refresh = 0
    while events:
        at, _, _, kind, payload = heapq.heappop(events)
        if kind == "expiry":
            lot = payload
            if lot.remaining:
                credits = lot.remaining
                take(lot, credits)
                post(
                    at,
                    "expiry",
                    -credits,
                    lot.pk,
                    cause="expiry",
                    memo=f"{credits} credit{'s' if credits != 1 else ''} reached the end of "
                    "their life",
                )
        elif kind == "refresh":
            k = payload
            last_refresh = k
            capped = sum(lot.remaining for lot in lots)
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
                lot = new_lot(at, granted, "grant")
                memo = f"Monthly refresh: {granted} of {plan.monthly_credits}"
                post(at, "grant", granted, lot.pk, refresh=refresh, cause="refresh", memo=memo)
            for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.granted_at, lot.pk)):
                if excess <= 0:
                    break
                piece = min(lot.remaining, excess)
                if piece:
                    take(lot, piece)
                    post(at, "lost_to_cap", -piece, lot.pk, refresh=refresh, cause="refresh")
                    excess -= piece
            push(refresh_at(k + 1), 1, "refresh", k + 1)
        elif kind == "send":
            send: Message = payload
            spendable = [lot for lot in lots if lot.remaining and lot.expires_at > at]
            paid_from: SimLot | None = (
                None
                if send.open_profile or not spendable
                else min(spendable, key=lambda lot: (lot.expires_at, lot.granted_at, lot.pk))
            )
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
            )
            tally.statuses[outcome.status] += 1
            tally.imported += imported
            tally.open_profile += send.open_profile
            if paid_from is not None:
                take(paid_from, 1)
                post(at, "spend", -1, paid_from.pk, inmail=inmail, actor=holder)
            if refunded:
                assert outcome.responded_at is not None
                push(outcome.responded_at, 2, "refund", (inmail, outcome.status))
        elif kind == "refund":
            inmail, status = payload
            lot = new_lot(at, 1, "refund", refund_of=inmail)
            tally.refunds += 1
            memo = f"Answered ({status}) within {RESPONSE_WINDOW_DAYS} days"
            post(at, "refund", 1, lot.pk, inmail=inmail, actor=holder, memo=memo)
    alive = [lot.expires_at for lot in lots if lot.remaining]
    account.synced_until = NOW
    account.next_due_at = min([refresh_at(last_refresh + 1), *alive])
    return existing


def load(history: History) -> None:
    """COPY the new rows, then save the accounts and the activation lots they spent from."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from ledger.models import Account, Entry, InMail, Lot, Refresh

    order = [Refresh, InMail, Lot, Entry]
    with transaction.atomic():
        for model in order:
            records = history.rows.by_model[model]
            if not records:
                continue
            fields = model._meta.concrete_fields
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            table = connection.ops.quote_name(model._meta.db_table)
            started = time.perf_counter()
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for record in records:
                    copy.write_row([record[f.attname] for f in fields])
            print(
                f"  loaded {len(records):>8,} rows into {model._meta.db_table} "
                f"in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        for lot in history.existing_lots:
            Lot.objects.filter(pk=lot.pk).update(remaining=lot.remaining)
        Account.objects.bulk_update(history.accounts, ["balance", "synced_until", "next_due_at"])
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), order):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


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


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Statements:
    count: int = 0
    seconds: float = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


@contextmanager
def counted() -> Iterator[Statements]:
    from django.db import connection

    statements = Statements()
    with connection.execute_wrapper(statements):
        yield statements


@dataclass(frozen=True)
class Case:
    group: str
    label: str
    run: Callable[[], Any]


@dataclass(frozen=True)
class Timing:
    group: str
    label: str
    median_ms: float
    min_ms: float
    sql_ms: float
    statements: int
    varying: bool  # the statement count differed between runs


def measure(case: Case) -> Timing:
    for _ in range(WARMUP):
        case.run()
    seconds: list[float] = []
    sql: list[float] = []
    counts: list[int] = []
    for _ in range(RUNS):
        with counted() as statements:
            started = time.perf_counter()
            case.run()
            seconds.append(time.perf_counter() - started)
        sql.append(statements.seconds)
        counts.append(statements.count)
    timing = Timing(
        group=case.group,
        label=case.label,
        median_ms=statistics.median(seconds) * 1000,
        min_ms=min(seconds) * 1000,
        sql_ms=statistics.median(sql) * 1000,
        statements=int(statistics.median(counts)),
        varying=len(set(counts)) > 1,
    )
    print(
        f"  {case.group:<28} {case.label:<44} {timing.median_ms:9.1f} ms "
        f"(SQL {timing.sql_ms:8.1f} ms, {timing.statements} statements)",
        flush=True,
    )
    return timing


@dataclass(frozen=True)
class Subjects:
    admin: Any
    lead: Any
    team: Any
    heavy: Any


def subjects() -> Subjects:
    from teams.models import Membership, Role, Seat, Team, User

    team = Team.objects.get(name="Bench team 01")
    lead = User.objects.get(
        pk=Membership.objects.filter(team=team, role=Role.LEAD).values("user")[:1]
    )
    heavy = (
        Seat.objects.filter(team=team).order_by("holder__username").select_related("holder")[0]
    ).holder
    return Subjects(User.objects.get(username="bench-admin"), lead, team, heavy)


def cases(who: Subjects) -> list[Case]:
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    from ledger import analytics, schedule

    today = schedule.local_date(NOW)
    year_ago = today - timedelta(days=364)
    org = analytics.analytics_inmails(who.admin)
    team = analytics.analytics_inmails(who.lead, team=who.team)
    found: list[Case] = []
    for scope, inmails in (("organisation (admin)", org), ("team 1 (its lead)", team)):
        for group_by in analytics.GROUP_BY:
            found.append(
                Case(
                    f"response_rates, {scope}",
                    f"group_by={group_by}",
                    partial(analytics.response_rates, inmails, group_by=group_by),
                )
            )
        found.append(
            Case(
                f"response_rates, {scope}",
                "response_totals",
                partial(analytics.response_totals, inmails),
            )
        )
    for scope, user, team_arg in (
        ("organisation (admin)", who.admin, None),
        ("team 1 (its lead)", who.lead, who.team),
    ):
        found.append(
            Case(
                f"credit flows, {scope}",
                "credit_flows, last 30 days",
                partial(analytics.credit_flows, user, team=team_arg),
            )
        )
        found.append(
            Case(
                f"credit flows, {scope}",
                "credit_flows, last 12 months",
                partial(analytics.credit_flows, user, team=team_arg, start=year_ago),
            )
        )
    found.append(
        Case(
            "credit flows, team 1 (its lead)",
            "monthly_credit_flows(months=12)",
            partial(analytics.monthly_credit_flows, who.lead, team=who.team, months=12),
        )
    )

    def page(user: Any, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def get() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return get

    def api(user: Any, url: str) -> Callable[[], Any]:
        client = APIClient()
        client.force_authenticate(user)

        def get() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content)
            return response

        return get

    team_url = reverse("team_detail", args=[who.team.pk])
    found += [
        Case("pages", "team page of team 1, its lead", page(who.lead, team_url)),
        Case("pages", "team page, ?months=12", page(who.lead, f"{team_url}?months=12")),
        Case("pages", "recruiter home, heavy recruiter (/)", page(who.heavy, reverse("home"))),
        Case(
            "API, admin",
            "GET /api/v1/inmails/?page_size=500",
            api(who.admin, "/api/v1/inmails/?page_size=500"),
        ),
        Case(
            "API, admin",
            "GET /api/v1/analytics/response-rates/?group_by=month",
            api(who.admin, "/api/v1/analytics/response-rates/?group_by=month"),
        ),
    ]
    return found


def organisation_facts(who: Subjects) -> dict[str, Any]:
    from django.db.models import Count

    from ledger import analytics
    from ledger.models import Account, Entry, InMail, Lot, Refresh
    from teams.models import Seat, Team

    statuses = dict(
        InMail.objects.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = analytics.response_totals(analytics.analytics_inmails(who.admin))
    return {
        "teams": Team.objects.count(),
        "seats": Seat.objects.count(),
        "accounts": Account.objects.count(),
        "InMails": InMail.objects.count(),
        "entries": Entry.objects.count(),
        "lots": Lot.objects.count(),
        "refreshes": Refresh.objects.count(),
        "imported": InMail.objects.filter(imported=True).count(),
        "open_profile": InMail.objects.filter(open_profile=True).count(),
        "statuses": statuses,
        "response_rate": total.response_rate,
        "team_inmails": InMail.objects.filter(seat__team=who.team).count(),
        "team_seats": Seat.objects.filter(team=who.team).count(),
        "heavy_inmails": InMail.objects.filter(seat__holder=who.heavy).count(),
    }


def machine() -> dict[str, str]:
    from django.db import connection

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.*)", cpuinfo.read_text())
        cpu = found.group(1) if found else cpu
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "database": f"PostgreSQL {server}",
    }


# --------------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------------


def subsection_heading(inmails: int) -> str:
    return f"### {inmails:,} InMails"


def command(inmails: int) -> str:
    return (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_dev "
        f".venv/bin/python bench/analytics_cost.py --inmails {inmails}"
    )


def subsection(
    inmails: int,
    info: dict[str, str],
    facts: dict[str, Any],
    setup: dict[str, Any] | None,
    timings: list[Timing],
) -> str:
    statuses = ", ".join(f"{name} {n:,}" for name, n in sorted(facts["statuses"].items()))
    rate = facts["response_rate"]
    lines = [
        subsection_heading(inmails),
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command(inmails)}`.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['database']}, {info['os']}.",
        "",
        f"The organisation: {facts['teams']} teams, {facts['seats']} seats, "
        f"{facts['InMails']:,} InMails ({statuses}; Open Profile {facts['open_profile']:,}; "
        f"imported for want of credit {facts['imported']:,}), {facts['entries']:,} entries, "
        f"{facts['lots']:,} lots, {facts['refreshes']:,} refresh records. Response rate "
        f"{'n/a' if rate is None else f'{rate:.1%}'}. Team 1: {facts['team_seats']} seats, "
        f"{facts['team_inmails']:,} InMails; the heavy recruiter: "
        f"{facts['heavy_inmails']:,} InMails.",
        "",
        f"Median of {RUNS} runs after {WARMUP} warm-up; SQL is the time spent in the "
        "statements (the rest is Python: ORM, templates, serialisers).",
        "",
        "| what | case | median ms | min ms | SQL ms | SQL statements |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for timing in timings:
        statements = f"{timing.statements:,}" + (" (varies)" if timing.varying else "")
        lines.append(
            f"| {timing.group} | {timing.label} | {timing.median_ms:,.1f} | "
            f"{timing.min_ms:,.1f} | {timing.sql_ms:,.1f} | {statements} |"
        )
    if setup:
        tick = setup["tick"]
        lines += [
            "",
            f"Set-up (not timed above): {setup['activate']:.0f} s to activate the seats through "
            f"`seat_activate`, {setup['simulate']:.0f} s to simulate the year, "
            f'{setup["load"]:.0f} s to load it with COPY; the tick at "now" then found '
            f"{tick.groups} groups, {tick.reminders} reminders and {tick.closed} closures to do, "
            "and `ledger_discrepancies()` found none.",
        ]
    else:
        lines += ["", previous_setup_line(inmails)]
    return "\n".join(lines) + "\n"


def split_sections(text: str, level: str) -> list[str]:
    """`text` cut before each heading of `level` ("##" or "###")."""
    return re.split(rf"(?m)^(?={level} )", text)


def our_section(text: str) -> str:
    return next(
        (part for part in split_sections(text, "##") if part.startswith(HEADING + "\n")), ""
    )


def previous_setup_line(inmails: int) -> str:
    """A run on a kept database keeps the set-up line of the run that built it."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    for part in split_sections(our_section(text), "###"):
        if part.startswith(subsection_heading(inmails) + "\n"):
            found = re.search(r"(?m)^Set-up \(not timed above\).*$", part)
            if found:
                return found.group(0)
    return "Set-up: the database of an earlier run was reused; `--rebuild` times the build."


def table_of(part: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(what, case) → (median ms, statements) from a subsection's table."""
    found = {}
    for line in part.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"[\d,.]+", cells[2]):
            found[(cells[0], cells[1])] = (cells[2], cells[5])
    return found


def size_of(part: str) -> int:
    found = re.match(r"### ([\d,]+) InMails", part)
    return int(found.group(1).replace(",", "")) if found else 0


def summary(runs: list[str]) -> list[str]:
    """One row per case, a column pair per N: how each grows with the history."""
    tables = [(size_of(part), table_of(part)) for part in runs]
    keys = list(dict.fromkeys(key for _, table in tables for key in table))
    lines = [
        "| what | case | "
        + " | ".join(f"{n:,}: median ms | {n:,}: statements" for n, _ in tables)
        + " |",
        "|---|---|" + "---:|---:|" * len(tables),
    ]
    for key in keys:
        cells = []
        for _, table in tables:
            ms, statements = table.get(key, ("–", "–"))
            cells += [ms, statements]
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return lines


INTRO = (
    "Written by `bench/analytics_cost.py` (its docstring describes the organisation it builds: "
    "10 teams, 200 seats, N InMails over a year with the ledger entries they imply). Read-only "
    "analytics selectors, the team page, the recruiter home and two API lists, each timed as "
    "the median of 5 runs after a warm-up. Each run replaces its own subsection; the table "
    "below puts every N side by side."
)


def write_results(body: str, inmails: int) -> None:
    """Replace this N's subsection of our section and its summary; keep everything else.

    Other benchmarks write the rest of the file, so it is read again just before writing.
    """
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    parts = split_sections(text, "##")
    ours = our_section(text)
    runs = [
        part.rstrip("\n") + "\n"
        for part in split_sections(ours, "###")[1:]
        if not part.startswith(subsection_heading(inmails) + "\n")
    ]
    runs = sorted([*runs, body], key=size_of)
    section = f"{HEADING}\n\n{INTRO}\n\n" + "\n".join(summary(runs)) + "\n\n" + "\n".join(runs)
    kept = [section if part == ours else part.rstrip("\n") + "\n" for part in parts if part]
    # In place when it was there, so the file keeps its order; else at the end.
    RESULTS.write_text("\n".join(kept if ours else [*kept, section]))


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--inmails", type=int, default=100_000, help="InMails in the history")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--no-write", action="store_true", help="don't touch bench/RESULTS.md")
    args = parser.parse_args()

    name = f"inmail_bench_analytics_{args.inmails}"
    url = database_url(name)
    built = BUILT_COMMENT.format(n=args.inmails, seed=args.seed)
    reuse = not args.rebuild and database_comment(url, name) == built
    if not reuse:
        recreate_database(url, name)
    os.environ["DATABASE_URL"] = url
    # No publishing to a broker, and no query log growing in memory.
    os.environ["LEDGER_PUBLISH_TASKS"] = "0"
    os.environ["DEBUG"] = "0"

    import django

    # WhiteNoise looks for collected static files, which a benchmark doesn't need.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    # django-axes logs every force_login at INFO.
    logging.getLogger("axes").setLevel(logging.WARNING)
    import time_machine
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    setup: dict[str, Any] | None = None
    if reuse:
        print(f"Reusing {name} ({built}).", flush=True)
    else:
        call_command("migrate", verbosity=0)
        setup = build(args.inmails, args.seed)
        connection.close()
        mark_built(url, name, built)
        print(f"Built {name}.", flush=True)

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with time_machine.travel(NOW, tick=False), override_settings(STORAGES=storages):
        who = subjects()
        facts = organisation_facts(who)
        print(f"Organisation: {facts}", flush=True)
        timings = [measure(case) for case in cases(who)]
    body = subsection(args.inmails, machine(), facts, setup, timings)
    print(body)
    if not args.no_write:
        write_results(body, args.inmails)
        print(f"Wrote “{HEADING[3:]}, {args.inmails:,} InMails” into {RESULTS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
