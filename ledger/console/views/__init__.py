"""The admin console under `/manage/`: seats and their credits, plans, teams and people.

Admins only; to anyone else every page here is a 404, so the console doesn't reveal itself.
The one exception is a seat's ledger (the audit view), which its holder and the leads of its
team may read too: it is scoped by `seats_visible_to` like every other page about a seat.

Views stay thin: a form checks what was typed, one `ledger.services` or `teams.services` call
writes (and records the audit row), and a refusal becomes an error on the form it came from
(the services raise before writing, or roll back), so bad input never changes anything and
never answers a 500. Success is a message and a redirect (POST-redirect-GET).

Modules: `common` (admins only, who acts), `seats` (seats, their credits and ledger),
`org` (plans, teams and members, people, the audit trail), `lifecycle` (reassigning a seat,
its usage limit).
"""

from __future__ import annotations

from ledger.console.views.common import (
    AUDIT_EVENTS_PER_PAGE,
    ENTRIES_PER_PAGE,
    SEATS_PER_PAGE,
    P,
    View,
    admin_only,
)
from ledger.console.views.lifecycle import seat_reassign_view, seat_usage_limit_view
from ledger.console.views.org import (
    audit,
    member_add,
    member_remove,
    member_role,
    plan_edit,
    plans,
    team_create,
    team_detail,
    teams,
    user_create,
    users,
)
from ledger.console.views.seats import (
    LotRow,
    index,
    seat_adjust,
    seat_bonus,
    seat_cancel_confirm,
    seat_change_plan_confirm,
    seat_create,
    seat_detail,
    seat_ledger,
    seat_purchase,
    seat_settings,
)

__all__ = [
    "AUDIT_EVENTS_PER_PAGE",
    "ENTRIES_PER_PAGE",
    "SEATS_PER_PAGE",
    "LotRow",
    "P",
    "View",
    "admin_only",
    "audit",
    "index",
    "member_add",
    "member_remove",
    "member_role",
    "plan_edit",
    "plans",
    "seat_adjust",
    "seat_bonus",
    "seat_cancel_confirm",
    "seat_change_plan_confirm",
    "seat_create",
    "seat_detail",
    "seat_ledger",
    "seat_purchase",
    "seat_reassign_view",
    "seat_settings",
    "seat_usage_limit_view",
    "team_create",
    "team_detail",
    "teams",
    "user_create",
    "users",
]
