"""The team page's analytics: response rates by breakdown, the weekday × hour heat map, credit
flows and cost, over the period the page asks for, each table sortable and downloadable, and a
recruiter's InMails behind their row.

Visibility (docs/rules.md, "Who sees per-person analytics"): the breakdown by recruiter, and the
InMails of one person, are for the leads of the team and admins. Everyone else gets team totals
only: the recruiter breakdown is left out of what the template is given, its CSV is a 404, and
the InMails of anyone but themselves are a 404 (the list comes from the breakdown's own scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from ledger import analytics, schedule
from ledger.analytics.periods import credit_flows_months_and_period
from ledger.analytics.rates import SMALL_SAMPLE_ELIGIBLE, recruiter_row_inmails
from ledger.models import InMail
from ledger.web.common import INMAILS_PER_PAGE, _rate_chart
from ledger.web.csv_io import csv_lines, money_column, text_cell
from ledger.web.rate_tables import (
    INTERVALS,
    OPEN_PERIOD_NOTES,
    AnalyticsRangeForm,
    AnalyticsView,
    RateTable,
    RateTableLine,
    TableSort,
    csv_download,
    heat_map,
    interval_of,
    periods_still_open,
    rate_table,
    rate_table_csv,
    time_chart,
)
from teams.models import Team, User

# (group_by, first column, title, chart kind); "interval" is the view's month or week.
_BREAKDOWNS = (
    ("recruiter", "Recruiter", "Response rate by recruiter", "bar"),
    ("interval", "", "", "line"),
    ("weekday", "Weekday", "Response rate by weekday", "bar"),
    ("body_length", "Body length", "Response rate by body length", "bar"),
    ("subject_length", "Subject length", "Response rate by subject length", "bar"),
    # R22 outreach tags
    ("template", "Template", "Response rate by template", "bar"),
    ("tag", "Tag", "Response rate by tag", "bar"),
)
_SORTABLE = (
    "recruiter",
    "month",
    "week",
    "weekday",
    "body_length",
    "subject_length",
    "template",  # R22
    "tag",  # R22
)
HEAT_MAP = "weekday_hour"
FLOWS = "flows"


def analytics_view_of(query: QueryDict) -> tuple[AnalyticsRangeForm, AnalyticsView]:
    """The range form (bound when the URL asks for a period) and the view the URL describes;
    an invalid range shows the default period beside the form's errors."""
    asked = any(name in query for name in ("months", "from", "to"))
    form = AnalyticsRangeForm(
        query if asked else None, today=schedule.today(), auto_id="id_period_%s"
    )
    page_text = query.get("inmails_page", "1")
    view = AnalyticsView(
        period=form.period(),
        interval=interval_of(query.get("by")),
        sort=TableSort.parse(query.get("sort", ""), _SORTABLE),
        inmails_of=query.get("inmails_of", "")[:150],
        inmails_page=int(page_text) if page_text.isdigit() and len(page_text) < 9 else 1,
    )
    return form, view


@dataclass(frozen=True)
class RecruiterInMails:
    """The InMails behind one row of the breakdown by recruiter."""

    person: User
    page: Page[InMail]
    previous_href: str
    next_href: str
    close_href: str


def _recruiter_inmails(user: User, team: Team, view: AnalyticsView) -> RecruiterInMails | None:
    """The InMails behind one row of the breakdown by recruiter, in this team and period:
    exactly what the row counts, from the breakdown's own scope. Someone with no row here at
    any time (a teammate, for a recruiter) is a 404, so no name leaks through the URL."""
    if not view.inmails_of:
        return None
    ever = recruiter_row_inmails(
        analytics.breakdown_inmails(user, "recruiter", team=team), view.inmails_of
    )
    person = User.objects.filter(username=view.inmails_of).first()
    if person is None or not ever.exists():
        raise Http404("No such recruiter on this team.")
    period = view.period
    inmails = (
        recruiter_row_inmails(
            analytics.breakdown_inmails(
                user, "recruiter", team=team, start=period.start, end=period.end
            ),
            view.inmails_of,
        )
        .select_related("seat__plan")
        .order_by("-sent_at", "-pk")
    )
    page = Paginator(inmails, INMAILS_PER_PAGE).get_page(view.inmails_page)
    # Read now, in the page's snapshot with the count above, not later by the template.
    page.object_list = list(page.object_list)
    return RecruiterInMails(
        person=person,
        page=page,
        previous_href=(
            view.href("recruiter-inmails", inmails_page=page.previous_page_number())
            if page.has_previous()
            else ""
        ),
        next_href=(
            view.href("recruiter-inmails", inmails_page=page.next_page_number())
            if page.has_next()
            else ""
        ),
        close_href=view.href("rates-recruiter", inmails_of=""),
    )


