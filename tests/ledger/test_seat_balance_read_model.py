"""One read model of a seat's balance: the bulk `seats_overview` (the pages, the console's and
the API's seat lists) and the single `seat_balance` (the balance endpoint, the console's seat
page) say the same thing, field by field (docs/rules.md R4, R14, "At risk")."""

from __future__ import annotations

from dataclasses import astuple, fields
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from ledger.selectors import SeatBalance, pool_balance, seat_balance, seats_overview
from ledger.services import bonus_grant, pool_transfer, seat_cancel, seat_update_settings
from teams.models import Seat
from tests.ledger.helpers import SYSTEM, new_team, seat_on, send, set_plan, utc

pytestmark = pytest.mark.django_db


def figures(balance: SeatBalance) -> dict[str, object]:
    """Every field of the read model but the seat object itself, and `available`."""
    shown = {f.name: getattr(balance, f.name) for f in fields(balance) if f.name != "seat"}
    return {**shown, "seat": balance.seat.pk, "available": balance.available}


def test_the_overview_and_a_single_balance_agree_for_every_seat_of_a_pooled_team(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team()
    drawing = seat_on("recruiter_corporate", team=team, monthly_allocation=20)
    barred = seat_on("recruiter_corporate", team=team, pool_access=False)
    lite = seat_on("recruiter_lite", team=team)
    cancelled = seat_on("recruiter_lite", team=team)
    # A lowered cap: the pool (300 granted) stands above the two seats' 2 × 140 at the refresh.
    set_plan("recruiter_corporate", max_balance=140)
    time_machine.move_to(utc(2025, 1, 20, 9))
    pool_transfer(team=team, seat=drawing, credits=12, cause=SYSTEM)
    bonus_grant(seat=drawing, credits=5, memo="Welcome", cause=SYSTEM)
    bonus_grant(seat=lite, credits=100, memo="Above the cap", cause=SYSTEM)
    send(drawing, "linkedin.com/in/member-1")
    send(lite, "linkedin.com/in/member-2")
    seat_update_settings(seat=barred, monthly_allocation=7, cause=SYSTEM)
    seat_cancel(seat=cancelled, cause=SYSTEM)
    time_machine.move_to(utc(2025, 2, 14, 9))

    overview = seats_overview(Seat.objects.filter(team=team).order_by("pk"))

    rows = {row.seat.pk: row for row in overview.seats}
    assert list(rows) == [drawing.pk, barred.pk, lite.pk, cancelled.pk]
    for seat in (drawing, barred, lite, cancelled):
        assert figures(rows[seat.pk]) == figures(seat_balance(seat)), seat
    # The figures themselves. On 10 February the pool grants nothing: the lowered cap of 280
    # stands below the 288 + 16 + 0 it and its seats held; the 24 above it are trimmed (the
    # 4 bonus credits left, then 20 of the pool's first lot), then the allocations move 20
    # and 7 out of the pool. On 10 March the cap leaves no room again: all 300 are lost.
    drawing_row, barred_row, lite_row, cancelled_row = rows.values()
    assert (
        drawing_row.own,
        drawing_row.draws_on_pool,
        drawing_row.pool_available,
        drawing_row.available,
    ) == (32, True, 241, 273)
    assert (
        drawing_row.next_refresh_on,
        drawing_row.next_refresh_credits,
        drawing_row.lost_to_cap_next_refresh,
    ) == (date(2025, 3, 10), 20, 300)
    assert (drawing_row.expiring_7d, drawing_row.expiring_30d) == (0, 0)
    assert drawing_row.last_sent_at == utc(2025, 1, 20, 9)
    assert (barred_row.own, barred_row.draws_on_pool, barred_row.available) == (7, False, 7)
    assert (barred_row.next_refresh_credits, barred_row.lost_to_cap_next_refresh) == (7, 300)
    # The seat on its own plan: 30 granted and 90 bonus credits that expire on 19 February, so
    # the 10 March refresh grants its 30 in full.
    assert (lite_row.own, lite_row.in_pool, lite_row.expiring_7d, lite_row.expiring_30d) == (
        120,
        False,
        90,
        90,
    )
    assert (lite_row.next_refresh_on, lite_row.next_refresh_credits) == (date(2025, 3, 10), 30)
    assert lite_row.lost_to_cap_next_refresh == 0
    assert (cancelled_row.own, cancelled_row.next_refresh_on) == (0, None)
    pool = pool_balance(team)
    assert pool is not None
    pool_row = overview.pools[team.pk]
    assert (pool_row.available, pool_row.cap, pool_row.next_refresh_on) == (
        241,
        280,
        date(2025, 3, 10),
    )
    assert (pool.available, pool.cap, pool.next_refresh_on) == (241, 280, date(2025, 3, 10))
    assert (pool_row.next_refresh_credits, pool_row.lost_to_cap_next_refresh) == (
        pool.next_refresh_credits,
        pool.lost_to_cap_next_refresh,
    )
    assert [astuple(lot) for lot in pool_row.lots] == [astuple(lot) for lot in pool.lots]


def test_without_usage_the_overview_gives_the_same_balances_and_no_usage(
    time_machine: TimeMachineFixture,
) -> None:
    """The admin overview asks for no usage (R20): one statement fewer, every other figure the
    same, and no row claims a usage it did not read."""
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    team = new_team()
    limited = seat_on("recruiter_lite", team=team)
    seat_update_settings(seat=limited, monthly_usage_limit=5, cause=SYSTEM)
    other = seat_on("recruiter_lite", team=team)
    send(limited, "linkedin.com/in/member-1")
    send(other, "linkedin.com/in/member-2")
    seats = Seat.objects.filter(team=team).order_by("pk")
    seats_overview(seats)  # anything due is applied once

    with CaptureQueriesContext(connection) as full_reads:
        full = seats_overview(seats)
    with CaptureQueriesContext(connection) as lean_reads:
        lean = seats_overview(seats, with_usage=False)

    assert len(lean_reads) == len(full_reads) - 1
    assert [row.usage for row in lean.seats] == [None, None]
    usage = full.seats[0].usage
    assert usage is not None
    assert (usage.used, usage.limit) == (1, 5)
    without_usage = [{**figures(row), "usage": None} for row in full.seats]
    assert [figures(row) for row in lean.seats] == without_usage
    assert lean.pools == full.pools
