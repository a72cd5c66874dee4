"""A seat's usage limit (R20): paid InMails per usage period, which starts at each refresh
instant (a pooled seat's: its pool's) and before the first one at the activation."""

from __future__ import annotations

from datetime import date

import pytest
from pytest_django import Settings
from time_machine import TimeMachineFixture

from ledger import schedule
from ledger.exceptions import LedgerValidationError, SeatInactive, UsageLimitReached
from ledger.models import InMail
from ledger.services import (
    Cause,
    inmail_record_response,
    seat_cancel,
    seat_set_usage_limit,
    seat_usage,
    seats_set_usage_limit,
    seats_usage,
)
from teams.models import AuditEvent, Seat
from tests.ledger.helpers import (
    SYSTEM,
    footprint,
    new_team,
    own_balance,
    person,
    seat_on,
    send,
    utc,
)

pytestmark = pytest.mark.django_db


def limited(seat: Seat, limit: int | None) -> Seat:
    return seat_set_usage_limit(seat=seat, limit=limit, cause=SYSTEM)


def send_many(seat: Seat, count: int, prefix: str = "member") -> None:
    for n in range(count):
        send(seat, f"linkedin.com/in/{prefix}-{n}")


def test_the_send_after_the_limit_is_refused_with_when_it_resets_and_charges_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = limited(seat_on("recruiter_lite"), 3)
    send_many(seat, 3)
    before = footprint(seat)

    with pytest.raises(UsageLimitReached) as refusal:
        send(seat, "linkedin.com/in/one-too-many")

    assert refusal.value.code == "usage_limit_reached"
    assert refusal.value.detail == (
        "This seat has used its limit of 3 paid InMails for this period; it resets on Apr 10 "
        "(2025-04-10). Open Profile InMails are still allowed."
    )
    assert footprint(seat) == before
    assert own_balance(seat) == 27


