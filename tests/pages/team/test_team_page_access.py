"""The team page: who may see it, and what the lead sees (seats, the pool, what is at risk)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.rules import IDLE_AFTER_DAYS
from ledger.services import Cause, bonus_grant, inmail_send
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.team.conftest import PooledTeam
from tests.pages.team.helpers import seat_row, seat_rows, team_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


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


def test_a_seat_younger_than_the_idle_window_is_not_idle(
    client: Client, org: Org, clock: Any
) -> None:
    clock.move_to(datetime(2026, 1, 10, 9, tzinfo=UTC))
    new = make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_lite")
    client.force_login(org.lead)

    response = client.get(team_url(org.team))

    assert new not in [line.row.seat for line in response.context["idle_lines"]]
    assert "badge idle" not in seat_row(response.content.decode(), new)
    assert "Every active seat older than 14 days sent an InMail in them." in (
        response.content.decode()
    )


def test_a_seat_activated_a_day_beyond_the_idle_window_without_an_inmail_is_idle(
    client: Client, org: Org, clock: Any
) -> None:
    clock.move_to(datetime(2026, 2, 20, 9, tzinfo=UTC))
    old = make_seat(
        holder=org.recruiter,
        team=org.team,
        plan_code="recruiter_lite",
        activated_on=date(2026, 2, 20) - timedelta(days=IDLE_AFTER_DAYS + 1),
    )
    client.force_login(org.lead)

    response = client.get(team_url(org.team))

    assert [line.row.seat for line in response.context["idle_lines"]] == [old]
    assert "badge idle" in seat_row(response.content.decode(), old)
