"""The admin console's set-up: the `org` fixture plus a seat of the recruiter and the outsider.

`admin_client`, signed in as the `org` admin, is in tests/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from teams.models import Membership, Seat
from tests.conftest import Org
from tests.factories import make_seat


@dataclass
class Console:
    """The `org` fixture plus what the console pages are about."""

    org: Org
    seat: Seat  # the recruiter's Recruiter Lite seat in `org.team`: 30 credits
    other_seat: Seat  # the outsider's seat in `org.other_team`
    membership: Membership  # the teammate's membership of `org.team`


@pytest.fixture
def console(org: Org) -> Console:
    return Console(
        org=org,
        seat=make_seat(holder=org.recruiter, team=org.team),
        other_seat=make_seat(holder=org.outsider, team=org.other_team),
        membership=Membership.objects.get(user=org.teammate, team=org.team),
    )
