"""Celery tasks (the first three names are fixed by docs/api.md). Thin: each calls one service.

All are idempotent — a tick claims its work under row locks, alerts are unique per
condition and period, the check only reads — so they acknowledge late: a worker killed half-way
leaves the message to be run again, and running it again is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils.dateparse import parse_datetime

from ledger.notifications.alerts import alerts_raise
from ledger.queue import alert_pass_started
from ledger.rate_breakdowns import breakdown_check, breakdown_settle
from ledger.rate_rollups import rollup_check
from ledger.selectors import flow_day_discrepancies, ledger_discrepancies
from ledger.services import idempotency_records_purge, ledger_tick
from ledger.webhooks.delivery import deliver_due

logger = logging.getLogger(__name__)
rollup_logger = logging.getLogger("ledger.rate_rollups")


@shared_task(name="ledger.tasks.tick", acks_late=True, ignore_result=True)
def tick(until: str | None = None) -> dict[str, Any]:
    report = ledger_tick(until=parse_datetime(until) if until else None)
    return {
        "until": report.until.isoformat(),
        "groups": report.groups,
        "reminders": report.reminders,
        "closed": report.closed,
    }


@shared_task(name="ledger.tasks.send_alerts", acks_late=True, ignore_result=True)
def send_alerts(seat_id: int | None = None) -> dict[str, int]:
    if seat_id is not None:
        alert_pass_started(seat_id)  # before anything is read (ledger/queue.py)
    report = alerts_raise(seat_ids={seat_id} if seat_id is not None else None)
    return {"raised": report.raised, "emailed": report.emailed}


@shared_task(name="ledger.tasks.remind_reconcile", acks_late=True, ignore_result=True)
def remind_reconcile() -> dict[str, int]:
    """The weekly reminder to compare each seat with LinkedIn (R21), once per seat and week."""
    report = alerts_raise(reminders=True)
    return {"raised": report.raised, "emailed": report.emailed}


@shared_task(name="ledger.tasks.check_ledger", acks_late=True, ignore_result=True)
def check_ledger() -> int:
    differences = ledger_discrepancies()
    for difference in differences:
        logger.error("ledger_check: %s", difference)
    # The rollup credit flows read (`manage.py ledger_flows_check`).
    flow_days = flow_day_discrepancies()
    for difference in flow_days:
        logger.error("ledger_flows_check: %s", difference)
    # The response-rate rollups (issue 15), recomputed from the InMails, daily with the ledger.
    # A time zone other than the rollups' is no difference: the analytics count the InMails
    # until `manage.py rates_check --rebuild`.
    rollups = rollup_check()
    if rollups.zone != rollups.expected_zone:
        rollup_logger.warning("rates_check: %s", rollups.problems()[0])
    for rollup_difference in rollups.differences:
        rollup_logger.error("rates_check: %s", rollup_difference)
    # The breakdowns by hour, template and tag: their unanswered InMails settled up to today's
    # 30-day cutoff (what keeps their reads small), then recomputed like the rollups.
    breakdown_settle()
    breakdowns = breakdown_check()
    if breakdowns.zone != breakdowns.expected_zone:
        rollup_logger.warning("rates_check: %s", breakdowns.problems()[0])
    for breakdown_difference in breakdowns.differences:
        rollup_logger.error("rates_check: %s", breakdown_difference)
    return (
        len(differences) + len(flow_days) + len(rollups.differences) + len(breakdowns.differences)
    )


@shared_task(name="ledger.tasks.purge_idempotency_keys", acks_late=True, ignore_result=True)
def purge_idempotency_keys() -> int:
    """Forget idempotency keys past their retention (docs/api.md keeps them at least 24 hours)."""
    return idempotency_records_purge()


# --- Webhooks (R23; issue 14 item 2) ---------------------------------------------------------


@shared_task(name="ledger.tasks.deliver_webhooks", acks_late=True, ignore_result=True)
def deliver_webhooks() -> dict[str, int]:
    """Deliver every webhook delivery due; published after each change, and run by beat."""
    report = deliver_due()
    return {"delivered": report.delivered, "retrying": report.retrying, "failed": report.failed}
