"""The team page, the recruiter home and the admin overview read their analytics panels in one
snapshot (`ledger.analytics.one_snapshot`): an InMail sent while a page is being read is in none
of its panels or in all of them, so the rows of a breakdown add up to the totals shown beside
them. On PostgreSQL, with no test transaction around the request (a test's own transaction
would be the page's snapshot already)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import InMail
from ledger.rate_breakdowns import STATE_TABLE
from ledger.rate_rollups import ZONE_TABLE
from ledger.services import Cause, inmail_send
from teams.models import Seat, User
from tests.conftest import Org
from tests.factories import make_seat
from tests.pages.team.helpers import team_url
from tests.pages.team.test_team_page_analytics import team_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plain_static_storage", "production_rollups"),
]

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _send(seat: Seat, recipient: str) -> None:
    inmail_send(
        seat=seat, recipient=recipient, subject="Hello", body="A role", cause=Cause.system("test")
    )


def _send_from_another_connection(seat: Seat) -> None:
    """An InMail sent and committed by another request, on a connection of its own."""

    def send() -> None:
        try:
            _send(seat, "linkedin.com/in/sent-meanwhile")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(send).result(timeout=60)  # its error, if any, is raised here


# The newest-InMail probe's condition, as the ORM writes it.
_PROBE = 'WHERE "ledger_inmail"."sent_at" >= '
# Measured 2026-12-03 with the organisations below; none grows with history. The team page
# 56 -> 55 (2026-12-05): the sums by day read once for its months and its weekdays.
STATEMENTS = {"team": 55, "home": 33, "overview": 31}
_BY_DAY = 'SELECT "ledger_rate_rollup"."day" AS "day", SUM('


# What a page shows: its total of InMails sent, and the sums of each breakdown's rows.
Figures = Callable[[Any], tuple[int, dict[str, int]]]


def _team_page(context: Any) -> tuple[int, dict[str, int]]:
    sections = {section["key"]: section["rows"] for section in context["rate_sections"]}
    parts = ("recruiter", "month", "weekday", "body_length", "subject_length")
    return context["rates_total"].sent, {
        key: sum(row.sent for row in sections[key]) for key in parts
    }


def _home(context: Any) -> tuple[int, dict[str, int]]:
    return context["rates_total"].sent, {
        "month": sum(row.sent for row in context["rates_by_month"])
    }


def _overview(context: Any) -> tuple[int, dict[str, int]]:
    overview = context["overview"]
    by_team = sum(line.rates.sent for line in overview.lines if line.rates is not None)
    return overview.total.rates.sent, {"team": by_team}


def _page(org: Org, page: str) -> tuple[User, str, Seat, Figures]:
    """Who reads the page, where, a seat whose InMail it counts, and how to read its figures."""
    if page == "home":
        own = make_seat(holder=org.recruiter, team=org.team)
        for number in range(3):
            _send(own, f"linkedin.com/in/member-{number}")
        return org.recruiter, reverse("home"), own, _home
    team = team_of(4, org.lead)
    seat = Seat.objects.filter(team=team).order_by("pk").first()
    assert seat is not None
    if page == "team":
        return org.lead, team_url(team), seat, _team_page
    return org.admin, reverse("overview"), seat, _overview


@pytest.mark.parametrize("page", ["team", "home", "overview"])
def test_an_inmail_sent_while_a_page_is_read_is_in_all_its_panels_or_in_none(
    client: Client, org: Org, clock: Any, page: str
) -> None:
    user, url, seat, figures = _page(org, page)
    client.force_login(user)
    counted_before = figures(client.get(url).context)[0]
    sent_meanwhile = False

    def after_the_first_rollup_read(execute: Any, sql: str, *args: Any) -> Any:
        """Once the page has counted a first breakdown from the rate rollups (in its snapshot,
        if it takes one), another request sends an InMail the page counts, and commits it."""
        nonlocal sent_meanwhile
        result = execute(sql, *args)
        if not sent_meanwhile and '"ledger_rate_rollup"' in sql:
            sent_meanwhile = True
            _send_from_another_connection(seat)
        return result

    with connection.execute_wrapper(after_the_first_rollup_read):
        read = client.get(url)

    assert read.status_code == 200
    assert sent_meanwhile
    total, parts = figures(read.context)
    assert (total, parts) == (counted_before, dict.fromkeys(parts, counted_before))
    # The next request counts it everywhere.
    total, parts = figures(client.get(url).context)
    assert (total, parts) == (counted_before + 1, dict.fromkeys(parts, counted_before + 1))
    assert InMail.objects.filter(recipient="linkedin.com/in/sent-meanwhile").count() == 1


@pytest.mark.parametrize("page", ["team", "home", "overview"])
def test_a_page_asks_once_whether_the_rollups_may_be_read(
    client: Client, org: Org, clock: Any, page: str
) -> None:
    """In the page's snapshot the rollups' zone and the breakdowns' settled day have one
    answer each (`ledger.analytics.snapshot.asked_once`), however many panels read them."""
    user, url, _seat, _figures = _page(org, page)
    client.force_login(user)
    client.get(url)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200

    asked = [query["sql"] for query in queries.captured_queries]
    assert sum(ZONE_TABLE in sql for sql in asked) == 1
    assert sum(STATE_TABLE in sql for sql in asked) <= 1
    # Was anything sent after the period's end (`bounding_end`): one probe at most.
    assert sum(_PROBE in sql for sql in asked) <= 1
    # The whole page, outside a test's transaction (tests/pages/test_page_statements.py counts
    # the pages inside one, where every read asks for itself).
    assert len(asked) <= STATEMENTS[page]
    if page == "team" and connection.vendor == "postgresql":
        # The rollups' sums by day, which the breakdowns by month and by weekday both group:
        # read once (2026-12-05; twice before).
        assert sum(sql.startswith(_BY_DAY) for sql in asked) == 1
