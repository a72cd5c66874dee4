"""The plan catalog, users, teams and memberships through the API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from teams.models import Membership, Plan, Role, Team, User
from tests.api.conftest import World
from tests.conftest import Org

pytestmark = pytest.mark.django_db


def test_the_catalog_lists_spec_plans_with_money_as_decimal_strings(
    org: Org, as_recruiter: APIClient
) -> None:
    answer = as_recruiter.get("/api/v1/plans/")

    assert answer.status_code == 200
    plans = {plan["code"]: plan for plan in answer.json()["results"]}
    assert answer.json()["count"] == 7
    assert plans["recruiter_lite"] == {
        "code": "recruiter_lite",
        "name": "Recruiter Lite",
        "family": "recruiter",
        "monthly_price": "170.00",
        "monthly_credits": 30,
        "max_balance": 120,
        "refresh": "billing_day",
        "credit_lifetime_days": 90,
        "pooled": False,
        "purchasable": True,
        "purchase_price": "10.00",
        "monthly_purchase_limit": None,
        "monthly_send_limit": 300,
    }
    assert plans["sales_navigator_core"]["refresh"] == "month_start"
    assert plans["sales_navigator_core"]["purchasable"] is False
    assert plans["recruiter_corporate"]["pooled"] is True


def test_an_admin_edits_a_plan(org: Org, as_admin: APIClient) -> None:
    answer = as_admin.patch(
        "/api/v1/plans/recruiter_lite/",
        {"max_balance": 90, "monthly_price": "175.50", "monthly_purchase_limit": 20},
        format="json",
    )

    assert answer.status_code == 200
    assert (answer.json()["max_balance"], answer.json()["monthly_price"]) == (90, "175.50")
    plan = Plan.objects.get(code="recruiter_lite")
    assert (plan.max_balance, plan.monthly_purchase_limit) == (90, 20)


def test_a_lead_may_not_edit_a_plan(org: Org, as_lead: APIClient) -> None:
    answer = as_lead.patch("/api/v1/plans/recruiter_lite/", {"max_balance": 1}, format="json")

    assert answer.status_code == 403
    assert Plan.objects.get(code="recruiter_lite").max_balance == 120


def test_an_unknown_plan_is_404(org: Org, as_admin: APIClient) -> None:
    assert as_admin.patch("/api/v1/plans/nope/", {}, format="json").status_code == 404


def test_an_admin_creates_a_user(org: Org, as_admin: APIClient) -> None:
    answer = as_admin.post(
        "/api/v1/users/",
        {
            "username": "new_lead",
            "password": "a long enough passphrase",
            "email": "new@example.com",
            "is_admin": False,
        },
        format="json",
    )

    assert answer.status_code == 201
    user = User.objects.get(username="new_lead")
    assert answer.json() == {
        "id": user.pk,
        "username": "new_lead",
        "email": "new@example.com",
        "is_admin": False,
    }
    assert user.check_password("a long enough passphrase")


def test_an_admin_user_is_staff(org: Org, as_admin: APIClient) -> None:
    answer = as_admin.post(
        "/api/v1/users/",
        {"username": "ops", "password": "a long enough passphrase", "is_admin": True},
        format="json",
    )

    assert answer.json()["is_admin"] is True
    assert User.objects.get(username="ops").is_staff


def test_teams_list_what_the_user_belongs_to(
    world: World, as_admin: APIClient, as_recruiter: APIClient, as_outsider: APIClient
) -> None:
    def names(client: APIClient) -> list[str]:
        return [team["name"] for team in client.get("/api/v1/teams/").json()["results"]]

    assert names(as_admin) == ["Talent North", "Talent South"]
    assert names(as_recruiter) == ["Talent North"]
    assert names(as_outsider) == ["Talent South"]


def test_an_admin_creates_a_team_that_shares_usage_by_default(
    org: Org, as_admin: APIClient
) -> None:
    answer = as_admin.post("/api/v1/teams/", {"name": "Talent West"}, format="json")
    hidden = as_admin.post(
        "/api/v1/teams/", {"name": "Talent East", "share_usage": False}, format="json"
    )

    team = Team.objects.get(name="Talent West")
    assert answer.json() == {"id": team.pk, "name": "Talent West", "share_usage": True}
    assert hidden.json()["share_usage"] is False


def test_an_admin_adds_a_member_and_changes_their_role(org: Org, as_admin: APIClient) -> None:
    url = f"/api/v1/teams/{org.team.pk}/members/"

    added = as_admin.post(url, {"user": org.nobody.pk, "role": "recruiter"}, format="json")
    promoted = as_admin.post(url, {"user": org.nobody.pk, "role": "lead"}, format="json")

    assert added.status_code == 201
    assert added.json() == {"user": org.nobody.pk, "team": org.team.pk, "role": "recruiter"}
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "lead"
    assert Membership.objects.get(user=org.nobody).role == Role.LEAD


@pytest.mark.parametrize(
    "body", [{"user": 999_999, "role": "lead"}, {"user": 1, "role": "owner"}, {"role": "lead"}]
)
def test_a_bad_membership_is_400(org: Org, as_admin: APIClient, body: dict[str, object]) -> None:
    before = Membership.objects.count()

    answer = as_admin.post(f"/api/v1/teams/{org.team.pk}/members/", body, format="json")

    assert answer.status_code == 400
    assert Membership.objects.count() == before
