"""The team page's set-up: a pooled Talent North and the outsider's seat, the clock at START."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.team.helpers import START


@dataclass
class PooledTeam:
    """`org.team` on Recruiter Corporate: the lead and the recruiter share a pool of 300."""

    lead: Seat
    recruiter: Seat
    teammate: Seat
    outsider: Seat


@pytest.fixture
def pooled(org: Org, clock: Any) -> PooledTeam:
    return PooledTeam(
        lead=make_seat(holder=org.lead, team=org.team, plan_code="recruiter_corporate"),
        recruiter=make_seat(
            holder=org.recruiter,
            team=org.team,
            plan_code="recruiter_corporate",
            pool_access=True,
        ),
        teammate=make_seat(holder=org.teammate, team=org.team, plan_code="recruiter_lite"),
        outsider=make_seat(holder=org.outsider, team=org.other_team),
    )


@pytest.fixture
def clock_start() -> datetime:
    return START
