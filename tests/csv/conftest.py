"""The CSV tests' organisation: the clock at NOW, and a seat for each `org` person who holds one
(the teammate's on the pooled Recruiter Corporate plan), all activated on 1 June 2025."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from time_machine import TimeMachineFixture

from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

NOW = datetime(2025, 6, 16, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine: TimeMachineFixture) -> None:
    """Every CSV test starts at NOW, with the clock stopped."""
    time_machine.move_to(NOW, tick=False)


@dataclass
class Seats:
    lead: Seat
    recruiter: Seat
    teammate_pooled: Seat
    outsider: Seat


@pytest.fixture
def seats(org: Org) -> Seats:
    activated = date(2025, 6, 1)
    return Seats(
        lead=make_seat(holder=org.lead, team=org.team, activated_on=activated),
        recruiter=make_seat(holder=org.recruiter, team=org.team, activated_on=activated),
        teammate_pooled=make_seat(
            plan_code="recruiter_corporate",
            holder=org.teammate,
            team=org.team,
            activated_on=activated,
        ),
        outsider=make_seat(holder=org.outsider, team=org.other_team, activated_on=activated),
    )
