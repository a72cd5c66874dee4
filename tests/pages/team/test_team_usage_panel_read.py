"""The team page's usage-limit panel (R20) takes each seat's usage from the read of the seats'
balances (`seats_overview`) instead of counting again (issue 15): the figures are those of
`seats_usage`, seat by seat."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ledger.services import Cause, inmail_send, seats_usage
from teams.models import Seat, SeatStatus
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.team.helpers import team_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def test_the_panel_shows_what_seats_usage_counts(client: Client, org: Org, clock: Any) -> None:
    seats = [
        make_seat(holder=org.recruiter, team=org.team),
        make_seat(holder=org.teammate, team=org.team, plan_code="recruiter_corporate"),
        make_seat(holder=org.lead, team=org.team),
    ]
    for number, seat in enumerate([seats[0], seats[0], seats[1], seats[0]]):
        inmail_send(
            seat=seat,
            recipient=f"linkedin.com/in/member-{number}",
            subject="Hello",
            body="A role for you",
            open_profile=number == 3,  # free: not counted against the limit
            cause=Cause.system("test"),
        )
    client.force_login(org.lead)

    response = client.get(team_url(org.team))

    assert response.status_code == 200
    shown = {line.seat.pk: line.usage for line in response.context["usage_lines"]}
    active = Seat.objects.filter(team=org.team, status=SeatStatus.ACTIVE)
    assert shown == seats_usage(active)
    assert [shown[seat.pk].used for seat in seats] == [2, 1, 0]
