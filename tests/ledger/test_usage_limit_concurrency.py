"""The usage limit (R20) under real concurrency on PostgreSQL: sends racing for the last use of
a period, and a limit changed while sends are in flight, never send beyond it.

The threads commit for real (`transaction=True`); see tests/ledger/test_concurrency.py for how
the barrier, the frozen clock and the flushed catalog work.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

import pytest
import time_machine
from django.db import connection

from ledger.models import InMail
from ledger.selectors import ledger_discrepancies, seat_balance
from ledger.services import (
    Cause,
    SentInMail,
    inmail_send,
    seat_reassign,
    seat_set_usage_limit,
    seat_usage,
)
from teams.models import Seat
from tests.factories import TeamFactory, UserFactory, make_seat

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2025, 3, 10, 9, 0)
CAUSE = Cause.system("concurrency-test")


def run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
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


def send(seat: Seat, person: int | str, *, open_profile: bool = False) -> SentInMail:
    return inmail_send(
        seat=seat,
        recipient=f"https://www.linkedin.com/in/candidate-{person}/",
        subject="Staff engineer, payments",
        body="Would you be open to a short call this week?",
        open_profile=open_profile,
        cause=CAUSE,
    )


def test_two_sends_at_one_below_the_limit_send_exactly_one(
    clock: time_machine.Traveller,
) -> None:
    seat = make_seat(plan_code="recruiter_lite", team=TeamFactory.create(name="Race"))
    seat_set_usage_limit(seat=seat, limit=5, cause=CAUSE)
    for person in range(4):
        send(seat, person)

    outcomes = run_together([partial(send, seat, f"racer-{n}") for n in range(2)])

    assert kinds(outcomes) == {"SentInMail": 1, "UsageLimitReached": 1}, kinds(outcomes)
    assert seat_usage(seat).used == 5
    assert seat_balance(seat).own == 25
    assert ledger_discrepancies() == []


def test_twelve_sends_racing_for_three_uses_left_send_three_and_open_profile_all_pass(
    clock: time_machine.Traveller,
) -> None:
    seat = make_seat(plan_code="recruiter_lite", team=TeamFactory.create(name="Race"))
    seat_set_usage_limit(seat=seat, limit=3, cause=CAUSE)

    paid = [partial(send, seat, f"paid-{n}") for n in range(12)]
    free = [partial(send, seat, f"open-{n}", open_profile=True) for n in range(4)]
    outcomes = run_together(paid + free)

    assert kinds(outcomes[:12]) == {"SentInMail": 3, "UsageLimitReached": 9}
    assert kinds(outcomes[12:]) == {"SentInMail": 4}
    assert InMail.objects.filter(seat=seat, credit_cost=1).count() == 3
    assert seat_balance(seat).own == 27
    assert ledger_discrepancies() == []


def test_sends_racing_a_reassignment_name_the_holder_who_held_the_seat_when_each_was_sent(
    clock: time_machine.Traveller,
) -> None:
    ann, bob = UserFactory.create(username="ann"), UserFactory.create(username="bob")
    admin = UserFactory.create(username="ops", is_staff=True)
    seat = make_seat(plan_code="recruiter_lite", holder=ann, team=TeamFactory.create(name="R"))

    calls: list[Callable[[], Any]] = [partial(send, seat, f"racer-{n}") for n in range(6)]
    calls.insert(
        3, partial(seat_reassign, seat=seat, holder=bob, cause=Cause(actor=admin, via="test"))
    )
    outcomes = run_together(calls)

    assert kinds(outcomes) == {"SentInMail": 6, "Seat": 1}, kinds(outcomes)
    seat.refresh_from_db()
    assert seat.holder == bob
    # InMails are inserted under the seat's lock, so their ids follow the order the sends held
    # it in: every send before the reassignment is Ann's, every one after it Bob's.
    senders = "".join(
        name[0] for name in InMail.objects.order_by("pk").values_list("sender__username", flat=True)
    )
    assert senders == "a" * senders.count("a") + "b" * senders.count("b"), senders
    switched = seat.holdings.get(holder=bob).since
    assert list(seat.holdings.order_by("since", "pk").values_list("holder__username", "until")) == [
        ("ann", switched),
        ("bob", None),
    ]
