"""Calendar arithmetic in the organisation's time zone (R3, R5, R9, R10).

Refreshes happen at 00:00 local time on the refresh date. Every refresh date is computed from
the anchor date directly (the k-th month after it, on the anchor day or the month's last day),
never by chaining months, so anchor 31 gives Jan 31, Feb 28 (29), Mar 31, Apr 30, ... and never
drifts to the 28th. Day counts (credit lifetimes, the 90-day response window) are calendar days
on the local wall clock, so 90 days after 00:00 is 00:00 again even across a DST change.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from teams.models import RefreshRule

# The plan's refresh rules (R3), under the names the calendar arithmetic is read with.
BILLING_DAY = RefreshRule.BILLING_DAY
MONTH_START = RefreshRule.MONTH_START


def org_tz() -> ZoneInfo:
    tz = timezone.get_default_timezone()
    assert isinstance(tz, ZoneInfo)
    return tz


def local_date(instant: datetime) -> date:
    return instant.astimezone(org_tz()).date()


def today() -> date:
    return local_date(timezone.now())


def start_of_day(day: date) -> datetime:
    """00:00 of `day` in the organisation's time zone."""
    return datetime.combine(day, time.min, tzinfo=org_tz())


def add_days(instant: datetime, days: int) -> datetime:
    """The same wall-clock time `days` calendar days later, in the organisation's time zone."""
    tz = org_tz()
    local = instant.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz)


def month_start(instant: datetime) -> datetime:
    """00:00 on the 1st of the local month containing `instant`."""
    return start_of_day(local_date(instant).replace(day=1))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def first_of_month_after(day: date, months: int = 1) -> date:
    """The first day of the month `months` after `day`'s (negative: before)."""
    year, month = _add_months(day.year, day.month, months)
    return date(year, month, 1)


def is_month_end(day: date) -> bool:
    """Whether `day` is the last day of its month."""
    return day + timedelta(days=1) == first_of_month_after(day)


def refresh_date(anchor_on: date, rule: str, k: int) -> date:
    """The k-th refresh date (k >= 1) of a schedule that started on `anchor_on`."""
    if k < 1:
        raise ValueError("refresh number starts at 1")
    year, month = _add_months(anchor_on.year, anchor_on.month, k)
    if rule == MONTH_START:
        return date(year, month, 1)
    if rule == BILLING_DAY:
        last_day = calendar.monthrange(year, month)[1]
        return date(year, month, min(anchor_on.day, last_day))
    raise ValueError(f"no refresh schedule for rule {rule!r}")


def next_refresh_date(anchor_on: date, rule: str, after: datetime) -> date:
    """The first refresh date whose 00:00 is strictly later than `after`."""
    after_day = local_date(after)
    k = max(1, (after_day.year - anchor_on.year) * 12 + (after_day.month - anchor_on.month))
    while True:
        day = refresh_date(anchor_on, rule, k)
        if start_of_day(day) > after:
            return day
        k += 1


def next_refresh_at(anchor_on: date, rule: str, after: datetime) -> datetime:
    return start_of_day(next_refresh_date(anchor_on, rule, after))


def refresh_at_or_before(anchor_on: date, rule: str, at: datetime) -> datetime | None:
    """The latest refresh instant of the schedule at or before `at`; None before the first."""
    at_day = local_date(at)
    k = (at_day.year - anchor_on.year) * 12 + (at_day.month - anchor_on.month) + 1
    while k >= 1:
        instant = start_of_day(refresh_date(anchor_on, rule, k))
        if instant <= at:
            return instant
        k -= 1
    return None


def usage_period(
    *, activated_at: datetime, anchor_on: date, rule: str, at: datetime
) -> tuple[datetime, datetime]:
    """The R20 usage period containing `at`: [start, end).

    A period starts at each refresh instant of the schedule that grants the seat its credits
    (a pooled seat's: its pool's), and before the first one after the activation, at the
    activation itself; it ends at the next refresh instant.
    """
    previous = refresh_at_or_before(anchor_on, rule, at)
    start = activated_at if previous is None or previous < activated_at else previous
    return start, next_refresh_at(anchor_on, rule, at)
