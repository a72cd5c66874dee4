"""Response rates by every breakdown, worked out by the database in one grouped query each.

An InMail is *answered within 30 days* when its response was recorded no later than 30 calendar
days after it was sent. The rate's denominator (its *eligible* InMails) counts InMails answered
at any time and InMails whose 30-day window is over; withdrawn InMails count in `sent` but not in
the rate. Every row carries the 95% Wilson interval of its rate and says whether its sample is
too small to compare (R22).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from math import sqrt
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Aggregate,
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    Expression,
    F,
    Field,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from ledger import schedule
from ledger.analytics.scope import (
    GROUP_BY,
    BreakdownRows,
    bounding_end,
    breakdown_filter_of,
    rollup_filter_of,
    rollup_scope_of,
)
from ledger.analytics.snapshot import one_snapshot, rows_once
from ledger.analytics.sql import (
    WEEKDAYS,
    AnsweredWithinDays,
    HoursToResponse,
    LocalPeriod,
    MedianHoursToResponse,
    _median_in_database,
)
from ledger.models import (
    RATE_ROLLUP_MEASURES,
    RESPONSE_HOURS_BUCKETS,
    RESPONSE_HOURS_COLUMNS,
    RESPONSE_STATUSES,
    InMail,
    InMailStatus,
    RateRollup,
    ResponseHoursRollup,
)
from ledger.rate_breakdowns import UNANSWERED as BREAKDOWN_UNANSWERED
from ledger.rate_rollups import BODY_LIMITS, HOURS_LIMITS, hours_bucket_sql
from ledger.rate_rollups import RESPONSE_RATE_WINDOW_DAYS as RESPONSE_RATE_WINDOW_DAYS
from teams.models import Team, User

# Fewer eligible InMails than this and a rate says little (a 100 % from 3 InMails is not a star):
# the row is flagged `small_sample` (R22).
SMALL_SAMPLE_ELIGIBLE = 20
# The normal quantile of a two-sided 95% interval.
WILSON_Z_95 = 1.959963984540054

# English abbreviations on purpose: strftime("%b") would follow the server's locale.
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BODY_BUCKETS = (
    ("<400", "Under 400 chars"),
    ("400-999", "400–999 chars"),
    (">=1000", "1000+ chars"),
)
SUBJECT_BUCKETS = (("<=5 words", "Up to 5 words"), (">5 words", "More than 5 words"))
OPEN_PROFILE_BUCKETS = (("open_profile", "Open Profile"), ("paid", "Paid"))
HOURS = tuple(range(24))
# Breakdowns over time, whose keys follow one another: their charts space keys as time.
TIME_GROUP_BY = ("week", "month")

# A row's key: text for most breakdowns, the hour itself (0–23) for `hour`, null for the
# InMails without a template (R22).
RowKey = str | int | None
NO_TEMPLATE_LABEL = "No template"


def wilson_interval(successes: int, trials: int) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval of the share `successes / trials`; (None, None) without
    trials.

    Unlike the normal approximation it stays inside [0, 1] and is honest for small samples
    and for shares near 0 or 1, so two templates with 3 and 300 InMails compare fairly.
    """
    if trials <= 0:
        return None, None
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials is not a share.")
    share = successes / trials
    z2 = WILSON_Z_95 * WILSON_Z_95
    denominator = 1 + z2 / trials
    centre = (share + z2 / (2 * trials)) / denominator
    half_width = (
        WILSON_Z_95 * sqrt(share * (1 - share) / trials + z2 / (4 * trials * trials)) / denominator
    )
    # At 0 and at `trials` the bound is exactly 0 or 1; the arithmetic would leave a crumb.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == trials else min(1.0, centre + half_width)
    return low, high


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

    key: RowKey
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

    @property
    def eligible(self) -> int:
        """The rules' name for the rate's base (docs/rules.md, "Acceptance rate")."""
        return self.rate_base

    @property
    def rate_low(self) -> float | None:
        return wilson_interval(self.answered_30d, self.rate_base)[0]

    @property
    def rate_high(self) -> float | None:
        return wilson_interval(self.answered_30d, self.rate_base)[1]

    @property
    def small_sample(self) -> bool:
        return self.rate_base < SMALL_SAMPLE_ELIGIBLE


