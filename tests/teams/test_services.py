"""`teams.services`: each write's rules, and the audit row it leaves (exact `changes`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ledger.exceptions import LedgerValidationError
from ledger.services import Cause, seat_activate, seat_cancel, seat_update_settings
from teams.models import AuditEvent, Membership, Plan, Role, Team, User
from teams.services import (
    membership_remove,
    membership_set,
    plan_create,
    plan_update,
    team_create,
    team_update,
    user_create,
    user_update,
)
from tests.conftest import Org
from tests.factories import make_seat, plan

pytestmark = pytest.mark.django_db

POOLED_REFUSAL = (
    "1 active seat is on this plan; pooling can change only while no active seat uses the plan."
)


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


def only_event() -> AuditEvent:
    [event] = AuditEvent.objects.all()
    return event


def plan_row(code: str) -> dict[str, Any]:
    return dict(Plan.objects.filter(code=code).values().get())


# --- plans ------------------------------------------------------------------------------------


def test_a_plan_change_records_only_the_fields_that_changed(org: Org) -> None:
    lite = plan("recruiter_lite")

    plan_update(
        actor=org.admin,
        plan=lite,
        monthly_price=Decimal("175.50"),
        max_balance=90,
        monthly_send_limit=300,  # unchanged: not recorded
    )

    event = only_event()
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        org.admin,
        "plan.update",
        "plan",
        lite.pk,
    )
    assert event.changes == {"monthly_price": ["170.00", "175.50"], "max_balance": [120, 90]}
    assert (event.team, event.seat) == (None, None)


def test_a_plan_change_that_changes_nothing_leaves_no_audit_row(org: Org) -> None:
    plan_update(actor=org.admin, plan=plan("recruiter_lite"), max_balance=120)

    assert not AuditEvent.objects.exists()


def test_the_cap_can_not_go_below_the_monthly_credits(org: Org) -> None:
    before = plan_row("recruiter_lite")

    with pytest.raises(ValidationError) as error:
        plan_update(actor=org.admin, plan=plan("recruiter_lite"), max_balance=29)

    assert refusal(error) == {"max_balance": ["The cap can't be below the monthly credits."]}
    with pytest.raises(ValidationError) as error:
        plan_update(actor=org.admin, plan=plan("recruiter_lite"), monthly_credits=121)
    assert refusal(error) == {"max_balance": ["The cap can't be below the monthly credits."]}
    assert plan_row("recruiter_lite") == before
    assert not AuditEvent.objects.exists()


def test_pooling_can_not_change_while_a_seat_is_active_on_the_plan(org: Org) -> None:
    seat = make_seat(holder=org.recruiter, team=org.team)

    with pytest.raises(ValidationError) as error:
        plan_update(actor=org.admin, plan=plan("recruiter_lite"), pooled=True)

    assert refusal(error) == {"pooled": [POOLED_REFUSAL]}
    assert plan("recruiter_lite").pooled is False
    seat_cancel(seat=seat, cause=Cause.system("test"))
    plan_update(actor=org.admin, plan=plan("recruiter_lite"), pooled=True)
    assert plan("recruiter_lite").pooled is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"monthly_price": Decimal("-1")}, "monthly_price"),
        ({"purchase_price": Decimal("-0.01")}, "purchase_price"),
        ({"credit_lifetime_days": 0}, "credit_lifetime_days"),
        ({"credit_lifetime_days": 3651}, "credit_lifetime_days"),
        ({"refresh": "weekly"}, "refresh"),
        ({"family": "gold"}, "family"),
        ({"name": ""}, "name"),
    ],
)
def test_a_plan_value_outside_its_rules_is_refused_on_its_field(
    org: Org, changes: dict[str, Any], field: str
) -> None:
    before = plan_row("recruiter_lite")

    with pytest.raises(ValidationError) as error:
        plan_update(actor=org.admin, plan=plan("recruiter_lite"), **changes)

    assert list(refusal(error)) == [field]
    assert plan_row("recruiter_lite") == before


def test_a_plan_code_is_not_editable(org: Org) -> None:
    with pytest.raises(TypeError):
        plan_update(actor=org.admin, plan=plan("recruiter_lite"), code="lite")


def test_a_new_plan_records_every_field(org: Org) -> None:
    values: dict[str, Any] = {
        "name": "Recruiter Trial",
        "family": "recruiter",
        "monthly_price": Decimal("0.00"),
        "monthly_credits": 5,
        "max_balance": 5,
        "refresh": "billing_day",
        "credit_lifetime_days": None,
        "pooled": False,
        "purchasable": False,
        "purchase_price": Decimal("10.00"),
        "monthly_purchase_limit": None,
        "monthly_send_limit": 50,
    }

    created = plan_create(actor=org.admin, code="recruiter_trial", **values)

    event = only_event()
    assert (event.action, event.object_id) == ("plan.create", created.pk)
    assert event.changes["code"] == [None, "recruiter_trial"]
    assert event.changes["monthly_price"] == [None, "0.00"]
    assert event.changes["credit_lifetime_days"] == [None, None]
    with pytest.raises(ValidationError) as error:
        plan_create(actor=org.admin, code="recruiter_trial", **values)
    assert list(refusal(error)) == ["code"]


# --- teams and members ------------------------------------------------------------------------


def test_a_new_team_is_recorded_with_its_values(org: Org) -> None:
    team = team_create(actor=org.admin, name="  Talent East ", share_usage=False)

    event = only_event()
    assert team.name == "Talent East"
    assert (event.action, event.object_type, event.object_id, event.team) == (
        "team.create",
        "team",
        team.pk,
        team,
    )
    assert event.changes == {"name": [None, "Talent East"], "share_usage": [None, False]}


@pytest.mark.parametrize("name", ["talent north", "TALENT SOUTH", "", "   ", "x" * 121])
def test_a_taken_blank_or_long_team_name_is_refused(org: Org, name: str) -> None:
    teams = Team.objects.count()

    with pytest.raises(ValidationError) as error:
        team_create(actor=org.admin, name=name)

    assert list(refusal(error)) == ["name"]
    assert Team.objects.count() == teams
    assert not AuditEvent.objects.exists()


def test_a_taken_name_reads_as_the_console_always_said(org: Org) -> None:
    with pytest.raises(ValidationError) as error:
        team_update(actor=org.admin, team=org.other_team, name="Talent North")

    assert refusal(error) == {"name": ["A team with this name already exists."]}


def test_a_team_change_records_what_changed(org: Org) -> None:
    team_update(actor=org.admin, team=org.team, name="Talent North-West", share_usage=True)

    event = only_event()
    assert (event.action, event.team) == ("team.update", org.team)
    assert event.changes == {"name": ["Talent North", "Talent North-West"]}


def test_a_membership_is_added_then_its_role_changed(org: Org) -> None:
    membership, created = membership_set(
        actor=org.admin, team=org.team, user=org.nobody, role=Role.RECRUITER
    )
    same, created_again = membership_set(
        actor=org.admin, team=org.team, user=org.nobody, role=Role.LEAD
    )
    membership_set(actor=org.admin, team=org.team, user=org.nobody, role=Role.LEAD)

    assert (created, created_again, same.pk) == (True, False, membership.pk)
    added, promoted = AuditEvent.objects.order_by("pk")
    assert (added.action, added.team, added.object_id) == (
        "membership.set",
        org.team,
        membership.pk,
    )
    assert added.changes == {
        "user": [None, org.nobody.pk],
        "team": [None, org.team.pk],
        "role": [None, "recruiter"],
    }
    assert promoted.changes == {"role": ["recruiter", "lead"]}


def test_a_bad_role_or_an_inactive_person_is_refused(org: Org) -> None:
    with pytest.raises(ValidationError) as error:
        membership_set(actor=org.admin, team=org.team, user=org.nobody, role="owner")
    assert list(refusal(error)) == ["role"]

    User.objects.filter(pk=org.nobody.pk).update(is_active=False)
    org.nobody.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        membership_set(actor=org.admin, team=org.team, user=org.nobody, role=Role.LEAD)
    assert list(refusal(error)) == ["user"]
    assert not Membership.objects.filter(user=org.nobody).exists()


def test_a_member_holding_an_active_seat_is_not_removed(org: Org) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    member = Membership.objects.get(user=org.recruiter, team=org.team)

    with pytest.raises(ValidationError) as error:
        membership_remove(actor=org.admin, membership=member)

    assert error.value.messages == [
        f"{org.recruiter} holds an active seat in Talent North; cancel the seat before "
        "removing them."
    ]
    assert Membership.objects.filter(pk=member.pk).exists()


def test_a_removed_member_is_recorded(org: Org) -> None:
    member = Membership.objects.get(user=org.teammate, team=org.team)

    membership_remove(actor=org.admin, membership=member)

    event = only_event()
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert (event.action, event.object_id, event.team) == ("membership.remove", member.pk, org.team)
    assert event.changes == {
        "user": [org.teammate.pk, None],
        "team": [org.team.pk, None],
        "role": ["recruiter", None],
    }


# --- people -----------------------------------------------------------------------------------


def test_a_new_person_is_recorded_without_their_password(org: Org) -> None:
    user = user_create(
        actor=org.admin,
        username="dana",
        password="a long enough passphrase",
        email="dana@example.com",
        is_staff=True,
    )

    event = only_event()
    assert user.check_password("a long enough passphrase")
    assert (event.action, event.object_id) == ("user.create", user.pk)
    assert event.changes == {
        "username": [None, "dana"],
        "email": [None, "dana@example.com"],
        "first_name": [None, ""],
        "last_name": [None, ""],
        "is_staff": [None, True],
        "password": [None, "(hidden)"],
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "LEAD"}, "username"),  # taken, in another case
        ({"username": "no spaces allowed"}, "username"),
        ({"username": "dana", "email": "not an email"}, "email"),
        ({"username": "dana", "password": "short"}, "password"),
        ({"username": "danielle", "password": "danielle1"}, "password"),  # like the username
        ({"username": "dana", "password": "password123"}, "password"),  # common
    ],
)
def test_a_person_outside_the_rules_is_refused(
    org: Org, fields: dict[str, Any], field: str
) -> None:
    people = User.objects.count()

    with pytest.raises(ValidationError) as error:
        user_create(actor=org.admin, **{"password": "a long enough passphrase", **fields})

    assert list(refusal(error)) == [field]
    assert User.objects.count() == people
    assert not AuditEvent.objects.exists()


def test_a_person_change_is_recorded(org: Org) -> None:
    user_update(actor=org.admin, user=org.nobody, is_active=False, email="gone@example.com")

    event = only_event()
    assert (event.action, event.object_id) == ("user.update", org.nobody.pk)
    assert event.changes == {
        "is_active": [True, False],
        "email": ["nobody@example.com", "gone@example.com"],
    }


# --- seat settings (ledger.services, recorded here too) ---------------------------------------


def test_seat_settings_record_the_fields_that_changed(org: Org) -> None:
    seat = make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team)

    seat_update_settings(
        seat=seat, cause=Cause(actor=org.lead, via="api"), pool_access=True, monthly_allocation=20
    )

    event = only_event()
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        org.lead,
        "seat.update",
        "seat",
        seat.pk,
    )
    assert (event.seat, event.team) == (seat, org.team)
    assert event.changes == {"monthly_allocation": [None, 20]}


def test_a_seat_for_someone_outside_the_team_makes_them_a_recruiter_on_the_record(
    org: Org,
) -> None:
    seat_activate(
        holder=org.outsider,
        team=org.team,
        plan=plan("recruiter_lite"),
        cause=Cause(actor=org.admin, via="api"),
    )

    membership = Membership.objects.get(user=org.outsider, team=org.team)
    event = AuditEvent.objects.get(action="membership.set", object_id=membership.pk)
    assert membership.role == Role.RECRUITER
    assert event.actor == org.admin
    assert event.changes == {
        "user": [None, org.outsider.pk],
        "team": [None, org.team.pk],
        "role": [None, "recruiter"],
    }


def test_a_seat_for_an_inactive_person_outside_the_team_is_refused(org: Org) -> None:
    org.outsider.is_active = False
    org.outsider.save()

    with pytest.raises(LedgerValidationError) as refused:
        make_seat(holder=org.outsider, team=org.team)

    assert refused.value.field == "holder"
    assert not Membership.objects.filter(user=org.outsider, team=org.team).exists()
    assert not org.outsider.seats.exists()
