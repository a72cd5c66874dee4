"""Read-side analytics: response rates and credit flows (SPEC "Analytics definitions").

Used by the REST API (`/analytics/...`) and the dashboard. Every selector takes the user, so a
number never includes what the user may not see (`teams.selectors`); a breakdown whose rows name
a person counts only the seats the user may see one by one (`breakdown_inmails`: a recruiter
gets their own row, never a teammate's, while team totals stay visible). Interpretations of the
SPEC are stated in `docs/analytics.md`; in short:

- An InMail is *answered within 30 days* when its response was recorded no later than 30
  calendar days (local wall clock, like every day count of the ledger) after it was sent.
- The response rate counts, in its denominator, InMails answered at any time and InMails whose
  30-day window is over (sent at least 30 days before `now`). Withdrawn InMails never reached a
  decision, so they count in `sent` but not in the rate.
- Credit flows are sums of ledger entries dated within the period; moves between a pool and its
  seats (allocations, transfers) are not flows. Credits lost to the cap are the credits a
  refresh did not grant (from its `Refresh` row; they never became entries) plus the credits
  trimmed above the cap (`lost_to_cap` entries), so nothing is counted twice.

Rates are worked out by the database, grouped in one query per breakdown (a second for medians
on SQLite, which has no ordered-set aggregate), so no InMail is ever read into Python: a
breakdown of 100,000 InMails costs about one scan of the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    CharField,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Length
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from ledger import schedule
from ledger.models import (
    RESPONSE_STATUSES,
    Account,
    Entry,
    EntryKind,
    InMail,
    InMailStatus,
    Purchase,
    Refresh,
)
from ledger.selectors import seat_balance
from teams.models import Seat, SeatStatus, Team, User
from teams.selectors import seats_visible_to, teams_with_totals_visible_to

GROUP_BY = (
    "recruiter",
    "team",
    "week",
    "month",
    "weekday",
    "body_length",
    "subject_length",
    "open_profile",
)
# Breakdowns whose rows name a person (SPEC "Clarifications": per-person analytics are for the
# leads of that team and admins; a recruiter gets their own row only).
PERSON_BREAKDOWNS = frozenset({"recruiter"})

RESPONSE_RATE_WINDOW_DAYS = 30
DEFAULT_PERIOD_DAYS = 30
RUN_OUT_TRAILING_DAYS = 30
CENT = Decimal("0.01")

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# English abbreviations on purpose: strftime("%b") would follow the server's locale.
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BODY_BUCKETS = (
    ("<400", "Under 400 chars"),
    ("400-999", "400–999 chars"),
    (">=1000", "1000+ chars"),
)
SUBJECT_BUCKETS = (("<=5 words", "Up to 5 words"), (">5 words", "More than 5 words"))
OPEN_PROFILE_BUCKETS = (("open_profile", "Open Profile"), ("paid", "Paid"))
# Six or more whitespace-separated words. A regular expression, not a word count, because both
# databases can match one (SQLite through Django's REGEXP) while neither can split a string.
SIX_WORDS_OR_MORE = r"^\s*\S+(\s+\S+){5}"

Viewer = User | AnonymousUser


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------


def _analysable_seats(user: Viewer) -> QuerySet[Seat]:
    """Seats the user may see, plus every seat of the teams whose totals they may see."""
    return Seat.objects.filter(
        Q(pk__in=seats_visible_to(user).values("pk"))
        | Q(team__in=teams_with_totals_visible_to(user).values("pk"))
    )


def analytics_inmails(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[InMail]:
    """The InMails a user may analyse, narrowed by team, seat and local sent date (inclusive).

    Callers have already checked that `team` and `seat` are visible; narrowing still happens
    inside the user's scope, so a wrong argument can only give fewer InMails, never more.
    """
    inmails = InMail.objects.filter(seat__in=_analysable_seats(user).values("pk"))
    if team is not None:
        inmails = inmails.filter(seat__team=team)
    if seat is not None:
        inmails = inmails.filter(seat=seat)
    if start is not None:
        inmails = inmails.filter(sent_at__gte=schedule.start_of_day(start))
    if end is not None:
        inmails = inmails.filter(sent_at__lt=schedule.start_of_day(end + timedelta(days=1)))
    return inmails


def breakdown_inmails(
    user: Viewer,
    group_by: str,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[InMail]:
    """The InMails a `group_by` breakdown may count for the user: the one scope of every
    response-rate breakdown, in the API and in the pages alike.

    Totals (by team, month, weekday, length, Open Profile) count everything `analytics_inmails`
    gives: the user's own seats and the teams whose totals they may see. A breakdown whose rows
    name a person (PERSON_BREAKDOWNS) counts only the seats the user may see one by one
    (`seats_visible_to`: their own, every seat of the teams they lead, all for an admin), so a
    recruiter sees their own row and never a teammate's, team by team: someone who leads one
    team and recruits in another sees every row of the first and their own in the second.
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"Unknown group_by {group_by!r}; use one of {', '.join(GROUP_BY)}.")
    inmails = analytics_inmails(user, team=team, seat=seat, start=start, end=end)
    if group_by in PERSON_BREAKDOWNS:
        inmails = inmails.filter(seat__in=seats_visible_to(user).values("pk"))
    return inmails


