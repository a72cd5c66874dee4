"""Response-rate tables as the pages show them: the period they cover (the last 3, 6 or 12
months, or any range of dates), their sort order, their CSV file, charts over time whose months
are spaced as time, and the weekday × hour heat map.

Everything a page shows is in its URL (`AnalyticsView`), so a view can be shared, and the CSV of
a table is the same request with `export=<table>`: the same rows, range, grouping and sort, from
the same code, under the same visibility rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from ledger import analytics, schedule
from ledger.analytics.rates import (
    HOURS,
    TIME_GROUP_BY,
    ResponseRateRow,
    time_axis,
)
from ledger.models import InMail, InMailStatus
from ledger.web.csv_io import csv_lines, text_cell
from ledger.web.forms import AnalyticsPeriodForm

# --------------------------------------------------------------------------------------------
# The period shown
# --------------------------------------------------------------------------------------------

DEFAULT_MONTHS = 6
# A custom range spans at most this many calendar months: its credit flows are one column per
# month in one query, and five years of InMails is more than any page should scan.
MAX_RANGE_MONTHS = 60


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class AnalyticsPeriod:
    """Local dates [start, end], both included; `months` when it is one of the presets."""

    start: date
    end: date
    months: int | None = None

    @classmethod
    def last_months(cls, months: int, today: date) -> AnalyticsPeriod:
        """The current month to date and the `months - 1` calendar months before it."""
        first = _month_index(today) - (months - 1)
        return cls(start=date(first // 12, first % 12 + 1, 1), end=today, months=months)

    @property
    def custom(self) -> bool:
        return self.months is None

    def query(self) -> dict[str, str]:
        """The URL parameters that show this period again."""
        if self.months is not None:
            return {"months": str(self.months)}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def dates(self) -> dict[str, str]:
        """The period as explicit dates, for links that must not move with the calendar."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


