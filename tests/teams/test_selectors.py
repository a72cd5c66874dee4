"""docs/rules.md, "Who uses it": every access selector, for every role."""

from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser

from teams.models import Plan, Seat, Team, User
from teams.selectors import (
    plans_visible_to,
    seats_visible_to,
    team_totals_visible_to,
    teams_led_by,
    teams_visible_to,
    teams_with_totals_visible_to,
    user_can_act_on_seat,
    user_can_manage_team,
    user_is_admin,
)
from tests.conftest import Org
from tests.teams.conftest import OrgSeats

# The selectors are called with `request.user`, which is AnonymousUser before sign-in.
ANONYMOUS = cast(User, AnonymousUser())


def seat_ids(queryset: object) -> set[int]:
    return {seat.pk for seat in cast("list[Seat]", queryset)}


def team_names(queryset: object) -> set[str]:
    return {team.name for team in cast("list[Team]", queryset)}


# --- seats ------------------------------------------------------------------------------------


def test_admin_sees_every_seat(org: Org, seats: OrgSeats) -> None:
    assert seat_ids(seats_visible_to(org.admin)) == set(Seat.objects.values_list("pk", flat=True))
    assert len(seat_ids(seats_visible_to(org.admin))) == 5


def test_lead_sees_every_seat_of_their_team_and_no_other(org: Org, seats: OrgSeats) -> None:
    assert seat_ids(seats_visible_to(org.lead)) == {
        seats.lead.pk,
        seats.recruiter.pk,
        seats.teammate.pk,
        seats.dual.pk,
    }


def test_lead_sees_their_own_seat_in_a_team_they_do_not_lead(org: Org, seats: OrgSeats) -> None:
    from tests.factories import make_seat

    own_elsewhere = make_seat(holder=org.lead, team=org.other_team)
    assert own_elsewhere.pk in seat_ids(seats_visible_to(org.lead))
    assert seats.outsider.pk not in seat_ids(seats_visible_to(org.lead))


def test_recruiter_sees_only_their_own_seats(org: Org, seats: OrgSeats) -> None:
    assert seat_ids(seats_visible_to(org.recruiter)) == {seats.recruiter.pk}
    assert seat_ids(seats_visible_to(org.teammate)) == {seats.teammate.pk}
    assert seat_ids(seats_visible_to(org.outsider)) == {seats.outsider.pk}


def test_user_in_no_team_sees_no_seat(org: Org, seats: OrgSeats) -> None:
    assert seat_ids(seats_visible_to(org.nobody)) == set()


def test_lead_of_one_team_and_recruiter_in_another_sees_exactly_the_union(
    org: Org, seats: OrgSeats
) -> None:
    # Leads other_team (so: the outsider's seat), recruits in team (so: only their own seat).
    assert seat_ids(seats_visible_to(seats.dual_user)) == {seats.outsider.pk, seats.dual.pk}


def test_anonymous_sees_nothing(org: Org, seats: OrgSeats) -> None:
    assert seat_ids(seats_visible_to(ANONYMOUS)) == set()
    assert team_names(teams_visible_to(ANONYMOUS)) == set()
    assert team_names(teams_led_by(ANONYMOUS)) == set()
    assert team_names(teams_with_totals_visible_to(ANONYMOUS)) == set()
    assert not team_totals_visible_to(ANONYMOUS, org.team)
    assert not user_can_manage_team(ANONYMOUS, org.team)
    assert not user_can_act_on_seat(ANONYMOUS, seats.recruiter)
    assert not user_is_admin(ANONYMOUS)
    assert not plans_visible_to(ANONYMOUS).exists()


@pytest.mark.parametrize("who", ["admin", "lead", "recruiter", "outsider"])
def test_inactive_user_sees_nothing_whatever_their_role(
    org: Org, seats: OrgSeats, who: str
) -> None:
    user: User = getattr(org, who)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert seat_ids(seats_visible_to(user)) == set()
    assert team_names(teams_visible_to(user)) == set()
    assert team_names(teams_led_by(user)) == set()
    assert team_names(teams_with_totals_visible_to(user)) == set()
    assert not team_totals_visible_to(user, org.team)
    assert not user_can_manage_team(user, org.team)
    assert not user_can_act_on_seat(user, seats.recruiter)
    assert not user_is_admin(user)
    assert not plans_visible_to(user).exists()


# --- teams --------------------------------------------------------------------------------------


def test_teams_visible_to_each_role(org: Org, seats: OrgSeats) -> None:
    assert team_names(teams_visible_to(org.admin)) == {"Talent North", "Talent South"}
    assert team_names(teams_visible_to(org.lead)) == {"Talent North"}
    assert team_names(teams_visible_to(org.recruiter)) == {"Talent North"}
    assert team_names(teams_visible_to(org.outsider)) == {"Talent South"}
    assert team_names(teams_visible_to(org.nobody)) == set()
    assert team_names(teams_visible_to(seats.dual_user)) == {"Talent North", "Talent South"}


def test_teams_led_by_each_role(org: Org, seats: OrgSeats) -> None:
    assert team_names(teams_led_by(org.admin)) == {"Talent North", "Talent South"}
    assert team_names(teams_led_by(org.lead)) == {"Talent North"}
    assert team_names(teams_led_by(org.recruiter)) == set()
    assert team_names(teams_led_by(org.outsider)) == set()
    assert team_names(teams_led_by(org.nobody)) == set()
    assert team_names(teams_led_by(seats.dual_user)) == {"Talent South"}