def _row(
    key: RowKey, label: str, counts: Mapping[str, Any], median_hours: float | None
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
    domain: tuple[tuple[RowKey, str], ...] | None
    # The row key of a grouped `values()` row.
    key_of: Callable[[Mapping[str, Any]], RowKey]


def _local(period: str) -> Callable[[], GroupFields]:
    """The local week, month, weekday or hour of sending, in the organisation's time zone."""
    return lambda: {"g_period": LocalPeriod("sent_at", period)}


def _bucket(name: str, *whens: When, default: str) -> Callable[[], GroupFields]:
    return lambda: {name: Case(*whens, default=Value(default), output_field=CharField())}


_GROUPINGS: dict[str, _Grouping] = {
    "recruiter": _Grouping(lambda: {"g_sender": F("sender")}, None, lambda r: str(r["g_sender"])),
    "team": _Grouping(lambda: {"g_team": F("seat__team")}, None, lambda r: str(r["g_team"])),
    "week": _Grouping(_local("week"), None, lambda r: r["g_period"]),
    "month": _Grouping(_local("month"), None, lambda r: r["g_period"]),
    "weekday": _Grouping(
        _local("weekday"), tuple((day, day[:3]) for day in WEEKDAYS), lambda r: r["g_period"]
    ),
    "body_length": _Grouping(
        _bucket(
            "g_body",
            When(Q(body_chars__lt=BODY_LIMITS[0]), then=Value(BODY_BUCKETS[0][0])),
            When(Q(body_chars__lt=BODY_LIMITS[1]), then=Value(BODY_BUCKETS[1][0])),
            default=BODY_BUCKETS[2][0],
        ),
        BODY_BUCKETS,
        lambda r: r["g_body"],
    ),
    "subject_length": _Grouping(
        _bucket(
            "g_subject",
            When(Q(subject_long=True), then=Value(SUBJECT_BUCKETS[1][0])),
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
    # R22: `hour` keys are the integers 0–23; `weekday_hour` keys "W-HH", W the ISO weekday.
    "hour": _Grouping(
        _local("hour"),
        tuple((hour, f"{hour:02d}:00") for hour in HOURS),
        lambda r: int(r["g_period"]),
    ),
    "weekday_hour": _Grouping(
        _local("weekday_hour"),
        tuple(
            (f"{weekday}-{hour:02d}", f"{WEEKDAYS[weekday - 1][:3]} {hour:02d}:00")
            for weekday in range(1, 8)
            for hour in HOURS
        ),
        lambda r: r["g_period"],
    ),
    # --- R22 outreach tags: no fixed domain; `_labels` names and orders the groups ---
    "template": _Grouping(lambda: {"g_template": F("template")}, None, lambda r: r["g_template"]),
    # A join: one row per (InMail, tag); an untagged InMail's row has a null tag, dropped.
    "tag": _Grouping(lambda: {"g_tag": F("tags__tag")}, None, lambda r: r["g_tag"]),
    # --- end R22 ---
}


def _grouped(
    inmails: QuerySet[InMail], grouping: _Grouping | None, **extra: Expression | F
) -> QuerySet[InMail, dict[str, Any]]:
    """The InMails grouped by the breakdown's fields (none: one group), plus `extra` values."""
    fields = grouping.fields() if grouping is not None else {}
    # No ordering: InMail's default ordering has no place in a GROUP BY.
    rows = inmails.order_by().annotate(**fields)
    grouped: QuerySet[InMail, dict[str, Any]] = rows.values(*fields, **extra)
    return grouped


def _median_hours_by_ranking(
    inmails: QuerySet[InMail], grouping: _Grouping | None
) -> dict[RowKey, float]:
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
    medians: dict[RowKey, float] = {}
    for *values, hours in found:
        if hours is not None:
            key = grouping.key_of(dict(zip(names, values, strict=True))) if grouping else "all"
            medians[key] = float(hours)
    return medians


def _period_order(group_by: str, key: str) -> tuple[int, int]:
    """(year, week) of a local ISO week key "2026-W45"; (year, month) of a month key "2026-11"."""
    if group_by == "week":
        return int(key[:4]), int(key[6:])
    return int(key[:4]), int(key[5:])


def period_label(group_by: str, key: str) -> str:
    """What people read for a week ("Week of 2 Nov 2026") or month ("Nov 2026") key."""
    year, number = _period_order(group_by, key)
    if group_by == "week":
        monday = date.fromisocalendar(year, number, 1)
        return f"Week of {monday.day} {MONTH_ABBR[monday.month - 1]} {monday.year}"
    return f"{MONTH_ABBR[number - 1]} {year}"


def time_axis(group_by: str, first: str, last: str) -> list[tuple[str, str]]:
    """Every week or month key from `first` to `last` (both included) with its label: the
    axis of a chart over time, so that two months a year apart are not drawn side by side."""
    if group_by not in TIME_GROUP_BY:
        raise ValueError(f"{group_by!r} is not a breakdown over time.")
    keys: list[str] = []
    if group_by == "week":
        year, week = _period_order(group_by, first)
        monday = date.fromisocalendar(year, week, 1)
        while len(keys) == 0 or keys[-1] < last:
            iso = monday.isocalendar()
            keys.append(f"{iso.year:04d}-W{iso.week:02d}")
            monday += timedelta(weeks=1)
    else:
        year, month = _period_order(group_by, first)
        index = year * 12 + month - 1
        while len(keys) == 0 or keys[-1] < last:
            keys.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
            index += 1
    return [(key, period_label(group_by, key)) for key in keys]


def _labels(group_by: str, keys: list[str]) -> dict[str, tuple[RowKey, str, tuple[Any, ...]]]:
    """(public key, label, sort key) for each grouped key."""
    named: dict[str, tuple[RowKey, str, tuple[Any, ...]]] = {}
    if group_by == "recruiter":
        for user in User.objects.filter(pk__in=[int(k) for k in keys]):
            label = user.get_full_name() or user.username
            named[str(user.pk)] = (user.username, label, (label.casefold(), user.username))
    elif group_by == "team":
        for team in Team.objects.filter(pk__in=[int(k) for k in keys]):
            named[str(team.pk)] = (team.name, team.name, (team.name.casefold(), team.name))
    # --- R22 outreach tags: alphabetically; the InMails without a template last ---
    elif group_by in ("template", "tag"):
        for key in keys:
            if key:
                named[key] = (key, key, (0, key.casefold(), key))
            else:
                named[key] = (None, NO_TEMPLATE_LABEL, (1, "", ""))
    # --- end R22 ---
    else:  # week, month
        for key in keys:
            named[key] = (key, period_label(group_by, key), _period_order(group_by, key))
    return named


# --------------------------------------------------------------------------------------------
# From the rollups (issue 15): counts from one row per seat, sender and local day; the rate's
# base, which depends on now, from the rollups for the days wholly before the 30-day cutoff's
# day and from the InMails of that one day; the median from the answered InMails.
# --------------------------------------------------------------------------------------------

# The rollup groups of a breakdown by bucket, by the row key each one is.
_ROLLUP_BUCKETS: dict[str, tuple[tuple[str, str], ...]] = {
    "body_length": (
        ("body_short", BODY_BUCKETS[0][0]),
        ("body_medium", BODY_BUCKETS[1][0]),
        ("body_long", BODY_BUCKETS[2][0]),
    ),
    "subject_length": (
        ("subject_short", SUBJECT_BUCKETS[0][0]),
        ("subject_long", SUBJECT_BUCKETS[1][0]),
    ),
    "open_profile": (
        ("open_profile", OPEN_PROFILE_BUCKETS[0][0]),
        ("paid", OPEN_PROFILE_BUCKETS[1][0]),
    ),
}
_ROLLUP_BY_DAY = ("week", "month", "weekday")
ROLLUP_GROUP_BY = frozenset({"recruiter", "team", *_ROLLUP_BY_DAY, *_ROLLUP_BUCKETS})
# Counted by `RateBreakdown` rows over all time and `RateBreakdownMonth` rows by local month
# (ledger/rate_breakdowns.py), for scopes without a range of days or with a range of whole
# months (`breakdown_filter_of`); any other range counts the InMails.
BREAKDOWN_GROUP_BY = frozenset({"hour", "weekday_hour", "template", "tag"})
_ANSWERED = ("accepted", "declined", "replied")
# Neither answered nor withdrawn: in the rate's base once their window is over.
_UNANSWERED = ("pending", "no_response")


def _rollup_sums(group: str, cutoff_day: date) -> dict[str, Aggregate]:
    sums: dict[str, Aggregate] = {
        f"r_{group}_{measure}": Sum(f"{group}_{measure}") for measure in RATE_ROLLUP_MEASURES
    }
    for measure in _UNANSWERED:
        sums[f"r_{group}_early_{measure}"] = Sum(f"{group}_{measure}", filter=Q(day__lt=cutoff_day))
    return sums


def _counts_of(row: Mapping[str, Any], group: str, boundary: int) -> dict[str, int]:
    counts = {measure: row[f"r_{group}_{measure}"] or 0 for measure in RATE_ROLLUP_MEASURES}
    counts["rate_base"] = (
        sum(counts[m] for m in _ANSWERED)
        + sum(row[f"r_{group}_early_{m}"] or 0 for m in _UNANSWERED)
        + boundary
    )
    return counts


def _add(into: dict[RowKey, dict[str, int]], key: RowKey, counts: Mapping[str, int]) -> None:
    found = into.setdefault(key, defaultdict(int))
    for name, value in counts.items():
        found[name] += value


def _day_key(group_by: str, day: date) -> str:
    if group_by == "week":
        iso = day.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    if group_by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return WEEKDAYS[day.weekday()]


_BREAKDOWN_COLUMNS = (*RATE_ROLLUP_MEASURES, "settled_unanswered")


def _breakdown_sums(
    breakdowns: BreakdownRows, group_by: str, using: str, *, hours: bool = True
) -> list[dict[str, Any]]:
    """The breakdown's rows in the scope summed by bucket, once for its counts and its medians:
    `b_<count>` and `b_hours` (its answered InMails by bucket of hours to the response). Without
    `hours`, the counts only (no median to find: the eighty sums cost more than the counts)."""
    sums = (
        breakdowns.model.objects.using(using)
        .filter(breakdowns.rows, kind=group_by)
        .order_by()
        .values("bucket")
        .annotate(**{f"b_{column}": Sum(column) for column in _BREAKDOWN_COLUMNS})
    )
    if hours:
        sums = sums.annotate(b_hours=_BucketSums())
    return list(sums)


def _breakdown_counts(
    inmails: QuerySet[InMail],
    sums: list[dict[str, Any]],
    group_by: str,
    cutoff_day: date,
    settled: date,
    boundary: Mapping[RowKey, int],
) -> dict[RowKey, dict[str, int]]:
    """The counts of an hour, weekday-hour, template or tag breakdown from its rows, all-time
    or by month (`sums`, from `_breakdown_sums`).

    The rate's base: the answered InMails, the unanswered ones of the days before the cutoff's
    day (the rows' settled ones, corrected by the InMails of the days between the settled day
    and the cutoff's day when the daily settling has not caught up with `now`, or is ahead of
    it) and `boundary` (the cutoff's own day, from the InMails).
    """
    grouping = _GROUPINGS[group_by]
    (name,) = grouping.fields()
    correction: dict[RowKey, int] = {}
    if settled != cutoff_day:
        low, high = min(settled, cutoff_day), max(settled, cutoff_day)
        sign = 1 if cutoff_day > settled else -1
        between = inmails.filter(
            sent_at__gte=schedule.start_of_day(low),
            sent_at__lt=schedule.start_of_day(high),
            status__in=BREAKDOWN_UNANSWERED,
        )
        for row in _grouped(between, grouping).annotate(g_n=Count("pk")):
            correction[grouping.key_of(row)] = sign * row["g_n"]
    counted: dict[RowKey, dict[str, int]] = {}
    for row in sums:
        key = grouping.key_of({name: row["bucket"]})
        counts = {measure: row[f"b_{measure}"] or 0 for measure in RATE_ROLLUP_MEASURES}
        counts["rate_base"] = (
            sum(counts[m] for m in _ANSWERED)
            + (row["b_settled_unanswered"] or 0)
            + correction.get(key, 0)
            + boundary.get(key, 0)
        )
        counted[key] = counts
    return counted


def _from_rollups(
    inmails: QuerySet[InMail],
    rollups: Q | BreakdownRows,
    group_by: str | None,
    now: datetime,
    *,
    with_medians: bool = True,
) -> tuple[dict[RowKey, dict[str, int]], dict[RowKey, float]]:
    """The counts and medians of `response_rates` (group_by None: of `response_totals`, keyed
    "all") from the rollups (`rollups` filters them; for the breakdowns of BREAKDOWN_GROUP_BY,
    their rows as `breakdown_filter_of` gives them), the InMails of the cutoff's day, and the
    exact medians of `_exact_medians` (the hours-to-response rollups and one bucket of answered
    InMails), all read in one snapshot.
    """
    with one_snapshot(inmails.db):
        return _rollup_reads(inmails, rollups, group_by, now, with_medians)


def _rollup_reads(
    inmails: QuerySet[InMail],
    rollups: Q | BreakdownRows,
    group_by: str | None,
    now: datetime,
    with_medians: bool,
) -> tuple[dict[RowKey, dict[str, int]], dict[RowKey, float]]:
    """`_from_rollups`' reads, inside its snapshot (without the medians' unless asked)."""
    cutoff = schedule.add_days(now, -RESPONSE_RATE_WINDOW_DAYS)
    cutoff_day = schedule.local_date(cutoff)
    # The cutoff's own day: its InMails sent by the cutoff, unanswered and not withdrawn, are in
    # the rate's base; the rollups count the days before it.
    on_boundary = Q(
        sent_at__gte=schedule.start_of_day(cutoff_day),
        sent_at__lte=cutoff,
        status__in=[InMailStatus.PENDING, InMailStatus.NO_RESPONSE],
    )
    grouping = _GROUPINGS[group_by] if group_by is not None else None
    boundary: dict[RowKey, int] = {}
    # A small read of the InMails: the cutoff's day (an index range).
    if grouping is None:
        boundary["all"] = inmails.filter(on_boundary).count()
    else:
        for row in _grouped(inmails.filter(on_boundary), grouping).annotate(g_n=Count("pk")):
            boundary[grouping.key_of(row)] = row["g_n"]
    if isinstance(rollups, BreakdownRows):
        # The breakdown rows of the scope count the answered InMails by bucket of hours to the
        # response too.
        assert group_by is not None
        sums = _breakdown_sums(rollups, group_by, inmails.db, hours=with_medians)
        counted = _breakdown_counts(inmails, sums, group_by, cutoff_day, rollups.settled, boundary)
        medians = _breakdown_medians(rollups, sums, group_by, inmails.db) if with_medians else {}
    else:
        counted = _rollup_counts(rollups, group_by, cutoff_day, boundary)
        medians = _exact_medians(inmails, group_by) if with_medians else {}
    # Rows emptied by later changes (a reassignment, a deletion) stay, counting nothing: a
    # group with no InMail is no row, as when counting the InMails themselves.
    counted = {key: counts for key, counts in counted.items() if counts["sent"] or key == "all"}
    return counted, medians


def _rollup_counts(
    rollups: Q, group_by: str | None, cutoff_day: date, boundary: Mapping[RowKey, int]
) -> dict[RowKey, dict[str, int]]:
    """The counts of `response_rates` from the rate rollups that `rollups` filters, and
    `boundary` (the cutoff's own day, from the InMails)."""
    grouping = _GROUPINGS[group_by] if group_by is not None else None
    rows = RateRollup.objects.filter(rollups).order_by()
    counted: dict[RowKey, dict[str, int]] = {}
    if group_by is None:
        total = rows.aggregate(**_rollup_sums("all", cutoff_day))
        counted["all"] = _counts_of(total, "all", boundary.get("all", 0))
    elif group_by in _ROLLUP_BUCKETS:
        sums: dict[str, Aggregate] = {}
        for group, _key in _ROLLUP_BUCKETS[group_by]:
            sums.update(_rollup_sums(group, cutoff_day))
        total = rows.aggregate(**sums)
        for group, bucket in _ROLLUP_BUCKETS[group_by]:
            counted[bucket] = _counts_of(total, group, boundary.get(bucket, 0))
    elif group_by in _ROLLUP_BY_DAY:
        # The same days' sums for the week, month and weekday of a scope: read once a snapshot
        # (a page's breakdown over time and its breakdown by weekday).
        by_day = rows.values("day").annotate(**_rollup_sums("all", cutoff_day))
        for row in rows_once(by_day):
            _add(counted, _day_key(group_by, row["day"]), _counts_of(row, "all", 0))
        for period, extra in boundary.items():
            if extra:
                _add(counted, period, {"rate_base": extra})
    else:
        assert grouping is not None
        for row in rows.values(**grouping.fields()).annotate(**_rollup_sums("all", cutoff_day)):
            group_key = grouping.key_of(row)
            _add(counted, group_key, _counts_of(row, "all", boundary.get(group_key, 0)))
    return counted


# --------------------------------------------------------------------------------------------
# The exact median hours to a response from the hours-to-response rollups (issue 15): the
# bucket of each group's middle rank from the rollups (whole local months) and the InMails of a
# range's partial months; then, in one query, only the group's answered InMails inside that
# bucket (`inmail_answered_hours_idx`), ranked, their middle one or two values given to
# PERCENTILE_CONT itself, so the result is PostgreSQL's exact median to the last bit.
# --------------------------------------------------------------------------------------------


class _HoursBucket(Func):
    """The hours-to-response bucket of an answered InMail (PostgreSQL)."""

    output_field = IntegerField()

    def __init__(self) -> None:
        super().__init__(HoursToResponse())

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        hours, params = compiler.compile(self.source_expressions[0])
        return hours_bucket_sql(hours), list(params)


class _UtcDay(Func):
    """The UTC date of sending, as `inmail_answered_day_hours_idx` holds it (PostgreSQL)."""

    output_field = DateField()

    def __init__(self) -> None:
        super().__init__(F("sent_at"))

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        sent, params = compiler.compile(self.source_expressions[0])
        return f"(({sent}) AT TIME ZONE 'UTC')::date", list(params)


@dataclass(frozen=True)
class _HoursSource:
    """Where a breakdown's groups are in the hours-to-response rollups."""

    dimension: str
    # The rollup fields to group by, and the row key of a grouped row.
    fields: tuple[str, ...]
    key_of: Callable[[Mapping[str, Any]], RowKey]
    # The last step reads a group's InMails by its senders (`inmail_answered_sender_hours_idx`),
    # else by the days of its period (`inmail_answered_day_hours_idx`).
    by_sender: bool = False


def _bucket_key(group_by: str) -> Callable[[Mapping[str, Any]], RowKey]:
    keys = dict(_ROLLUP_BUCKETS[group_by])
    return lambda row: keys[row["value"]]


_HOURS_SOURCES: dict[str | None, _HoursSource] = {
    None: _HoursSource("all", (), lambda row: "all"),
    "recruiter": _HoursSource("all", ("sender",), lambda row: str(row["sender"]), by_sender=True),
    "team": _HoursSource(
        "all", ("seat__team", "sender"), lambda row: str(row["seat__team"]), by_sender=True
    ),
    "month": _HoursSource("all", ("month",), lambda row: _day_key("month", row["month"])),
    "week": _HoursSource(
        "week", ("value",), lambda row: _day_key("week", date.fromisoformat(row["value"]))
    ),
    "weekday": _HoursSource("weekday", ("value",), lambda row: WEEKDAYS[int(row["value"]) - 1]),
    **{
        group_by: _HoursSource(group_by, ("value",), _bucket_key(group_by))
        for group_by in _ROLLUP_BUCKETS
    },
}

# A row key as the value its grouping's field has in SQL, for each grouping by field name.
_SQL_VALUE_OF: dict[str, tuple[str, Callable[[RowKey], Any]]] = {
    "g_sender": ("bigint", lambda key: int(str(key))),
    "g_team": ("bigint", lambda key: None if key == "None" else int(str(key))),
    "g_period": ("text", lambda key: key),
    "g_body": ("text", lambda key: key),
    "g_subject": ("text", lambda key: key),
    "g_open_profile": ("boolean", lambda key: key == OPEN_PROFILE_BUCKETS[0][0]),
}
# (seat, sender) as one number: seat × _PAIR + sender (ids below 2**32).
_PAIR = 2**32
# No hours to a response reach this (responses come within a year or two); the bounds of the
# buckets at either end, so that every group's range is an index range.
_NO_HOURS, _ALL_HOURS = Decimal(0), Decimal(10**9)


def _whole_months(start: date | None, end: date | None) -> tuple[date | None, date | None, bool]:
    """The first and last whole local months of the range (None: unbounded), and whether there
    is any whole month in it at all."""
    first = None
    if start is not None:
        first = start if start.day == 1 else schedule.first_of_month_after(start)
    last = None
    if end is not None:
        last = (
            end.replace(day=1)
            if schedule.is_month_end(end)
            else schedule.first_of_month_after(end, -1)
        )
    return first, last, first is None or last is None or first <= last


@dataclass
class _HoursGroup:
    """One group's answered InMails by bucket, the senders that sent them and the local days
    they were sent within (from the rollups' months and the range)."""

    counts: list[int]
    senders: set[int]
    first_day: date | None = None
    last_day: date | None = None

    def spans(self, first: date, last: date) -> None:
        self.first_day = first if self.first_day is None else min(self.first_day, first)
        self.last_day = last if self.last_day is None else max(self.last_day, last)


def _hours_histograms(
    inmails: QuerySet[InMail], group_by: str | None
) -> tuple[dict[RowKey, _HoursGroup], set[tuple[int, int]]]:
    """Answered InMails by group and bucket: the rollups for whole months, the InMails for the
    partial months at the range's edges; and the (seat, sender) pairs that sent them (the
    scope, as the last step filters it)."""
    scope = rollup_scope_of(inmails)
    assert scope is not None
    keys, start, end = scope
    source = _HOURS_SOURCES[group_by]
    first, last, any_whole = _whole_months(start, bounding_end(inmails, end))
    groups: dict[RowKey, _HoursGroup] = {}
    pairs: set[tuple[int, int]] = set()

    def group(key: RowKey) -> _HoursGroup:
        return groups.setdefault(key, _HoursGroup([0] * RESPONSE_HOURS_BUCKETS, set()))

    edges = Q()
    if any_whole:
        rows = ResponseHoursRollup.objects.filter(keys).order_by()
        # The partial months at the edges, when there are any (the scope starts at `start`
        # and ends with `end`'s day: a range from a month's first day, say, has no first edge).
        if first is not None:
            rows = rows.filter(month__gte=first)
            if start != first:
                edges |= Q(sent_at__lt=schedule.start_of_day(first))
        if last is not None:
            rows = rows.filter(month__lte=last)
            if end is None or not schedule.is_month_end(end):
                edges |= Q(sent_at__gte=schedule.start_of_day(schedule.first_of_month_after(last)))
        pairs.update(
            rows_once(rows.filter(dimension="all").values_list("seat", "sender").distinct())
        )
        sums: dict[str, Expression] = {
            "g_hours": _BucketSums(),
            "g_first": Min("month"),
            "g_last": Max("month"),
        }
        of_dimension = rows.filter(dimension=source.dimension)
        found = (
            [of_dimension.aggregate(**sums)]
            if not source.fields
            else of_dimension.values(*source.fields).annotate(**sums)
        )
        for row in found:
            if row["g_first"] is None:
                continue
            into = group(source.key_of(row))
            for bucket, count in enumerate(row["g_hours"]):
                into.counts[bucket] += count or 0
            if "sender" in row:
                into.senders.add(row["sender"])
            into.spans(
                row["g_first"], schedule.first_of_month_after(row["g_last"]) - timedelta(days=1)
            )
    if edges or not any_whole:
        answered = inmails.filter(status__in=RESPONSE_STATUSES)
        if any_whole:
            answered = answered.filter(edges)
        grouping = _GROUPINGS[group_by] if group_by is not None else None
        found_edges = _grouped(
            answered,
            grouping,
            g_bucket=_HoursBucket(),
            g_sender_id=F("sender"),
            g_seat_id=F("seat"),
        ).annotate(g_n=Count("pk"), g_first_sent=Min("sent_at"), g_last_sent=Max("sent_at"))
        for row in found_edges:
            into = group(grouping.key_of(row) if grouping is not None else "all")
            into.counts[row["g_bucket"]] += row["g_n"]
            into.senders.add(row["g_sender_id"])
            pairs.add((row["g_seat_id"], row["g_sender_id"]))
            into.spans(
                schedule.local_date(row["g_first_sent"]), schedule.local_date(row["g_last_sent"])
            )
    return groups, pairs


def _middle_bucket_ranges(histogram: list[int]) -> tuple[Decimal, Decimal, int, int] | None:
    """(low, high, first rank, second rank): the hours range of the buckets that hold the middle
    rank(s) and the middle ranks counted from that range's low end (equal for an odd count);
    None without answered InMails."""
    total = sum(histogram)
    if total <= 0:
        return None
    first_rank, second_rank = (total + 1) // 2, total // 2 + 1
    below = 0
    first_bucket = second_bucket = -1
    base = 0
    for bucket, count in enumerate(histogram):
        if first_bucket < 0 and below + count >= first_rank:
            first_bucket, base = bucket, below
        if below + count >= second_rank:
            second_bucket = bucket
            break
        below += count
    low = HOURS_LIMITS[first_bucket - 1] if first_bucket > 0 else _NO_HOURS
    high = HOURS_LIMITS[second_bucket] if second_bucket < len(HOURS_LIMITS) else _ALL_HOURS
    return low, high, first_rank - base, second_rank - base


def _local_days(group_by: str | None, key: RowKey, first: date, last: date) -> list[date]:
    """The local days of a group's period (every day for a breakdown not by time) within
    [first, last]."""
    if group_by == "week":
        year, week = _period_order("week", str(key))
        first = max(first, date.fromisocalendar(year, week, 1))
        last = min(last, date.fromisocalendar(year, week, 7))
    elif group_by == "month":
        year, month = _period_order("month", str(key))
        first = max(first, date(year, month, 1))
        last = min(last, schedule.first_of_month_after(date(year, month, 1)) - timedelta(days=1))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if group_by == "weekday":
        days = [day for day in days if WEEKDAYS[day.weekday()] == key]
    return days


def _utc_days(local_days: list[date]) -> list[date]:
    """The UTC dates that the local days' instants fall on.

    Consecutive local days are one span of instants, from the first's midnight to the next
    midnight after the last, whose UTC dates are those from its start's to its end's: two
    zone conversions a run of days (a year of days is one run), not two a day."""
    found: set[date] = set()
    one_day = timedelta(days=1)
    runs: list[list[date]] = []
    for day in sorted(set(local_days)):
        if runs and runs[-1][1] + one_day == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        begins = schedule.start_of_day(first).astimezone(UTC).date()
        ends = schedule.start_of_day(last + one_day) - timedelta(microseconds=1)
        end_day = ends.astimezone(UTC).date()
        found.update(begins + timedelta(days=n) for n in range((end_day - begins).days + 1))
    return sorted(found)


def _exact_medians(inmails: QuerySet[InMail], group_by: str | None) -> dict[RowKey, float]:
    """PERCENTILE_CONT(0.5) of the hours to a response of each group's answered InMails, read
    through the hours-to-response rollups (scope from `rollup_scope_of`).

    One query: for each group, its answered InMails inside the bucket(s) of its middle rank(s),
    by its senders or the UTC days of its period (an index range each), sorted, the middle one
    or two given to PERCENTILE_CONT itself.
    """
    groups, pairs = _hours_histograms(inmails, group_by)
    source = _HOURS_SOURCES[group_by]
    grouping = _GROUPINGS[group_by] if group_by is not None else None
    names = list(grouping.fields()) if grouping is not None else []
    connection = connections[inmails.db]
    quoted = [connection.ops.quote_name(name) for name in names]
    drive_type = "bigint[]" if source.by_sender else "date[]"
    row_sql = ", ".join(
        [
            "CAST(%s AS text)",
            *(f"CAST(%s AS {_SQL_VALUE_OF[name][0]})" for name in names),
            "CAST(%s AS numeric)",
            "CAST(%s AS numeric)",
            "CAST(%s AS bigint)",
            "CAST(%s AS bigint)",
            f"CAST(%s AS {drive_type})",
        ]
    )
    values_params: list[Any] = []
    wanted: list[RowKey] = []
    for key, found in groups.items():
        middle = _middle_bucket_ranges(found.counts)
        if middle is None:
            continue
        low, high, first_rank, second_rank = middle
        if source.by_sender:
            drivers: list[Any] = sorted(found.senders)
        else:
            assert found.first_day is not None
            assert found.last_day is not None
            drivers = _utc_days(_local_days(group_by, key, found.first_day, found.last_day))
        wanted.append(key)
        values_params += [str(key), *(_SQL_VALUE_OF[name][1](key) for name in names)]
        values_params += [low, high, first_rank, second_rank, drivers]
    if not wanted:
        return {}
    # The scope as the (seat, sender) pairs that sent the counted InMails and the range: a
    # constant list the database hashes, not the scope's subqueries joined once per InMail read.
    scope = rollup_scope_of(inmails)
    assert scope is not None
    _keys, start, end = scope
    answered_in_range = InMail.objects.filter(status__in=RESPONSE_STATUSES)
    if start is not None:
        answered_in_range = answered_in_range.filter(sent_at__gte=schedule.start_of_day(start))
    if end is not None:
        answered_in_range = answered_in_range.filter(
            sent_at__lt=schedule.start_of_day(end + timedelta(days=1))
        )
    answered = _grouped(
        answered_in_range,
        grouping,
        g_hours=HoursToResponse(),
        g_drive=F("sender") if source.by_sender else _UtcDay(),
        # A bigint constant, typed as one: as an integer field's value it would be an int4.
        g_pair=F("seat") * Value(_PAIR, output_field=BigIntegerField()) + F("sender"),
    )
    inner, inner_params = answered.query.sql_with_params()
    values = ", ".join(f"({row_sql})" for _ in wanted)
    columns = ", ".join(["g_key", *quoted, "g_low", "g_high", "g_first", "g_second", "g_drivers"])
    same_group = "".join(f" AND a.{name} IS NOT DISTINCT FROM w.{name}" for name in quoted)
    # Only our own column names, casts and Django's compiled query go into the text.
    sql = (
        "SELECT w.g_key, m.g_median FROM (VALUES "  # noqa: S608
        f"{values}) AS w({columns}) CROSS JOIN LATERAL ("
        "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY t.g_hours) AS g_median FROM ("
        f"SELECT a.g_hours FROM ({inner}) a WHERE a.g_drive = ANY(w.g_drivers) "
        "AND a.g_pair = ANY(CAST(%s AS bigint[])) "
        f"AND a.g_hours >= w.g_low AND a.g_hours < w.g_high{same_group} "
        "ORDER BY a.g_hours OFFSET w.g_first - 1 LIMIT w.g_second - w.g_first + 1"
        ") t) m"
    )
    with connection.cursor() as cursor:
        pair_keys = sorted(seat * _PAIR + sender for seat, sender in pairs)
        cursor.execute(sql, [*values_params, *inner_params, pair_keys])
        found_rows = cursor.fetchall()
    by_text = {str(key): key for key in wanted}
    return {by_text[text]: float(hours) for text, hours in found_rows if hours is not None}


class _BucketSums(Expression):
    """The sum of each hours-bucket column (`h00`...) of the rows, as one array (PostgreSQL,
    whose rollups have them): one expression for Django to resolve and one value per row to
    convert, where eighty `Sum`s cost more Python than their SQL takes to run."""

    contains_aggregate = True

    def __init__(self) -> None:
        super().__init__(output_field=Field())

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        quote = connection.ops.quote_name
        sums = ", ".join(f"SUM({table}.{quote(column)})" for column in RESPONSE_HOURS_COLUMNS)
        return f"ARRAY[{sums}]", []

    def get_group_by_cols(self) -> list[Any]:
        return []


# The local hour of sending as a number, by breakdown: the hour, or the ISO weekday x 100 + the
# hour; what `LocalPeriod` writes as "HH24" and "ID-HH24" (rate_breakdowns.LOCAL_PERIOD_FORMATS).
_HOUR_NUMBER_FORMS = {
    "hour": "date_part('hour', {local})",
    "weekday_hour": "date_part('isodow', {local}) * 100 + date_part('hour', {local})",
}


class _HourNumber(Func):
    """The local hour (or weekday and hour) of sending as an integer (PostgreSQL)."""

    output_field = IntegerField()

    def __init__(self, group_by: str) -> None:
        super().__init__(F("sent_at"))
        self.group_by = group_by

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        sent, params = compiler.compile(self.source_expressions[0])
        form = _HOUR_NUMBER_FORMS[self.group_by]
        uses = form.count("{local}")
        local = f"(({sent}) AT TIME ZONE %s)"
        zone = schedule.org_tz().key
        return f"CAST({form.format(local=local)} AS integer)", [*params, zone] * uses


def _disjoint(ranges: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """The union of half-open ranges [low, high) as disjoint ones, in order."""
    merged: list[tuple[Decimal, Decimal]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _breakdown_medians(
    breakdowns: BreakdownRows, sums: list[dict[str, Any]], group_by: str, using: str
) -> dict[RowKey, float]:
    """PERCENTILE_CONT(0.5) of the hours to a response of each group of an hour, weekday-hour,
    template or tag breakdown over all time or whole months, through its rows (`breakdowns`:
    the all-time or monthly rows of the scope, and the InMails they count by time of sending).

    The rows give each group's answered InMails by bucket of hours, so the bucket of its middle
    rank(s); then one query reads the answered InMails of all the groups' middle buckets at
    once, by sender and hours (`inmail_answered_sender_hours_idx`: a few narrow ranges of hours,
    not one read per group), ranks each group's inside its own range and gives the middle one
    or two to PERCENTILE_CONT itself: PostgreSQL's exact median to the last bit.
    """
    grouping = _GROUPINGS[group_by]
    ((name, key_expression),) = grouping.fields().items()
    # The groups as the read computes them for every InMail it reads: the local hour as a
    # number, not as text (to_char costs a few times more per row), else the grouping's own.
    numbered = group_by in _HOUR_NUMBER_FORMS
    key_type = "integer" if numbered else "text"

    def key_of(bucket: str) -> int | str:
        if not numbered:
            return bucket
        if group_by == "hour":
            return int(bucket)
        weekday, hour = bucket.split("-")
        return int(weekday) * 100 + int(hour)

    wanted: list[tuple[int | str, Decimal, Decimal, int, int]] = []
    bucket_of: dict[int | str, str] = {}
    for row in sums:
        middle = _middle_bucket_ranges([count or 0 for count in row["b_hours"]])
        if middle is not None:
            wanted.append((key_of(row["bucket"]), *middle))
            bucket_of[key_of(row["bucket"])] = row["bucket"]
    if not wanted:
        return {}
    # The scope as the (seat, sender) pairs with answered InMails in it, as in `_exact_medians`:
    # from the hour rows, the fewest that count every InMail (every pair a tag's rows have too).
    # (Gathered in the sums instead, with a distinct array per bucket, they cost more: 28,000
    # weekday-hour rows sorted by bucket and pair at 1,000,000 InMails.)
    answered_rows = Q(accepted__gt=0) | Q(declined__gt=0) | Q(replied__gt=0)
    pairs = {
        seat * _PAIR + sender
        for seat, sender in rows_once(
            breakdowns.model.objects.using(using)
            .filter(breakdowns.rows, answered_rows, kind="hour")
            .values_list("seat", "sender")
            .distinct()
        )
    }
    if not pairs:  # rows without answered InMails yet with buckets: nothing to read
        return {}
    senders = sorted({pair % _PAIR for pair in pairs})
    ranges = _disjoint([(low, high) for _key, low, high, _first, _second in wanted])
    answered = _grouped(
        InMail.objects.using(using).filter(
            breakdowns.sent, status__in=RESPONSE_STATUSES, sender__in=senders
        ),
        None,
        g_key=_HourNumber(group_by) if numbered else key_expression,
        g_hours=HoursToResponse(),
        g_pair=F("seat") * Value(_PAIR, output_field=BigIntegerField()) + F("sender"),
    )
    inner, inner_params = answered.query.sql_with_params()
    connection = connections[using]
    row_sql = (
        f"(CAST(%s AS {key_type}), CAST(%s AS numeric), CAST(%s AS numeric), "
        "CAST(%s AS bigint), CAST(%s AS bigint))"
    )
    # One branch per range of hours: each an index range per sender (an index-only scan where
    # the group is the time of sending), where an OR of ranges would read the heap.
    in_ranges = " UNION ALL ".join(
        f"SELECT * FROM ({inner}) r WHERE r.g_hours >= CAST(%s AS numeric) "  # noqa: S608
        "AND r.g_hours < CAST(%s AS numeric)"
        for _ in ranges
    )
    # Only our own column names, casts and Django's compiled query go into the text.
    sql = (
        f"WITH w(g_key, g_low, g_high, g_first, g_second) AS (VALUES "  # noqa: S608
        f"{', '.join(row_sql for _ in wanted)}), "
        # Tags read first, on their own: else the planner, guessing few InMails, may probe
        # the tags once per InMail and group. (Other groups are columns: kept in line, the
        # read runs in parallel.)
        f"a AS {'MATERIALIZED ' if group_by == 'tag' else ''}({in_ranges}) "
        "SELECT g_key, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY g_hours) FROM ("
        "SELECT w.g_key, a.g_hours, w.g_first, w.g_second, "
        "ROW_NUMBER() OVER (PARTITION BY w.g_key ORDER BY a.g_hours) AS g_rank "
        "FROM a JOIN w ON w.g_key = a.g_key "
        "AND a.g_hours >= w.g_low AND a.g_hours < w.g_high "
        "WHERE a.g_pair = ANY(CAST(%s AS bigint[]))"
        ") ranked WHERE g_rank BETWEEN g_first AND g_second GROUP BY g_key"
    )
    params: list[Any] = [value for found in wanted for value in found]
    for low, high in ranges:
        params += [*inner_params, low, high]
    params.append(sorted(pairs))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found_rows = cursor.fetchall()
    return {
        grouping.key_of({name: bucket_of[key]}): float(hours)
        for key, hours in found_rows
        if hours is not None
    }


def response_rates(
    inmails: QuerySet[InMail],
    *,
    group_by: str,
    now: datetime | None = None,
    medians: bool = True,
) -> list[ResponseRateRow]:
    """Response rates broken down by `group_by` (one of GROUP_BY), in natural order.

    Breakdowns with a fixed set of groups (weekday, body length, subject length, Open Profile,
    hour, weekday and hour) return every group, empty ones as zeros, so charts and heat maps
    keep their axes; the others return the
    groups that have InMails (recruiters by name, teams by name, weeks and months in order).
    Give it the InMails of `breakdown_inmails(user, group_by, ...)`: that is where a breakdown
    by person leaves out the people the user may not see one by one. `medians=False`: every
    row's median hours to a response is None, unread (a view that shows none, the heat map).
    """
    if group_by not in _GROUPINGS:
        raise ValueError(f"Unknown group_by {group_by!r}; use one of {', '.join(GROUP_BY)}.")
    now = now or timezone.now()
    if group_by in BREAKDOWN_GROUP_BY:
        # Which rows count the scope depends on whether anything was sent after its end: asked
        # in the snapshot of the reads (an InMail committed in between is in neither).
        with one_snapshot(inmails.db):
            return _response_rates(inmails, group_by, now, medians, breakdown_filter_of(inmails))
    rollups = rollup_filter_of(inmails) if group_by in ROLLUP_GROUP_BY else None
    return _response_rates(inmails, group_by, now, medians, rollups)


def _response_rates(
    inmails: QuerySet[InMail],
    group_by: str,
    now: datetime,
    medians: bool,
    rollups: Q | BreakdownRows | None,
) -> list[ResponseRateRow]:
    """`response_rates` once its rows are chosen (`rollups` None: counting the InMails)."""
    grouping = _GROUPINGS[group_by]
    in_database = _median_in_database(inmails)
    counted: Mapping[RowKey, Mapping[str, Any]]
    found_medians: Mapping[RowKey, float | None] = {}
    if rollups is not None:
        counted, found_medians = _from_rollups(
            inmails, rollups, group_by, now, with_medians=medians
        )
    else:
        measures = _measures(now, median=in_database and medians)
        grouped = _grouped(inmails, grouping).annotate(**measures)
        found = {grouping.key_of(row): row for row in grouped}
        found.pop(None, None)  # R22: InMails without tags count under no tag
        counted = found
        if medians and in_database:
            found_medians = {key: row["median_hours"] for key, row in counted.items()}
        elif medians:
            found_medians = _median_hours_by_ranking(inmails, grouping)
    if grouping.domain is not None:
        return [
            _row(key, label, counted.get(key, _EMPTY_COUNTS), found_medians.get(key))
            for key, label in grouping.domain
        ]
    keys = [str(key) for key in counted]
    named = _labels(group_by, keys)
    ordered = sorted(keys, key=lambda key: named[key][2])
    return [
        _row(named[key][0], named[key][1], counted[key], found_medians.get(key)) for key in ordered
    ]


def recruiter_row_inmails(inmails: QuerySet[InMail], username: str) -> QuerySet[InMail]:
    """The InMails that the by-recruiter row keyed `username` counts, out of `inmails` (give it
    the breakdown's: `breakdown_inmails(user, "recruiter", ...)`), grouped as the row is."""
    person = User.objects.filter(username=username).values_list("pk", flat=True).first()
    if person is None:
        return inmails.none()
    ((name, expression),) = _GROUPINGS["recruiter"].fields().items()
    return inmails.alias(**{name: expression}).filter(**{name: person})


def response_totals(inmails: QuerySet[InMail], *, now: datetime | None = None) -> ResponseRateRow:
    """The response-rate numbers of the whole set, as one row keyed "all"."""
    now = now or timezone.now()
    rollups = rollup_filter_of(inmails)
    if rollups is not None:
        counted, medians = _from_rollups(inmails, rollups, None, now)
        return _row("all", "All InMails", counted["all"], medians.get("all"))
    in_database = _median_in_database(inmails)
    counts = inmails.order_by().aggregate(**_measures(now, median=in_database))
    if in_database:
        median_hours = counts["median_hours"]
    else:
        median_hours = _median_hours_by_ranking(inmails, None).get("all")
    return _row("all", "All InMails", counts, median_hours)
