"""The organisation overview's hand-built organisation, and what the tests read off the page.

Built by moving the clock from 5 January to START (20 March 2026, 09:00 UTC), through the
ledger's own services. The figures each team should show at START, worked out by hand:

Talent North (shares usage)
- teammate, Premium Career (5 a month, cap 15) from 5 Jan: granted 5 on Jan 5; sends 2 paid
  InMails on Jan 10 (lot Jan 5: 3 left), one replied Jan 12 (refund lot of 1, expires Apr 12
  09:00); Feb 5 grants 5 (held 9); a bonus of 3 on Feb 20 (expires Mar 22 09:00; held 12);
  Mar 5 grants min(5, 15 - 12) = 3 (held 15); an adjustment of +10 at START: 25.
  Expiring by Mar 27 09:00: the bonus, 3; by Apr 19 09:00: bonus 3 + lot Jan 5 3 (Apr 5) +
  refund 1 = 7. Next refresh Apr 5 00:00: the bonus and lot Jan 5 are gone by then, B = 19:
  grant 0, lost to cap 5 + (19 - 15) = 9. Last InMail Jan 10: idle. Charged 29.99 on Mar 5.
- recruiter, Recruiter Lite (30, cap 120) from Mar 1: 4 paid InMails and 1 Open Profile on
  Mar 10, one accepted Mar 12 (refund 1); at START a purchase of 10 (USD 100.00) and a bonus
  of 5 (expires Apr 19 09:00, inside the 30 days): 30 - 4 + 1 + 10 + 5 = 42. Nothing lost at
  its Apr 1 refresh (B = 32). Charged 170.00 on Mar 1.
- North: 2 seats, held 67, expiring 3 / 12, lost to cap 9, spent 4 in March, cost 299.99,
  1 response in March. Response rate since Jan 1: answered within 30 days 2 (the reply, the
  acceptance) of 3 eligible (those two and the Jan 10 InMail still pending after 69 days);
  7 sent. Idle 1.

Talent South (shares usage)
- outsider: a Recruiter Lite seat from Mar 1, cancelled Mar 10 (charged 170.00 on Mar 1,
  holds nothing), and a new one at START: 30 credits, charged 170.00.
- South: 1 seat, held 30, nothing at risk, spent 0, cost 340.00, no InMail: rate "—".

Talent East (private: share_usage false), pooled
- two Recruiter Corporate seats at START: the pool is granted 150 + 150; cap 600 x 2. One
  InMail paid from the pool (299 left); an adjustment of +1,000 to the first seat's own
  account. Next pool refresh Apr 20 00:00: B = 299 + 1,000 = 1,299: grant 0, lost to cap
  300 + 99 = 399, counted once (each pooled seat's balance repeats the pool's figure).
- East: 2 seats, held 1,299, lost to cap 399, spent 1, cost 2,160.00, 1 sent, 0 eligible.

Talent West: no seat; every figure 0.

Organisation: 5 seats, held 1,396, expiring 3 / 12, lost to cap 408, spent 5, cost 2,799.99
(per response 2,799.99), rate 2 of 3 eligible (67 %), 8 sent, idle 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import time_machine

from ledger.models import InMail
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    purchase_record,
    seat_cancel,
)
from teams.models import Role, Seat, Team
from tests.conftest import Org
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_seat

START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
SYSTEM = Cause.system("test")


@dataclass
class OverviewOrg:
    org: Org
    east: Team
    west: Team
    teammate_seat: Seat
    recruiter_seat: Seat
    south_seat: Seat
    south_cancelled: Seat
    east_seats: list[Seat]


def _at(clock: time_machine.Traveller, year: int, month: int, day: int) -> None:
    clock.move_to(datetime(year, month, day, 9, 0, tzinfo=UTC))


def _send(seat: Seat, recipient: str, *, open_profile: bool = False) -> int:
    sent = inmail_send(
        seat=seat,
        recipient=recipient,
        subject="A role you may like",
        body="Hello, would you talk about a role?",
        open_profile=open_profile,
        cause=SYSTEM,
    )
    return sent.inmail.pk


def build_overview_org(org: Org, clock: time_machine.Traveller) -> OverviewOrg:
    """The organisation above; the clock ends at START. `clock` must start on 5 Jan 2026."""
    assert datetime.now(UTC).date() == date(2026, 1, 5)
    east = TeamFactory.create(name="Talent East", share_usage=False)
    west = TeamFactory.create(name="Talent West")
    east_lead = UserFactory.create(username="east_lead")
    east_recruiter = UserFactory.create(username="east_recruiter")
    MembershipFactory.create(user=east_lead, team=east, role=Role.LEAD)
    MembershipFactory.create(user=east_recruiter, team=east, role=Role.RECRUITER)

    teammate_seat = make_seat(holder=org.teammate, team=org.team, plan_code="premium_career")
    _at(clock, 2026, 1, 10)
    replied = _send(teammate_seat, "https://www.linkedin.com/in/ada")
    _send(teammate_seat, "https://www.linkedin.com/in/grace")
    _at(clock, 2026, 1, 12)
    inmail_record_response(inmail=InMail.objects.get(pk=replied), outcome="replied", cause=SYSTEM)
    _at(clock, 2026, 2, 20)
    bonus_grant(seat=teammate_seat, credits=3, memo="February push", cause=SYSTEM)

    _at(clock, 2026, 3, 1)
    recruiter_seat = make_seat(holder=org.recruiter, team=org.team)
    south_cancelled = make_seat(holder=org.outsider, team=org.other_team)
    _at(clock, 2026, 3, 10)
    accepted = _send(recruiter_seat, "https://www.linkedin.com/in/alan")
    for name in ("barbara", "claude", "donald"):
        _send(recruiter_seat, f"https://www.linkedin.com/in/{name}")
    _send(recruiter_seat, "https://www.linkedin.com/in/edsger", open_profile=True)
    seat_cancel(seat=south_cancelled, cause=SYSTEM)
    _at(clock, 2026, 3, 12)
    inmail_record_response(inmail=InMail.objects.get(pk=accepted), outcome="accepted", cause=SYSTEM)

    clock.move_to(START)
    adjustment_post(seat=teammate_seat, credits=10, reason="LinkedIn shows 25", cause=SYSTEM)
    purchase_record(seat=recruiter_seat, credits=10, cause=SYSTEM)
    bonus_grant(seat=recruiter_seat, credits=5, memo="Hiring sprint", cause=SYSTEM)
    south_seat = make_seat(holder=org.outsider, team=org.other_team)
    east_seats = [
        make_seat(holder=holder, team=east, plan_code="recruiter_corporate")
        for holder in (east_lead, east_recruiter)
    ]
    _send(east_seats[1], "https://www.linkedin.com/in/frances")
    adjustment_post(seat=east_seats[0], credits=1000, reason="Migration", cause=SYSTEM)
    return OverviewOrg(
        org=org,
        east=east,
        west=west,
        teammate_seat=teammate_seat,
        recruiter_seat=recruiter_seat,
        south_seat=south_seat,
        south_cancelled=south_cancelled,
        east_seats=east_seats,
    )


def team_row(html: str, team_id: int | str) -> str:
    """The overview table's row of a team ("all": the organisation's)."""
    match = re.search(rf'<tr data-team-id="{team_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for team {team_id}"
    return match.group(1)


def cell(row: str, stat: str) -> str:
    """A cell's text, tags and visually hidden words left out, spaces collapsed."""
    match = re.search(rf'<td[^>]*data-stat="{stat}"[^>]*>(.*?)</td>', row, re.S)
    assert match, f"no {stat} cell"
    text = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1))
    text = re.sub(r"<br>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(text.split())


def tile(html: str, stat: str) -> str:
    """An organisation tile's figure, as `cell` reads it."""
    match = re.search(rf'<dd data-stat="{stat}">(.*?)</dd>', html, re.S)
    assert match, f"no {stat} tile"
    text = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1))
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(text.split())
