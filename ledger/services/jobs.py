"""The periodic job (R17, R18): everything due, in time order, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from ledger.exceptions import (
    LedgerValidationError,
)
from ledger.services.batch_catch_up import ledger_bring_all_up_to_date_batched
from ledger.services.catch_up import ledger_bring_all_up_to_date
from ledger.services.inmails import inmails_close_response_windows, inmails_record_reminders

# --------------------------------------------------------------------------------------------
# The periodic job (R17, R18)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickReport:
    until: datetime
    groups: int
    closed: int
    reminders: int


def ledger_tick(*, until: datetime | None = None) -> TickReport:
    """Apply every refresh, expiry, reminder and response-window closure due up to `until`.

    Safe to run late (everything is dated when it was due), twice, or on two workers at once
    (each step is claimed under a lock or by a conditional update).
    """
    now = timezone.now()
    until = until or now
    if until > now:
        raise LedgerValidationError("until", "The ledger can't be moved into the future.")
    # Many groups a transaction on PostgreSQL; one at a time where there are no row locks.
    if connection.vendor == "postgresql":
        groups = ledger_bring_all_up_to_date_batched(until=until)
    else:
        groups = ledger_bring_all_up_to_date(until=until)
    reminders = inmails_record_reminders(until=until)
    closed = inmails_close_response_windows(until=until)
    return TickReport(until=until, groups=groups, closed=closed, reminders=reminders)
