"""The run-out forecast on GET /api/v1/seats/{id}/balance/: `run_out_on` and
`pool_run_out_on` (issue 13; docs/rules.md, "Run-out forecast").

The world's clock stands at 15 January 2025, 09:00 UTC (the organisation's zone): the
Recruiter Lite seat holds 30 credits and refreshes on 15 February; Talent North's pool holds
2 × 150 from the two Corporate seats. Dates are worked out by hand: at r credits a day, ⌊d × r⌋
are spent by the end of day d (today is day 0).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.services import pool_transfer, seat_cancel
from teams.models import Seat
from tests.api.conftest import SYSTEM, World, send
from tests.api.test_schema import served_schema
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db


def balance(client: APIClient, seat: Seat, query: str = "") -> Any:
    answer = client.get(f"/api/v1/seats/{seat.pk}/balance/{query}")
    assert answer.status_code == 200
    return answer.json()


def sends(seat: Seat, count: int) -> None:
    for n in range(count):
        send(seat, f"https://www.linkedin.com/in/person-{seat.pk}-{n}/")


def dates(answer: Any) -> tuple[str | None, str | None]:
    return answer["run_out_on"], answer["pool_run_out_on"]


def test_a_seat_that_sends_nothing_has_no_run_out_dates(
    world: World, as_recruiter: APIClient
) -> None:
    assert dates(balance(as_recruiter, world.seat)) == (None, None)


def test_own_credits_run_out_at_the_trailing_spend(world: World, as_recruiter: APIClient) -> None:
    sends(world.seat, 25)  # 25 in 30 days: 5/6 a day; 5 left

    # ⌊5d/6⌋ = 5 on day 6: 21 January, before the 15 February refresh.
    assert dates(balance(as_recruiter, world.seat)) == ("2025-01-21", None)


def test_a_pooled_seat_has_a_pool_date_even_when_it_sends_nothing(
    world: World, as_recruiter: APIClient, as_teammate: APIClient
) -> None:
    pool_transfer(team=world.team, seat=world.pooled_seat_2, credits=260, cause=SYSTEM)
    sends(world.pooled_seat, 30)  # nothing of its own: all from the pool, 1 a day; 10 left

    # The pool: 300 − 260 − 30 = 10, gone at the end of day 10, 25 January. The teammate's
    # seat sent nothing, so its own 260 have no date, but the pool it draws on does.
    assert dates(balance(as_recruiter, world.pooled_seat)) == (None, "2025-01-25")
    assert dates(balance(as_teammate, world.pooled_seat_2)) == (None, "2025-01-25")


def test_the_forecast_as_of_a_past_instant_is_the_one_made_then(
    world: World, as_recruiter: APIClient, time_machine: TimeMachineFixture
) -> None:
    sends(world.seat, 25)
    time_machine.move_to(utc(2025, 1, 18, 9), tick=False)

    then = balance(as_recruiter, world.seat, "?as_of=2025-01-15T10:00:00Z")
    now = balance(as_recruiter, world.seat)

    assert then["run_out_on"] == "2025-01-21"
    # Nothing was really spent since: the same 5 credits, counted from 18 January.
    assert now["run_out_on"] == "2025-01-24"


def test_a_cancelled_seat_has_no_run_out_dates(world: World, as_recruiter: APIClient) -> None:
    sends(world.pooled_seat, 30)
    seat_cancel(seat=world.pooled_seat, cause=SYSTEM)

    assert dates(balance(as_recruiter, world.pooled_seat)) == (None, None)


def test_the_schema_documents_both_dates_as_nullable_dates() -> None:
    properties = served_schema()["components"]["schemas"]["SeatBalance"]["properties"]

    for name in ("run_out_on", "pool_run_out_on"):
        assert properties[name]["type"] == "string"
        assert properties[name]["format"] == "date"
        assert properties[name]["nullable"] is True
        assert properties[name]["readOnly"] is True


@pytest.mark.parametrize("as_of", ["2025-01-14T23:59:59Z", "0001-01-02T00:00:00Z"])
def test_before_the_seat_was_activated_there_is_nothing_to_run_out_of(
    world: World, as_recruiter: APIClient, as_of: str
) -> None:
    sends(world.seat, 25)

    assert dates(balance(as_recruiter, world.seat, f"?as_of={as_of}")) == (None, None)
