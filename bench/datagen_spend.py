"""spend_cost.py's history: seats on Recruiter Lite living two years under the ledger's rules.

Monthly grants on the billing day under the cap, spends from the lot that expires first, refunds
of answered InMails as new lots, expiries 90 days after grant (bench/datagen.py), so every table
and index has the size and shape two years of real use would give it, and the cached balances
agree with the entries.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from datagen import AccountLedger, Rows, load_rows

HISTORY_DAYS = 730
PLAN = "recruiter_lite"
RESPONSE_RATE = 0.25


def simulate_history(entries: int, seed: int, until: datetime) -> tuple[Rows, str]:
    """Seats on Recruiter Lite living two years under R3–R9, until `entries` entries exist."""
    from django.contrib.auth.hashers import make_password

    from ledger import schedule
    from ledger.models import Account, Entry
    from teams.models import Membership, Plan, Seat, Team, User

    rng = random.Random(seed)
    nobody_logs_in = make_password(None)
    plan = Plan.objects.get(code=PLAN)
    lifetime = plan.credit_lifetime_days or 90
    rows = Rows()
    marker = f"Bench history: {entries} entries, seed {seed}"
    teams = [rows.add(Team, name=marker, share_usage=True, created_at=until)]
    seats = 0
    while rows.count(Entry) < entries:
        if seats % 25 == 24:
            teams.append(
                rows.add(Team, name=f"Bench team {len(teams)}", share_usage=True, created_at=until)
            )
        team = teams[-1]
        seats += 1
        user = rows.add(
            User,
            password=nobody_logs_in,
            last_login=None,
            is_superuser=False,
            username=f"bench{seats}",
            first_name="Bench",
            last_name=f"Recruiter {seats}",
            email=f"bench{seats}@example.com",
            is_staff=False,
            is_active=True,
            date_joined=until,
        )
        rows.add(Membership, user_id=user, team_id=team, role="recruiter", created_at=until)
        activated_on = (until - timedelta(days=HISTORY_DAYS - rng.randrange(60))).date()
        seat = rows.add(
            Seat,
            holder_id=user,
            team_id=team,
            plan_id=plan.pk,
            status="active",
            activated_on=activated_on,
            anchor_day=activated_on.day,
            pool_access=False,
            monthly_allocation=None,
            cancelled_at=None,
            replaced_by_id=None,
            created_at=until,
        )
        account = rows.next_id.get(Account, 1)
        balance, next_due = simulate_account(
            rows, rng, schedule, account, seat, activated_on, until, plan, lifetime
        )
        rows.add(
            Account,
            kind="seat",
            seat_id=seat,
            team_id=team,
            anchor_on=activated_on,
            refresh="billing_day",
            balance=balance,
            synced_until=until,
            next_due_at=next_due,
            is_open=True,
            created_at=until,
        )
    return rows, marker


def simulate_account(
    rows: Rows,
    rng: random.Random,
    schedule: Any,
    account: int,
    seat: int,
    anchor: date,
    until: datetime,
    plan: Any,
    lifetime: int,
) -> tuple[int, datetime | None]:
    """One seat account's history in time order; returns its balance and next due instant."""
    from ledger.models import InMail, Refresh

    ledger = AccountLedger(
        rows, schedule, account=account, lifetime=lifetime, until=until, cause="api"
    )

    def refresh_at(k: int) -> datetime:
        day: date = anchor if k == 0 else schedule.refresh_date(anchor, "billing_day", k)
        at: datetime = schedule.start_of_day(day)
        return at

    ledger.push(refresh_at(0), 1, "refresh", 0)
    while ledger.events:
        at, kind, payload = ledger.pop()
        if kind == "expiry":
            ledger.expire(at, payload)
        elif kind == "refresh":
            k = payload
            capped = sum(lot.remaining for lot in ledger.lots)
            granted = min(plan.monthly_credits, max(0, plan.max_balance - capped))
            refresh = rows.add(
                Refresh,
                account_id=account,
                kind="activation" if k == 0 else "refresh",
                period_on=schedule.local_date(at),
                due_at=at,
                seat_id=seat if k == 0 else None,
                monthly=plan.monthly_credits,
                cap=plan.max_balance,
                capped_before=capped,
                granted=granted,
                lost_to_cap=plan.monthly_credits - granted + max(0, capped - plan.max_balance),
                created_at=at,
            )
            ledger.lose_to_cap(at, capped - plan.max_balance, refresh)
            if granted:
                lot = ledger.new_lot(at, granted, "grant")
                ledger.post(at, "grant", granted, lot.pk, refresh=refresh, cause="refresh")
            following = refresh_at(k + 1)
            end = min(following, until)
            for _ in range(rng.randint(4, 10)):
                ledger.push(at + (end - at) * rng.random(), 2, "spend", None)
            if following <= until:
                ledger.push(following, 1, "refresh", k + 1)
        elif kind == "spend":
            spent = ledger.first_to_spend(at)
            if spent is None:
                continue
            window_end = schedule.add_days(at, 90)
            answered_at = at + timedelta(hours=rng.uniform(2, 24 * 20))
            answered = rng.random() < RESPONSE_RATE and answered_at <= until
            status = (
                rng.choice(["accepted", "declined", "replied"])
                if answered
                else ("no_response" if window_end <= until else "pending")
            )
            inmail = rows.add(
                InMail,
                seat_id=seat,
                recipient=f"https://www.linkedin.com/in/member-{rows.next_id.get(InMail, 1)}",
                recipient_key=f"linkedin:in/member-{rows.next_id.get(InMail, 1)}",
                subject="A role on our platform team",
                body="Hi, I came across your profile and thought of a role we are hiring for. "
                "Would you be open to a short call next week?",
                open_profile=False,
                status=status,
                sent_at=at,
                responded_at=answered_at if answered else None,
                reminder_at=schedule.add_days(at, 3) if status != "pending" else None,
                closed_at=answered_at
                if answered
                else (window_end if status != "pending" else None),
                credit_cost=1,
                paid_from="seat",
                paid_account_id=account,
                refunded=answered,
                imported=False,
                created_by_id=None,
                created_at=at,
            )
            ledger.take(spent, 1)
            ledger.post(at, "spend", -1, spent.pk, inmail=inmail)
            if answered:
                ledger.push(answered_at, 2, "refund", inmail)
        elif kind == "refund":
            lot = ledger.new_lot(at, 1, "refund", refund_of=payload)
            ledger.post(at, "refund", 1, lot.pk, inmail=payload, memo="Answered within 90 days")
    next_refresh = min(refresh_at(k) for k in range(1, 40) if refresh_at(k) > until)
    return ledger.balance, min([next_refresh, *ledger.expiries()])


def load(rows: Rows) -> None:
    """COPY (PostgreSQL) or executemany (SQLite) every table, then move the id sequences on."""
    from ledger.models import Account, Entry, InMail, Lot, Operation, Refresh
    from teams.models import Membership, Seat, Team, User

    order = [User, Team, Membership, Seat, Account, Refresh, Lot, InMail, Operation, Entry]
    load_rows(rows, order, line="  loaded {rows:>9,} rows into {table} in {seconds:.1f}s")
