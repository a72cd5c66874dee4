"""What every page of the dashboard shares: the signed-in user, htmx, chart data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from ledger import analytics, schedule
from ledger.analytics.rates import SMALL_SAMPLE_ELIGIBLE as SMALL_SAMPLE_ELIGIBLE
from ledger.models import InMail, InMailStatus
from ledger.services import (
    Cause,
)
from teams.models import User

INMAILS_PER_PAGE = 20
# The event htmx fires after a send; the "my InMails" section reloads itself on it.
LEDGER_UPDATED_EVENT = "ledger-updated"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required lets only a signed-in person through
    return user


def _cause(request: HttpRequest) -> Cause:
    return Cause(actor=_user(request), via="web")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


# Under a month's chart: why its latest months may still move. the rules' rate leaves an InMail out
# until it is answered or 30 days old, so a month with such InMails reads high for now.
OPEN_MONTH_NOTE = (
    "* This month has InMails less than 30 days old and not answered yet: they count once "
    "answered or 30 days old, so its rate may still fall."
)


@dataclass(frozen=True)
class RateLine:
    """A response-rate row as a table shows it: open (its month may still move) or not."""

    row: analytics.ResponseRateRow
    open: bool = False

    @property
    def small_sample(self) -> bool:
        return self.row.rate_base < SMALL_SAMPLE_ELIGIBLE


def _rate_lines(
    rows: list[analytics.ResponseRateRow], open_keys: set[str] | None = None
) -> list[RateLine]:
    marked = open_keys or set()
    return [RateLine(row=row, open=row.key in marked) for row in rows]


def _months_still_open(inmails: QuerySet[InMail], now: datetime) -> set[str]:
    """Month keys ("YYYY-MM") with pending InMails younger than the 30-day window."""
    recent = inmails.filter(
        status=InMailStatus.PENDING,
        sent_at__gt=schedule.add_days(now, -analytics.RESPONSE_RATE_WINDOW_DAYS),
    )
    months = recent.datetimes("sent_at", "month", tzinfo=schedule.org_tz())
    return {f"{month:%Y-%m}" for month in months}


def _rate_chart(
    rows: list[analytics.ResponseRateRow], *, kind: str = "bar", open_keys: set[str] | None = None
) -> dict[str, Any]:
    """Chart data for charts.js: labels and one series of response rates in percent.

    Labels of `open_keys` carry a "*" that the page explains (OPEN_MONTH_NOTE); each point's
    sample size (its eligible InMails, the rate's base) is in `eligible`, for the tooltip.
    """
    marked = open_keys or set()
    return {
        "type": kind,
        "percent": True,
        "labels": [f"{row.label}*" if row.key in marked else row.label for row in rows],
        "datasets": [
            {
                "label": "Response rate",
                "data": [_percent(row.response_rate) for row in rows],
                "eligible": [row.rate_base for row in rows],
            }
        ],
    }
