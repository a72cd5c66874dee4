from __future__ import annotations

from dataclasses import dataclass

import pytest

from teams.models import Role, Seat, User
from tests.conftest import Org
from tests.factories import MembershipFactory, UserFactory, make_seat


@dataclass
class OrgSeats:
    """One seat for each person of the `org` fixture who holds one, plus a two-team user.

    `dual` leads `other_team` and is a recruiter in `team`, with a seat of their own there.
    """

    lead: Seat
    recruiter: Seat
    teammate: Seat
    outsider: Seat
    dual_user: User
    dual: Seat


@pytest.fixture
def seats(org: Org) -> OrgSeats:
    dual_user = UserFactory.create(username="dual")
    MembershipFactory.create(user=dual_user, team=org.other_team, role=Role.LEAD)
    MembershipFactory.create(user=dual_user, team=org.team, role=Role.RECRUITER)
    return OrgSeats(
        lead=make_seat(holder=org.lead, team=org.team),
        recruiter=make_seat(holder=org.recruiter, team=org.team),
        teammate=make_seat(holder=org.teammate, team=org.team),
        outsider=make_seat(holder=org.outsider, team=org.other_team),
        dual_user=dual_user,
        dual=make_seat(holder=dual_user, team=org.team),
    )