def test_open_profile_inmails_are_neither_counted_nor_refused(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = limited(seat_on("recruiter_lite"), 1)
    send(seat, "linkedin.com/in/open-1", open_profile=True)
    send(seat, "linkedin.com/in/paid")

    free = send(seat, "linkedin.com/in/open-2", open_profile=True).inmail

    assert free.credit_cost == 0
    assert seat_usage(seat).used == 1


def test_a_refund_gives_the_credit_back_but_not_the_usage(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = limited(seat_on("recruiter_lite"), 2)
    first = send(seat, "linkedin.com/in/a").inmail
    send(seat, "linkedin.com/in/b")
    inmail_record_response(inmail=first, outcome="replied", cause=SYSTEM)

    assert own_balance(seat) == 29
    assert seat_usage(seat).used == 2
    with pytest.raises(UsageLimitReached):
        send(seat, "linkedin.com/in/c")


def test_the_count_starts_again_at_the_refresh_instant(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = limited(seat_on("recruiter_lite"), 2)
    send_many(seat, 2)

    time_machine.move_to(utc(2025, 4, 9, 23, 59), tick=False)
    with pytest.raises(UsageLimitReached):
        send(seat, "linkedin.com/in/late")
    time_machine.move_to(utc(2025, 4, 10), tick=False)
    send(seat, "linkedin.com/in/next-period")

    usage = seat_usage(seat)
    assert (usage.used, usage.limit, usage.period_start, usage.resets_at) == (
        1,
        2,
        utc(2025, 4, 10),
        utc(2025, 5, 10),
    )


def test_before_the_first_refresh_the_period_starts_at_the_activation(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 20, 9), tick=False)
    # A calendar plan activated mid-month: its first refresh is on the 1st.
    seat = seat_on("sales_navigator_core", activated_on=date(2025, 3, 12))

    usage = seat_usage(seat)

    assert (usage.period_start, usage.resets_at, usage.limit) == (
        utc(2025, 3, 12),
        utc(2025, 4, 1),
        None,
    )


def test_a_pooled_seat_counts_from_its_pools_refreshes(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 5, 9), tick=False)
    team = new_team("Pool")
    seat_on("recruiter_corporate", team=team)  # the pool refreshes on the 5th
    time_machine.move_to(utc(2025, 3, 20, 9), tick=False)
    later = seat_on("recruiter_corporate", team=team)

    assert (seat_usage(later).period_start, seat_usage(later).resets_at) == (
        utc(2025, 3, 20),
        utc(2025, 4, 5),
    )
    time_machine.move_to(utc(2025, 4, 7, 9), tick=False)
    assert seat_usage(later).period_start == utc(2025, 4, 5)


def test_the_period_follows_the_organisations_time_zone(
    time_machine: TimeMachineFixture, settings: Settings
) -> None:
    settings.TIME_ZONE = "America/Los_Angeles"
    time_machine.move_to(utc(2025, 3, 10, 17), tick=False)  # 10:00 in Los Angeles
    seat = seat_on("recruiter_lite")

    usage = seat_usage(seat)

    assert usage.period_start == schedule.start_of_day(date(2025, 3, 10))
    assert usage.period_start == utc(2025, 3, 10, 7)  # PDT since Mar 9
    assert usage.resets_at == utc(2025, 4, 10, 7)


def test_a_lower_limit_applies_at_once_and_a_higher_one_lets_sends_through(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = limited(seat_on("recruiter_lite"), 10)
    send_many(seat, 3)

    limited(seat, 2)
    with pytest.raises(UsageLimitReached):
        send(seat, "linkedin.com/in/over")
    limited(seat, 4)
    send(seat, "linkedin.com/in/fourth")
    limited(seat, None)
    send(seat, "linkedin.com/in/fifth")

    assert seat_usage(seat).used == 5


def test_a_limit_of_zero_refuses_every_paid_send(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = limited(seat_on("recruiter_lite"), 0)

    with pytest.raises(UsageLimitReached):
        send(seat, "linkedin.com/in/paid")
    send(seat, "linkedin.com/in/open", open_profile=True)

    assert InMail.objects.filter(seat=seat).count() == 1


def test_imported_history_does_not_count(time_machine: TimeMachineFixture) -> None:
    from ledger.services import HistoricInMail, inmails_import

    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    holder = person("ann")
    seat = limited(seat_on("recruiter_lite", holder=holder), 1)
    time_machine.move_to(utc(2025, 3, 11, 9), tick=False)
    inmails_import(
        user=holder,
        rows=[
            HistoricInMail(
                line=2,
                seat=seat,
                recipient="linkedin.com/in/history",
                subject="Hi",
                body="Hello",
                sent_at=utc(2025, 3, 10, 12),
            )
        ],
        cause=Cause(actor=holder, via="test"),
    )

    send(seat, "linkedin.com/in/today")

    assert seat_usage(seat).used == 1


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, 1_000_001])
def test_a_limit_that_is_not_a_whole_number_from_0_is_refused(
    bad: object, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    with pytest.raises(LedgerValidationError) as refusal:
        seat_set_usage_limit(seat=seat, limit=bad, cause=SYSTEM)  # type: ignore[arg-type]

    assert refusal.value.field == "monthly_usage_limit"
    seat.refresh_from_db()
    assert seat.monthly_usage_limit is None


def test_a_cancelled_seat_gets_no_limit(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    seat_cancel(seat=seat, cause=SYSTEM)

    with pytest.raises(SeatInactive):
        limited(seat, 5)


def test_each_limit_change_is_audited_once(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")

    limited(seat, 50)
    limited(seat, 50)
    limited(seat, None)

    changes = list(
        AuditEvent.objects.filter(seat=seat, action="seat.update")
        .order_by("pk")
        .values_list("changes", flat=True)
    )
    assert changes == [{"monthly_usage_limit": [None, 50]}, {"monthly_usage_limit": [50, None]}]


def test_every_active_seat_of_a_team_gets_the_limit_at_once(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team, other_team = new_team("North"), new_team("South")
    first, second = seat_on(team=team), seat_on("premium_career", team=team)
    cancelled = seat_on(team=team)
    seat_cancel(seat=cancelled, cause=SYSTEM)
    elsewhere = seat_on(team=other_team)

    changed = seats_set_usage_limit(team=team, limit=40, cause=SYSTEM)

    assert [seat.pk for seat in changed] == [first.pk, second.pk]
    limits = dict(Seat.objects.values_list("pk", "monthly_usage_limit"))
    assert limits == {first.pk: 40, second.pk: 40, cancelled.pk: None, elsewhere.pk: None}


def test_chosen_seats_get_the_limit_and_a_seat_of_another_team_refuses_them_all(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("North")
    first, second, third = seat_on(team=team), seat_on(team=team), seat_on(team=team)
    elsewhere = seat_on(team=new_team("South"))

    seats_set_usage_limit(team=team, limit=25, cause=SYSTEM, seats=[third, first])
    with pytest.raises(LedgerValidationError) as refusal:
        seats_set_usage_limit(team=team, limit=5, cause=SYSTEM, seats=[second, elsewhere])

    assert refusal.value.field == "seats"
    limits = dict(Seat.objects.values_list("pk", "monthly_usage_limit"))
    assert limits == {first.pk: 25, second.pk: None, third.pk: 25, elsewhere.pk: None}


def test_choosing_a_cancelled_seat_or_none_at_all_is_refused(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    team = new_team("North")
    active, cancelled = seat_on(team=team), seat_on(team=team)
    seat_cancel(seat=cancelled, cause=SYSTEM)

    with pytest.raises(LedgerValidationError):
        seats_set_usage_limit(team=team, limit=5, cause=SYSTEM, seats=[active, cancelled])
    with pytest.raises(LedgerValidationError):
        seats_set_usage_limit(team=team, limit=5, cause=SYSTEM, seats=[])

    active.refresh_from_db()
    assert active.monthly_usage_limit is None


def test_usage_of_many_seats_reads_each_seats_own_period(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    lite = limited(seat_on("recruiter_lite"), 50)
    navigator = seat_on("sales_navigator_core")
    send_many(lite, 2)
    send(navigator, "linkedin.com/in/x")

    usage = seats_usage([lite, navigator])

    assert {pk: (u.used, u.limit, u.resets_at) for pk, u in usage.items()} == {
        lite.pk: (2, 50, utc(2025, 4, 10)),
        navigator.pk: (1, None, utc(2025, 4, 1)),
    }


def test_usage_of_seats_sharing_a_billing_day_and_one_in_its_next_period(
    time_machine: TimeMachineFixture,
) -> None:
    # Counted with one condition per distinct period start: two seats share 10 March; the
    # third's period began on 20 March, so its sends of February and 10 March are last period's.
    time_machine.move_to(utc(2025, 2, 20, 9), tick=False)
    third = seat_on(activated_on=utc(2025, 2, 20).date())
    send(third, "linkedin.com/in/feb")
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    first = seat_on(activated_on=utc(2025, 3, 10).date())
    second = seat_on(activated_on=utc(2025, 3, 10).date())
    send_many(first, 2, "first")
    send(second, "linkedin.com/in/second")
    send(third, "linkedin.com/in/march")
    time_machine.move_to(utc(2025, 3, 25, 9), tick=False)
    send(first, "linkedin.com/in/late")
    send(third, "linkedin.com/in/late")

    usage = seats_usage([first, second, third])

    assert {pk: (u.used, u.period_start) for pk, u in usage.items()} == {
        first.pk: (3, utc(2025, 3, 10)),
        second.pk: (1, utc(2025, 3, 10)),
        third.pk: (1, utc(2025, 3, 20)),
    }
    assert usage == {seat.pk: seat_usage(seat) for seat in (first, second, third)}
