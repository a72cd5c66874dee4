"""Small shared steps for the ledger tests: instants, plan edits, sends and ledger snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from time_machine import TimeMachineFixture

from ledger.models import Account, Entry, InMail, Lot
from ledger.services import (
    Cause,
    SentInMail,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    inmails_close_response_windows,
    ledger_bring_all_up_to_date,
    pool_transfer,
    purchase_record,
    seat_bring_up_to_date,
    seat_cancel,
)
from teams.models import Plan, Seat, Team, User
from tests.factories import TeamFactory, UserFactory, make_seat

SYSTEM = Cause.system("test")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def set_plan(code: str, **fields: Any) -> None:
    """Edit a catalog row, as an admin would (every number of a plan is data)."""
    Plan.objects.filter(code=code).update(**fields)


def person(username: str | None = None) -> User:
    """A user without a password (hashing one costs half a second per test)."""
    if username is None:
        return UserFactory.create(password=None)
    return UserFactory.create(username=username, password=None)


def new_team(name: str | None = None) -> Team:
    if name is None:
        return TeamFactory.create()
    return TeamFactory.create(name=name)


def seat_on(
    plan_code: str = "recruiter_lite",
    *,
    holder: User | None = None,
    team: Team | None = None,
    activated_on: date | None = None,
    pool_access: bool | None = None,
    monthly_allocation: int | None = None,
) -> Seat:
    """Activate a seat through the ledger (`make_seat`), held by a password-less person."""
    return make_seat(
        plan_code=plan_code,
        holder=holder or person(),
        team=team,
        activated_on=activated_on,
        pool_access=pool_access,
        monthly_allocation=monthly_allocation,
    )


def account_of(seat: Seat) -> Account:
    return Account.objects.get(seat=seat)


def own_balance(seat: Seat) -> int:
    """The seat account's cached balance after bringing it up to now."""
    seat_bring_up_to_date(seat)
    return account_of(seat).balance


def send(
    seat: Seat,
    recipient: str = "linkedin.com/in/jane-doe",
    *,
    subject: str = "A role you may like",
    body: str = "We are hiring a staff engineer in Lisbon.",
    open_profile: bool = False,
    cause: Cause = SYSTEM,
) -> SentInMail:
    return inmail_send(
        seat=seat,
        recipient=recipient,
        subject=subject,
        body=body,
        open_profile=open_profile,
        cause=cause,
    )


def ledger_rows(account: Account) -> list[tuple[datetime, str, int, int]]:
    """An account's entries as (at, kind, amount, balance_after), in ledger order."""
    return [
        (entry.at, entry.kind, entry.amount, entry.balance_after)
        for entry in Entry.objects.filter(account=account).order_by("at", "id")
    ]


@dataclass(frozen=True)
class Footprint:
    """What a refused operation must leave untouched."""

    balance: int
    entries: int
    lots: int
    inmails: int


def footprint(seat: Seat) -> Footprint:
    account = account_of(seat)
    return Footprint(
        balance=account.balance,
        entries=Entry.objects.count(),
        lots=Lot.objects.count(),
        inmails=InMail.objects.count(),
    )


def run_busy_ledger(time_machine: TimeMachineFixture) -> list[Seat]:
    """Half a year of a team's ledger: every kind of write, late jobs and backdated answers.

    Returns the seats: a backdated Recruiter Lite seat and two pooled Corporate seats (the
    second cancelled on the way). Leaves the clock at 1 July 2025, 09:00.
    """
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team("Busy Bees")
    lite = seat_on("recruiter_lite", team=team, activated_on=date(2024, 11, 30))
    first = seat_on("recruiter_corporate", team=team, monthly_allocation=20)

    time_machine.move_to(utc(2025, 1, 15, 10))
    second = seat_on("recruiter_corporate", team=team)
    sent = [send(lite, f"linkedin.com/in/member-{n}").inmail for n in range(5)]
    send(lite, "linkedin.com/in/member-open", open_profile=True)
    pool_paid = send(second, "linkedin.com/in/member-pool").inmail
    purchase_record(seat=lite, credits=5, cause=SYSTEM)
    bonus_grant(seat=lite, credits=3, memo="Hiring sprint", cause=SYSTEM)
    pool_transfer(team=team, seat=second, credits=30, cause=SYSTEM)

    time_machine.move_to(utc(2025, 2, 20, 9))
    inmail_record_response(
        inmail=sent[0], outcome="accepted", responded_at=utc(2025, 1, 20, 9), cause=SYSTEM
    )
    inmail_record_response(inmail=pool_paid, outcome="replied", cause=SYSTEM)
    adjustment_post(seat=lite, credits=-2, reason="LinkedIn shows 2 fewer", cause=SYSTEM)
    inmail_withdraw(inmail=sent[1], cause=SYSTEM)
    send(first, "linkedin.com/in/member-a")
    pool_transfer(team=team, seat=first, credits=-5, cause=SYSTEM)

    time_machine.move_to(utc(2025, 5, 1, 9))
    inmails_close_response_windows()
    ledger_bring_all_up_to_date()
    inmail_record_response(
        inmail=sent[2], outcome="declined", responded_at=utc(2025, 4, 10, 9), cause=SYSTEM
    )
    seat_cancel(seat=second, cause=SYSTEM)

    time_machine.move_to(utc(2025, 7, 1, 9))
    ledger_bring_all_up_to_date()
    return [lite, first, second]


@contextmanager
def stored_lengths_while_back() -> Iterator[None]:
    """For a test that writes InMails through today's services on a database migrated back
    before 0029: the InMail's stored lengths (which today's model reads) added for the block,
    then removed, so that the way forward adds them as a deployment would."""
    fields = [
        field
        for field in InMail._meta.concrete_fields
        if field.name in ("body_chars", "subject_long")
    ]
    assert len(fields) == 2
    with connection.schema_editor() as editor:
        for field in fields:
            editor.add_field(InMail, field)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            for field in fields:
                editor.remove_field(InMail, field)
