"""Each notification links to the seat or team it speaks of, where its reader can see it now
(issue 12, item 8): the holder's own card on the home page, the console's seat page for an
admin, the seat's row on the team page for a lead, the pool on the team page; nothing they can
no longer see. And the alerts' own sentences count in the singular and the plural alike."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import AlertKind, Notification
from ledger.notifications.alerts import alerts_raise
from ledger.services import (
    Cause,
    inmail_record_response,
    inmail_send,
    pool_transfer,
    seat_cancel,
    seat_set_usage_limit,
)
from teams.models import Role, Seat
from tests.conftest import Org
from tests.factories import MembershipFactory, UserFactory, make_seat
from tests.notifications.helpers import item, notify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

SYSTEM = Cause.system("test")


@pytest.fixture
def seat(org: Org, clock: Any) -> Seat:
    return make_seat(holder=org.recruiter, team=org.team)


def link_of(client: Client, notification: Notification) -> tuple[str, str] | None:
    html = client.get(reverse("notifications:index")).content.decode()
    found = re.search(
        r'<a class="subject-link" href="([^"]*)">([^<]*)</a>', item(html, notification)
    )
    return None if found is None else (found.group(1), found.group(2).replace("&#x27;", "'"))


def test_the_holder_is_sent_to_their_seats_card_on_the_home_page(
    client: Client, org: Org, seat: Seat
) -> None:
    mine = notify(org.recruiter, seat=seat)
    client.force_login(org.recruiter)

    assert link_of(client, mine) == (
        f"/#seat-card-{seat.pk}",
        "See your Recruiter Lite seat in Talent North",
    )
    assert f'id="seat-card-{seat.pk}"' in client.get("/").content.decode()


def test_an_admin_is_sent_to_the_seat_in_the_console(client: Client, org: Org, seat: Seat) -> None:
    told = notify(org.admin, seat=seat, kind=AlertKind.QUALITY)
    client.force_login(org.admin)

    url, label = link_of(client, told) or ("", "")

    assert url == reverse("manage:seat_detail", args=[seat.pk])
    assert (
        label == f"Open {org.recruiter}'s Recruiter Lite seat in Talent North in the admin console"
    )
    assert client.get(url).status_code == 200


def test_a_lead_is_sent_to_the_seats_row_on_the_team_page(
    client: Client, org: Org, seat: Seat
) -> None:
    told = notify(org.lead, seat=seat, kind=AlertKind.QUALITY)
    client.force_login(org.lead)

    url, label = link_of(client, told) or ("", "")

    assert url == f"{reverse('team_detail', args=[org.team.pk])}#team-seat-{seat.pk}"
    assert label == f"See {org.recruiter}'s Recruiter Lite seat in Talent North"
    assert f'id="team-seat-{seat.pk}"' in client.get(url.split("#")[0]).content.decode()


def test_a_lead_is_sent_to_the_pool_on_the_team_page(client: Client, org: Org, clock: Any) -> None:
    make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_corporate")
    told = notify(org.lead, kind=AlertKind.POOL_LOW, team=org.team)
    client.force_login(org.lead)

    url, label = link_of(client, told) or ("", "")

    assert url == f"{reverse('team_detail', args=[org.team.pk])}#pool-title"
    assert label == "See the Talent North pool"
    assert 'id="pool-title"' in client.get(url.split("#")[0]).content.decode()


def test_a_cancelled_seat_sends_its_holder_to_the_team_they_still_see(
    client: Client, org: Org, seat: Seat
) -> None:
    told = notify(org.recruiter, seat=seat)
    seat_cancel(seat=seat, cause=SYSTEM)
    client.force_login(org.recruiter)

    assert link_of(client, told) == (
        f"{reverse('team_detail', args=[org.team.pk])}#totals-title",
        "See the Talent North team",
    )


def test_a_seat_and_team_out_of_sight_get_no_link(client: Client, org: Org, seat: Seat) -> None:
    org.team.share_usage = False
    org.team.save()
    told = notify(org.recruiter, seat=seat)
    seat_cancel(seat=seat, cause=SYSTEM)
    member = UserFactory.create()
    MembershipFactory.create(user=member, team=org.team, role=Role.RECRUITER)
    about_pool = notify(member, kind=AlertKind.POOL_LOW, team=org.team)
    client.force_login(org.recruiter)

    assert link_of(client, told) is None
    client.force_login(member)
    assert link_of(client, about_pool) is None


# --- the alerts' sentences ---------------------------------------------------------------------


def test_a_quality_warning_with_one_answer_says_answer(org: Org, seat: Seat) -> None:
    inmails = [
        inmail_send(
            seat=seat,
            recipient=f"linkedin.com/in/candidate-{n}",
            subject="A role",
            body="Hello",
            open_profile=True,
            cause=SYSTEM,
        ).inmail
        for n in range(100)
    ]
    inmail_record_response(inmail=inmails[0], outcome="accepted", cause=SYSTEM)

    alerts_raise()

    warning = Notification.objects.get(kind=AlertKind.QUALITY, user=org.recruiter)
    assert warning.body.startswith(
        f"{org.recruiter}'s Recruiter Lite seat had 1 answer to 100 InMails in the last 14 days"
    )


def test_a_low_pool_says_the_cap_is_shared_with_the_seats(org: Org, clock: Any) -> None:
    # One Corporate seat: the pool gets 150 under a cap of 600 that it shares with the seat.
    seat = make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_corporate")
    pool_transfer(team=org.team, seat=seat, credits=100, cause=SYSTEM)

    alerts_raise()

    alert = Notification.objects.get(kind=AlertKind.POOL_LOW, user=org.lead)
    assert alert.body == (
        "The Talent North pool holds 50 credits, under 10% of the cap of 600 that the pool and "
        "its pooled seats share."
    )
    assert alert.team == org.team


def test_a_usage_limit_of_one_paid_inmail_is_spoken_of_in_the_singular(
    org: Org, seat: Seat
) -> None:
    seat = seat_set_usage_limit(seat=seat, limit=1, cause=SYSTEM)
    inmail_send(
        seat=seat,
        recipient="https://www.linkedin.com/in/ada-lovelace",
        subject="A role",
        body="Hello",
        cause=SYSTEM,
    )

    alerts_raise(seat_ids={seat.pk})

    reached = Notification.objects.get(kind=AlertKind.USAGE_LIMIT, user=org.recruiter)
    assert reached.body.startswith(
        f"{org.recruiter}'s Recruiter Lite seat in Talent North has sent 1 of the 1 paid InMail "
        "its usage limit allows this period (100%)."
    )
