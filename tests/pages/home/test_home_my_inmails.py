"""The recruiter home: my InMails (filters and pages), and bounded queries."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import InMail
from ledger.services import Cause, inmail_record_response, inmail_withdraw
from teams.models import User
from tests.conftest import Org
from tests.factories import TeamFactory, UserFactory, make_seat
from tests.fields import differences
from tests.pages.home.conftest import HomeSeats
from tests.pages.home.helpers import HTMX, card_ids, send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


# --- my InMails: filters and pages -------------------------------------------------------------


@pytest.fixture
def history(org: Org, seats: HomeSeats, clock: Any) -> list[InMail]:
    """25 InMails, one a day from March 2; the 3rd answered, the 5th withdrawn."""
    sent = []
    for day in range(25):
        sent.append(send(seats.recruiter, f"linkedin.com/in/person-{day}"))
        clock.shift(timedelta(days=1))
    inmail_record_response(inmail=sent[2], outcome="replied", cause=Cause.system("test"))
    inmail_withdraw(inmail=sent[4], cause=Cause.system("test"))
    return sent


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-inmail-id="(\d+)"', html)]


def test_my_inmails_are_paginated_newest_first(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    first = client.get(reverse("home")).content.decode()
    second = client.get(reverse("inmail_list"), {"page": 2}, headers=HTMX)

    assert listed(first) == [inmail.pk for inmail in reversed(history)][:20]
    assert listed(second.content.decode()) == [inmail.pk for inmail in reversed(history)][20:]
    assert "Page 1 of 2 · 25 InMails" in first
    assert second["HX-Push-Url"] == reverse("home") + "?page=2"


def test_my_inmails_filter_by_status(client: Client, org: Org, history: list[InMail]) -> None:
    client.force_login(org.recruiter)

    replied = client.get(reverse("inmail_list"), {"status": "replied"}).content.decode()
    withdrawn = client.get(reverse("home"), {"status": "withdrawn"}).content.decode()

    assert listed(replied) == [history[2].pk]
    assert listed(withdrawn) == [history[4].pk]


def test_my_inmails_filter_by_sent_date_range(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    html = client.get(
        reverse("inmail_list"), {"sent_from": "2026-03-03", "sent_to": "2026-03-05"}
    ).content.decode()

    assert listed(html) == [history[3].pk, history[2].pk, history[1].pk]


def test_a_reversed_date_range_is_a_filter_error(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    html = client.get(
        reverse("inmail_list"), {"sent_from": "2026-03-05", "sent_to": "2026-03-03"}
    ).content.decode()

    assert "The end of the range comes before its start." in html


def test_my_inmails_filter_by_seat(client: Client, org: Org, seats: HomeSeats) -> None:
    second_team = TeamFactory.create(name="Second")
    other_seat = make_seat(holder=org.recruiter, team=second_team)
    send(seats.recruiter, "linkedin.com/in/one")
    there = send(other_seat, "linkedin.com/in/two")
    client.force_login(org.recruiter)

    html = client.get(reverse("home"), {"seat": other_seat.pk}).content.decode()

    assert listed(html) == [there.pk]
    assert card_ids(html) == {seats.recruiter.pk, other_seat.pk}


def test_my_response_rates_by_month(client: Client, org: Org, history: list[InMail]) -> None:
    client.force_login(org.recruiter)

    response = client.get(reverse("home"))
    html = response.content.decode()

    # Sent in March (all 25); one answered, none sent 30 days ago: 1 of 1 counted.
    march = response.context["rates_by_month"][0]
    assert not differences(march, label="Mar 2026", sent=25, answered_30d=1, response_rate=1.0)
    assert '<script id="rates-chart-data" type="application/json">' in html
    assert '"data": [100.0]' in html


def rate_row(html: str, key: str) -> tuple[str, str, list[str]]:
    """A response-rate table row: its class attribute, its header and its cells (text only)."""
    match = re.search(rf'<tr data-rate-row="{key}"([^>]*)>(.*?)</tr>', html, re.S)
    assert match, key
    header = re.search(r"<th[^>]*>(.*?)</th>", match.group(2), re.S)
    assert header
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(2), re.S)
    return match.group(1), header.group(1), [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def test_my_rates_show_eligible_beside_sent_mark_open_months_and_grey_small_samples(
    client: Client, org: Org, seats: HomeSeats, history: list[InMail], clock: Any
) -> None:
    # Forty days on, March's window is over: 24 eligible (the withdrawn one never is), not open.
    clock.shift(timedelta(days=40))  # 6 May
    may = [send(seats.recruiter, f"linkedin.com/in/may-{number}") for number in range(3)]
    inmail_record_response(inmail=may[0], outcome="accepted", cause=Cause.system("test"))
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert (
        '<th scope="col" class="num">Sent</th>\n        <th scope="col" class="num">Eligible</th>'
        in html
    )
    march_class, march_label, march = rate_row(html, "2026-03")
    # Sent, eligible, answered within 30 days, rate (1 of 24: 4%), and no small-sample label.
    assert (march_label, march[:4]) == ("Mar 2026", ["25", "24", "1", "4%"])
    assert "small-sample" not in march_class
    # May: three sent, one answered (eligible), two pending inside the window: open and small.
    may_class, may_label, may_cells = rate_row(html, "2026-05")
    assert may_cells[:4] == ["3", "1", "1", "100% small sample"]
    assert 'class="small-sample"' in may_class
    assert may_label.startswith('May 2026<span class="open-mark" aria-hidden="true">*</span>')
    assert '<span class="visually-hidden"> (still open:' in may_label
    assert "count once answered or 30 days old, so its rate may still fall" in html
    # Overall: 2 answered within 30 days of 25 eligible, 28 sent.
    overall = re.search(r'data-stat="rates-overall">(.*?)</strong>', html, re.S)
    assert overall
    assert " ".join(overall.group(1).split()) == "8% of 25 eligible (28 sent)"


def test_a_small_overall_base_is_labelled_a_small_sample(
    client: Client, org: Org, history: list[InMail]
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    overall = re.search(r'data-stat="rates-overall">(.*?)</strong>(.*?)\.', html, re.S)
    assert overall
    assert " ".join(overall.group(1).split()) == "100% of 1 eligible (25 sent)"
    assert 'class="badge small-sample">small sample</span>' in overall.group(2)


# --- bounded queries -------------------------------------------------------------------------


def test_home_reads_a_bounded_number_of_queries_however_much_history(
    client: Client,
    org: Org,
    clock: Any,
    django_assert_max_num_queries: Any,
) -> None:
    team = TeamFactory.create(name="Big pool")
    seat = make_seat(
        holder=org.recruiter, team=team, plan_code="recruiter_corporate", pool_access=True
    )
    for _ in range(19):
        make_seat(holder=UserFactory.create(), team=team, plan_code="recruiter_corporate")
    for number in range(30):
        send(seat, f"linkedin.com/in/p-{number}")
    client.force_login(org.recruiter)
    client.get(reverse("home"))  # sessions and the like warm up

    # The seat card's run-out forecast and burn-down read 4 of them (issue 12, item 2). SQLite
    # runs 2 more than PostgreSQL (26, measured; this bound failed there before issue 15 too).
    # On PostgreSQL the two response-rate reads (by month, and the totals) come from the rate
    # rollups in 3 statements each instead of 1 (the rollups, the 30-day cutoff's day, the
    # answered InMails' medians): 4 more, still however much history; and each of the two reads
    # the rollups' zone row first, so that rollups gone stale are never read: 2 more; the exact
    # medians from the hours-to-response rollups read a histogram, then one bucket: 2 more.
    from django.db import connection

    with django_assert_max_num_queries(32 if connection.vendor == "postgresql" else 26):
        assert client.get(reverse("home")).status_code == 200


def test_home_queries_do_not_grow_with_the_team(client: Client, org: Org, clock: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_for(team_size: int, holder: User) -> int:
        team = TeamFactory.create()
        seat = make_seat(holder=holder, team=team, plan_code="recruiter_corporate")
        for _ in range(team_size - 1):
            make_seat(holder=UserFactory.create(), team=team, plan_code="recruiter_corporate")
        send(seat)
        client.force_login(holder)
        client.get(reverse("home"))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("home"))
        return len(queries)

    assert count_for(2, UserFactory.create()) == count_for(20, UserFactory.create())
