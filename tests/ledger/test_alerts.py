"""Alerts (issue 4): each fires once, at the right moment, to the right people, and not again.

Every scenario runs on a frozen clock in one organisation: a team with a lead and a seat
holder, and another team with its own lead, who must never hear about the first team. Alerts
are raised the way the `send_alerts` job raises them, by `alerts_raise()`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from ledger.models import (
    Account,
    AccountKind,
    AlertKind,
    EmailStatus,
    Notification,
    NotificationPreference,
    Refresh,
    RefreshKind,
)
from ledger.notifications.alerts import alerts_raise
from ledger.services import adjustment_post, inmail_record_response, pool_transfer
from teams.models import Role, Seat, Team, User
from tests.factories import MembershipFactory
from tests.ledger.helpers import SYSTEM, new_team, person, seat_on, send, set_plan, utc

START = utc(2025, 3, 10, 9)
TODAY = date(2025, 3, 10)


@dataclass
class People:
    lead: User
    holder: User
    team: Team
    other_lead: User
    other_holder: User
    other_team: Team


@pytest.fixture
def people(db: None) -> People:
    team = new_team("Talent North")
    other_team = new_team("Talent South")
    lead = person("lead")
    other_lead = person("other-lead")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    MembershipFactory.create(user=other_lead, team=other_team, role=Role.LEAD)
    return People(
        lead=lead,
        holder=person("holder"),
        team=team,
        other_lead=other_lead,
        other_holder=person("other-holder"),
        other_team=other_team,
    )


def notified(kind: str) -> list[tuple[str, str]]:
    """Who was told about `kind`, and under which key, in a stable order."""
    return sorted(
        Notification.objects.filter(kind=kind).values_list("user__username", "key"),
    )


def warned_about_quality() -> list[tuple[str, date]]:
    """Who got a quality warning, and on which day, oldest first."""
    notifications = Notification.objects.filter(kind=AlertKind.QUALITY).order_by(
        "created_at", "user__username"
    )
    return [(n.user.username, n.created_at.date()) for n in notifications]


def spend(seat: Seat, credits: int, tag: str = "member") -> None:
    for n in range(credits):
        send(seat, f"linkedin.com/in/{tag}-{n}")


def pool_account(team: Team) -> Account:
    return Account.objects.get(kind=AccountKind.POOL, team=team)


def inmails_with_answers(seat: Seat, sent: int, answered: int, tag: str = "candidate") -> None:
    """`sent` Open Profile InMails (free, still tracked), the first `answered` of them answered."""
    inmails = [
        send(seat, f"linkedin.com/in/{tag}-{n}", open_profile=True).inmail for n in range(sent)
    ]
    for inmail in inmails[:answered]:
        inmail_record_response(inmail=inmail, outcome="accepted", cause=SYSTEM)


# --------------------------------------------------------------------------------------------
# Balance below the holder's threshold
# --------------------------------------------------------------------------------------------


def test_low_balance_warns_only_the_holder_once_when_available_credits_drop_below_10(
    people: People, clock: time_machine.Traveller
) -> None:
    seat = seat_on("premium_business", holder=people.holder, team=people.team)
    spend(seat, 5)

    alerts_raise()
    assert notified(AlertKind.LOW_BALANCE) == []  # 10 left is not below 10

    spend(seat, 1, tag="one-more")
    first = alerts_raise()
    assert notified(AlertKind.LOW_BALANCE) == [("holder", f"seat:{seat.pk}:period:2025-03-10")]
    assert first.raised == 1
    notification = Notification.objects.get(kind=AlertKind.LOW_BALANCE)
    assert notification.title == "9 credits left on your Premium Business seat"
    assert notification.seat == seat
    assert notification.team == people.team

    for later in (timedelta(0), timedelta(hours=1), timedelta(days=10), timedelta(days=30)):
        clock.move_to(START + later)
        assert alerts_raise().raised == 0
    assert Notification.objects.filter(kind=AlertKind.LOW_BALANCE).count() == 1


def test_low_balance_follows_the_holders_own_threshold(
    people: People, clock: time_machine.Traveller
) -> None:
    NotificationPreference.objects.create(user=people.holder, low_balance_threshold=3)
    seat = seat_on("premium_business", holder=people.holder, team=people.team)
    spend(seat, 12)

    alerts_raise()
    assert notified(AlertKind.LOW_BALANCE) == []  # 3 left is not below 3

    spend(seat, 1, tag="one-more")
    alerts_raise()
    assert notified(AlertKind.LOW_BALANCE) == [("holder", f"seat:{seat.pk}:period:2025-03-10")]


def test_low_balance_warns_again_after_the_next_refresh_if_still_low_but_not_before(
    people: People, clock: time_machine.Traveller
) -> None:
    # Premium Career grants 5 a month: 3 left now, 8 after the April refresh.
    seat = seat_on("premium_career", holder=people.holder, team=people.team)
    spend(seat, 2)
    alerts_raise()
    assert notified(AlertKind.LOW_BALANCE) == [("holder", f"seat:{seat.pk}:period:2025-03-10")]

    clock.move_to(utc(2025, 4, 9, 23, 59, 59))
    assert alerts_raise().raised == 0

    clock.move_to(utc(2025, 4, 10))
    assert alerts_raise().raised == 1
    assert notified(AlertKind.LOW_BALANCE) == [
        ("holder", f"seat:{seat.pk}:period:2025-03-10"),
        ("holder", f"seat:{seat.pk}:period:2025-04-10"),
    ]
    assert Notification.objects.latest("id").title == ("8 credits left on your Premium Career seat")

    clock.move_to(utc(2025, 5, 9, 12))
    alerts_raise()
    assert Notification.objects.filter(kind=AlertKind.LOW_BALANCE).count() == 2


# --------------------------------------------------------------------------------------------
# Credits expiring within 7 days
# --------------------------------------------------------------------------------------------


def test_expiring_credits_warn_the_holder_at_7_days_not_at_8_and_not_again(
    people: People, clock: time_machine.Traveller
) -> None:
    # The activation grant of 10 March lives 90 days: it expires at 00:00 on 8 June.
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    account = Account.objects.get(seat=seat)

    clock.move_to(utc(2025, 5, 31))
    alerts_raise()
    clock.move_to(utc(2025, 5, 31, 23, 59, 59))
    alerts_raise()
    assert notified(AlertKind.EXPIRING) == []

    clock.move_to(utc(2025, 6, 1))
    assert alerts_raise().raised == 1
    assert notified(AlertKind.EXPIRING) == [("holder", f"account:{account.pk}:expires:2025-06-08")]
    notification = Notification.objects.get(kind=AlertKind.EXPIRING)
    assert notification.title == "30 credits expire on 2025-06-08"
    assert notification.body == (
        "Your Recruiter Lite seat has 30 InMail credits expiring on 2025-06-08."
    )

    for day in (1, 3, 7):
        clock.move_to(utc(2025, 6, day, 12))
        alerts_raise()
    assert Notification.objects.filter(kind=AlertKind.EXPIRING).count() == 1


def test_one_expiring_credit_is_named_in_the_singular(
    people: People, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    clock.move_to(utc(2025, 5, 31))
    # Spend order takes the soonest to expire first: the 10 March grant keeps one credit.
    adjustment_post(seat=seat, credits=-29, reason="Match LinkedIn", cause=SYSTEM)

    clock.move_to(utc(2025, 6, 1))
    alerts_raise()

    notification = Notification.objects.get(kind=AlertKind.EXPIRING)
    assert notification.title == "1 credit expires on 2025-06-08"
    assert notification.body == (
        "Your Recruiter Lite seat has 1 InMail credit expiring on 2025-06-08."
    )


def test_expiring_pool_credits_warn_the_team_leads_not_the_holder_nor_other_leads(
    people: People, clock: time_machine.Traveller
) -> None:
    seat_on("recruiter_corporate", holder=people.holder, team=people.team)
    seat_on("recruiter_corporate", holder=people.other_holder, team=people.other_team)
    pool = pool_account(people.team)
    other_pool = pool_account(people.other_team)

    clock.move_to(utc(2025, 6, 1))
    alerts_raise()

    assert notified(AlertKind.EXPIRING) == [
        ("lead", f"account:{pool.pk}:expires:2025-06-08"),
        ("other-lead", f"account:{other_pool.pk}:expires:2025-06-08"),
    ]
    assert Notification.objects.get(user=people.lead, kind=AlertKind.EXPIRING).body == (
        "The Talent North pool has 150 InMail credits expiring on 2025-06-08."
    )


# --------------------------------------------------------------------------------------------
# Credits the cap will keep back at the next refresh
# --------------------------------------------------------------------------------------------


def test_lost_to_cap_warns_the_holder_once_as_soon_as_the_next_refresh_would_lose_credits(
    people: People, clock: time_machine.Traveller
) -> None:
    # Never-expiring credits, so they pile up against the cap of 120.
    set_plan("recruiter_lite", credit_lifetime_days=None)
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    adjustment_post(seat=seat, credits=60, reason="Match LinkedIn", cause=SYSTEM)

    alerts_raise()
    assert notified(AlertKind.LOST_TO_CAP) == []  # 90 + 30 is exactly the cap

    adjustment_post(seat=seat, credits=1, reason="Match LinkedIn", cause=SYSTEM)
    alerts_raise()
    assert notified(AlertKind.LOST_TO_CAP) == [("holder", f"seat:{seat.pk}:refresh:2025-04-10")]
    notification = Notification.objects.get(kind=AlertKind.LOST_TO_CAP)
    assert notification.title == "1 credit will be lost to the cap on 2025-04-10"

    clock.move_to(utc(2025, 4, 9, 23, 59, 59))
    assert alerts_raise().raised == 0

    # The refresh loses what the alert said it would; the next one is a new condition.
    clock.move_to(utc(2025, 4, 10, 8))
    alerts_raise()
    refresh = Refresh.objects.get(account__seat=seat, kind=RefreshKind.REFRESH)
    assert (refresh.granted, refresh.lost_to_cap) == (29, 1)
    assert notified(AlertKind.LOST_TO_CAP) == [
        ("holder", f"seat:{seat.pk}:refresh:2025-04-10"),
        ("holder", f"seat:{seat.pk}:refresh:2025-05-10"),
    ]
    assert Notification.objects.latest("id").title == (
        "30 credits will be lost to the cap on 2025-05-10"
    )


def test_pool_lost_to_cap_warns_the_team_leads_not_the_holder(
    people: People, clock: time_machine.Traveller
) -> None:
    # One Corporate seat: a pool cap of 600, counted over the pool and the seat's own credits.
    set_plan("recruiter_corporate", credit_lifetime_days=None)
    seat = seat_on("recruiter_corporate", holder=people.holder, team=people.team)
    seat_on("recruiter_corporate", holder=people.other_holder, team=people.other_team)
    adjustment_post(seat=seat, credits=300, reason="Match LinkedIn", cause=SYSTEM)

    alerts_raise()
    assert notified(AlertKind.LOST_TO_CAP) == []  # 450 + 150 is exactly the cap

    adjustment_post(seat=seat, credits=1, reason="Match LinkedIn", cause=SYSTEM)
    alerts_raise()
    alerts_raise()
    pool = pool_account(people.team)
    assert notified(AlertKind.LOST_TO_CAP) == [("lead", f"pool:{pool.pk}:refresh:2025-04-10")]
    assert Notification.objects.get(kind=AlertKind.LOST_TO_CAP).title == (
        "Talent North: 1 credit will be lost to the cap on 2025-04-10"
    )


# --------------------------------------------------------------------------------------------
# A team pool under 10% of its cap
# --------------------------------------------------------------------------------------------


def test_pool_low_warns_only_that_teams_leads_once_below_10_percent_of_the_cap(
    people: People, clock: time_machine.Traveller
) -> None:
    # One Corporate seat: pool 150, cap 600, so "low" is under 60.
    seat = seat_on("recruiter_corporate", holder=people.holder, team=people.team)
    other = seat_on("recruiter_corporate", holder=people.other_holder, team=people.other_team)
    pool_transfer(team=people.team, seat=seat, credits=90, cause=SYSTEM)
    pool_transfer(team=people.other_team, seat=other, credits=80, cause=SYSTEM)

    alerts_raise()
    assert notified(AlertKind.POOL_LOW) == []  # 60 left is exactly 10%

    pool_transfer(team=people.team, seat=seat, credits=1, cause=SYSTEM)
    alerts_raise()
    pool = pool_account(people.team)
    assert notified(AlertKind.POOL_LOW) == [("lead", f"pool:{pool.pk}:period:2025-03-10")]
    assert Notification.objects.get(kind=AlertKind.POOL_LOW).title == (
        "Talent North pool is down to 59 credits"
    )

    clock.move_to(utc(2025, 4, 9, 12))
    assert alerts_raise().raised == 0
    assert Notification.objects.filter(kind=AlertKind.POOL_LOW).count() == 1


# --------------------------------------------------------------------------------------------
# The quality warning: under 13% answered on 100+ InMails in 14 days
# --------------------------------------------------------------------------------------------


def test_quality_warning_goes_to_the_holder_and_the_team_leads_once(
    people: People, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    inmails_with_answers(seat, sent=100, answered=12)

    first = alerts_raise()
    second = alerts_raise()

    assert warned_about_quality() == [("holder", TODAY), ("lead", TODAY)]
    assert (first.raised, second.raised) == (2, 0)
    # One warning, about this seat, for two people.
    assert set(Notification.objects.values_list("kind", "seat", "team")) == {
        (AlertKind.QUALITY, seat.pk, people.team.pk)
    }
    assert Notification.objects.values("key").distinct().count() == 1
    assert Notification.objects.filter(kind=AlertKind.QUALITY)[0].body == (
        f"{people.holder}'s Recruiter Lite seat had 12 answers to 100 InMails in the last 14 "
        "days (12.0%). LinkedIn may restrict sending under 13% on 100 InMails or more."
    )


@pytest.mark.parametrize(
    ("sent", "answered"),
    [(99, 0), (100, 13), (120, 16)],
    ids=["99 InMails", "13 percent answered", "13.3 percent answered"],
)
def test_no_quality_warning_under_100_inmails_or_at_13_percent_or_more(
    people: People, clock: time_machine.Traveller, sent: int, answered: int
) -> None:
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    inmails_with_answers(seat, sent=sent, answered=answered)

    alerts_raise()

    assert notified(AlertKind.QUALITY) == []


def test_quality_warning_is_not_repeated_while_the_same_inmails_stay_in_the_window(
    people: People, clock: time_machine.Traveller
) -> None:
    """The 100 InMails of 10 March count for 14 days: they earn one warning, not one a fortnight
    of the calendar. The job runs every day of those 14 days (10–23 March); on 24 March they
    have left the window, and only a new batch of poorly answered InMails warns again.
    """
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    inmails_with_answers(seat, sent=100, answered=12)

    for day in range(15):
        clock.move_to(START + timedelta(days=day))
        alerts_raise()

    assert warned_about_quality() == [("holder", TODAY), ("lead", TODAY)]

    inmails_with_answers(seat, sent=100, answered=0, tag="later")
    alerts_raise()
    later = date(2025, 3, 24)
    assert warned_about_quality() == [
        ("holder", TODAY),
        ("lead", TODAY),
        ("holder", later),
        ("lead", later),
    ]


# --------------------------------------------------------------------------------------------
# Preferences and email
# --------------------------------------------------------------------------------------------


def test_a_muted_kind_notifies_nobody_who_muted_it(
    people: People, clock: time_machine.Traveller
) -> None:
    NotificationPreference.objects.create(user=people.lead, quality=False)
    NotificationPreference.objects.create(user=people.holder, low_balance=False)
    seat = seat_on("premium_career", holder=people.holder, team=people.team)
    inmails_with_answers(seat, sent=100, answered=0)

    alerts_raise()

    assert [user for user, _ in notified(AlertKind.QUALITY)] == ["holder"]
    assert notified(AlertKind.LOW_BALANCE) == []


def test_email_off_stores_the_notification_but_sends_no_email(
    people: People, clock: time_machine.Traveller, mailoutbox: list[Any]
) -> None:
    NotificationPreference.objects.create(user=people.holder, email=False)
    seat_on("premium_career", holder=people.holder, team=people.team)

    report = alerts_raise()

    notification = Notification.objects.get(user=people.holder, kind=AlertKind.LOW_BALANCE)
    assert notification.email_status == EmailStatus.OFF
    assert notification.emailed_at is None
    assert report.emailed == 0
    assert mailoutbox == []


def test_each_alert_is_emailed_once_to_the_persons_address_even_when_raised_twice(
    people: People, clock: time_machine.Traveller, mailoutbox: list[Any]
) -> None:
    seat = seat_on("recruiter_lite", holder=people.holder, team=people.team)
    inmails_with_answers(seat, sent=100, answered=12)

    first = alerts_raise()
    second = alerts_raise()

    assert (first.emailed, second.emailed) == (2, 0)
    assert sorted(message.to for message in mailoutbox) == [
        ["holder@example.com"],
        ["lead@example.com"],
    ]
    title = f"Response rate 12% on {people.holder}'s last 100 InMails"
    assert {message.subject for message in mailoutbox} == {f"[InMail ledger] {title}"}
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


# --------------------------------------------------------------------------------------------
# Two alert jobs at once (PostgreSQL: real concurrent transactions)
# --------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_alert_jobs_at_once_store_and_email_each_notification_once(
    mailoutbox: list[Any],
) -> None:
    with time_machine.travel(START, tick=False):
        team = new_team("Talent North")
        lead = person("lead")
        MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
        quality = seat_on("recruiter_lite", holder=person("quality"), team=team)
        inmails_with_answers(quality, sent=100, answered=12)
        for n in range(4):
            seat_on("premium_career", holder=person(f"low-{n}"), team=team)
        workers = 4
        barrier = threading.Barrier(workers)

        def raise_alerts() -> Any:
            try:
                connection.ensure_connection()
                barrier.wait(timeout=60)
                return alerts_raise()
            except Exception as error:
                return error
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=workers) as executor:
            reports = list(executor.map(lambda _: raise_alerts(), range(workers)))

    assert not [r for r in reports if isinstance(r, Exception)], reports
    # Quality to its holder and the lead, low balance to each of the four Career holders.
    expected = {
        ("quality", AlertKind.QUALITY),
        ("lead", AlertKind.QUALITY),
        *(((f"low-{n}", AlertKind.LOW_BALANCE)) for n in range(4)),
    }
    stored = list(Notification.objects.values_list("user__username", "kind"))
    assert sorted(stored) == sorted(expected)
    assert sum(report.emailed for report in reports) == len(expected)
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        f"{username}@example.com" for username, _ in expected
    )
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}