def _rate_section(
    user: User,
    team: Team,
    view: AnalyticsView,
    breakdown: tuple[str, str, str, str],
    *,
    now: datetime,
    can_manage: bool,
    scopes: dict[str, QuerySet[InMail]] | None = None,
) -> dict[str, Any]:
    group_by, first, title, kind = breakdown
    if group_by == "interval":
        group_by = view.interval
        first, title = group_by.capitalize(), f"Response rate by {group_by}"
    period = view.period
    inmails = (
        scopes[group_by]
        if scopes is not None
        else analytics.breakdown_inmails(
            user, group_by, team=team, start=period.start, end=period.end
        )
    )
    rows = analytics.response_rates(inmails, group_by=group_by, now=now)
    open_keys = periods_still_open(inmails, group_by, now) if kind == "line" else set()
    lines = [
        RateTableLine(
            row=row,
            open=row.key in open_keys,
            href=(
                view.href("recruiter-inmails", inmails_of=str(row.key), inmails_page=1)
                if group_by == "recruiter" and can_manage
                else ""
            ),
        )
        for row in rows
    ]
    chart = (
        time_chart(rows, group_by, open_keys) if kind == "line" else _rate_chart(rows, kind=kind)
    )
    return {
        "key": group_by,
        "title": title,
        "rows": rows,
        "table": rate_table(group_by, first, lines, view=view),
        "chart": chart,
        "note": OPEN_PERIOD_NOTES[group_by] if open_keys else "",
        "chart_id": f"chart-rate-{group_by}",
    }


def _breakdowns(can_manage: bool) -> list[tuple[str, str, str, str]]:
    # A recruiter's team page shows team totals only; their own figures are on their home page.
    return [
        breakdown
        for breakdown in _BREAKDOWNS
        if can_manage or breakdown[0] not in analytics.PERSON_BREAKDOWNS
    ]


def _flows_of(user: User, team: Team, view: AnalyticsView, now: datetime) -> dict[str, Any]:
    period = view.period
    # The months and the whole period in one read: `_flows` sums each period on its own.
    monthly, whole = credit_flows_months_and_period(
        user, team=team, start=period.start, end=period.end, now=now
    )
    flow_lines = [
        {
            "flows": flows,
            "label": f"{analytics.MONTH_ABBR[flows.start.month - 1]} {flows.start.year}",
        }
        for flows in monthly
    ]
    return {
        "flow_lines": flow_lines,
        "flow_period": whole,
    }


def team_analytics_context(
    user: User,
    team: Team,
    *,
    form: AnalyticsRangeForm,
    view: AnalyticsView,
    can_manage: bool,
) -> dict[str, Any]:
    # Every panel read in one snapshot: the totals, each breakdown, the heat map and the credit
    # flows see the same InMails, so the rows of a breakdown add up to the totals above them
    # even while InMails are sent and answered. One transaction instead of one per read.
    with analytics.one_snapshot():
        return _team_analytics_context(user, team, form=form, view=view, can_manage=can_manage)


