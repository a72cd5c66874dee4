"""Counts read right in the singular and the plural (issue 12, item 8): the CSV import preview and
the team page's idle seats say '1 InMail', '2 InMails', 'Fix it', 'Fix them', never 'InMail(s)'
or '1 credits'."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ledger.services import Cause, inmail_send, pool_transfer
from ledger.web.csv_views import PREVIEW_PROBLEMS
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADER = "seat,recipient,subject,body,sent_at\n"


@pytest.fixture
def seat(org: Org, clock: Any) -> Seat:
    return make_seat(holder=org.recruiter, team=org.team, activated_on=date(2026, 2, 1))


def preview(client: Client, seat: Seat, *, good: int, bad: int) -> str:
    rows = [
        f"{seat.pk},https://www.linkedin.com/in/person-{n},Hello,A role,2026-02-{n % 27 + 1:02d}"
        for n in range(good)
    ] + [f"{seat.pk},https://www.linkedin.com/in/bad-{n},,A role,2026-02-02" for n in range(bad)]
    text = HEADER + "".join(f"{row}\n" for row in rows)
    client.post(reverse("csv:import"), {"file": SimpleUploadedFile("h.csv", text.encode())})
    return re.sub(r"\s+", " ", client.get(reverse("csv:import_preview")).content.decode())


def test_one_importable_inmail_is_counted_in_the_singular(
    client: Client, org: Org, seat: Seat
) -> None:
    client.force_login(org.recruiter)

    html = preview(client, seat, good=1, bad=0)

    assert "1 InMail will be recorded as history: counted in analytics, never charged." in html
    assert '<button type="submit">Import 1 InMail</button>' in html


def test_two_importable_inmails_are_counted_in_the_plural(
    client: Client, org: Org, seat: Seat
) -> None:
    client.force_login(org.recruiter)

    html = preview(client, seat, good=2, bad=0)

    assert "2 InMails will be recorded as history" in html
    assert '<button type="submit">Import 2 InMails</button>' in html


@pytest.mark.parametrize(("bad", "fix"), [(1, "Fix it in the file"), (2, "Fix them in the file")])
def test_the_problems_are_spoken_of_as_it_or_them(
    client: Client, org: Org, seat: Seat, bad: int, fix: str
) -> None:
    client.force_login(org.recruiter)

    html = preview(client, seat, good=1, bad=bad)

    assert f"{fix} and upload it again." in html
    assert "Import " not in html.split("Discard this file")[0].split("</table>")[-1]


@pytest.mark.parametrize(
    ("over", "said"), [(1, "… and 1 more problem."), (2, "… and 2 more problems.")]
)
def test_problems_beyond_the_listed_ones_are_counted_right(
    client: Client, org: Org, seat: Seat, over: int, said: str
) -> None:
    client.force_login(org.recruiter)

    html = preview(client, seat, good=0, bad=PREVIEW_PROBLEMS + over)

    assert said in html


@pytest.mark.parametrize(("own", "said"), [(1, "1 credit"), (2, "2 credits")])
def test_an_idle_seat_counts_its_credits_right(
    client: Client, org: Org, clock: Any, own: int, said: str
) -> None:
    pooled = make_seat(
        holder=org.recruiter,
        team=org.team,
        plan_code="recruiter_corporate",
        activated_on=date(2026, 1, 1),
    )
    pool_transfer(team=org.team, seat=pooled, credits=own, cause=Cause.system("test"))
    clock.shift(timedelta(days=1))
    client.force_login(org.lead)

    html = client.get(reverse("team_detail", args=[org.team.pk])).content.decode()

    idle = re.sub(r"\s+", " ", html.split('class="idle-seats"')[1].split("</ul>")[0])
    assert f"· Recruiter Corporate · {said}</small>" in idle


@pytest.mark.parametrize(("sent", "said"), [(1, "1 InMail"), (2, "2 InMails")])
def test_my_inmails_are_counted_right(
    client: Client, org: Org, seat: Seat, sent: int, said: str
) -> None:
    for n in range(sent):
        inmail_send(
            seat=seat,
            recipient=f"https://www.linkedin.com/in/person-{n}",
            subject="A role",
            body="Hello",
            cause=Cause.system("test"),
        )
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert f"Page 1 of 1 · {said}</span>" in html
