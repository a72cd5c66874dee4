"""The team page's rate tables: sorted by a click on a column header (a link, so it works
without JavaScript), and each downloadable as the CSV of exactly what it shows (issue 12,
item 7). The story is in tests/pages/team_analytics_helpers.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.conftest import Org
from tests.pages.team_analytics_helpers import (
    START,
    WHOLE_STORY,
    csv_rows,
    header,
    href_of,
    page,
    row_keys,
    story,
    team_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

__all__ = ["START"]  # the clock's instant (tests/conftest.py reads the module's START)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def test_unsorted_tables_are_in_natural_order_marked_on_the_first_column(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, **WHOLE_STORY)

    assert row_keys(html, "recruiter") == ["recruiter", "teammate"]  # Ada, then Bob
    assert 'aria-sort="ascending"' in header(html, "recruiter", "label")
    assert "aria-sort" not in header(html, "recruiter", "response_rate")
    # Nothing sorted yet: every "Numbers" panel starts closed.
    assert '<details class="numbers" open>' not in html


def test_a_header_link_sorts_its_table_and_a_second_click_reverses_it(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)
    html = page(client, org.team, **WHOLE_STORY)

    link = href_of(header(html, "recruiter", "response_rate"))
    query = {key: value[0] for key, value in parse_qs(urlsplit(link).query).items()}
    assert query == {**WHOLE_STORY, "sort": "recruiter.response_rate"}
    assert urlsplit(link).fragment == "rates-recruiter"

    ascending = page(client, org.team, **query)
    # Bob 50% (1 of 2), Ada 75% (3 of 4).
    assert row_keys(ascending, "recruiter") == ["teammate", "recruiter"]
    assert 'aria-sort="ascending"' in header(ascending, "recruiter", "response_rate")
    assert "aria-sort" not in header(ascending, "recruiter", "label")
    assert '<details class="numbers" open>' in ascending
    # The other tables keep their order; the range stays.
    assert row_keys(ascending, "month") == ["2025-04", "2026-06"]

    again = href_of(header(ascending, "recruiter", "response_rate"))
    assert parse_qs(urlsplit(again).query)["sort"] == ["recruiter.-response_rate"]
    descending = page(client, org.team, **WHOLE_STORY, sort="recruiter.-response_rate")
    assert row_keys(descending, "recruiter") == ["recruiter", "teammate"]
    assert 'aria-sort="descending"' in header(descending, "recruiter", "response_rate")


def test_rows_without_a_rate_come_last_either_way(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    up = page(client, org.team, **WHOLE_STORY, sort="weekday.response_rate")
    down = page(client, org.team, **WHOLE_STORY, sort="weekday.-response_rate")

    # Only Monday has InMails; the other days have no rate and keep Monday-first order.
    assert row_keys(up, "weekday") == WEEKDAYS
    assert row_keys(down, "weekday") == WEEKDAYS
    by_sent = page(client, org.team, **WHOLE_STORY, sort="weekday.-sent")
    assert row_keys(by_sent, "weekday") == WEEKDAYS
    reversed_days = page(client, org.team, **WHOLE_STORY, sort="weekday.-label")
    assert row_keys(reversed_days, "weekday") == WEEKDAYS[::-1]


def test_equal_values_keep_the_natural_order(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    # Both answered in a median of 24 hours: a tie, so Ada stays first even descending.
    html = page(client, org.team, **WHOLE_STORY, sort="recruiter.-median_hours")

    assert row_keys(html, "recruiter") == ["recruiter", "teammate"]
    # Bob has the one pending InMail.
    pending = page(client, org.team, **WHOLE_STORY, sort="recruiter.-pending")
    assert row_keys(pending, "recruiter") == ["teammate", "recruiter"]


@pytest.mark.parametrize("sort", ["recruiter.colour", "nothing.sent", "recruiter", "", "."])
def test_a_sort_that_names_nothing_is_ignored(
    client: Client, org: Org, clock: Any, sort: str
) -> None:
    story(org)
    client.force_login(org.lead)

    html = page(client, org.team, **WHOLE_STORY, sort=sort)

    assert row_keys(html, "recruiter") == ["recruiter", "teammate"]


# --- CSV of the table on screen -------------------------------------------------------------


def export(client: Client, org: Org, **query: str) -> Any:
    return client.get(team_url(org.team), query)


def test_the_csv_holds_the_rows_range_and_sort_on_screen(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)
    shown = page(client, org.team, **WHOLE_STORY, sort="recruiter.response_rate")
    link = next(
        href_of(piece) for piece in shown.split("<a ") if "export=recruiter" in piece.split(">")[0]
    )

    response = client.get(team_url(org.team) + link)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="talent-north-recruiter-2025-04-01-to-2026-06-20.csv"'
    )
    rows = csv_rows(response)
    assert [row["key"] for row in rows] == row_keys(shown, "recruiter") == ["teammate", "recruiter"]
    bob, ada = rows
    assert bob == {
        "key": "teammate",
        "label": "Bob Brown",
        "sent": "3",
        "eligible": "2",
        "answered_30d": "1",
        "response_rate": "0.5000",
        # Wilson, 1 of 2.
        "rate_low": "0.0945",
        "rate_high": "0.9055",
        "small_sample": "true",
        "still_open": "false",
        "accepted": "0",
        "declined": "1",
        "replied": "0",
        "pending": "1",
        "no_response": "1",
        "median_hours_to_response": "24.0",
    }
    assert (ada["sent"], ada["answered_30d"], ada["response_rate"]) == ("4", "3", "0.7500")


def test_the_month_csv_marks_the_open_month(client: Client, org: Org, clock: Any) -> None:
    story(org)
    client.force_login(org.lead)

    rows = csv_rows(export(client, org, **WHOLE_STORY, export="month"))

    assert [(row["key"], row["label"], row["still_open"]) for row in rows] == [
        ("2025-04", "Apr 2025", "false"),
        ("2026-06", "Jun 2026", "true"),
    ]


def test_the_heat_map_csv_has_its_168_cells_monday_first(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    response = export(client, org, **WHOLE_STORY, export="weekday_hour")

    rows = csv_rows(response)
    assert len(rows) == 168
    assert (rows[0]["key"], rows[-1]["key"]) == ("1-00", "7-23")
    monday_ten = rows[10]
    assert (monday_ten["label"], monday_ten["sent"], monday_ten["eligible"]) == (
        "Mon 10:00",
        "7",
        "6",
    )
    assert rows[11]["response_rate"] == ""


def test_the_flows_csv_has_each_month_and_the_whole_period(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    rows = csv_rows(
        export(client, org, **{"from": "2025-04-15", "to": "2025-06-10"}, export="flows")
    )

    assert [(r["month"], r["start"], r["end"], r["granted"]) for r in rows] == [
        ("Apr 2025", "2025-04-15", "2025-04-30", "0"),
        ("May 2025", "2025-05-01", "2025-05-31", "60"),
        ("Jun 2025", "2025-06-01", "2025-06-10", "60"),
        ("Whole period", "2025-04-15", "2025-06-10", "120"),
    ]


def test_a_recruiter_gets_no_csv_of_the_breakdown_by_recruiter(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.recruiter)

    assert export(client, org, export="recruiter").status_code == 404
    # Team totals are theirs to download.
    rows = csv_rows(export(client, org, **WHOLE_STORY, export="weekday"))
    assert rows[0]["sent"] == "7"


def test_an_unknown_table_is_a_404_and_a_refused_range_a_400(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    client.force_login(org.lead)

    assert export(client, org, export="colour").status_code == 404
    refused = export(client, org, **{"from": "2026-06-10", "to": "2026-06-01"}, export="month")
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("text/html")


def test_a_name_that_looks_like_a_formula_is_text_in_the_csv(
    client: Client, org: Org, clock: Any
) -> None:
    story(org)
    org.teammate.first_name, org.teammate.last_name = "=HYPERLINK(1)", ""
    org.teammate.save()
    client.force_login(org.lead)

    rows = csv_rows(export(client, org, **WHOLE_STORY, export="recruiter"))

    assert rows[0]["label"] == "'=HYPERLINK(1)"