def analytics_accounts(
    user: Viewer, *, team: Team | None = None, seat: Seat | None = None
) -> QuerySet[Account]:
    """Accounts whose flows the user may see: visible seats' accounts, and every account (seats
    and pool) of the teams whose totals they may see; narrowed to a team or one seat."""
    accounts = Account.objects.filter(
        Q(seat__in=seats_visible_to(user).values("pk"))
        | Q(team__in=teams_with_totals_visible_to(user).values("pk"))
    )
    if team is not None:
        accounts = accounts.filter(team=team)
    if seat is not None:
        accounts = accounts.filter(seat=seat)
    return accounts


# --------------------------------------------------------------------------------------------
# Database expressions
# --------------------------------------------------------------------------------------------


def _sqlite_add_local_days(stored: str, days: int) -> str:
    """`schedule.add_days` on SQLite's stored form of a datetime (naive UTC text)."""
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    moved = schedule.add_days(instant, days).astimezone(UTC).replace(tzinfo=None)
    # The same text form Django writes, so SQLite's text comparison orders them correctly.
    return str(moved)


def _sqlite_local_period(stored: str, period: str) -> str:
    """The local week, month or weekday key of SQLite's stored form of a datetime."""
    local = datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(schedule.org_tz())
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    return WEEKDAYS[local.weekday()]


def _lend_python_to_sqlite(connection: BaseDatabaseWrapper) -> None:
    """SQLite knows no time zones: lend it the Python arithmetic (again is harmless).

    Django's own time-zone functions for SQLite would do, but they parse every value in
    Python several times per row; these parse once, and only where SQL can't decide.
    """
    connection.ensure_connection()
    raw = connection.connection
    raw.create_function("analytics_add_local_days", 2, _sqlite_add_local_days)
    raw.create_function("analytics_local_period", 2, _sqlite_local_period)