def _team_analytics_context(
    user: User,
    team: Team,
    *,
    form: AnalyticsRangeForm,
    view: AnalyticsView,
    can_manage: bool,
) -> dict[str, Any]:
    now = timezone.now()
    period = view.period
    breakdowns = _breakdowns(can_manage)
    # Each kind of scope built once for the page's breakdowns (the same InMails each time).
    scopes = analytics.breakdown_scopes(
        user,
        [view.interval if key == "interval" else key for key, *_ in breakdowns] + [HEAT_MAP],
        team=team,
        start=period.start,
        end=period.end,
    )
    sections = [
        _rate_section(user, team, view, breakdown, now=now, can_manage=can_manage, scopes=scopes)
        for breakdown in breakdowns
    ]
    # The heat map shows rates and bases, no medians (its CSV has them).
    heat_rows = analytics.response_rates(
        scopes[HEAT_MAP], group_by=HEAT_MAP, now=now, medians=False
    )
    flows = _flows_of(user, team, view, now)
    flow_lines = flows["flow_lines"]
    flow_series = [
        ("Granted", "granted"),
        ("Spent", "spent"),
        ("Refunded", "refunded"),
        ("Expired", "expired"),
        ("Lost to cap", "lost_to_cap"),
    ]
    return {
        "period_form": form,
        "analytics_view": view,
        "period": period,
        "months": period.months,
        "rates_total": analytics.response_totals(
            analytics.analytics_inmails(user, team=team, start=period.start, end=period.end),
            now=now,
        ),
        "rate_sections": sections,
        "interval_links": [
            (interval, view.href(f"rates-{interval}", interval=interval, sort=None))
            for interval in INTERVALS
        ],
        "small_sample_eligible": SMALL_SAMPLE_ELIGIBLE,
        "heat_map": heat_map(heat_rows),
        "heat_export_href": view.export_href(HEAT_MAP),
        "flows_export_href": view.export_href(FLOWS),
        "recruiter_inmails": _recruiter_inmails(user, team, view),
        **flows,
        "flow_chart": {
            "type": "bar",
            "labels": [line["label"] for line in flow_lines],
            "datasets": [
                {"label": label, "data": [getattr(line["flows"], name) for line in flow_lines]}
                for label, name in flow_series
            ],
        },
        "cost_chart": {
            "type": "bar",
            "labels": [line["label"] for line in flow_lines],
            "datasets": [
                {
                    "label": f"Cost per response ({settings.CURRENCY})",
                    "data": [
                        None
                        if line["flows"].cost_per_response is None
                        else float(line["flows"].cost_per_response)
                        for line in flow_lines
                    ],
                }
            ],
        },
    }


# --------------------------------------------------------------------------------------------
# CSV of the table on screen
# --------------------------------------------------------------------------------------------

FLOW_CSV_COLUMNS = (
    "month",
    "start",
    "end",
    "granted",
    "spent",
    "refunded",
    "expired",
    "lost_to_cap",
    "forfeited",
    "purchased",
    "adjusted",
    "bonus",
    "utilisation",
    "responses",
)
# The flows' two amounts: their headers name the currency (issue 12, item 8).
FLOW_CSV_MONEY_COLUMNS = ("cost", "cost_per_response")


def _flow_csv_row(label: str, flows: analytics.CreditFlows) -> list[object]:
    return [
        text_cell(label),
        flows.start.isoformat(),
        flows.end.isoformat(),
        flows.granted,
        flows.spent,
        flows.refunded,
        flows.expired,
        flows.lost_to_cap,
        flows.forfeited,
        flows.purchased,
        flows.adjusted,
        flows.bonus,
        "" if flows.utilisation is None else f"{flows.utilisation:.4f}",
        flows.responses,
        str(flows.cost),
        "" if flows.cost_per_response is None else str(flows.cost_per_response),
    ]


def team_analytics_export(
    user: User, team: Team, *, view: AnalyticsView, can_manage: bool, table: str
) -> StreamingHttpResponse:
    """The CSV of one table of the page (`table`: a breakdown, the heat map or the flows), with
    the rows, period, grouping and sort the page shows; a table the page doesn't show is a 404."""
    now = timezone.now()
    period = view.period
    name = (
        f"{slugify(team.name) or 'team'}-{table}-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}"
    )
    if table == FLOWS:
        flows = _flows_of(user, team, view, now)
        rows = [_flow_csv_row(line["label"], line["flows"]) for line in flows["flow_lines"]]
        rows.append(_flow_csv_row("Whole period", flows["flow_period"]))
        header = (*FLOW_CSV_COLUMNS, *map(money_column, FLOW_CSV_MONEY_COLUMNS))
        return csv_download(csv_lines(header, rows), name)
    if table == HEAT_MAP:
        heat_rows = analytics.response_rates(
            analytics.breakdown_inmails(
                user, HEAT_MAP, team=team, start=period.start, end=period.end
            ),
            group_by=HEAT_MAP,
            now=now,
        )
        return csv_download(rate_table_csv(RateTableLine(row=row) for row in heat_rows), name)
    for breakdown in _breakdowns(can_manage):
        group_by = view.interval if breakdown[0] == "interval" else breakdown[0]
        if group_by == table:
            section = _rate_section(user, team, view, breakdown, now=now, can_manage=can_manage)
            rate_lines: RateTable = section["table"]
            return csv_download(rate_table_csv(rate_lines.lines), name)
    raise Http404("This page has no such table.")
