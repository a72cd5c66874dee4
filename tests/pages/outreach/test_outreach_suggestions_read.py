"""The send form's template and tag suggestions, read as a skip scan (issue 15): the same lists
as the plain DISTINCT over every InMail of the teams that they replace, on random histories."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import InMail, InMailTag
from ledger.services import inmail_send
from ledger.web.forms import SUGGESTIONS_MAX, outreach_suggestions
from teams.models import Seat
from tests.conftest import Org
from tests.ledger.helpers import SYSTEM, seat_on

pytestmark = pytest.mark.django_db

WORDS = ["", "Intro", "intro", "Follow-up", "Zeta", "alpha", "Ägypten", "b"]


def distinct_over_every_inmail(seats: object) -> tuple[list[str], list[str]]:
    """What the suggestions were before: DISTINCT over every InMail of the seats' teams."""
    assert isinstance(seats, type(Seat.objects.all()))
    inmails = InMail.objects.filter(seat__team__in=seats.values("team"))
    templates = (
        inmails.exclude(template="")
        .order_by("template")
        .values_list("template", flat=True)
        .distinct()[:SUGGESTIONS_MAX]
    )
    tags = (
        InMailTag.objects.filter(inmail__in=inmails)
        .order_by("tag")
        .values_list("tag", flat=True)
        .distinct()[:SUGGESTIONS_MAX]
    )
    return list(templates), list(tags)


def log(seat: Seat, number: int, template: str, tags: list[str]) -> None:
    # Open Profile: free, so a seat sends as many as the test wants.
    inmail_send(
        seat=seat,
        recipient=f"linkedin.com/in/member-{number}",
        subject="A role",
        body="Hello",
        open_profile=True,
        cause=SYSTEM,
        template=template,
        tags=tags,
    )


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sends=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),  # which seat
            st.sampled_from(WORDS),
            st.lists(st.sampled_from([w.lower() for w in WORDS if w]), max_size=4, unique=True),
        ),
        max_size=12,
    )
)
def test_the_suggestions_are_the_distinct_values_of_the_teams(
    org: Org, sends: list[tuple[int, str, list[str]]]
) -> None:
    # Hypothesis runs every example in the test's one transaction: the seats are made once.
    InMail.objects.all().delete()
    seats = list(Seat.objects.order_by("pk")) or [
        seat_on("recruiter_lite", holder=org.recruiter, team=org.team),
        seat_on("recruiter_lite", holder=org.teammate, team=org.team),
        seat_on("recruiter_lite", holder=org.outsider, team=org.other_team),
    ]
    for number, (which, template, tags) in enumerate(sends):
        log(seats[which], number, template, tags)
    for chosen in ([0], [2], [0, 2], [1], []):
        asked = Seat.objects.filter(pk__in=[seats[index].pk for index in chosen])
        assert outreach_suggestions(asked) == distinct_over_every_inmail(asked)


def test_at_most_fifty_of_each_alphabetically(org: Org) -> None:
    seat = seat_on("recruiter_lite", holder=org.recruiter, team=org.team)
    names = [f"t{number:02d}" for number in range(SUGGESTIONS_MAX + 5)]
    for number in range(0, len(names), 10):
        log(seat, number, f"template {names[number]}", names[number : number + 10])

    templates, tags = outreach_suggestions(Seat.objects.filter(pk=seat.pk))

    assert tags == names[:SUGGESTIONS_MAX]
    assert templates == [f"template t{number:02d}" for number in range(0, len(names), 10)]
