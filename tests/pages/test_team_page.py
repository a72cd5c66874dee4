"""The team page: seats, the pool, what is at risk, moves and allocations, team analytics."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import Account, AccountKind, Entry, EntryKind
from ledger.services import Cause, bonus_grant, inmail_record_response, inmail_send
from teams.models import Role, Seat, Team, User
from tests.conftest import Org
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

HTMX = {"HX-Request": "true"}
START = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)


@dataclass
class PooledTeam:
    """`org.team` on Recruiter Corporate: the lead and the recruiter share a pool of 300."""

    lead: Seat
    recruiter: Seat
    teammate: Seat
    outsider: Seat


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


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


def team_url(team: Team) -> str:
    return reverse("team_detail", args=[team.pk])


def move_url(team: Team, seat: Seat) -> str:
    return reverse("team_seat_move", args=[team.pk, seat.pk])


def settings_url(team: Team, seat: Seat) -> str:
    return reverse("team_seat_settings", args=[team.pk, seat.pk])


def own(seat: Seat) -> int:
    return Account.objects.get(seat=seat).balance


def pool(team: Team) -> int:
    return Account.objects.get(team=team, kind=AccountKind.POOL).balance


def seat_rows(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="team-seat-(\d+)"', html)}


def seat_row(html: str, seat: Seat) -> str:
    return html[html.index(f'id="team-seat-{seat.pk}"') :].split("</tr>")[0]


# --- who may see it ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "lead"])
def test_admins_and_leads_see_every_seat_of_the_team(
    client: Client, org: Org, pooled: PooledTeam, who: str
) -> None:
    client.force_login(getattr(org, who))

    response = client.get(team_url(org.team))

    assert response.status_code == 200
    html = response.content.decode()
    assert seat_rows(html) == {pooled.lead.pk, pooled.recruiter.pk, pooled.teammate.pk}
    assert "Moves and allocations" in html
    assert 'id="chart-rate-recruiter"' in html


def test_a_recruiter_of_a_sharing_team_sees_totals_and_analytics_read_only(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.recruiter)

    response = client.get(team_url(org.team))

    assert response.status_code == 200
    html = response.content.decode()
    assert "read-only" in html
    assert seat_rows(html) == set()
    assert "/move/" not in html
    assert "/settings/" not in html
    assert 'data-stat="pool">300' in html
    # Totals and analytics, but not each teammate's own numbers.
    assert 'id="chart-rate-month"' in html
    assert 'id="chart-rate-recruiter"' not in html
    assert str(org.teammate) not in html


def test_a_recruiter_of_a_team_that_hides_usage_gets_404(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    org.team.share_usage = False
    org.team.save()
    client.force_login(org.recruiter)

    assert client.get(team_url(org.team)).status_code == 404


@pytest.mark.parametrize("who", ["outsider", "nobody"])
def test_people_outside_the_team_get_404(
    client: Client, org: Org, pooled: PooledTeam, who: str
) -> None:
    client.force_login(getattr(org, who))

    assert client.get(team_url(org.team)).status_code == 404


def test_an_unknown_team_is_404(client: Client, org: Org) -> None:
    client.force_login(org.admin)

    assert client.get(reverse("team_detail", args=[999_999])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, org: Org) -> None:
    response = client.get(team_url(org.team))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_teams_link_goes_straight_to_a_single_team(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.get(reverse("team_list"))

    assert response.status_code == 302
    assert response["Location"] == team_url(org.team)


def test_the_teams_link_lists_every_team_for_an_admin(client: Client, org: Org) -> None:
    client.force_login(org.admin)

    html = client.get(reverse("team_list")).content.decode()

    assert team_url(org.team) in html
    assert team_url(org.other_team) in html


def test_the_teams_link_tells_someone_without_a_team_why_it_is_empty(
    client: Client, org: Org
) -> None:
    client.force_login(org.nobody)

    html = client.get(reverse("team_list")).content.decode()

    assert "No team page to show" in html


# --- what the lead sees -----------------------------------------------------------------------


def test_seat_rows_show_plan_status_balance_pool_access_allocation_refresh_and_activity(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    from ledger.services import seat_update_settings

    seat_update_settings(seat=pooled.recruiter, monthly_allocation=15, cause=Cause.system("test"))
    clock.shift(timedelta(days=3))
    inmail_send(
        seat=pooled.teammate,
        recipient="linkedin.com/in/ada",
        subject="Hello",
        body="A role for you",
        cause=Cause.system("test"),
    )
    client.force_login(org.lead)

    html = client.get(team_url(org.team)).content.decode()

    recruiter = seat_row(html, pooled.recruiter)
    assert str(org.recruiter) in recruiter
    assert "Recruiter Corporate" in recruiter
    assert "Active" in recruiter
    assert '<td class="num" data-stat="own">0</td>' in recruiter
    assert "<td>Yes</td>" in recruiter
    assert '<td class="num" data-stat="allocation">15</td>' in recruiter
    # Pooled seats take their allocation at the pool's refresh, on its anchor day.
    assert "2026-02-10 <small>+15</small>" in recruiter
    assert "never" in recruiter
    teammate = seat_row(html, pooled.teammate)
    assert '<td class="num" data-stat="own">29</td>' in teammate
    assert "2026-02-10 <small>+30</small>" in teammate
    assert "2026-01-13" in teammate  # last InMail
    assert 'data-stat="pool-available">300<' in html


def test_a_cancelled_seat_is_listed_with_its_status_and_no_forms(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    from ledger.services import seat_cancel

    seat_cancel(seat=pooled.recruiter, cause=Cause.system("test"))
    client.force_login(org.lead)

    response = client.get(team_url(org.team))

    row = seat_row(response.content.decode(), pooled.recruiter)
    assert "Cancelled" in row
    assert '<td class="num" data-stat="own">0</td>' in row
    assert f'id="pool-seat-{pooled.recruiter.pk}"' not in response.content.decode()
    assert pooled.recruiter not in [line.row.seat for line in response.context["idle_lines"]]


def test_the_at_risk_panel_counts_expiring_credits_lost_to_cap_and_idle_seats(
    client: Client, org: Org, clock: Any
) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_lite")
    busy = make_seat(holder=org.teammate, team=org.team, plan_code="recruiter_lite")
    # 85 days on: the activation lot (Jan 10) expires on Apr 10; the refreshes of Feb 10 and
    # Mar 10 live until May 11 and Jun 8.
    clock.move_to(datetime(2026, 4, 5, tzinfo=UTC))
    bonus_grant(seat=seat, credits=100, memo="Hiring push", cause=Cause.system("test"))
    inmail_send(
        seat=busy,
        recipient="linkedin.com/in/ada",
        subject="Hello",
        body="A role for you",
        cause=Cause.system("test"),
    )
    client.force_login(org.lead)

    response = client.get(team_url(org.team))

    risks = {risk.name: risk for risk in response.context["at_risk"]}
    risk = risks[str(org.recruiter)]
    # 7 days: the activation lot (30). 30 days: that and the bonus, expiring on May 5 (130).
    # At the refresh of Apr 10 the capped balance is 60 + 100 = 160 against a cap of 120:
    # nothing granted (30 lost) and 40 trimmed above the cap.
    assert (risk.expiring_7d, risk.expiring_30d, risk.lost_to_cap) == (30, 130, 70)
    idle = [line.row.seat for line in response.context["idle_lines"]]
    assert idle == [seat]
    html = response.content.decode()
    assert 'data-stat="lost-to-cap">70' in html
    assert '<td class="num">130</td>' in html


# --- moves between the pool and seats ------------------------------------------------------------


def test_a_lead_moves_credits_from_the_pool_to_a_seat(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "20"}, headers=HTMX)

    assert response.status_code == 200
    assert (own(pooled.recruiter), pool(org.team)) == (20, 280)
    html = response.content.decode()
    assert (
        f"Moved 20 credits from the pool to {org.recruiter}: the seat holds 20, the pool 280."
        in html
    )
    assert html.lstrip().startswith('<div id="team-ledger">')
    entry = Entry.objects.get(account__seat=pooled.recruiter, kind=EntryKind.TRANSFER)
    assert (entry.amount, entry.actor, entry.cause) == (20, org.lead, "web")


def test_a_negative_move_returns_credits_to_the_pool(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)
    client.post(move_url(org.team, pooled.recruiter), {"credits": "20"}, headers=HTMX)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "-5"}, headers=HTMX)

    assert response.status_code == 200
    assert (own(pooled.recruiter), pool(org.team)) == (15, 285)
    assert "Moved 5 credits to the pool from" in response.content.decode()


def test_a_move_without_htmx_redirects_back_to_the_team_page(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.admin)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "7"})

    assert response.status_code == 302
    assert response["Location"] == team_url(org.team)
    assert (own(pooled.recruiter), pool(org.team)) == (7, 293)
    assert "Moved 7 credits" in client.get(team_url(org.team)).content.decode()


def test_moving_more_than_the_pool_holds_is_refused_and_changes_nothing(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "1000"}, headers=HTMX)

    assert response.status_code == 409
    assert "The pool holds 300 credits; 1000 can&#x27;t be moved." in response.content.decode()
    assert (own(pooled.recruiter), pool(org.team)) == (0, 300)
    assert not Entry.objects.filter(kind=EntryKind.TRANSFER).exists()


def test_moving_more_than_the_seat_holds_back_is_refused(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "-3"})

    assert response.status_code == 409
    assert "The seat holds 0 credits; 3 can&#x27;t be moved." in response.content.decode()
    assert pool(org.team) == 300


@pytest.mark.parametrize(("credits", "error"), [("0", "non-zero"), ("1.5", "whole number")])
def test_a_move_of_no_whole_credits_is_a_form_error(
    client: Client, org: Org, pooled: PooledTeam, credits: str, error: str
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": credits}, headers=HTMX)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert pool(org.team) == 300


def test_a_seat_outside_the_pool_cannot_take_pool_credits(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(move_url(org.team, pooled.teammate), {"credits": "5"}, headers=HTMX)

    assert response.status_code == 400
    assert "Only seats on a pooled plan share the team pool." in response.content.decode()
    assert (own(pooled.teammate), pool(org.team)) == (30, 300)


@pytest.mark.parametrize("who", ["recruiter", "teammate", "outsider", "nobody"])
@pytest.mark.parametrize("action", ["move", "settings"])
def test_only_leads_and_admins_may_move_credits_or_set_allocations(
    client: Client, org: Org, pooled: PooledTeam, who: str, action: str
) -> None:
    client.force_login(getattr(org, who))
    url = (move_url if action == "move" else settings_url)(org.team, pooled.recruiter)

    response = client.post(url, {"credits": "5", "monthly_allocation": "5"}, headers=HTMX)

    assert response.status_code == 404
    assert (own(pooled.recruiter), pool(org.team)) == (0, 300)
    pooled.recruiter.refresh_from_db()
    assert pooled.recruiter.monthly_allocation is None


def test_a_seat_of_another_team_is_not_found_through_this_team(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.admin)

    response = client.post(move_url(org.team, pooled.outsider), {"credits": "5"})

    assert response.status_code == 404


def test_a_lead_of_another_team_cannot_move_this_teams_credits(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    other_lead = UserFactory.create(username="otherlead")
    MembershipFactory.create(user=other_lead, team=org.other_team, role=Role.LEAD)
    client.force_login(other_lead)

    response = client.post(move_url(org.team, pooled.recruiter), {"credits": "5"})

    assert response.status_code == 404
    assert pool(org.team) == 300


def test_moves_refuse_get(client: Client, org: Org, pooled: PooledTeam) -> None:
    client.force_login(org.lead)

    assert client.get(move_url(org.team, pooled.recruiter)).status_code == 405
    assert client.get(settings_url(org.team, pooled.recruiter)).status_code == 405


# --- allocations --------------------------------------------------------------------------------


def test_a_lead_sets_a_monthly_allocation_that_the_next_refresh_moves(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    client.force_login(org.lead)

    response = client.post(
        settings_url(org.team, pooled.recruiter),
        {"monthly_allocation": "25", "pool_access": "on"},
        headers=HTMX,
    )

    assert response.status_code == 200
    pooled.recruiter.refresh_from_db()
    assert (pooled.recruiter.monthly_allocation, pooled.recruiter.pool_access) == (25, True)
    assert '<td class="num" data-stat="allocation">25</td>' in response.content.decode()
    # The pool refresh of Feb 10 grants 300 and moves the 25 to the seat.
    clock.move_to(datetime(2026, 2, 10, 1, 0, tzinfo=UTC))
    client.force_login(org.lead)  # a month on, the session has expired
    html = client.get(team_url(org.team)).content.decode()
    assert (own(pooled.recruiter), pool(org.team)) == (25, 300 + 300 - 25)
    assert '<td class="num" data-stat="own">25</td>' in seat_row(html, pooled.recruiter)


def test_clearing_pool_access_and_the_allocation(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(
        settings_url(org.team, pooled.recruiter), {"monthly_allocation": ""}, headers=HTMX
    )

    assert response.status_code == 200
    pooled.recruiter.refresh_from_db()
    assert (pooled.recruiter.monthly_allocation, pooled.recruiter.pool_access) == (None, False)
    assert "may not draw from the pool" in response.content.decode()


def test_a_negative_allocation_is_a_form_error(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(
        settings_url(org.team, pooled.recruiter), {"monthly_allocation": "-4"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    pooled.recruiter.refresh_from_db()
    assert pooled.recruiter.monthly_allocation is None


def test_an_allocation_on_a_seat_outside_the_pool_is_refused_with_the_reason(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    client.force_login(org.lead)

    response = client.post(settings_url(org.team, pooled.teammate), {"monthly_allocation": "5"})

    assert response.status_code == 400
    assert "Only seats on a pooled plan share the team pool." in response.content.decode()
    pooled.teammate.refresh_from_db()
    assert pooled.teammate.monthly_allocation is None


# --- analytics ------------------------------------------------------------------------------------


def chart(html: str, chart_id: str) -> dict[str, Any]:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html)
    assert match, chart_id
    parsed: dict[str, Any] = json.loads(match.group(1))
    return parsed


def test_team_analytics_chart_response_rates_credit_flows_and_cost_per_response(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    inmails = [
        inmail_send(
            seat=pooled.recruiter,
            recipient=f"linkedin.com/in/p{number}",
            subject="Hello there",
            body="A role for you",
            cause=Cause.system("test"),
        ).inmail
        for number in range(4)
    ]
    clock.shift(timedelta(days=2))
    inmail_record_response(inmail=inmails[0], outcome="accepted", cause=Cause.system("test"))
    client.force_login(org.lead)

    response = client.get(team_url(org.team), {"months": "3"})

    html = response.content.decode()
    by_recruiter = chart(html, "chart-rate-recruiter")
    assert by_recruiter["labels"] == [str(org.recruiter)]
    assert by_recruiter["datasets"][0]["data"] == [100.0]
    assert chart(html, "chart-rate-weekday")["labels"] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    ]
    assert chart(html, "chart-rate-body_length")["labels"] == [
        "Under 400 chars",
        "400–999 chars",
        "1000+ chars",
    ]
    assert chart(html, "chart-rate-subject_length")["labels"] == [
        "Up to 5 words",
        "More than 5 words",
    ]
    flows = chart(html, "chart-flows")
    assert flows["labels"] == ["Nov 2025", "Dec 2025", "Jan 2026"]
    series = {dataset["label"]: dataset["data"] for dataset in flows["datasets"]}
    # January: two Corporate activations (150 each) and a Recruiter Lite one (30); four
    # credits spent from the pool, one refunded.
    assert series["Granted"] == [0, 0, 330]
    assert series["Spent"] == [0, 0, 4]
    assert series["Refunded"] == [0, 0, 1]
    period = response.context["flow_period"]
    # Three subscriptions charged at activation: 1080 + 1080 + 170, one response.
    assert period.cost == period.cost_per_response
    assert str(period.cost_per_response) == "2330.00"
    assert 'data-stat="cost-per-response">2330.00<' in html


def test_months_still_inside_the_30_day_window_are_marked_and_explained(
    client: Client, org: Org, pooled: PooledTeam, clock: Any
) -> None:
    def send(number: int) -> None:
        inmail_send(
            seat=pooled.recruiter,
            recipient=f"linkedin.com/in/m{number}",
            subject="Hello there",
            body="A role for you",
            cause=Cause.system("test"),
        )

    send(1)  # 10 January, 00:00
    clock.move_to(datetime(2026, 2, 8, 12, 0, tzinfo=UTC))
    send(2)  # 29½ days later: both months have a pending InMail inside the window
    client.force_login(org.lead)

    response = client.get(team_url(org.team))
    assert response.status_code == 200, response
    html = response.content.decode()

    assert chart(html, "chart-rate-month")["labels"] == ["Jan 2026*", "Feb 2026*"]
    clock.move_to(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    client.force_login(org.lead)  # three weeks on, the session has expired
    # January's InMail is now past the window and counts as unanswered; February's is not.
    html = client.get(team_url(org.team)).content.decode()
    assert chart(html, "chart-rate-month")["labels"] == ["Jan 2026", "Feb 2026*"]
    assert "count once answered or 30 days old, so its rate may still fall" in html


def test_a_script_in_a_holders_name_is_escaped_in_tables_and_chart_data(
    client: Client, org: Org, pooled: PooledTeam
) -> None:
    org.recruiter.first_name = "<script>alert('n')</script>"
    org.recruiter.save()
    inmail_send(
        seat=pooled.recruiter,
        recipient="linkedin.com/in/ada",
        subject="Hello",
        body="A role for you",
        cause=Cause.system("test"),
    )
    client.force_login(org.lead)

    html = client.get(team_url(org.team)).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;n&#x27;)&lt;/script&gt;" in html
    assert "\\u003Cscript\\u003Ealert" in html  # json_script's escaping


# --- bounded queries -------------------------------------------------------------------------


def team_of(size: int, lead: User) -> Team:
    team = TeamFactory.create()
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    for number in range(size):
        seat = make_seat(
            holder=UserFactory.create(),
            team=team,
            plan_code="recruiter_corporate" if number % 2 else "recruiter_lite",
            pool_access=True if number % 2 else None,
        )
        inmail_send(
            seat=seat,
            recipient="linkedin.com/in/ada",
            subject="Hello",
            body="A role for you",
            cause=Cause.system("test"),
        )
    return team


def queries_for(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_team_page_of_twenty_seats_reads_a_bounded_number_of_queries(
    client: Client, org: Org, clock: Any, django_assert_max_num_queries: Any
) -> None:
    team = team_of(20, org.lead)
    client.force_login(org.lead)
    client.get(team_url(team))

    with django_assert_max_num_queries(60):
        assert client.get(team_url(team)).status_code == 200


def test_team_page_queries_do_not_grow_with_the_team(client: Client, org: Org, clock: Any) -> None:
    small, large = team_of(4, org.lead), team_of(20, org.lead)
    client.force_login(org.lead)

    assert queries_for(client, team_url(small)) == queries_for(client, team_url(large))


def test_a_move_answers_in_a_bounded_number_of_queries(
    client: Client, org: Org, clock: Any
) -> None:
    small, large = team_of(4, org.lead), team_of(20, org.lead)
    client.force_login(org.lead)

    def move_queries(team: Team) -> int:
        seat = Seat.objects.filter(team=team, plan__code="recruiter_corporate").first()
        assert seat is not None
        with CaptureQueriesContext(connection) as queries:
            response = client.post(move_url(team, seat), {"credits": "1"}, headers=HTMX)
        assert response.status_code == 200
        return len(queries)

    assert move_queries(small) == move_queries(large)
