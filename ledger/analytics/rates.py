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
from datetime import date, datetime, timedelta
from math import sqrt
from typing import Any

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    Expression,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Length
from django.utils import timezone

from ledger import schedule
from ledger.analytics.scope import GROUP_BY, breakdown_filter_of, rollup_filter_of
from ledger.analytics.sql import (
    SIX_WORDS_OR_MORE,
    WEEKDAYS,
    AnsweredWithinDays,
    HoursToResponse,
    LocalPeriod,
    MedianHoursToResponse,
    _median_in_database,
)
from ledger.models import (
    RATE_ROLLUP_MEASURES,
    RESPONSE_STATUSES,
    InMail,
    InMailStatus,
    RateBreakdown,
    RateRollup,
)
from ledger.rate_breakdowns import UNANSWERED as BREAKDOWN_UNANSWERED
from ledger.rate_rollups import BODY_LIMITS
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
            When(Q(g_body_chars__lt=BODY_LIMITS[0]), then=Value(BODY_BUCKETS[0][0])),
            When(Q(g_body_chars__lt=BODY_LIMITS[1]), then=Value(BODY_BUCKETS[1][0])),
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
    inmails: QuerySet[InMail], grouping: _Grouping | None, **extra: Expression
) -> QuerySet[InMail, dict[str, Any]]:
    """The InMails grouped by the breakdown's fields (none: one group), plus `extra` values."""
    fields = grouping.fields() if grouping is not None else {}
    # No ordering: InMail's default ordering has no place in a GROUP BY.
    rows = inmails.order_by().alias(g_body_chars=Length("body")).annotate(**fields)
    return rows.values(*fields, **extra)


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
# Counted over all time by `RateBreakdown` rows (ledger/rate_breakdowns.py), for scopes
# without a range of days; a range counts the InMails.
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


def _breakdown_counts(
    inmails: QuerySet[InMail],
    breakdowns: Q,
    group_by: str,
    cutoff_day: date,
    settled: date,
    boundary: Mapping[RowKey, int],
) -> dict[RowKey, dict[str, int]]:
    """The counts of an hour, weekday-hour, template or tag breakdown from its all-time rows.

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
    rows = (
        RateBreakdown.objects.filter(breakdowns, kind=group_by)
        .order_by()
        .values("bucket")
        .annotate(**{f"b_{column}": Sum(column) for column in _BREAKDOWN_COLUMNS})
    )
    counted: dict[RowKey, dict[str, int]] = {}
    for row in rows:
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
    rollups: Q,
    group_by: str | None,
    now: datetime,
    settled: date | None = None,
) -> tuple[dict[RowKey, dict[str, int]], dict[RowKey, float]]:
    """The counts and medians of `response_rates` (group_by None: of `response_totals`, keyed
    "all") in three queries: the rollups, the InMails of the cutoff's day, and the medians of
    the answered InMails (exact, PERCENTILE_CONT: still one index entry per answered InMail).
    """
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
    medians: dict[RowKey, float] = {}
    # Two small reads of the InMails: the cutoff's day (an index range), and the answered
    # InMails' medians (an index-only scan of `inmail_answered_idx` for most breakdowns).
    answered = inmails.filter(status__in=RESPONSE_STATUSES)
    if grouping is None:
        boundary["all"] = inmails.filter(on_boundary).count()
        found = answered.order_by().aggregate(g_median=MedianHoursToResponse())["g_median"]
        if found is not None:
            medians["all"] = found
    else:
        for row in _grouped(inmails.filter(on_boundary), grouping).annotate(g_n=Count("pk")):
            boundary[grouping.key_of(row)] = row["g_n"]
        for row in _grouped(answered, grouping).annotate(g_median=MedianHoursToResponse()):
            if row["g_median"] is not None:
                medians[grouping.key_of(row)] = row["g_median"]

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
    elif group_by in BREAKDOWN_GROUP_BY:
        # `rollups` filters the breakdown rows (`breakdown_filter_of`), settled at `settled`.
        assert settled is not None
        counted = _breakdown_counts(inmails, rollups, group_by, cutoff_day, settled, boundary)
    elif group_by in _ROLLUP_BY_DAY:
        for row in rows.values("day").annotate(**_rollup_sums("all", cutoff_day)):
            _add(counted, _day_key(group_by, row["day"]), _counts_of(row, "all", 0))
        for period, extra in boundary.items():
            if extra:
                _add(counted, period, {"rate_base": extra})
    else:
        assert grouping is not None
        for row in rows.values(**grouping.fields()).annotate(**_rollup_sums("all", cutoff_day)):
            group_key = grouping.key_of(row)
            _add(counted, group_key, _counts_of(row, "all", boundary.get(group_key, 0)))
    # Rows emptied by later changes (a reassignment, a deletion) stay, counting nothing: a
    # group with no InMail is no row, as when counting the InMails themselves.
    counted = {key: counts for key, counts in counted.items() if counts["sent"] or key == "all"}
    return counted, medians


def response_rates(
    inmails: QuerySet[InMail], *, group_by: str, now: datetime | None = None
) -> list[ResponseRateRow]:
    """Response rates broken down by `group_by` (one of GROUP_BY), in natural order.

    Breakdowns with a fixed set of groups (weekday, body length, subject length, Open Profile,
    hour, weekday and hour) return every group, empty ones as zeros, so charts and heat maps
    keep their axes; the others return the
    groups that have InMails (recruiters by name, teams by name, weeks and months in order).
    Give it the InMails of `breakdown_inmails(user, group_by, ...)`: that is where a breakdown
    by person leaves out the people the user may not see one by one.
    """
    if group_by not in _GROUPINGS:
        raise ValueError(f"Unknown group_by {group_by!r}; use one of {', '.join(GROUP_BY)}.")
    now = now or timezone.now()
    grouping = _GROUPINGS[group_by]
    in_database = _median_in_database(inmails)
    rollups = rollup_filter_of(inmails) if group_by in ROLLUP_GROUP_BY else None
    settled: date | None = None
    if group_by in BREAKDOWN_GROUP_BY:
        found_breakdowns = breakdown_filter_of(inmails)
        if found_breakdowns is not None:
            rollups, settled = found_breakdowns
    counted: Mapping[RowKey, Mapping[str, Any]]
    if rollups is not None:
        counted, medians = _from_rollups(inmails, rollups, group_by, now, settled)
    else:
        measures = _measures(now, median=in_database)
        grouped = _grouped(inmails, grouping).annotate(**measures)
        found = {grouping.key_of(row): row for row in grouped}
        found.pop(None, None)  # R22: InMails without tags count under no tag
        counted = found
        if in_database:
            medians = {key: row["median_hours"] for key, row in counted.items()}
        else:
            medians = _median_hours_by_ranking(inmails, grouping)
    if grouping.domain is not None:
        return [
            _row(key, label, counted.get(key, _EMPTY_COUNTS), medians.get(key))
            for key, label in grouping.domain
        ]
    keys = [str(key) for key in counted]
    named = _labels(group_by, keys)
    ordered = sorted(keys, key=lambda key: named[key][2])
    return [_row(named[key][0], named[key][1], counted[key], medians.get(key)) for key in ordered]


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
