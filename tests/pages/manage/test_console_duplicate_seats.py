"""The console asks before it activates a second active seat for the same holder, team and
plan (issue 12, item 6): a warning naming the seats, and a ticked box on the next submit."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from ledger.services import seat_cancel
from teams.models import Seat, SeatStatus
from tests.conftest import Org
from tests.factories import TeamFactory, make_seat, plan
from tests.pages.manage.conftest import Console
from tests.pages.manage.helpers import SYSTEM, html_of, ledger_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

URL = "/manage/seats/new/"


def activation(org: Org, **fields: object) -> dict[str, object]:
    """The recruiter again on Recruiter Lite in Talent North: what `console.seat` is."""
    return {
        "holder": org.recruiter.pk,
        "team": org.team.pk,
        "plan": plan("recruiter_lite").pk,
        "activated_on": "",
        "pool_access": "",
        "monthly_allocation": "",
        **fields,
    }


def hidden_key(html: str) -> str:
    match = re.search(r'<input type="hidden" name="duplicate_of" value="([^"]*)"', html)
    assert match, "no duplicate_of field"
    return match.group(1)


def active_seats(org: Org) -> list[int]:
    return list(
        Seat.objects.filter(holder=org.recruiter, status=SeatStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@pytest.fixture
def today_field(console: Console) -> dict[str, str]:
    return {"activated_on": console.seat.activated_on.isoformat()}


def test_the_same_holder_team_and_plan_warns_names_the_seat_and_activates_nothing(
    admin_client: Client, console: Console, today_field: dict[str, str]
) -> None:
    assert reverse("manage:seat_create") == URL
    before = ledger_snapshot()

    response = admin_client.post(URL, activation(console.org, **today_field))

    html = html_of(response)
    assert response.status_code == 200
    assert active_seats(console.org) == [console.seat.pk]
    assert ledger_snapshot() == before
    seat = console.seat
    assert (
        f"{seat.holder} already holds an active Recruiter Lite seat in Talent North: "
        f"#{seat.pk} (activated {seat.activated_on:%Y-%m-%d})." in html
    )
    assert f'href="{reverse("manage:seat_detail", args=[seat.pk])}"' in html
    assert "Nothing was activated." in html
    assert hidden_key(html) == (
        f"{console.org.recruiter.pk}-{console.org.team.pk}-{plan('recruiter_lite').pk}"
    )
    assert 'name="confirm_duplicate"' in html
    assert 'name="confirm_duplicate" checked' not in html
    assert ">Activate another seat</button>" in html


def test_ticking_the_box_on_the_warning_activates_a_second_seat(
    admin_client: Client, console: Console, today_field: dict[str, str]
) -> None:
    asked = html_of(admin_client.post(URL, activation(console.org, **today_field)))

    response = admin_client.post(
        URL,
        activation(
            console.org, **today_field, duplicate_of=hidden_key(asked), confirm_duplicate="on"
        ),
        follow=True,
    )

    seats = active_seats(console.org)
    assert len(seats) == 2
    assert response.redirect_chain == [(reverse("manage:seat_detail", args=[seats[1]]), 302)]
    html = html_of(response)
    assert f"Activated seat #{seats[1]}" in html
    holder = console.org.recruiter
    assert f"{holder} now holds 1 other active seat on this plan in this team." in html


def test_a_third_seat_is_asked_about_again_and_names_both(
    admin_client: Client, console: Console, today_field: dict[str, str]
) -> None:
    second = make_seat(holder=console.org.recruiter, team=console.org.team)

    html = html_of(admin_client.post(URL, activation(console.org, **today_field)))

    assert f"#{console.seat.pk} (activated" in html
    assert f"#{second.pk} (activated" in html
    assert active_seats(console.org) == [console.seat.pk, second.pk]


@pytest.mark.parametrize(
    "confirmation",
    [
        {"confirm_duplicate": "on"},  # the box without the warning's key: never shown
        {"confirm_duplicate": "on", "duplicate_of": "1-2-3"},  # a key about other choices
        {"duplicate_of": "use-the-key"},  # the key, the box left unticked
    ],
)
def test_anything_but_the_ticked_box_on_this_warning_asks_again(
    admin_client: Client,
    console: Console,
    today_field: dict[str, str],
    confirmation: dict[str, str],
) -> None:
    if confirmation.get("duplicate_of") == "use-the-key":
        asked = html_of(admin_client.post(URL, activation(console.org, **today_field)))
        confirmation = {"duplicate_of": hidden_key(asked)}

    response = admin_client.post(URL, activation(console.org, **today_field, **confirmation))

    assert response.status_code == 200
    assert "Nothing was activated." in html_of(response)
    assert active_seats(console.org) == [console.seat.pk]


def test_a_confirmation_about_another_holder_does_not_carry_over(
    admin_client: Client, console: Console, today_field: dict[str, str]
) -> None:
    org = console.org
    make_seat(holder=org.teammate, team=org.team)
    asked = html_of(admin_client.post(URL, activation(org, holder=org.teammate.pk, **today_field)))

    # The admin switches to the recruiter, who also holds such a seat, with the box ticked.
    response = admin_client.post(
        URL,
        activation(org, **today_field, duplicate_of=hidden_key(asked), confirm_duplicate="on"),
    )

    html = html_of(response)
    assert "Nothing was activated." in html
    assert f"{org.recruiter} already holds an active Recruiter Lite seat" in html
    assert active_seats(org) == [console.seat.pk]


@pytest.mark.parametrize(
    "change",
    ["another_plan", "another_team", "cancelled", "another_holder"],
)
def test_no_active_seat_on_the_same_three_activates_at_once(
    admin_client: Client, console: Console, today_field: dict[str, str], change: str
) -> None:
    org = console.org
    fields: dict[str, object] = dict(today_field)
    if change == "another_plan":
        fields["plan"] = plan("premium_business").pk
    elif change == "another_team":
        fields["team"] = TeamFactory.create(name="Talent West").pk
    elif change == "cancelled":
        seat_cancel(seat=console.seat, cause=SYSTEM)
    else:
        fields["holder"] = org.teammate.pk

    response = admin_client.post(URL, activation(org, **fields), follow=True)

    html = html_of(response)
    assert response.redirect_chain[-1][1] == 302
    assert "Activated seat #" in html
    assert "already holds" not in html
    assert "other active seat" not in html


def test_a_refusal_after_confirming_keeps_the_warning_and_the_ticked_box(
    admin_client: Client, console: Console, today_field: dict[str, str]
) -> None:
    org = console.org
    corporate = {"plan": plan("recruiter_corporate").pk, **today_field}
    make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_corporate")
    asked = html_of(admin_client.post(URL, activation(org, **corporate)))
    before = ledger_snapshot()

    # Two pooled seats: the pool receives 300 a month, so an allocation of 301 is refused.
    response = admin_client.post(
        URL,
        activation(
            org,
            **corporate,
            monthly_allocation="301",
            duplicate_of=hidden_key(asked),
            confirm_duplicate="on",
        ),
    )

    html = html_of(response)
    assert response.status_code == 200
    assert "its monthly grant is 300 credits" in html
    assert "already holds an active Recruiter Corporate seat" in html
    assert re.search(r'name="confirm_duplicate"[^>]*checked', html)
    assert ledger_snapshot() == before
    assert Seat.objects.filter(holder=org.recruiter, plan__code="recruiter_corporate").count() == 1