class AnalyticsRangeForm(AnalyticsPeriodForm):
    """The last 3, 6 or 12 months, or a range of dates (`from`, `to`), which wins when given.

    `from` alone runs to today; `to` alone is refused (from when?). A range may not end after
    today nor span more than MAX_RANGE_MONTHS calendar months.
    """

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        # `from` is a Python keyword, so the fields can't be declared as class attributes.
        limits = {"type": "date", "max": today.isoformat()}
        self.fields["from"] = forms.DateField(
            required=False, label="From", widget=forms.DateInput(attrs=limits)
        )
        self.fields["to"] = forms.DateField(
            required=False, label="To", widget=forms.DateInput(attrs=limits)
        )
        if self.is_bound and self.data.get("from"):
            # The dates win: the period menu says so rather than show a preset not shown.
            months = self.fields["months"]
            assert isinstance(months, forms.ChoiceField)
            months.choices = [("", "Custom dates"), *months.widget.choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: date | None = cleaned.get("from")
        end: date | None = cleaned.get("to")
        if start is None:
            if end is not None:
                self.add_error("from", "Give the first day of the range too.")
            return cleaned
        if start > self.today:
            self.add_error("from", f"The range can't start after today ({self.today:%Y-%m-%d}).")
            return cleaned
        if end is None:
            end = cleaned["to"] = self.today
        if end > self.today:
            self.add_error("to", f"The range can't end after today ({self.today:%Y-%m-%d}).")
        elif start > end:
            self.add_error("to", "The range ends before it starts.")
        elif (spanned := _month_index(end) - _month_index(start) + 1) > MAX_RANGE_MONTHS:
            self.add_error(
                "from",
                f"A range spans at most {MAX_RANGE_MONTHS} calendar months; "
                f"this one spans {spanned}.",
            )
        return cleaned

    def period(self) -> AnalyticsPeriod:
        """The period asked for; the last DEFAULT_MONTHS months when nothing (valid) was."""
        if self.is_bound and self.is_valid():
            if self.cleaned_data.get("from"):
                return AnalyticsPeriod(start=self.cleaned_data["from"], end=self.cleaned_data["to"])
            if self.cleaned_data.get("months"):
                return AnalyticsPeriod.last_months(int(self.cleaned_data["months"]), self.today)
        return AnalyticsPeriod.last_months(DEFAULT_MONTHS, self.today)


# --------------------------------------------------------------------------------------------
# What the page shows: its period, grouping over time, the sorted table, the person looked at
# --------------------------------------------------------------------------------------------

INTERVALS = ("month", "week")


@dataclass(frozen=True)
class TableSort:
    """One table sorted by one column (`sort=<table>.<column>`, `-` before it for descending)."""

    table: str
    column: str
    descending: bool = False

    @property
    def parameter(self) -> str:
        return f"{self.table}.{'-' if self.descending else ''}{self.column}"

    @classmethod
    def parse(cls, text: str, tables: Iterable[str]) -> TableSort | None:
        """The sort a `sort` parameter names, or None for one that names nothing on the page
        (a stale link sorts nothing rather than failing)."""
        table, _, column = text.partition(".")
        descending = column.startswith("-")
        column = column.removeprefix("-")
        if table not in set(tables) or column not in RATE_COLUMNS:
            return None
        return cls(table=table, column=column, descending=descending)


@dataclass(frozen=True)
class AnalyticsView:
    """The state of an analytics page, all of it in its URL."""

    period: AnalyticsPeriod
    interval: str = "month"
    sort: TableSort | None = None
    inmails_of: str = ""
    inmails_page: int = 1

    def query(self, **overrides: Any) -> dict[str, str]:
        state = replace(self, **overrides)
        query = state.period.query()
        if state.interval != "month":
            query["by"] = state.interval
        if state.sort is not None:
            query["sort"] = state.sort.parameter
        if state.inmails_of:
            query["inmails_of"] = state.inmails_of
            if state.inmails_page > 1:
                query["inmails_page"] = str(state.inmails_page)
        return query

    def href(self, fragment: str = "", **overrides: Any) -> str:
        """A link to this view, changed by `overrides`, scrolled to `fragment`."""
        return f"?{urlencode(self.query(**overrides))}{f'#{fragment}' if fragment else ''}"

    def export_href(self, table: str) -> str:
        return f"?{urlencode({**self.query(), 'export': table})}"


def interval_of(text: str | None) -> str:
    return text if text in INTERVALS else "month"


# --------------------------------------------------------------------------------------------
# Sortable rate tables
# --------------------------------------------------------------------------------------------


# Column → header; the first column's header is the breakdown's ("Recruiter", "Month").
RATE_COLUMNS: dict[str, str] = {
    "label": "",
    "sent": "Sent",
    "eligible": "Eligible",
    "answered_30d": "Answered ≤ 30 days",
    "response_rate": "Response rate",
    "accepted": "Accepted",
    "declined": "Declined",
    "replied": "Replied",
    "pending": "Pending",
    "median_hours": "Median hours to answer",
}
# What each column but the first sorts by; the first keeps the breakdown's natural order
# (names, weeks and months in order, Monday first).
_SORT_VALUES: dict[str, Callable[[ResponseRateRow], float | None]] = {
    "sent": lambda row: row.sent,
    "eligible": lambda row: row.eligible,
    "answered_30d": lambda row: row.answered_30d,
    "response_rate": lambda row: row.response_rate,
    "accepted": lambda row: row.accepted,
    "declined": lambda row: row.declined,
    "replied": lambda row: row.replied,
    "pending": lambda row: row.pending,
    "median_hours": lambda row: row.median_hours_to_response,
}


@dataclass(frozen=True)
class RateTableLine:
    """A row as a table shows it: open (its period may still move), and where its name links."""

    row: ResponseRateRow
    open: bool = False
    href: str = ""

    @property
    def small_sample(self) -> bool:
        return self.row.small_sample


@dataclass(frozen=True)
class SortHeader:
    column: str
    title: str
    numeric: bool
    # "ascending" or "descending" on the column the table is sorted by; "" on the others.
    aria_sort: str
    href: str


@dataclass(frozen=True)
class RateTable:
    """A response-rate breakdown as a sortable table with a CSV of its own."""

    key: str
    first: str
    lines: list[RateTableLine]
    headers: list[SortHeader] = field(default_factory=list)
    export_href: str = ""
    # Opened on load: the table just sorted.
    open: bool = False


def sort_lines(lines: Sequence[RateTableLine], sort: TableSort | None) -> list[RateTableLine]:
    """The lines in the order asked for: rows without a value (no rate yet) always last, and
    rows with equal values in their natural order, whichever the direction."""
    if sort is None or sort.column == "label":
        return list(reversed(lines)) if sort is not None and sort.descending else list(lines)
    value_of = _SORT_VALUES[sort.column]
    known = [line for line in lines if value_of(line.row) is not None]
    unknown = [line for line in lines if value_of(line.row) is None]
    # Python's sort is stable in both directions: equal values keep the natural order.
    known.sort(key=lambda line: value_of(line.row) or 0.0, reverse=sort.descending)
    return known + unknown


def rate_table(
    key: str,
    first: str,
    lines: list[RateTableLine],
    *,
    view: AnalyticsView,
) -> RateTable:
    """The table of one breakdown, sorted as the view asks, with its header links and CSV."""
    sort = view.sort if view.sort is not None and view.sort.table == key else None
    headers = []
    for column, title in RATE_COLUMNS.items():
        active = sort is not None and sort.column == column
        if sort is None and column == "label":
            # Unsorted, the table is in its natural order: the first column, ascending.
            aria_sort = "ascending"
        elif active and sort is not None:
            aria_sort = "descending" if sort.descending else "ascending"
        else:
            aria_sort = ""
        following = TableSort(table=key, column=column, descending=aria_sort == "ascending")
        headers.append(
            SortHeader(
                column=column,
                title=title or first,
                numeric=column != "label",
                aria_sort=aria_sort,
                href=view.href(f"rates-{key}", sort=following, inmails_page=1),
            )
        )
    return RateTable(
        key=key,
        first=first,
        lines=sort_lines(lines, sort),
        headers=headers,
        export_href=view.export_href(key),
        open=sort is not None,
    )


# --------------------------------------------------------------------------------------------
# CSV files of what a table shows
# --------------------------------------------------------------------------------------------

RATE_CSV_COLUMNS = (
    "key",
    "label",
    "sent",
    "eligible",
    "answered_30d",
    "response_rate",
    "rate_low",
    "rate_high",
    "small_sample",
    "still_open",
    "accepted",
    "declined",
    "replied",
    "pending",
    "no_response",
    "median_hours_to_response",
)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _rate_csv_row(line: RateTableLine) -> list[object]:
    row = line.row
    return [
        text_cell("" if row.key is None else str(row.key)),  # R22: no template → empty key
        text_cell(row.label),
        row.sent,
        row.eligible,
        row.answered_30d,
        _share(row.response_rate),
        _share(row.rate_low),
        _share(row.rate_high),
        "true" if row.small_sample else "false",
        "true" if line.open else "false",
        row.accepted,
        row.declined,
        row.replied,
        row.pending,
        row.no_response,
        "" if row.median_hours_to_response is None else f"{row.median_hours_to_response:.1f}",
    ]


def rate_table_csv(lines: Iterable[RateTableLine]) -> Iterator[str]:
    """The rows of a rate table, in its order; rates are shares 0–1 as in the API."""
    return csv_lines(RATE_CSV_COLUMNS, map(_rate_csv_row, lines))


def csv_download(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------------------------
# Charts over time: weeks and months spaced as time
# --------------------------------------------------------------------------------------------

OPEN_PERIOD_NOTES = {
    "month": (
        "* This month has InMails less than 30 days old and not answered yet: they count once "
        "answered or 30 days old, so its rate may still fall."
    ),
    "week": (
        "* This week has InMails less than 30 days old and not answered yet: they count once "
        "answered or 30 days old, so its rate may still fall."
    ),
}


def periods_still_open(inmails: QuerySet[InMail], interval: str, now: datetime) -> set[str]:
    """Week or month keys with pending InMails younger than the 30-day window."""
    recent = inmails.filter(
        status=InMailStatus.PENDING,
        sent_at__gt=schedule.add_days(now, -analytics.RESPONSE_RATE_WINDOW_DAYS),
    )
    if interval == "week":
        starts = recent.datetimes("sent_at", "week", tzinfo=schedule.org_tz())
        return {
            f"{iso.year:04d}-W{iso.week:02d}" for iso in (start.isocalendar() for start in starts)
        }
    months = recent.datetimes("sent_at", "month", tzinfo=schedule.org_tz())
    return {f"{start:%Y-%m}" for start in months}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def time_chart(
    rows: list[ResponseRateRow], interval: str, open_keys: set[str] | None = None
) -> dict[str, Any]:
    """A line chart of response rates over weeks or months, for charts.js.

    Every week or month from the first row's to the last row's is on the axis, so two months a
    year apart are a year apart on the chart: the ones without InMails are gaps (`null`), drawn
    as a dashed line, not neighbours. Labels of `open_keys` carry the "*" the page explains.
    """
    if interval not in TIME_GROUP_BY:
        raise ValueError(f"{interval!r} is not a breakdown over time.")
    marked = open_keys or set()
    found = {str(row.key): row for row in rows}
    axis = time_axis(interval, str(rows[0].key), str(rows[-1].key)) if rows else []
    return {
        "type": "line",
        "percent": True,
        "labels": [f"{label}*" if key in marked else label for key, label in axis],
        "datasets": [
            {
                "label": "Response rate",
                "data": [
                    _percent(found[key].response_rate) if key in found else None for key, _ in axis
                ],
                "eligible": [found[key].eligible if key in found else None for key, _ in axis],
            }
        ],
    }


# --------------------------------------------------------------------------------------------
# Heat map: response rate by weekday and hour
# --------------------------------------------------------------------------------------------

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Shade levels 1–5 start at these rates; 0 is unshaded: no rate, or under 20 eligible InMails.
HEAT_THRESHOLDS = (0.0, 0.10, 0.20, 0.30, 0.50)


def heat_level(row: ResponseRateRow) -> int:
    """How dark a cell is (0–5): colour is only an aid, the number is in the cell."""
    if row.response_rate is None or row.small_sample:
        return 0
    return sum(1 for threshold in HEAT_THRESHOLDS if row.response_rate >= threshold)


@dataclass(frozen=True)
class HeatCell:
    row: ResponseRateRow
    level: int


@dataclass(frozen=True)
class HeatHour:
    hour: int
    label: str
    cells: list[HeatCell]


@dataclass(frozen=True)
class HeatMap:
    """Hours down, weekdays across: 24 narrow rows fit a phone better than 24 columns."""

    hours: list[HeatHour]
    rows: list[ResponseRateRow]
    time_zone: str

    @property
    def weekdays(self) -> list[tuple[str, str]]:
        return [(name, name[:3]) for name in WEEKDAY_NAMES]


def heat_map(rows: list[ResponseRateRow]) -> HeatMap:
    """The `weekday_hour` breakdown (168 rows, Monday 00:00 first) as a grid."""
    by_key = {str(row.key): row for row in rows}
    hours = [
        HeatHour(
            hour=hour,
            label=f"{hour:02d}:00",
            cells=[
                HeatCell(row=cell, level=heat_level(cell))
                for cell in (by_key[f"{weekday}-{hour:02d}"] for weekday in range(1, 8))
            ],
        )
        for hour in HOURS
    ]
    return HeatMap(hours=hours, rows=rows, time_zone=schedule.org_tz().key)
