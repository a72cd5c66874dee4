"""`manage.py demo` fills an empty database with a believable organisation, once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import F

from ledger.models import RESPONSE_STATUSES, Account, AccountKind, InMail, Refresh, RefreshKind
from ledger.schedule import today
from ledger.selectors import ledger_discrepancies
from teams.management.commands.demo import ADMIN_USERNAME, DEMO_PASSWORD, DEMO_URL
from teams.models import Membership, PlanFamily, Role, Seat, Team, User

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out, stderr=out)
    return out.getvalue()


def printed_logins(output: str) -> dict[str, tuple[str, str]]:
    """{role: (username, password)} from lines like `  lead  username: x  password: y`."""
    logins = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) == 5 and fields[1] == "username:" and fields[3] == "password:":
            logins[fields[0]] = (fields[2], fields[4])
    return logins


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("teams", "ledger")
        for model in apps.get_app_config(app).get_models()
    }


# One demo run per test costs seconds (every seat and InMail goes through the ledger), so the
# checks of one filled database share a test.
def test_demo_fills_an_empty_database_with_a_believable_organisation() -> None:
    output = run_demo()

    # Three teams, each with one lead who holds a seat too.
    assert Team.objects.count() == 3
    for team in Team.objects.all():
        leads = team.memberships.filter(role=Role.LEAD)
        assert leads.count() == 1, team.name
        assert team.seats.filter(holder=leads.get().user).exists(), team.name
    # About twenty recruiters, each holding a seat in their own team.
    recruiter_seats = Seat.objects.filter(
        holder__memberships__team=F("team"), holder__memberships__role=Role.RECRUITER
    )
    assert 18 <= recruiter_seats.count() <= 24
    assert Seat.objects.count() == recruiter_seats.count() + 3
    # An admin, who holds no seat.
    admin = User.objects.get(username=ADMIN_USERNAME)
    assert admin.is_staff
    assert not admin.seats.exists()
    # Every plan family, and one team on Recruiter Corporate sharing a pool.
    assert set(Seat.objects.values_list("plan__family", flat=True)) == set(PlanFamily.values)
    pool = Account.objects.get(kind=AccountKind.POOL)
    assert pool.balance > 0
    assert set(pool.team.seats.values_list("plan__code", "pool_access")) == {
        ("recruiter_corporate", True)
    }
    assert not Seat.objects.filter(plan__pooled=True).exclude(team=pool.team).exists()

    # Seats were activated through the ledger, some months back, never in the future.
    assert Refresh.objects.filter(kind=RefreshKind.ACTIVATION).count() == Seat.objects.count()
    assert Account.objects.filter(kind=AccountKind.SEAT).count() == Seat.objects.count()
    assert all(seat.activated_on <= today() for seat in Seat.objects.all())
    assert Seat.objects.filter(activated_on__lte=today() - timedelta(days=30)).count() >= 10
    # A handful of InMails per seat, some answered and so refunded when paid (SPEC R9).
    for seat in Seat.objects.all():
        assert 3 <= seat.inmails.count() <= 6, seat
    answered = InMail.objects.filter(status__in=RESPONSE_STATUSES)
    assert 0 < answered.count() < InMail.objects.count()
    assert all(inmail.refunded for inmail in answered if inmail.credit_cost == 1)
    assert ledger_discrepancies() == []

    # The URL and three logins that work: the admin, a lead and a recruiter.
    assert DEMO_URL in output
    logins = printed_logins(output)
    assert set(logins) == {"admin", "lead", "recruiter"}
    assert logins["admin"] == (ADMIN_USERNAME, DEMO_PASSWORD)
    lead = User.objects.get(username=logins["lead"][0])
    assert Membership.objects.filter(user=lead, role=Role.LEAD).exists()
    recruiter = User.objects.get(username=logins["recruiter"][0])
    assert Membership.objects.filter(user=recruiter, role=Role.RECRUITER).exists()
    for username, password in logins.values():
        assert User.objects.get(username=username).check_password(password)


def test_second_demo_run_changes_nothing_and_prints_the_logins_again() -> None:
    first = run_demo()
    before = table_counts()

    again = run_demo()

    assert "demo data already present" in again
    assert DEMO_URL in again
    assert printed_logins(again) == printed_logins(first)
    assert table_counts() == before


def test_demo_leaves_a_database_with_other_data_alone() -> None:
    Team.objects.create(name="Our real team")
    before = table_counts()

    output = run_demo()

    assert "only fills an empty database" in output
    assert table_counts() == before
