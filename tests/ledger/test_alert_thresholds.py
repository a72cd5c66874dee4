"""Several low-balance thresholds (issue 14, item 4): a holder's for their seats, a lead's for
the pools of the teams they lead; each crossing alerts once per period, to that person only."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ledger.models import Account, AccountKind, AlertKind, Notification, NotificationPreference
from ledger.notifications.alerts import alerts_raise, low_balance_crossed
from ledger.services import pool_transfer
from teams.models import AuditEvent, PersonalSettings, Role, Seat, Team, User
from tests.factories import MembershipFactory
from tests.ledger.helpers import SYSTEM, new_team, person, seat_on, send, utc

START = utc(2025, 3, 10, 9)
TODAY = date(2025, 3, 10)


def notified(kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", "key"))


def spend(seat: Seat, credits: int, tag: str) -> None:
    for n in range(credits):
        send(seat, f"linkedin.com/in/{tag}-{n}")


@pytest.fixture
def team(db: None) -> Team:
    return new_team("Talent North")


def test_zero_means_ran_out_and_others_mean_below() -> None:
    assert [low_balance_crossed(a, 0) for a in (1, 0)] == [False, True]
    assert [low_balance_crossed(a, 10) for a in (10, 9)] == [False, True]


def test_each_of_the_holders_thresholds_alerts_once_per_period(
    team: Team, clock: time_machine.Traveller
) -> None:
    holder = person("holder")
    PersonalSettings.objects.create(user=holder, low_balance_thresholds=[12, 0])
    # Premium Business: 15 credits; the preference keeps its default threshold of 10.
    seat = seat_on("premium_business", holder=holder, team=team)
    spend(seat, 3, "a")
    assert alerts_raise().raised == 0  # 12 left is not below 12

    spend(seat, 1, "b")
    assert alerts_raise().raised == 1
    assert notified(AlertKind.LOW_BALANCE) == [
        ("holder", f"seat:{seat.pk}:period:{TODAY}:below:12")
    ]
    assert alerts_raise().raised == 0  # still 11: the crossing of 12 is not told again

    spend(seat, 2, "c")  # 9 left: below 10 now, the preference's own threshold (its old key)
    assert alerts_raise().raised == 1
    spend(seat, 9, "d")  # none left
    assert alerts_raise().raised == 1
    assert notified(AlertKind.LOW_BALANCE) == [
        ("holder", f"seat:{seat.pk}:period:{TODAY}"),
        ("holder", f"seat:{seat.pk}:period:{TODAY}:below:0"),
        ("holder", f"seat:{seat.pk}:period:{TODAY}:below:12"),
    ]
    latest = Notification.objects.latest("id")
    assert (latest.title, latest.body) == (
        "0 credits left on your Premium Business seat",
        "Your Premium Business seat in Talent North has 0 InMail credits available, none left.",
    )
    clock.move_to(utc(2025, 4, 9, 23))
    assert alerts_raise().raised == 0


def test_a_drop_past_several_thresholds_raises_each_and_a_new_period_raises_them_again(
    team: Team, clock: time_machine.Traveller
) -> None:
    holder = person("holder")
    NotificationPreference.objects.create(user=holder, low_balance_threshold=3)
    PersonalSettings.objects.create(user=holder, low_balance_thresholds=[5, 3, 1])
    # Premium Career: 5 credits a month; 0 left now, 5 after the April refresh.
    seat = seat_on("premium_career", holder=holder, team=team)
    spend(seat, 5, "a")
    assert alerts_raise().raised == 3  # below 5, below 3 (the preference's), below 1
    clock.move_to(utc(2025, 4, 10))
    # 5 left: below none of them; the next period starts without alerts.
    assert alerts_raise().raised == 0
    spend(seat, 3, "b")  # 2 left
    assert alerts_raise().raised == 2
    assert notified(AlertKind.LOW_BALANCE) == [
        ("holder", f"seat:{seat.pk}:period:2025-03-10"),
        ("holder", f"seat:{seat.pk}:period:2025-03-10:below:1"),
        ("holder", f"seat:{seat.pk}:period:2025-03-10:below:5"),
        ("holder", f"seat:{seat.pk}:period:2025-04-10"),
        ("holder", f"seat:{seat.pk}:period:2025-04-10:below:5"),
    ]


def test_a_leads_pool_thresholds_alert_that_lead_only_once_per_pool_period(
    team: Team, clock: time_machine.Traveller
) -> None:
    lead, other_lead, holder = person("lead"), person("other-lead"), person("holder")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    MembershipFactory.create(user=other_lead, team=team, role=Role.LEAD)
    PersonalSettings.objects.create(user=lead, pool_thresholds=[140, 100])
    # Another team's lead with thresholds hears nothing of this pool.
    elsewhere = new_team("Talent South")
    stranger = person("stranger")
    MembershipFactory.create(user=stranger, team=elsewhere, role=Role.LEAD)
    PersonalSettings.objects.create(user=stranger, pool_thresholds=[10_000])
    # One Corporate seat: pool 150, cap 600, so the 10% alert is under 60.
    seat = seat_on("recruiter_corporate", holder=holder, team=team)
    pool = Account.objects.get(kind=AccountKind.POOL, team=team)

    pool_transfer(team=team, seat=seat, credits=10, cause=SYSTEM)  # 140 left
    assert alerts_raise().raised == 0
    pool_transfer(team=team, seat=seat, credits=1, cause=SYSTEM)  # 139
    alerts_raise()
    assert notified(AlertKind.POOL_LOW) == [("lead", f"pool:{pool.pk}:period:{TODAY}:below:140")]
    assert Notification.objects.get(kind=AlertKind.POOL_LOW).title == (
        "Talent North pool is down to 139 credits"
    )
    pool_transfer(team=team, seat=seat, credits=40, cause=SYSTEM)  # 99
    alerts_raise()
    alerts_raise()
    assert notified(AlertKind.POOL_LOW) == [
        ("lead", f"pool:{pool.pk}:period:{TODAY}:below:100"),
        ("lead", f"pool:{pool.pk}:period:{TODAY}:below:140"),
    ]
    pool_transfer(team=team, seat=seat, credits=40, cause=SYSTEM)  # 59: the 10% alert, to both
    alerts_raise()
    assert notified(AlertKind.POOL_LOW) == [
        ("lead", f"pool:{pool.pk}:period:{TODAY}"),
        ("lead", f"pool:{pool.pk}:period:{TODAY}:below:100"),
        ("lead", f"pool:{pool.pk}:period:{TODAY}:below:140"),
        ("other-lead", f"pool:{pool.pk}:period:{TODAY}"),
    ]


def test_a_lead_who_turned_pool_alerts_off_hears_nothing_of_their_thresholds(
    team: Team, clock: time_machine.Traveller
) -> None:
    lead, holder = person("lead"), person("holder")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    NotificationPreference.objects.create(user=lead, pool_low=False)
    PersonalSettings.objects.create(user=lead, pool_thresholds=[140])
    seat = seat_on("recruiter_corporate", holder=holder, team=team)
    pool_transfer(team=team, seat=seat, credits=20, cause=SYSTEM)
    assert alerts_raise().raised == 0


# --- the preferences page ----------------------------------------------------------------------


def _post(client: Client, **values: str) -> str:
    data = {"email": "on", "low_balance": "on", "low_balance_threshold": "10", "pool_low": "on"}
    data.update(values)
    response = client.post(reverse("notifications:preferences"), data)
    return response.content.decode() if response.status_code == 200 else ""


@pytest.fixture(autouse=True)
def _pages(plain_static_storage: None) -> None:
    """Render the preferences page without collected static files."""


def _lead(team: Team) -> User:
    lead = person("lead")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    return lead


def test_the_page_saves_several_thresholds_highest_first(client: Client, team: Team) -> None:
    lead = _lead(team)
    client.force_login(lead)
    assert _post(client, more_thresholds="0, 20,20", pool_thresholds="10;50") == ""
    saved = PersonalSettings.objects.get(user=lead)
    assert (saved.low_balance_thresholds, saved.pool_thresholds) == ([20, 0], [50, 10])
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert 'name="more_thresholds" value="20, 0"' in html
    assert 'name="pool_thresholds" value="50, 10"' in html
    audit = AuditEvent.objects.get(action="notification_preferences.update")
    assert audit.actor == lead
    assert audit.changes["low_balance_thresholds"] == [[], [20, 0]]
    assert audit.changes["pool_thresholds"] == [[], [50, 10]]
    # Saving the same again changes nothing and audits nothing.
    assert _post(client, more_thresholds="20, 0", pool_thresholds="50, 10") == ""
    assert AuditEvent.objects.filter(action="notification_preferences.update").count() == 1


@pytest.mark.parametrize("text", ["20, ten", "-1", "10001", "1, 2, 3, 4, 5, 6", "2.5"])
def test_bad_thresholds_are_a_form_error_and_save_nothing(
    client: Client, team: Team, text: str
) -> None:
    lead = _lead(team)
    client.force_login(lead)
    html = _post(client, more_thresholds=text, low_balance_threshold="25")
    assert "Give up to 5 whole numbers of credits from 0 to 10,000" in html
    assert not PersonalSettings.objects.filter(user=lead).exists()
    assert not NotificationPreference.objects.filter(user=lead).exists()
    assert not AuditEvent.objects.filter(actor=lead).exists()


def test_only_leads_see_or_can_set_pool_thresholds(client: Client, team: Team) -> None:
    holder = person("holder")
    client.force_login(holder)
    assert (
        "pool_thresholds" not in client.get(reverse("notifications:preferences")).content.decode()
    )
    assert _post(client, more_thresholds="5", pool_thresholds="50") == ""
    saved = PersonalSettings.objects.get(user=holder)
    assert (saved.low_balance_thresholds, saved.pool_thresholds) == ([5], [])
