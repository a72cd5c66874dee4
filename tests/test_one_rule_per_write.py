"""One rule, one home (issue 11, rules 2 and 3): the API, the console and the Django admin refuse
the same invalid plan change with the same reason, leave the plan as it was, and each accepted
change leaves its audit row whichever interface made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from teams.models import AuditEvent, Membership, Plan, Team, User
from teams.services import plan_update
from tests.api.conftest import token_client
from tests.conftest import Org
from tests.factories import make_seat, plan

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

POOLED = (
    "1 active seat is on this plan; pooling can change only while no active seat uses the plan."
)
CAP = "The cap can't be below the monthly credits."

# The same invalid change, each with the one field it is refused on and the reason.
INVALID_CHANGES = [
    pytest.param({"pooled": True}, "pooled", POOLED, id="pooled-under-an-active-seat"),
    pytest.param({"max_balance": 20}, "max_balance", CAP, id="cap-below-monthly-credits"),
]


def plan_row() -> dict[str, Any]:
    return dict(Plan.objects.filter(code="recruiter_lite").values().get())


def form_fields(changes: dict[str, Any], *, code: str = "recruiter_lite") -> dict[str, Any]:
    """A plan's edit form as a browser posts it (unticked boxes are left out)."""
    row = plan(code)
    fields: dict[str, Any] = {
        "name": row.name,
        "family": row.family,
        "monthly_price": row.monthly_price,
        "monthly_credits": row.monthly_credits,
        "max_balance": row.max_balance,
        "refresh": row.refresh,
        "credit_lifetime_days": row.credit_lifetime_days or "",
        "pooled": row.pooled,
        "purchasable": row.purchasable,
        "purchase_price": row.purchase_price,
        "monthly_purchase_limit": row.monthly_purchase_limit or "",
        "monthly_send_limit": row.monthly_send_limit,
        **changes,
    }
    return {
        name: ("on" if value is True else value)
        for name, value in fields.items()
        if value is not False
    }


def through_api(org: Org, changes: dict[str, Any]) -> dict[str, list[str]]:
    answer = token_client(org.admin).patch("/api/v1/plans/recruiter_lite/", changes, format="json")
    assert answer.status_code == 400
    refusal: dict[str, list[str]] = answer.json()
    return refusal


def through_console(org: Org, changes: dict[str, Any]) -> dict[str, list[str]]:
    client = Client()
    client.force_login(org.admin)
    response = client.post(
        reverse("manage:plan_edit", args=[plan("recruiter_lite").pk]), form_fields(changes)
    )
    assert response.status_code == 200
    return dict(response.context["form"].errors)


def through_django_admin(org: Org, changes: dict[str, Any]) -> dict[str, list[str]]:
    client = Client()
    client.force_login(org.admin)
    response = client.post(
        reverse("admin:teams_plan_change", args=[plan("recruiter_lite").pk]),
        form_fields(changes),
    )
    assert response.status_code == 200
    return dict(response.context["adminform"].form.errors)


INTERFACES: dict[str, Callable[[Org, dict[str, Any]], dict[str, list[str]]]] = {
    "api": through_api,
    "console": through_console,
    "django-admin": through_django_admin,
}


@pytest.mark.parametrize(("changes", "field", "reason"), INVALID_CHANGES)
def test_every_interface_refuses_the_same_plan_change_with_the_same_reason(
    org: Org, changes: dict[str, Any], field: str, reason: str
) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    before = plan_row()

    refusals = {name: refuse(org, changes) for name, refuse in INTERFACES.items()}

    assert refusals == {name: {field: [reason]} for name in INTERFACES}
    assert plan_row() == before
    assert not AuditEvent.objects.exists()


def test_the_api_refused_pooling_only_in_the_console_before(org: Org) -> None:
    """The issue's example: this PATCH answered 200 while seats were active on the plan."""
    make_seat(holder=org.recruiter, team=org.team)

    answer = token_client(org.admin).patch(
        "/api/v1/plans/recruiter_lite/", {"pooled": True}, format="json"
    )

    assert (answer.status_code, answer.json()) == (400, {"pooled": [POOLED]})
    assert plan("recruiter_lite").pooled is False


# --- every accepted change is in the audit trail, whichever interface made it ----------------


def messages_of(response: TestResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_site(org: Org) -> Client:
    client = Client()
    client.force_login(org.admin)
    return client


def test_a_plan_change_in_each_interface_is_audited(org: Org, admin_site: Client) -> None:
    lite = plan("recruiter_lite")

    token_client(org.admin).patch(
        "/api/v1/plans/recruiter_lite/", {"monthly_send_limit": 250}, format="json"
    )
    admin_site.post(
        reverse("manage:plan_edit", args=[lite.pk]), form_fields({"monthly_send_limit": 200})
    )
    admin_site.post(
        reverse("admin:teams_plan_change", args=[lite.pk]),
        form_fields({"monthly_send_limit": 150}),
    )

    rows = AuditEvent.objects.order_by("pk").values_list("actor", "action", "changes")
    assert list(rows) == [
        (org.admin.pk, "plan.update", {"monthly_send_limit": [300, 250]}),
        (org.admin.pk, "plan.update", {"monthly_send_limit": [250, 200]}),
        (org.admin.pk, "plan.update", {"monthly_send_limit": [200, 150]}),
    ]


def test_the_django_admin_writes_teams_and_members_through_the_services(
    org: Org, admin_site: Client
) -> None:
    admin_site.post(
        reverse("admin:teams_team_add"),
        {
            "name": "Talent East",
            "share_usage": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": org.nobody.pk,
            "memberships-0-role": "lead",
        },
    )

    team = Team.objects.get(name="Talent East")
    membership = Membership.objects.get(team=team)
    assert (membership.user, membership.role) == (org.nobody, "lead")
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "team")) == [
        ("team.create", team.pk),
        ("membership.set", team.pk),
    ]


