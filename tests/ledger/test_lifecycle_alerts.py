"""The alerts of issue 13: a seat at 80% and at 100% of its usage limit (R20), and the weekly
reminder to reconcile with LinkedIn (R21), with its opt-out."""

from __future__ import annotations

import pytest
from time_machine import TimeMachineFixture

from ledger.models import AlertKind, Notification, NotificationPreference
from ledger.notifications.alerts import alerts_raise
from ledger.services import reconciliation_record, seat_reassign, seat_set_usage_limit
from teams.models import Role, Seat, User
from tests.factories import MembershipFactory
from tests.ledger.helpers import SYSTEM, new_team, person, seat_on, send, utc

pytestmark = pytest.mark.django_db


def alerts_of(kind: str) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(kind=kind)
        .order_by("pk")
        .values_list("user__username", "key", "title")
    )


def limited_seat(limit: int) -> tuple[Seat, User, User]:
    team = new_team("North")
    holder, lead = person("ann"), person("lea")
    MembershipFactory.create(user=lead, team=team, role=Role.LEAD)
    seat = seat_on("recruiter_lite", holder=holder, team=team)
    return seat_set_usage_limit(seat=seat, limit=limit, cause=SYSTEM), holder, lead


def test_80_percent_of_the_limit_alerts_the_holder_and_the_leads_once(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat, holder, lead = limited_seat(5)
    for n in range(3):
        send(seat, f"linkedin.com/in/m-{n}")
    alerts_raise(seat_ids={seat.pk})
    assert alerts_of(AlertKind.USAGE_LIMIT) == []

    send(seat, "linkedin.com/in/m-3")
    alerts_raise(seat_ids={seat.pk})
    alerts_raise()

    name = f"{holder}'s Recruiter Lite seat"
    assert alerts_of(AlertKind.USAGE_LIMIT) == [
        ("ann", f"seat:{seat.pk}:usage:2025-03-10:80", f"{name} used 4 of 5 paid InMails"),
        ("lea", f"seat:{seat.pk}:usage:2025-03-10:80", f"{name} used 4 of 5 paid InMails"),
    ]
    body = Notification.objects.filter(user=holder, kind=AlertKind.USAGE_LIMIT).get().body
    assert body == (
        f"{name} in North has sent 4 of the 5 paid InMails its usage limit allows this period "
        "(80%). The count starts again on Apr 10; Open Profile InMails are not counted."
    )
    assert lead.pk != holder.pk


def test_reaching_the_limit_alerts_again_and_says_sends_are_refused(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat, holder, _ = limited_seat(5)
    for n in range(5):
        send(seat, f"linkedin.com/in/m-{n}")
        alerts_raise(seat_ids={seat.pk})

    keys = [key for user, key, _ in alerts_of(AlertKind.USAGE_LIMIT) if user == "ann"]
    assert keys == [f"seat:{seat.pk}:usage:2025-03-10:80", f"seat:{seat.pk}:usage:2025-03-10:100"]
    reached = Notification.objects.get(user=holder, key=keys[1])
    assert reached.title == f"{holder}'s Recruiter Lite seat reached its usage limit of 5"
    assert "Further paid InMails are refused until Apr 10" in reached.body


def test_the_next_period_alerts_afresh(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat, _, _ = limited_seat(1)
    send(seat, "linkedin.com/in/march")
    alerts_raise(seat_ids={seat.pk})

    time_machine.move_to(utc(2025, 4, 10, 9), tick=False)
    alerts_raise(seat_ids={seat.pk})
    send(seat, "linkedin.com/in/april")
    alerts_raise(seat_ids={seat.pk})

    keys = [key for user, key, _ in alerts_of(AlertKind.USAGE_LIMIT) if user == "ann"]
    assert keys == [f"seat:{seat.pk}:usage:2025-03-10:100", f"seat:{seat.pk}:usage:2025-04-10:100"]


def test_a_seat_without_a_limit_or_with_zero_raises_no_usage_alert(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    free = seat_on("recruiter_lite")
    send(free)
    zero, _, _ = limited_seat(0)

    alerts_raise()

    assert alerts_of(AlertKind.USAGE_LIMIT) == []
    assert zero.monthly_usage_limit == 0


def test_someone_who_opted_out_of_usage_alerts_gets_none(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat, holder, _ = limited_seat(1)
    NotificationPreference.objects.create(user=holder, usage_limit=False)
    send(seat)

    alerts_raise()

    assert [user for user, _, _ in alerts_of(AlertKind.USAGE_LIMIT)] == ["lea"]


def test_each_holder_is_reminded_once_a_week_to_reconcile(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)  # a Monday
    team = new_team("North")
    seat = seat_on("recruiter_lite", holder=person("ann"), team=team)

    alerts_raise(reminders=True)
    time_machine.move_to(utc(2025, 3, 16, 23), tick=False)  # the Sunday after
    alerts_raise(reminders=True)
    time_machine.move_to(utc(2025, 3, 17, 0, 5), tick=False)
    alerts_raise(reminders=True)

    assert alerts_of(AlertKind.RECONCILE) == [
        ("ann", f"seat:{seat.pk}:week:2025-W11", "Compare your Recruiter Lite seat with LinkedIn"),
        ("ann", f"seat:{seat.pk}:week:2025-W12", "Compare your Recruiter Lite seat with LinkedIn"),
    ]


def test_a_seat_reconciled_in_the_last_7_days_is_not_reminded(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 14, 9), tick=False)
    seat = seat_on("recruiter_lite", holder=person("ann"))
    reconciliation_record(seat=seat, linkedin_balance=30, cause=SYSTEM)

    time_machine.move_to(utc(2025, 3, 17, 9), tick=False)
    alerts_raise(reminders=True)
    time_machine.move_to(utc(2025, 3, 24, 9), tick=False)
    alerts_raise(reminders=True)

    assert [key for _, key, _ in alerts_of(AlertKind.RECONCILE)] == [
        f"seat:{seat.pk}:week:2025-W13"
    ]


def test_the_reminder_goes_to_the_current_holder_and_can_be_turned_off(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    ann, bob = person("ann"), person("bob")
    seat = seat_on("recruiter_lite", holder=ann)
    seat_reassign(seat=seat, holder=bob, cause=SYSTEM)
    NotificationPreference.objects.create(user=ann, reconcile=False)
    other = seat_on("premium_career", holder=ann)

    alerts_raise(reminders=True)

    assert [(user, key) for user, key, _ in alerts_of(AlertKind.RECONCILE)] == [
        ("bob", f"seat:{seat.pk}:week:2025-W11")
    ]
    assert other.holder == ann


def test_the_other_alert_passes_raise_no_reminder(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite", holder=person("ann"))

    alerts_raise()
    alerts_raise(seat_ids={seat.pk})

    assert alerts_of(AlertKind.RECONCILE) == []


def test_the_weekly_job_raises_the_reminders(time_machine: TimeMachineFixture) -> None:
    from ledger.tasks import remind_reconcile

    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat_on("recruiter_lite", holder=person("ann"))

    assert remind_reconcile() == {"raised": 1, "emailed": 1}
    assert remind_reconcile() == {"raised": 0, "emailed": 0}


def test_a_cancelled_seat_is_not_reminded(time_machine: TimeMachineFixture) -> None:
    from ledger.services import seat_cancel

    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite", holder=person("ann"))
    seat_cancel(seat=seat, cause=SYSTEM)

    alerts_raise(reminders=True)

    assert alerts_of(AlertKind.RECONCILE) == []