class AnsweredWithinDays(Func):
    """Whether the response came no later than `days` calendar days after sending.

    Calendar days on the organisation's wall clock, like every day count of the ledger (the
    90-day refund window is `schedule.add_days` too): 30 days after 09:00 is 09:00 again across a
    daylight-saving change, so plain interval arithmetic would be an hour off.
    """

    output_field = BooleanField()

    def __init__(self, days: int) -> None:
        super().__init__(F("responded_at"), F("sent_at"))
        self.days = days

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        (responded, responded_params), (sent, sent_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        tz_name = schedule.org_tz().key
        return (
            f"{responded} <= ((({sent}) AT TIME ZONE %s) + %s * INTERVAL '1 day') AT TIME ZONE %s",
            [*responded_params, *sent_params, tz_name, self.days, tz_name],
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        _lend_python_to_sqlite(connection)
        (responded, responded_params), (sent, sent_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        # A day either side of the limit, elapsed time decides (no offset change is a day),
        # so the Python arithmetic runs only for answers that came around day 30.
        return (
            f"CASE WHEN {responded} <= datetime({sent}, %s) THEN 1 "
            f"WHEN {responded} > datetime({sent}, %s) THEN 0 "
            f"ELSE {responded} <= analytics_add_local_days({sent}, %s) END",
            [
                *responded_params,
                *sent_params,
                f"+{self.days - 1} days",
                *responded_params,
                *sent_params,
                f"+{self.days + 1} days",
                *responded_params,
                *sent_params,
                self.days,
            ],
        )


class LocalPeriod(Func):
    """The local ISO week ("2026-W45"), month ("2026-11") or weekday ("Monday") of an instant."""

    output_field = CharField()
    _POSTGRES_FORMATS = {"week": 'IYYY-"W"IW', "month": "YYYY-MM", "weekday": "FMDay"}

    def __init__(self, expression: Expression | str, period: str) -> None:
        super().__init__(expression)
        self.period = period

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        # Day names without the TM prefix are English whatever the server's locale.
        return (
            f"to_char(({sql}) AT TIME ZONE %s, %s)",
            [*params, schedule.org_tz().key, self._POSTGRES_FORMATS[self.period]],
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        _lend_python_to_sqlite(connection)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"analytics_local_period({sql}, %s)", [*params, self.period]


class HoursToResponse(Func):
    """Elapsed hours from sending to the response."""

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F("responded_at"), F("sent_at"))

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        responded, sent = (compiler.compile(e) for e in self.source_expressions)
        return (
            f"EXTRACT(EPOCH FROM ({responded[0]} - {sent[0]})) / 3600.0",
            [*responded[1], *sent[1]],
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        # julianday() is native: no Python call per row.
        responded, sent = (compiler.compile(e) for e in self.source_expressions)
        return (
            f"(julianday({responded[0]}) - julianday({sent[0]})) * 24.0",
            [*responded[1], *sent[1]],
        )


class MedianHoursToResponse(Aggregate):
    """PostgreSQL's exact median of the hours from sending to the response."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, **extra: Any) -> None:
        super().__init__(HoursToResponse(), filter=Q(status__in=RESPONSE_STATUSES), **extra)


def _median_in_database(inmails: QuerySet[InMail]) -> bool:
    return connections[inmails.db].vendor == "postgresql"


def _measures(now: datetime, *, median: bool) -> dict[str, Aggregate]:
    answered = Q(status__in=RESPONSE_STATUSES)
    window_over = Q(sent_at__lte=schedule.add_days(now, -RESPONSE_RATE_WINDOW_DAYS))
    measures: dict[str, Aggregate] = {
        "sent": Count("pk"),
        "answered_30d": Count(
            "pk",
            filter=answered & AnsweredWithinDays(RESPONSE_RATE_WINDOW_DAYS),
        ),
        "rate_base": Count(
            "pk", filter=answered | (window_over & ~Q(status=InMailStatus.WITHDRAWN))
        ),
        "accepted": Count("pk", filter=Q(status=InMailStatus.ACCEPTED)),
        "declined": Count("pk", filter=Q(status=InMailStatus.DECLINED)),
        "replied": Count("pk", filter=Q(status=InMailStatus.REPLIED)),
        "pending": Count("pk", filter=Q(status=InMailStatus.PENDING)),
        "no_response": Count("pk", filter=Q(status=InMailStatus.NO_RESPONSE)),
        "withdrawn": Count("pk", filter=Q(status=InMailStatus.WITHDRAWN)),
    }
    if median:
        measures["median_hours"] = MedianHoursToResponse()
    return measures


# --------------------------------------------------------------------------------------------
# Response rates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRateRow:
    """One row of a response-rate breakdown; `key` is stable, `label` is for people."""

    key: str
    label: str
    sent: int
    answered_30d: int
    accepted: int
    declined: int
    replied: int
    pending: int
    no_response: int
    response_rate: float | None
    acceptance_rate: float | None
    median_hours_to_response: float | None
    # The response rate's denominator: answered at any time, or sent 30+ days ago (not withdrawn).
    rate_base: int = 0
    withdrawn: int = 0

    @property
    def responses(self) -> int:
        return self.accepted + self.declined + self.replied


def _row(
    key: str, label: str, counts: Mapping[str, Any], median_hours: float | None
) -> ResponseRateRow:
    responses = counts["accepted"] + counts["declined"] + counts["replied"]
    return ResponseRateRow(
        key=key,
        label=label,
        sent=counts["sent"],
        answered_30d=counts["answered_30d"],
        accepted=counts["accepted"],
        declined=counts["declined"],
        replied=counts["replied"],
        pending=counts["pending"],
        no_response=counts["no_response"],
        response_rate=counts["answered_30d"] / counts["rate_base"] if counts["rate_base"] else None,
        acceptance_rate=counts["accepted"] / responses if responses else None,
        median_hours_to_response=median_hours,
        rate_base=counts["rate_base"],
        withdrawn=counts["withdrawn"],
    )


_EMPTY_COUNTS: Mapping[str, int] = defaultdict(int)


GroupFields = Mapping[str, Expression | F]


@dataclass(frozen=True)
class _Grouping:
    """How one breakdown groups InMails in SQL and names its groups."""

    # The expressions to group by, by the name they get in `values()`. Built per query: the
    # time zone is read when the query runs, not when this module is imported.
    fields: Callable[[], GroupFields]
    # Every group of a fixed domain, in natural order ((key, label) pairs), or None when the
    # groups are whatever the InMails hold (recruiters, teams, weeks, months).
    domain: tuple[tuple[str, str], ...] | None
    # The row key of a grouped `values()` row.
    key_of: Callable[[Mapping[str, Any]], str]


def _local(period: str) -> Callable[[], GroupFields]:
    """The local week, month or weekday of sending, in the organisation's time zone."""
    return lambda: {"g_period": LocalPeriod("sent_at", period)}


def _bucket(name: str, *whens: When, default: str) -> Callable[[], GroupFields]:
    return lambda: {name: Case(*whens, default=Value(default), output_field=CharField())}


_GROUPINGS: dict[str, _Grouping] = {
    "recruiter": _Grouping(
        lambda: {"g_holder": F("seat__holder")}, None, lambda r: str(r["g_holder"])
    ),
    "team": _Grouping(lambda: {"g_team": F("seat__team")}, None, lambda r: str(r["g_team"])),
    "week": _Grouping(_local("week"), None, lambda r: r["g_period"]),
    "month": _Grouping(_local("month"), None, lambda r: r["g_period"]),
    "weekday": _Grouping(
        _local("weekday"), tuple((day, day[:3]) for day in WEEKDAYS), lambda r: r["g_period"]
    ),
    "body_length": _Grouping(
        _bucket(
            "g_body",
            When(Q(g_body_chars__lt=400), then=Value(BODY_BUCKETS[0][0])),
            When(Q(g_body_chars__lt=1000), then=Value(BODY_BUCKETS[1][0])),
            default=BODY_BUCKETS[2][0],
        ),
        BODY_BUCKETS,
        lambda r: r["g_body"],
    ),
    "subject_length": _Grouping(
        _bucket(
            "g_subject",
            When(Q(subject__regex=SIX_WORDS_OR_MORE), then=Value(SUBJECT_BUCKETS[1][0])),
            default=SUBJECT_BUCKETS[0][0],
        ),
        SUBJECT_BUCKETS,
        lambda r: r["g_subject"],
    ),
    "open_profile": _Grouping(
        lambda: {"g_open_profile": F("open_profile")},
        OPEN_PROFILE_BUCKETS,
        lambda r: OPEN_PROFILE_BUCKETS[0][0] if r["g_open_profile"] else OPEN_PROFILE_BUCKETS[1][0],
    ),
}


def _grouped(
    inmails: QuerySet[InMail], grouping: _Grouping | None, **extra: Expression
) -> QuerySet[InMail, dict[str, Any]]:
    """The InMails grouped by the breakdown's fields (none: one group), plus `extra` values."""
    fields = grouping.fields() if grouping is not None else {}
    # No ordering: InMail's default ordering has no place in a GROUP BY.
    rows = inmails.order_by().alias(g_body_chars=Length("body")).annotate(**fields)
    return rows.values(*fields, **extra)


def _median_hours_by_ranking(
    inmails: QuerySet[InMail], grouping: _Grouping | None
) -> dict[str, float]:
    """Medians for databases without an ordered-set aggregate (SQLite), still in one query.

    Answered InMails are ranked by hours to response within their group; the median is the
    middle one, or the mean of the middle two.
    """
    answered = _grouped(
        inmails.filter(status__in=RESPONSE_STATUSES), grouping, g_hours=HoursToResponse()
    )
    inner, params = answered.query.sql_with_params()
    connection = connections[inmails.db]
    # The group fields' own names (all `g_...`, chosen here), so the SQL can be written around
    # the compiled query.
    names = list(grouping.fields()) if grouping else []
    keys = ", ".join(connection.ops.quote_name(name) for name in names)
    partition = f"PARTITION BY {keys}" if keys else ""
    selected = f"{keys}, " if keys else ""
    # Only our own column names and Django's compiled query go into the text; values are params.
    sql = (
        f"SELECT {selected}AVG(g_hours) FROM ("  # noqa: S608
        f"SELECT {selected}g_hours, "
        f"ROW_NUMBER() OVER ({partition} ORDER BY g_hours) AS g_rank, "
        f"COUNT(*) OVER ({partition}) AS g_count FROM ({inner}) answered"
        f") ranked WHERE g_rank IN ((g_count + 1) / 2, (g_count + 2) / 2)"
        f"{f' GROUP BY {keys}' if keys else ''}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    medians: dict[str, float] = {}
    for *values, hours in found:
        if hours is not None:
            key = grouping.key_of(dict(zip(names, values, strict=True))) if grouping else "all"
            medians[key] = float(hours)
    return medians


def _labels(group_by: str, keys: list[str]) -> dict[str, tuple[str, str, tuple[Any, ...]]]:
    """(public key, label, sort key) for each grouped key."""
    named: dict[str, tuple[str, str, tuple[Any, ...]]] = {}
    if group_by == "recruiter":
        for user in User.objects.filter(pk__in=[int(k) for k in keys]):
            label = user.get_full_name() or user.username
            named[str(user.pk)] = (user.username, label, (label.casefold(), user.username))
    elif group_by == "team":
        for team in Team.objects.filter(pk__in=[int(k) for k in keys]):
            named[str(team.pk)] = (team.name, team.name, (team.name.casefold(), team.name))
    elif group_by == "week":
        for key in keys:
            year, week = int(key[:4]), int(key[6:])
            monday = date.fromisocalendar(year, week, 1)
            label = f"Week of {monday.day} {MONTH_ABBR[monday.month - 1]} {monday.year}"
            named[key] = (key, label, (year, week))
    else:  # month
        for key in keys:
            year, month = int(key[:4]), int(key[5:])
            named[key] = (key, f"{MONTH_ABBR[month - 1]} {year}", (year, month))
    return named


def response_rates(
    inmails: QuerySet[InMail], *, group_by: str, now: datetime | None = None
) -> list[ResponseRateRow]:
    """Response rates broken down by `group_by` (one of GROUP_BY), in natural order.

    Breakdowns with a fixed set of groups (weekday, body length, subject length, Open Profile)
    return every group, empty ones as zeros, so charts keep their axis; the others return the
    groups that have InMails (recruiters by name, teams by name, weeks and months in order).
    Give it the InMails of `breakdown_inmails(user, group_by, ...)`: that is where a breakdown
    by person leaves out the people the user may not see one by one.
    """
    if group_by not in _GROUPINGS:
        raise ValueError(f"Unknown group_by {group_by!r}; use one of {', '.join(GROUP_BY)}.")
    now = now or timezone.now()
    grouping = _GROUPINGS[group_by]
    in_database = _median_in_database(inmails)
    measures = _measures(now, median=in_database)
    grouped = _grouped(inmails, grouping).annotate(**measures)
    counted = {grouping.key_of(row): row for row in grouped}
    if in_database:
        medians = {key: row["median_hours"] for key, row in counted.items()}
    else:
        medians = _median_hours_by_ranking(inmails, grouping)
    if grouping.domain is not None:
        return [
            _row(key, label, counted.get(key, _EMPTY_COUNTS), medians.get(key))
            for key, label in grouping.domain
        ]
    named = _labels(group_by, list(counted))
    ordered = sorted(counted, key=lambda key: named[key][2])
    return [_row(named[key][0], named[key][1], counted[key], medians.get(key)) for key in ordered]


def response_totals(inmails: QuerySet[InMail], *, now: datetime | None = None) -> ResponseRateRow:
    """The response-rate numbers of the whole set, as one row keyed "all"."""
    now = now or timezone.now()
    in_database = _median_in_database(inmails)
    counts = inmails.order_by().aggregate(**_measures(now, median=in_database))
    if in_database:
        median_hours = counts["median_hours"]
    else:
        median_hours = _median_hours_by_ranking(inmails, None).get("all")
    return _row("all", "All InMails", counts, median_hours)


# --------------------------------------------------------------------------------------------
# Credit flows and cost
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditFlows:
    """Credits that moved in a period (local dates, inclusive), and what the period cost."""

    start: date
    end: date
    granted: int
    spent: int
    refunded: int
    expired: int
    lost_to_cap: int
    forfeited: int
    purchased: int
    adjusted: int
    bonus: int
    utilisation: float | None
    responses: int
    cost: Decimal
    cost_per_response: Decimal | None
    subscription_cost: Decimal = Decimal("0.00")
    purchase_cost: Decimal = Decimal("0.00")


def billing_dates(seat: Seat, start: date, end: date, *, now: datetime) -> Iterator[date]:
    """The dates in [start, end] on which the seat was charged its monthly price.

    Charged at activation and on each monthly anniversary of it (anchor-day rule, R3: anchor
    31 is charged on Feb 28/29, Apr 30), for every plan: a price is per subscription month,
    even where credits refresh on the 1st. Only charges already made (their 00:00 not after
    `now`), and none after the seat was cancelled.
    """
    activated = seat.activated_on
    first_k = max(1, (start.year - activated.year) * 12 + start.month - activated.month)
    candidates = [activated] if start <= activated <= end else []
    k = first_k
    while (day := schedule.refresh_date(activated, schedule.BILLING_DAY, k)) <= end:
        if day >= start:
            candidates.append(day)
        k += 1
    for day in candidates:
        charged_at = schedule.start_of_day(day)
        if charged_at > now:
            return
        if day != activated and seat.cancelled_at is not None and charged_at > seat.cancelled_at:
            return
        yield day


def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return schedule.start_of_day(start), schedule.start_of_day(end + timedelta(days=1))


_FLOW_KINDS = {
    "granted": EntryKind.GRANT,
    "spent": EntryKind.SPEND,
    "refunded": EntryKind.REFUND,
    "expired": EntryKind.EXPIRY,
    "trimmed": EntryKind.LOST_TO_CAP,
    "forfeited": EntryKind.FORFEIT,
    "purchased": EntryKind.PURCHASE,
    "adjusted": EntryKind.ADJUSTMENT,
    "bonus": EntryKind.BONUS,
}


def _flows(
    user: Viewer,
    *,
    team: Team | None,
    seat: Seat | None,
    periods: list[tuple[date, date]],
    now: datetime,
) -> list[CreditFlows]:
    """The flows of each period, in a fixed number of queries however many periods there are.

    Each sum is computed per period inside one query (a filtered aggregate per period), so a
    year of months costs what one month does.
    """
    for start, end in periods:
        if start > end:
            raise ValueError(f"The period starts ({start}) after it ends ({end}).")
    bounds = [_period_bounds(start, end) for start, end in periods]
    earliest, latest = min(since for since, _ in bounds), max(until for _, until in bounds)
    accounts = analytics_accounts(user, team=team, seat=seat)
    account_ids = accounts.values("pk")

    def within(field: str, index: int) -> Q:
        since, until = bounds[index]
        return Q(**{f"{field}__gte": since, f"{field}__lt": until})

    moved = Entry.objects.filter(
        account__in=account_ids, at__gte=earliest, at__lt=latest
    ).aggregate(
        **{
            f"{name}_{index}": Coalesce(Sum("amount", filter=Q(kind=kind) & within("at", index)), 0)
            for index in range(len(periods))
            for name, kind in _FLOW_KINDS.items()
        }
    )
    # Credits a refresh did not grant are no movement, so no entry: only its Refresh row knows
    # them. Its `lost_to_cap` also counts the trimmed credits, but those are entries (on the
    # account that lost them, which may be a pooled seat), so they are taken from there.
    not_granted = Refresh.objects.filter(
        account__in=account_ids, due_at__gte=earliest, due_at__lt=latest
    ).aggregate(
        **{
            f"period_{index}": Coalesce(
                Sum(F("monthly") - F("granted"), filter=within("due_at", index)), 0
            )
            for index in range(len(periods))
        }
    )
    responses = (
        analytics_inmails(user, team=team, seat=seat)
        .filter(status__in=RESPONSE_STATUSES, responded_at__gte=earliest, responded_at__lt=latest)
        .aggregate(
            **{
                f"period_{index}": Count("pk", filter=within("responded_at", index))
                for index in range(len(periods))
            }
        )
    )
    seats = list(
        Seat.objects.filter(
            pk__in=accounts.filter(seat__isnull=False).values("seat")
        ).select_related("plan")
    )
    charges = [
        (day, seat_in_scope.plan.monthly_price)
        for seat_in_scope in seats
        for day in billing_dates(
            seat_in_scope,
            min(start for start, _ in periods),
            max(end for _, end in periods),
            now=now,
        )
    ]
    # Summed here, not in SQL: SQLite keeps decimals as floats, and money must be exact.
    purchases = list(
        Purchase.objects.filter(
            seat__in=[seat_in_scope.pk for seat_in_scope in seats],
            at__gte=earliest,
            at__lt=latest,
        ).values_list("at", "total")
    )
    return [
        _period_flows(
            start,
            end,
            moved={name: int(moved[f"{name}_{index}"]) for name in _FLOW_KINDS},
            not_granted=int(not_granted[f"period_{index}"]),
            responses=int(responses[f"period_{index}"]),
            subscription=sum(
                (price for day, price in charges if start <= day <= end), Decimal("0.00")
            ),
            purchases=sum(
                (total for at, total in purchases if bounds[index][0] <= at < bounds[index][1]),
                Decimal("0.00"),
            ),
        )
        for index, (start, end) in enumerate(periods)
    ]


def _period_flows(
    start: date,
    end: date,
    *,
    moved: dict[str, int],
    not_granted: int,
    responses: int,
    subscription: Decimal,
    purchases: Decimal,
) -> CreditFlows:
    cost = (subscription + purchases).quantize(CENT)
    granted = moved["granted"]
    spent = -moved["spent"]
    return CreditFlows(
        start=start,
        end=end,
        granted=granted,
        spent=spent,
        refunded=moved["refunded"],
        expired=-moved["expired"],
        lost_to_cap=not_granted - moved["trimmed"],
        forfeited=-moved["forfeited"],
        purchased=moved["purchased"],
        adjusted=moved["adjusted"],
        bonus=moved["bonus"],
        utilisation=spent / granted if granted else None,
        responses=responses,
        cost=cost,
        cost_per_response=(
            (cost / responses).quantize(CENT, rounding=ROUND_HALF_UP) if responses else None
        ),
        subscription_cost=subscription.quantize(CENT),
        purchase_cost=purchases.quantize(CENT),
    )


def credit_flows(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> CreditFlows:
    """Credit flows and cost over [start, end] (local dates); by default the last 30 days."""
    now = now or timezone.now()
    end = end or schedule.local_date(now)
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return _flows(user, team=team, seat=seat, periods=[(start, end)], now=now)[0]


def monthly_credit_flows(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    months: int = 6,
    now: datetime | None = None,
) -> list[CreditFlows]:
    """Credit flows per calendar month, oldest first, ending with the current month to date."""
    if months < 1:
        raise ValueError("Ask for at least one month.")
    now = now or timezone.now()
    today = schedule.local_date(now)
    periods = []
    for back in range(months - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        first = date(index // 12, index % 12 + 1, 1)
        following = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        periods.append((first, min(following - timedelta(days=1), today)))
    return _flows(user, team=team, seat=seat, periods=periods, now=now)


# --------------------------------------------------------------------------------------------
# Run-out forecast
# --------------------------------------------------------------------------------------------


def seat_net_spend(seat: Seat, *, now: datetime, days: int = RUN_OUT_TRAILING_DAYS) -> int:
    """Credits the seat's InMails took over the last `days` days, less those refunded.

    Counted by InMail, whichever account paid: a pooled seat's spends from the pool draw down
    the same `available` balance the forecast divides.
    """
    total = Entry.objects.filter(
        inmail__seat=seat,
        kind__in=[EntryKind.SPEND, EntryKind.REFUND],
        at__gt=schedule.add_days(now, -days),
        at__lte=now,
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    return -int(total)


def seat_run_out_on(
    seat: Seat, *, now: datetime | None = None, available: int | None = None
) -> date | None:
    """The local date the seat's available credits reach zero at its trailing 30-day net spend.

    today + ⌊available ÷ (net spend ÷ 30)⌋ days, in whole integer arithmetic; today when nothing
    is left. None when the seat spends nothing net (or more comes back than goes out), and for
    a cancelled seat, which has nothing left to run out of. A caller that has already read the
    seat's available credits (a page listing many seats) passes them as `available`.
    """
    if seat.status != SeatStatus.ACTIVE:
        return None
    at = now or timezone.now()
    net = seat_net_spend(seat, now=at)
    if net <= 0:
        return None
    if available is None:
        available = seat_balance(seat, as_of=now).available
    days_left = max(0, available) * RUN_OUT_TRAILING_DAYS // net
    return schedule.local_date(at) + timedelta(days=days_left)
