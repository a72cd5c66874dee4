"""Every write to the ledger (R1–R18), one function per operation.

Each service runs in one transaction: it locks the accounts it touches (all at once, in
ascending id order, so writers never deadlock), brings them up to date (R17: everything due up
to now is applied first, in time order), checks the rules, then writes lots and entries. A rule
that says no raises a `LedgerRuleError` before anything is kept. See `ledger/models.py` for the
design and the invariants, and docs/architecture.md for where each module stands.

The modules, lowest first (each imports only those before it):

- `locking`: `Cause`, and the one lock order (`_lock_groups`);
- `accounts`: the reads a service needs under its locks (also used by the selectors);
- `posting`: entries, lots, taking credits in spend order, moving credits;
- `catch_up`: expiries and refreshes due up to an instant (R17);
- `seats`, `inmails`, `credits`: the operations;
- `reassign`, `usage`, `reconcile`: a seat changing hands (R19), its usage limit (R20), and
  reconciling it with LinkedIn (R21);
- `idempotency`, `jobs`, `imports`: keys, the periodic job, history imports.

This package's namespace is the services' public face: callers import from `ledger.services`.
"""

from __future__ import annotations

from ledger.services.batch_catch_up import ledger_bring_all_up_to_date_batched
from ledger.services.catch_up import (
    accounts_bring_up_to_date,
    ledger_bring_all_up_to_date,
    seat_bring_up_to_date,
    seats_bring_up_to_date,
)
from ledger.services.credits import (
    TransferResult,
    adjustment_post,
    bonus_grant,
    pool_transfer,
    purchase_record,
)
from ledger.services.idempotency import (
    IdempotentAnswer,
    idempotency_records_purge,
    idempotent_call,
    request_fingerprint,
)
from ledger.services.imports import (
    IMPORT_MAX_ROWS,
    CheckedImport,
    HistoricInMail,
    ImportProblem,
    ImportRejected,
    inmail_import_check,
    inmail_import_problems,
    inmails_import,
)
from ledger.services.inmails import (
    SentInMail,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    inmails_close_response_windows,
    inmails_record_reminders,
)
from ledger.services.jobs import TickReport, ledger_tick
from ledger.services.locking import Cause, LockedGroup
from ledger.services.reassign import HoldingHistory, seat_holding_history, seat_reassign
from ledger.services.reconcile import (
    LINKEDIN_BALANCE_MAX,
    reconciliation_record,
    reconciliation_resolve,
)
from ledger.services.seats import (
    USAGE_LIMIT_MAX,
    seat_activate,
    seat_cancel,
    seat_change_plan,
    seat_update_settings,
)
from ledger.services.tags import inmail_update_tags  # R22 outreach tags
from ledger.services.usage import (
    SeatUsage,
    seat_set_usage_limit,
    seat_usage,
    seats_set_usage_limit,
    seats_usage,
    usage_of_seats,
)

__all__ = [
    "IMPORT_MAX_ROWS",
    "LINKEDIN_BALANCE_MAX",
    "USAGE_LIMIT_MAX",
    "Cause",
    "CheckedImport",
    "HistoricInMail",
    "HoldingHistory",
    "IdempotentAnswer",
    "ImportProblem",
    "ImportRejected",
    "LockedGroup",
    "SeatUsage",
    "SentInMail",
    "TickReport",
    "TransferResult",
    "accounts_bring_up_to_date",
    "adjustment_post",
    "bonus_grant",
    "idempotency_records_purge",
    "idempotent_call",
    "inmail_import_check",
    "inmail_import_problems",
    "inmail_record_response",
    "inmail_send",
    "inmail_update_tags",  # R22
    "inmail_withdraw",
    "inmails_close_response_windows",
    "inmails_import",
    "inmails_record_reminders",
    "ledger_bring_all_up_to_date",
    "ledger_bring_all_up_to_date_batched",
    "ledger_tick",
    "pool_transfer",
    "purchase_record",
    "reconciliation_record",
    "reconciliation_resolve",
    "request_fingerprint",
    "seat_activate",
    "seat_bring_up_to_date",
    "seat_cancel",
    "seat_change_plan",
    "seat_holding_history",
    "seat_reassign",
    "seat_set_usage_limit",
    "seat_update_settings",
    "seat_usage",
    "seats_bring_up_to_date",
    "seats_set_usage_limit",
    "seats_usage",
    "usage_of_seats",
]
