"""The recruiter home's set-up: a seat for each `org` person who holds one, the clock at START."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.home.helpers import START


@dataclass
class HomeSeats:
    lead: Seat
    recruiter: Seat
    teammate: Seat
    outsider: Seat


@pytest.fixture
def seats(org: Org, clock: Any) -> HomeSeats:
    return HomeSeats(
        lead=make_seat(holder=org.lead, team=org.team),
        recruiter=make_seat(holder=org.recruiter, team=org.team),
        teammate=make_seat(holder=org.teammate, team=org.team),
        outsider=make_seat(holder=org.outsider, team=org.other_team),
    )


@pytest.fixture
def clock_start() -> datetime:
    return START
