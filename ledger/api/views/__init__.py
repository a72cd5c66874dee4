"""The REST API v1 (docs/api.md). Views validate, call one service or selector, and render.

Who may do what:
- every object is looked up through the `teams` selectors, so an object outside the user's
  scope answers 404 and never appears in a list;
- a user who may see an object but not do this to it gets 403 (a recruiter cancelling their
  own seat, a lead editing a plan);
- a relation named in a body or a filter that the user can't see is "unknown": 400.

Every POST takes an optional `Idempotency-Key` (see `ledger.api.idempotency`). Modules:
`common` (documentation helpers, lookups), `org` (token, plans, users, teams, the audit
trail), `seats` (seats, their ledger, purchases, pools), `inmails` (InMails, analytics),
`lifecycle` (reassigning a seat, reconciliations).
"""

from __future__ import annotations

from ledger.api.views.common import not_found
from ledger.api.views.inmails import (
    CreditFlows,
    InMailDetail,
    InMailListCreate,
    InMailResponse,
    InMailWithdraw,
    ResponseRates,
)
from ledger.api.views.lifecycle import (
    ReconciliationList,
    ReconciliationResolve,
    SeatReassign,
    SeatReconciliations,
)
from ledger.api.views.org import (
    AuditList,
    PlanDetail,
    PlanList,
    TeamListCreate,
    TeamMembers,
    TokenView,
    UserCreate,
)
from ledger.api.views.seats import (
    PoolTransfers,
    SeatAdjustments,
    SeatBalanceView,
    SeatBonus,
    SeatCancel,
    SeatChangePlan,
    SeatDetail,
    SeatEntries,
    SeatListCreate,
    SeatPurchases,
    TeamPool,
)

__all__ = [
    "AuditList",
    "CreditFlows",
    "InMailDetail",
    "InMailListCreate",
    "InMailResponse",
    "InMailWithdraw",
    "PlanDetail",
    "PlanList",
    "PoolTransfers",
    "ReconciliationList",
    "ReconciliationResolve",
    "ResponseRates",
    "SeatAdjustments",
    "SeatBalanceView",
    "SeatBonus",
    "SeatCancel",
    "SeatChangePlan",
    "SeatDetail",
    "SeatEntries",
    "SeatListCreate",
    "SeatPurchases",
    "SeatReassign",
    "SeatReconciliations",
    "TeamListCreate",
    "TeamMembers",
    "TeamPool",
    "TokenView",
    "UserCreate",
    "not_found",
]