def test_user_can_manage_only_the_teams_they_lead(org: Org, seats: OrgSeats) -> None:
    assert user_can_manage_team(org.admin, org.team)
    assert user_can_manage_team(org.admin, org.other_team)
    assert user_can_manage_team(org.lead, org.team)
    assert not user_can_manage_team(org.lead, org.other_team)
    assert not user_can_manage_team(org.recruiter, org.team)
    assert not user_can_manage_team(org.outsider, org.other_team)
    assert not user_can_manage_team(org.nobody, org.team)
    assert user_can_manage_team(seats.dual_user, org.other_team)
    assert not user_can_manage_team(seats.dual_user, org.team)


# --- team totals ----------------------------------------------------------------------------


def test_team_totals_visible_to_lead_and_to_recruiters_when_the_team_shares_usage(
    org: Org, seats: OrgSeats
) -> None:
    assert org.team.share_usage
    assert team_totals_visible_to(org.admin, org.team)
    assert team_totals_visible_to(org.lead, org.team)
    assert team_totals_visible_to(org.recruiter, org.team)
    assert team_totals_visible_to(org.teammate, org.team)
    assert not team_totals_visible_to(org.outsider, org.team)
    assert not team_totals_visible_to(org.nobody, org.team)


def test_team_totals_hidden_from_recruiters_when_the_team_hides_usage(
    org: Org, seats: OrgSeats
) -> None:
    org.team.share_usage = False
    org.team.save(update_fields=["share_usage"])

    assert team_totals_visible_to(org.admin, org.team)
    assert team_totals_visible_to(org.lead, org.team)
    assert not team_totals_visible_to(org.recruiter, org.team)
    assert not team_totals_visible_to(org.teammate, org.team)
    assert not team_totals_visible_to(seats.dual_user, org.team)
    assert not team_totals_visible_to(org.outsider, org.team)
    assert not team_totals_visible_to(org.nobody, org.team)


def test_teams_with_totals_visible_to_each_role(org: Org, seats: OrgSeats) -> None:
    org.other_team.share_usage = False
    org.other_team.save(update_fields=["share_usage"])

    assert team_names(teams_with_totals_visible_to(org.admin)) == {"Talent North", "Talent South"}
    assert team_names(teams_with_totals_visible_to(org.lead)) == {"Talent North"}
    assert team_names(teams_with_totals_visible_to(org.recruiter)) == {"Talent North"}
    # Talent South hides usage from its recruiters.
    assert team_names(teams_with_totals_visible_to(org.outsider)) == set()
    assert team_names(teams_with_totals_visible_to(org.nobody)) == set()
    # Leads Talent South (totals despite hidden usage), recruits in sharing Talent North.
    assert team_names(teams_with_totals_visible_to(seats.dual_user)) == {
        "Talent North",
        "Talent South",
    }


def test_teams_with_totals_agrees_with_team_totals_visible_to(org: Org, seats: OrgSeats) -> None:
    org.team.share_usage = False
    org.team.save(update_fields=["share_usage"])
    people = [org.admin, org.lead, org.recruiter, org.teammate, org.outsider, org.nobody]
    for user in [*people, seats.dual_user]:
        for team in (org.team, org.other_team):
            listed = teams_with_totals_visible_to(user).filter(pk=team.pk).exists()
            assert listed == team_totals_visible_to(user, team), (user.username, team.name)


# --- acting on seats ----------------------------------------------------------------------------


def test_seat_may_be_acted_on_by_its_holder_its_team_lead_and_admins(
    org: Org, seats: OrgSeats
) -> None:
    assert user_can_act_on_seat(org.recruiter, seats.recruiter)
    assert user_can_act_on_seat(org.lead, seats.recruiter)
    assert user_can_act_on_seat(org.admin, seats.recruiter)
    assert not user_can_act_on_seat(org.teammate, seats.recruiter)
    assert not user_can_act_on_seat(org.outsider, seats.recruiter)
    assert not user_can_act_on_seat(org.nobody, seats.recruiter)
    assert not user_can_act_on_seat(org.lead, seats.outsider)
    # The two-team user leads other_team, so may act on the outsider's seat, not a teammate's.
    assert user_can_act_on_seat(seats.dual_user, seats.outsider)
    assert user_can_act_on_seat(seats.dual_user, seats.dual)
    assert not user_can_act_on_seat(seats.dual_user, seats.recruiter)


def test_every_seat_a_user_may_act_on_is_visible_to_them(org: Org, seats: OrgSeats) -> None:
    people = [org.admin, org.lead, org.recruiter, org.teammate, org.outsider, org.nobody]
    for user in [*people, seats.dual_user]:
        visible = seat_ids(seats_visible_to(user))
        for seat in Seat.objects.all():
            if user_can_act_on_seat(user, seat):
                assert seat.pk in visible, (user.username, seat.pk)


# --- admin flag and plans ---------------------------------------------------------------------


def test_only_active_staff_users_are_admins(org: Org) -> None:
    assert user_is_admin(org.admin)
    for user in (org.lead, org.recruiter, org.teammate, org.outsider, org.nobody):
        assert not user_is_admin(user)


def test_plan_catalog_is_visible_to_every_signed_in_user(org: Org) -> None:
    for user in (org.admin, org.lead, org.recruiter, org.outsider, org.nobody):
        assert plans_visible_to(user).count() == Plan.objects.count() == 7
