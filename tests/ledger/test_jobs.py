"""The scheduled jobs (docs/api.md "Operations", issue 4): tasks, beat schedule, command, R17/R18.

The Celery tasks are plain functions here (called directly, or run eagerly with `.apply()`);
`test_celery_worker.py` runs them on a real worker. Catch-up equivalence and two concurrent
catch-ups are in `test_catch_up.py` and `test_concurrency.py`; this module adds a tick killed
half-way, two whole `ledger_tick` jobs at once, and publishing when the broker is down.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import F
from django_celery_beat.models import PeriodicTask

from inmail_site.celery import app as celery_app
from ledger import services
from ledger.models import (
    Account,
    AccountKind,
    Entry,
    IdempotencyRecord,
    InMail,
    InMailStatus,
    Notification,
    Refresh,
    RefreshKind,
)
from ledger.selectors import ledger_discrepancies
from ledger.services import batch_catch_up, bonus_grant, catch_up, catch_up_rules, ledger_tick
from ledger.tasks import check_ledger, purge_idempotency_keys, send_alerts, tick
from teams.models import Seat, Team
from tests.ledger.helpers import SYSTEM, account_of, ledger_rows, new_team, seat_on, send, utc

START = utc(2025, 3, 10, 9)
TASK_NAMES = {"ledger.tasks.tick", "ledger.tasks.send_alerts", "ledger.tasks.check_ledger"}


def seat_with_a_pending_inmail() -> tuple[Seat, InMail]:
    """A Recruiter Lite seat activated on 10 March and one InMail it sent that day at 09:00."""
    seat = seat_on("recruiter_lite", activated_on=date(2025, 3, 10))
    return seat, send(seat, "linkedin.com/in/jane").inmail


# The ledger of that seat brought up to 10 June: three refreshes, the activation grant's
# remaining 29 expiring on 8 June; the InMail reminded on 13 March and closed on 8 June.
LEDGER_ON_10_JUNE = [
    (utc(2025, 3, 10), "grant", 30, 30),
    (utc(2025, 3, 10, 9), "spend", -1, 29),
    (utc(2025, 4, 10), "grant", 30, 59),
    (utc(2025, 5, 10), "grant", 30, 89),
    (utc(2025, 6, 8), "expiry", -29, 60),
    (utc(2025, 6, 10), "grant", 30, 90),
]


# --------------------------------------------------------------------------------------------
# The three tasks
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "run_tick",
    [lambda: tick(), lambda: tick.apply().get()],
    ids=["called directly", "applied eagerly"],
)
def test_tick_task_applies_everything_due_and_reports_it(
    clock: time_machine.Traveller, run_tick: Callable[[], dict[str, Any]]
) -> None:
    seat, inmail = seat_with_a_pending_inmail()
    clock.move_to(utc(2025, 6, 10, 9))

    report = run_tick()

    assert report == {
        "until": "2025-06-10T09:00:00+00:00",
        "groups": 1,
        "reminders": 1,
        "closed": 1,
    }
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.NO_RESPONSE
    assert inmail.reminder_at == utc(2025, 3, 13, 9)
    assert inmail.closed_at == utc(2025, 6, 8, 9)
    assert run_tick() == {**report, "groups": 0, "reminders": 0, "closed": 0}
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE


@pytest.mark.django_db
def test_tick_task_until_an_iso_instant_applies_only_what_was_due_by_then(
    clock: time_machine.Traveller,
) -> None:
    seat, inmail = seat_with_a_pending_inmail()
    clock.move_to(utc(2025, 6, 10, 9))

    report = tick(until="2025-05-01T00:00:00+00:00")

    assert report == {
        "until": "2025-05-01T00:00:00+00:00",
        "groups": 1,
        "reminders": 1,
        "closed": 0,
    }
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE[:3]
    assert account_of(seat).synced_until == utc(2025, 5, 1)
    inmail.refresh_from_db()
    assert (inmail.status, inmail.reminder_at) == (InMailStatus.PENDING, utc(2025, 3, 13, 9))

    tick()
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE


@pytest.mark.django_db
def test_send_alerts_task_catches_the_seat_up_raises_its_alerts_and_reports_them(
    clock: time_machine.Traveller,
) -> None:
    # Premium Career grants 5 a month: one credit spent, each seat still has 9 after April's
    # refresh, below the threshold of 10.
    first = seat_on("premium_career", activated_on=date(2025, 3, 10))
    second = seat_on("premium_career", activated_on=date(2025, 3, 10))
    send(first, "linkedin.com/in/jane")
    send(second, "linkedin.com/in/jane")
    clock.move_to(utc(2025, 4, 10, 9))

    assert send_alerts(seat_id=first.pk) == {"raised": 1, "emailed": 1}
    assert ledger_rows(account_of(first))[-1] == (utc(2025, 4, 10), "grant", 5, 9)
    assert ledger_rows(account_of(second))[-1] == (utc(2025, 3, 10, 9), "spend", -1, 4)
    assert list(Notification.objects.values_list("seat", "kind")) == [(first.pk, "low_balance")]

    assert send_alerts.apply().get() == {"raised": 1, "emailed": 1}
    assert ledger_rows(account_of(second))[-1] == (utc(2025, 4, 10), "grant", 5, 9)
    assert send_alerts() == {"raised": 0, "emailed": 0}


@pytest.mark.django_db
def test_check_ledger_task_counts_and_logs_every_difference_between_cache_and_entries(
    clock: time_machine.Traveller, caplog: pytest.LogCaptureFixture
) -> None:
    seat = seat_on("recruiter_lite")
    assert check_ledger() == 0
    assert check_ledger.apply().get() == 0

    Account.objects.filter(seat=seat).update(balance=F("balance") + 1)
    with caplog.at_level(logging.ERROR, logger="ledger.tasks"):
        differences = check_ledger()

    assert differences == 1
    account = account_of(seat)
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "ledger.tasks"] == [
        (
            logging.ERROR,
            f"ledger_check: account #{account.pk} balance: the entries say 30, the cache says 31",
        )
    ]


def test_the_tasks_have_their_fixed_names_and_acknowledge_late() -> None:
    assert [task.name for task in (tick, send_alerts, check_ledger)] == [
        "ledger.tasks.tick",
        "ledger.tasks.send_alerts",
        "ledger.tasks.check_ledger",
    ]
    for name in TASK_NAMES:
        # A worker killed half-way leaves the message to be run again; each task is idempotent.
        assert celery_app.tasks[name].acks_late is True


# --------------------------------------------------------------------------------------------
# The beat schedule (a data migration, editable in the admin)
# --------------------------------------------------------------------------------------------


def _schedule_jobs_as_the_migration_does() -> None:
    """Run the migration's forward step on the models as they were at that migration.

    On a fresh test database the migration has already run and this changes nothing; on a
    reused one that a transactional test flushed, it puts the rows back the way it did first.
    """
    migration = importlib.import_module("ledger.migrations.0004_beat_schedule")
    state = MigrationExecutor(connection).loader.project_state(("ledger", "0004_beat_schedule"))
    migration.schedule_jobs(state.apps, None)


@pytest.mark.django_db
def test_the_beat_migration_schedules_the_three_jobs_enabled() -> None:
    assert ("ledger", "0004_beat_schedule") in MigrationRecorder(connection).applied_migrations()
    _schedule_jobs_as_the_migration_does()

    jobs = {job.task: job for job in PeriodicTask.objects.filter(task__in=TASK_NAMES)}

    assert set(jobs) == TASK_NAMES
    assert PeriodicTask.objects.filter(task__in=TASK_NAMES).count() == 3
    assert all(job.enabled for job in jobs.values())
    tick_job = jobs["ledger.tasks.tick"]
    assert tick_job.name == "Ledger tick: refreshes, expiries, reminders, closures"
    assert (tick_job.interval.every, tick_job.interval.period) == (1, "minutes")
    alerts_job = jobs["ledger.tasks.send_alerts"]
    assert alerts_job.name == "Ledger alerts"
    assert (alerts_job.interval.every, alerts_job.interval.period) == (15, "minutes")
    check_job = jobs["ledger.tasks.check_ledger"]
    assert check_job.name == "Ledger check"
    crontab = check_job.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("30", "3", "*")
    assert str(crontab.timezone) == settings.TIME_ZONE


@pytest.mark.django_db
def test_running_the_beat_migration_again_keeps_an_admins_changes() -> None:
    _schedule_jobs_as_the_migration_does()
    PeriodicTask.objects.filter(task="ledger.tasks.send_alerts").update(enabled=False)

    _schedule_jobs_as_the_migration_does()

    assert PeriodicTask.objects.filter(task__in=TASK_NAMES).count() == 3
    assert not PeriodicTask.objects.get(task="ledger.tasks.send_alerts").enabled


@pytest.mark.django_db
def test_old_idempotency_keys_are_purged_hourly_after_48_hours(
    clock: time_machine.Traveller,
) -> None:
    migration = importlib.import_module("ledger.migrations.0006_idempotency_purge_schedule")
    state = MigrationExecutor(connection).loader.project_state(
        ("ledger", "0006_idempotency_purge_schedule")
    )
    migration.schedule_purge(state.apps, None)
    job = PeriodicTask.objects.get(task="ledger.tasks.purge_idempotency_keys")
    assert job.enabled
    assert (job.interval.every, job.interval.period) == (1, "hours")
    clock.move_to(utc(2025, 6, 1, 9))
    services.idempotent_call(
        scope="api:user:1", key="old", fingerprint="f", operation=lambda: (201, {"id": 1})
    )
    clock.move_to(utc(2025, 6, 2, 21))
    services.idempotent_call(
        scope="api:user:1", key="recent", fingerprint="f", operation=lambda: (201, {"id": 2})
    )

    clock.move_to(utc(2025, 6, 3, 9, 0, 1))
    assert purge_idempotency_keys() == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


# --------------------------------------------------------------------------------------------
# manage.py ledger_tick
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ledger_tick_until_a_past_instant_applies_only_what_was_due_by_then(
    clock: time_machine.Traveller,
) -> None:
    seat, inmail = seat_with_a_pending_inmail()
    clock.move_to(utc(2025, 6, 10, 9))
    out = StringIO()

    call_command("ledger_tick", "--until", "2025-05-10T00:00:00+00:00", stdout=out)

    assert out.getvalue().strip() == (
        "Ledger up to date until 2025-05-10T00:00:00+00:00: 1 account group moved, "
        "1 reminder, 0 InMails closed as no_response."
    )
    # The May refresh is due at exactly 00:00 on 10 May: it is included.
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE[:4]
    inmail.refresh_from_db()
    assert inmail.status == InMailStatus.PENDING

    # A time without an offset is read in the organisation's time zone (UTC by default).
    call_command("ledger_tick", "--until", "2025-06-08T09:00:00", stdout=StringIO())
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE[:5]
    inmail.refresh_from_db()
    assert (inmail.status, inmail.closed_at) == (InMailStatus.NO_RESPONSE, utc(2025, 6, 8, 9))

    call_command("ledger_tick", stdout=StringIO())
    assert ledger_rows(account_of(seat)) == LEDGER_ON_10_JUNE
    assert ledger_discrepancies() == []


# --------------------------------------------------------------------------------------------
# A tick killed half-way (R18): whole groups or nothing, and the next tick finishes the work
# --------------------------------------------------------------------------------------------

# (plan, activated days before 10 March, monthly allocation for pooled seats)
ORGANISATION: list[tuple[str, int, int | None]] = [
    ("recruiter_lite", 40, None),
    ("premium_career", 75, None),
    ("premium_business", 20, None),
    ("sales_navigator_core", 55, None),
    ("sales_navigator_advanced", 31, None),
    ("recruiter_professional", 100, None),
    ("recruiter_corporate", 15, None),
    ("recruiter_corporate", 15, 30),
    ("recruiter_corporate", 15, 60),
]


def build_organisation(name: str) -> tuple[Team, list[Seat]]:
    """Six seats of their own and a pool of three, each with a little history, on 10 March."""
    team = new_team(name)
    seats = [
        seat_on(
            plan,
            team=team,
            activated_on=date(2025, 3, 10) - timedelta(days=days_back),
            monthly_allocation=allocation,
        )
        for plan, days_back, allocation in ORGANISATION
    ]
    for index, seat in enumerate(seats):
        send(seat, f"linkedin.com/in/{name}-candidate-{index}")
    bonus_grant(seat=seats[0], credits=5, memo="Hiring sprint", cause=SYSTEM)
    return team, seats


def ledger_of(team: Team, seats: list[Seat]) -> list[Any]:
    """Everything the ledger says about a team, ids replaced by positions."""
    accounts = [account_of(seat) for seat in seats]
    accounts.append(Account.objects.get(kind=AccountKind.POOL, team=team))
    return [
        (
            account.balance,
            account.synced_until,
            account.next_due_at,
            list(
                account.entries.order_by("at", "id").values_list(
                    "at", "kind", "amount", "balance_after", "lot__source", "lot__expires_at"
                )
            ),
            list(
                account.refreshes.order_by("due_at", "id").values_list(
                    "kind", "period_on", "monthly", "cap", "capped_before", "granted", "lost_to_cap"
                )
            ),
        )
        for account in accounts
    ] + [
        list(
            InMail.objects.filter(seat=seat).values_list(
                "status", "sent_at", "reminder_at", "closed_at"
            )
        )
        for seat in seats
    ]


class WorkerKilled(Exception):
    """Stands for the process dying: nothing after it runs, nothing uncommitted survives."""


@pytest.mark.django_db
def test_a_tick_killed_half_way_leaves_whole_groups_and_the_next_tick_finishes_the_work(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = START + timedelta(days=150)
    team, seats = build_organisation("Interrupted")
    clock.move_to(late)
    entries_before = {a.pk: a.entries.count() for a in Account.objects.filter(team=team)}
    synced_before = dict(Account.objects.filter(team=team).values_list("pk", "synced_until"))
    groups: list[list[int]] = []
    with monkeypatch.context() as patch:
        if connection.vendor == "postgresql":
            # The tick works a batch of groups per transaction: one group per batch here, and
            # the fourth dies once its writes are made, before its commit.
            real_group = catch_up_rules.CatchUp.bring_up_to_date
            real_write = batch_catch_up._write

            def records_the_group(simulation: Any, accounts: Any, until: datetime) -> None:
                groups.append(sorted(account.id for account in accounts))
                real_group(simulation, accounts, until)

            def dies_writing_the_fourth_batch(simulation: Any, now: datetime) -> None:
                written = Entry.objects.count()
                real_write(simulation, now)
                if len(groups) == 4:
                    assert Entry.objects.count() > written
                    raise WorkerKilled

            patch.setattr(batch_catch_up, "BATCH_SIZE", 1)
            patch.setattr(catch_up_rules.CatchUp, "bring_up_to_date", records_the_group)
            patch.setattr(batch_catch_up, "_write", dies_writing_the_fourth_batch)
        else:
            real_bring_up_to_date = catch_up._bring_up_to_date

            def dies_during_the_fourth_group(group: services.LockedGroup, until: datetime) -> None:
                groups.append(sorted(account.pk for account in group.values()))
                written = Entry.objects.count()
                real_bring_up_to_date(group, until)
                if len(groups) == 4:
                    # The group's refreshes and expiries are written but not committed.
                    assert Entry.objects.count() > written
                    raise WorkerKilled

            patch.setattr(catch_up, "_bring_up_to_date", dies_during_the_fourth_group)
        with pytest.raises(WorkerKilled):
            ledger_tick()

    done = {pk for group in groups[:3] for pk in group}
    killed = set(groups[3]) - done
    assert killed
    for account in Account.objects.filter(team=team):
        if account.pk in done:
            assert account.next_due_at is None or account.next_due_at > late, account
            # Accounts that had something due were caught up to the tick's instant; the rest
            # were left untouched (nothing about them changed).
            if account.entries.count() > entries_before[account.pk]:
                assert account.synced_until == late, account
            else:
                assert account.synced_until == synced_before[account.pk], account
        else:
            # Killed or never reached: exactly as before the tick.
            assert account.entries.count() == entries_before[account.pk], account
            assert account.synced_until == synced_before[account.pk], account
    assert ledger_discrepancies() == []
    # The reminders and closures come after the accounts: the killed tick never got there.
    assert not InMail.objects.filter(reminder_at__isnull=False).exists()

    report = ledger_tick()
    assert report.reminders == len(seats)
    assert report.closed == len(seats)

    # The same organisation built again and ticked once, uninterrupted: the same ledger.
    clock.move_to(START)
    twin_team, twin_seats = build_organisation("Uninterrupted")
    clock.move_to(late)
    ledger_tick()
    assert ledger_of(team, seats) == ledger_of(twin_team, twin_seats)
    assert ledger_discrepancies() == []


# --------------------------------------------------------------------------------------------
# Two whole tick jobs at once (PostgreSQL): every reminder and closure reported once
# --------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tick_jobs_at_once_apply_and_report_each_refresh_reminder_and_closure_once() -> None:
    with time_machine.travel(START, tick=False) as traveller:
        team, seats = build_organisation("Raced")
        for seat in seats[:3]:
            for n in range(5):
                send(seat, f"linkedin.com/in/extra-{seat.pk}-{n}")
        late = START + timedelta(days=150)
        traveller.move_to(late)
        workers = 2
        barrier = threading.Barrier(workers)

        def run_tick() -> Any:
            try:
                connection.ensure_connection()
                barrier.wait(timeout=60)
                return ledger_tick()
            except Exception as error:
                return error
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=workers) as executor:
            reports = list(executor.map(lambda _: run_tick(), range(workers)))

        assert not [r for r in reports if isinstance(r, Exception)], reports
        inmails = InMail.objects.count()
        assert inmails == len(seats) + 15
        assert sum(report.reminders for report in reports) == inmails
        assert sum(report.closed for report in reports) == inmails
        assert not InMail.objects.exclude(status=InMailStatus.NO_RESPONSE).exists()
        for inmail in InMail.objects.all():
            assert inmail.reminder_at == inmail.sent_at + timedelta(days=3)
            assert inmail.closed_at == inmail.sent_at + timedelta(days=90)
        periods = list(
            Refresh.objects.filter(kind=RefreshKind.REFRESH).values_list("account", "period_on")
        )
        assert len(periods) == len(set(periods))
        assert ledger_discrepancies() == []

        # One tick alone over the same organisation: the same ledger.
        traveller.move_to(START)
        alone_team, alone_seats = build_organisation("Alone")
        for seat in alone_seats[:3]:
            for n in range(5):
                send(seat, f"linkedin.com/in/extra-{seat.pk}-{n}")
        traveller.move_to(late)
        ledger_tick()
        assert ledger_of(team, seats) == ledger_of(alone_team, alone_seats)


# --------------------------------------------------------------------------------------------
# Enqueuing never blocks or fails a request when the broker is down
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_send_with_the_broker_down_commits_and_only_logs_a_warning(
    broker_down: None,
    clock: time_machine.Traveller,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    seat = seat_on("recruiter_lite")

    with (
        caplog.at_level(logging.WARNING, logger="ledger.queue"),
        django_capture_on_commit_callbacks(execute=True) as published,
        transaction.atomic(),
    ):
        sent = send(seat, "linkedin.com/in/jane")

    assert len(published) == 1
    assert InMail.objects.filter(pk=sent.inmail.pk, credit_cost=1).exists()
    assert account_of(seat).balance == 29
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "ledger.queue"] == [
        (
            logging.WARNING,
            "Could not publish ledger.tasks.send_alerts; the next scheduled run covers it",
        )
    ]