def test_the_django_admin_refuses_a_team_name_taken_in_another_case(
    org: Org, admin_site: Client
) -> None:
    response = admin_site.post(
        reverse("admin:teams_team_change", args=[org.other_team.pk]),
        {
            "name": "talent north",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name": ["A team with this name already exists."]
    }
    assert Team.objects.get(pk=org.other_team.pk).name == "Talent South"


def test_the_django_admin_keeps_a_seat_holder_in_their_team(org: Org, admin_site: Client) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    member = Membership.objects.get(user=org.recruiter, team=org.team)

    response = admin_site.post(
        reverse("admin:teams_membership_delete", args=[member.pk]), {"post": "yes"}, follow=True
    )

    assert Membership.objects.filter(pk=member.pk).exists()
    assert f"{org.recruiter} holds an active seat in Talent North" in " ".join(
        messages_of(response)
    )
    assert not AuditEvent.objects.exists()


def test_the_django_admin_removes_a_member_through_the_service(
    org: Org, admin_site: Client
) -> None:
    member = Membership.objects.get(user=org.teammate, team=org.team)

    admin_site.post(reverse("admin:teams_membership_delete", args=[member.pk]), {"post": "yes"})

    assert not Membership.objects.filter(pk=member.pk).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.team) == ("membership.remove", org.admin, org.team)


def test_the_django_admin_creates_and_edits_people_through_the_services(
    org: Org, admin_site: Client
) -> None:
    admin_site.post(
        reverse("admin:teams_user_add"),
        {
            "username": "dana",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "first_name": "Dana",
            "last_name": "",
            "email": "dana@example.com",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    dana = User.objects.get(username="dana")
    admin_site.post(
        reverse("admin:auth_user_password_change", args=[dana.pk]),
        {"password1": "another long passphrase", "password2": "another long passphrase"},
    )

    dana.refresh_from_db()
    assert dana.check_password("another long passphrase")
    created, password = AuditEvent.objects.order_by("pk")
    assert (created.action, created.object_id, created.changes["password"]) == (
        "user.create",
        dana.pk,
        [None, "(hidden)"],
    )
    assert (password.action, password.changes) == (
        "user.password",
        {"password": ["(hidden)", "(hidden)"]},
    )


def test_people_and_teams_are_never_deleted_in_the_django_admin(
    org: Org, admin_site: Client
) -> None:
    assert (
        admin_site.get(reverse("admin:teams_user_delete", args=[org.nobody.pk])).status_code == 403
    )
    assert (
        admin_site.get(reverse("admin:teams_team_delete", args=[org.other_team.pk])).status_code
        == 403
    )


def test_the_audit_trail_is_read_only_in_the_django_admin(org: Org, admin_site: Client) -> None:
    plan_update(actor=org.admin, plan=plan("recruiter_lite"), monthly_send_limit=250)
    event = AuditEvent.objects.get()

    assert admin_site.get(reverse("admin:teams_auditevent_changelist")).status_code == 200
    admin_site.post(
        reverse("admin:teams_auditevent_change", args=[event.pk]), {"action": "plan.delete"}
    )
    assert (
        admin_site.post(
            reverse("admin:teams_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.get().action == "plan.update"


def test_a_new_plan_in_the_django_admin_is_audited(org: Org, admin_site: Client) -> None:
    fields = form_fields({"name": "Recruiter Trial"})
    admin_site.post(reverse("admin:teams_plan_add"), {**fields, "code": "recruiter_trial"})

    trial = Plan.objects.get(code="recruiter_trial")
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id, event.changes["code"]) == (
        "plan.create",
        trial.pk,
        [None, "recruiter_trial"],
    )


def test_a_plan_page_refuses_nothing_it_should_accept(org: Org, admin_site: Client) -> None:
    """Pooling a plan without active seats passes every interface (the refusal is specific)."""
    make_seat(holder=org.recruiter, team=org.team)  # on Recruiter Lite, not Premium Career

    response = admin_site.post(
        reverse("admin:teams_plan_change", args=[plan("premium_career").pk]),
        form_fields({"pooled": True}, code="premium_career"),
    )

    assert response.status_code == 302
    assert plan("premium_career").pooled is True
    assert AuditEvent.objects.get().changes == {"pooled": [False, True]}
