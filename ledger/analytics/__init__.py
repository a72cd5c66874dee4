"""Read-side analytics: response rates, credit flows, the run-out forecast.

The definitions are in docs/rules.md ("Analytics").

Used by the REST API (`/analytics/...`) and the dashboard. Every reader takes the user, so a
number never includes what the user may not see (`scope`); a breakdown whose rows name a person
counts only the seats the user may see one by one (`breakdown_inmails`). The interpretations
are stated in `docs/analytics.md`. Modules: `scope` (whose InMails and accounts), `sql` (the
database functions the counts need), `rates` (response rates), `flows` (credit flows and cost),
`forecast` (run-out), `history` (balances day by day), `snapshot` (a page's reads in one
snapshot, and what every read asks first asked once in it).
"""

from __future__ import annotations

from ledger.analytics.flows import (
    CENT,
    DEFAULT_PERIOD_DAYS,
    CreditFlows,
    billing_dates,
    credit_flows,
    credit_flows_by_team,
    monthly_credit_flows,
)
from ledger.analytics.forecast import (
    FORECAST_HORIZON_DAYS,
    REFUND_TRAILING_DAYS,
    SPEND_TRAILING_DAYS,
    SeatForecast,
    SpendRate,
    seat_forecast,
    seat_forecasts,
)
from ledger.analytics.history import daily_balances
from ledger.analytics.rates import (
    BODY_BUCKETS,
    MONTH_ABBR,
    OPEN_PROFILE_BUCKETS,
    RESPONSE_RATE_WINDOW_DAYS,
    SUBJECT_BUCKETS,
    GroupFields,
    ResponseRateRow,
    response_rates,
    response_totals,
)
from ledger.analytics.scope import (
    GROUP_BY,
    PERSON_BREAKDOWNS,
    Viewer,
    analytics_accounts,
    analytics_inmails,
    breakdown_inmails,
    breakdown_scopes,
    inmails_of_seats_count,
)
from ledger.analytics.snapshot import one_snapshot
from ledger.analytics.sql import (
    SIX_WORDS_OR_MORE,
    WEEKDAYS,
    AnsweredWithinDays,
    HoursToResponse,
    LocalPeriod,
    MedianHoursToResponse,
)

__all__ = [
    "BODY_BUCKETS",
    "CENT",
    "DEFAULT_PERIOD_DAYS",
    "FORECAST_HORIZON_DAYS",
    "GROUP_BY",
    "MONTH_ABBR",
    "OPEN_PROFILE_BUCKETS",
    "PERSON_BREAKDOWNS",
    "REFUND_TRAILING_DAYS",
    "RESPONSE_RATE_WINDOW_DAYS",
    "SIX_WORDS_OR_MORE",
    "SPEND_TRAILING_DAYS",
    "SUBJECT_BUCKETS",
    "WEEKDAYS",
    "AnsweredWithinDays",
    "CreditFlows",
    "GroupFields",
    "HoursToResponse",
    "LocalPeriod",
    "MedianHoursToResponse",
    "ResponseRateRow",
    "SeatForecast",
    "SpendRate",
    "Viewer",
    "analytics_accounts",
    "analytics_inmails",
    "billing_dates",
    "breakdown_inmails",
    "breakdown_scopes",
    "credit_flows",
    "credit_flows_by_team",
    "daily_balances",
    "inmails_of_seats_count",
    "monthly_credit_flows",
    "one_snapshot",
    "response_rates",
    "response_totals",
    "seat_forecast",
    "seat_forecasts",
]
