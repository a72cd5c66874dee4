"""Factories for tests: people and teams directly, seats through the ledger services."""

from __future__ import annotations

from datetime import date

import factory

from ledger.services import Cause, seat_activate
from teams.models import Membership, Plan, Role, Seat, Team, User


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    share_usage = True


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Role.RECRUITER


def plan(code: str) -> Plan:
    return Plan.objects.get(code=code)


def make_seat(
    *,
    plan_code: str = "recruiter_lite",
    holder: User | None = None,
    team: Team | None = None,
    activated_on: date | None = None,
    pool_access: bool | None = None,
    monthly_allocation: int | None = None,
) -> Seat:
    """Activate a seat through the ledger, as an admin would."""
    return seat_activate(
        holder=holder if holder is not None else UserFactory.create(),
        team=team if team is not None else TeamFactory.create(),
        plan=plan(plan_code),
        activated_on=activated_on,
        pool_access=pool_access,
        monthly_allocation=monthly_allocation,
        cause=Cause.system("test"),
    )
