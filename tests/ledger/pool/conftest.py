"""Talent North and its first pooled Recruiter Corporate seat."""

from __future__ import annotations

import pytest
from time_machine import TimeMachineFixture

from teams.models import Seat, Team
from tests.ledger.helpers import new_team, seat_on, utc


@pytest.fixture
def team(db: None) -> Team:
    return new_team("Talent North")


@pytest.fixture
def pooled(team: Team, time_machine: TimeMachineFixture) -> Seat:
    """The team's first Recruiter Corporate seat, activated on 10 January 2025; now 12 January."""
    time_machine.move_to(utc(2025, 1, 10, 9), tick=False)
    seat = seat_on("recruiter_corporate", team=team)
    time_machine.move_to(utc(2025, 1, 12, 9))
    return seat
