"""`GET /api/v1/inmails/`'s `count` (issue 15): a list of every InMail of some seats (the
user's, one seat's, one team's) counts them from the breakdown rows by hour, a few rows a seat,
instead of `COUNT(*)` over the InMails; any other filter counts the InMails. Both give the same
number, after sends, answers, withdrawals, an import and a reassignment, for every role; and
where the breakdowns may not be read, the InMails are counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ledger.models import InMail
from ledger.rate_breakdowns import STATE_TABLE
from ledger.services import (
    Cause,
    HistoricInMail,
    inmail_record_response,
    inmail_withdraw,
    inmails_import,
    seat_reassign,
)
from teams.models import Seat, User
from teams.selectors import seats_visible_to
from tests.api.conftest import send, token_client
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.usefixtures("production_rollups"),
]

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SYSTEM = Cause.system("test")
COUNT_OF_INMAILS = 'SELECT COUNT(*) AS "__count" FROM "ledger_inmail"'


def _history(org: Org, clock: Any) -> dict[str, Seat]:
    own = make_seat(holder=org.recruiter, team=org.team)
    teammates = make_seat(holder=org.teammate, team=org.team)
    elsewhere = make_seat(holder=org.outsider, team=org.other_team)
    sent = [send(own, f"https://www.linkedin.com/in/own-{n}/") for n in range(3)]
    sent += [send(teammates, f"https://www.linkedin.com/in/mate-{n}/") for n in range(2)]
    send(elsewhere, "https://www.linkedin.com/in/elsewhere/")
    clock.shift(timedelta(days=2))
    inmail_record_response(inmail=sent[0], outcome="replied", cause=SYSTEM)
    inmail_withdraw(inmail=sent[3], cause=SYSTEM)
    history = [
        HistoricInMail(
            line=2 + n,
            seat=own,
            recipient=f"linkedin.com/in/history-{n}",
            subject="Hi",
            body="Hello",
            sent_at=START - timedelta(days=40 + n),
        )
        for n in range(2)
    ]
    assert inmails_import(user=org.admin, rows=history, cause=SYSTEM) == 2
    # The teammate's seat goes to the lead, who sends from it: a second sender on one seat.
    seat_reassign(seat=teammates, holder=org.lead, cause=SYSTEM)
    send(teammates, "https://www.linkedin.com/in/after-reassign/")
    return {"own": own, "teammates": teammates, "elsewhere": elsewhere}


def _listed(client: APIClient, query: str) -> tuple[int, int, list[str]]:
    """The list's count, how many InMails its pages hold, and the statements it ran."""
    with CaptureQueriesContext(connection) as statements:
        answer = client.get(f"/api/v1/inmails/?page_size=500{query}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    return body["count"], len(body["results"]), [q["sql"] for q in statements.captured_queries]


def _visible(user: User, **narrower: Any) -> int:
    seats = seats_visible_to(user).filter(**narrower).values("pk")
    return InMail.objects.filter(seat__in=seats).count()


@pytest.mark.parametrize("role", ["admin", "lead", "recruiter", "outsider"])
def test_the_count_of_a_list_of_seats_is_read_from_the_breakdowns_and_exact(
    org: Org, clock: Any, role: str
) -> None:
    seats = _history(org, clock)
    user = getattr(org, role)
    client = token_client(user)
    team, seat = (
        (org.other_team, seats["elsewhere"]) if role == "outsider" else (org.team, seats["own"])
    )
    queries: dict[str, dict[str, Any]] = {
        "": {},
        f"&team={team.pk}": {"team": team},
        f"&seat={seat.pk}": {"pk": seat.pk},
    }

    for query, narrower in queries.items():
        count, listed, statements = _listed(client, query)
        assert count == listed == _visible(user, **narrower), query
        assert not any(COUNT_OF_INMAILS in sql for sql in statements), query
        assert any('FROM "ledger_rate_breakdown"' in sql for sql in statements), query
    assert _listed(token_client(org.admin), "")[0] == InMail.objects.count() == 9


@pytest.mark.parametrize(
    "query",
    [
        "&status=pending",
        "&sent_after=2025-01-01T00:00:00Z",
        "&sent_before=2025-03-04T00:00:00Z",
        "&q=own",
        "&recipient=x",
        "&template=intro",
        "&tag=java",
    ],
)
def test_any_other_filter_counts_the_inmails(org: Org, clock: Any, query: str) -> None:
    _history(org, clock)

    count, listed, statements = _listed(token_client(org.admin), query)

    assert count == listed
    assert any(COUNT_OF_INMAILS in sql for sql in statements)


@pytest.mark.parametrize(
    "state",
    [
        f"UPDATE {STATE_TABLE} SET time_zone = 'Pacific/Chatham'",  # noqa: S608 (a zone change)
        f"DELETE FROM {STATE_TABLE}",  # noqa: S608 (as after a flush)
    ],
)
def test_where_the_breakdowns_may_not_be_read_the_inmails_are_counted(
    org: Org, clock: Any, state: str
) -> None:
    _history(org, clock)
    with connection.cursor() as cursor:
        cursor.execute(state)

    count, listed, statements = _listed(token_client(org.admin), "")

    assert count == listed == InMail.objects.count() == 9
    assert any(COUNT_OF_INMAILS in sql for sql in statements)


def test_pages_of_a_counted_list_link_and_end_as_before(org: Org, clock: Any) -> None:
    """Nine InMails by pages of two: four full pages, a last page of one, then 404."""
    _history(org, clock)
    client = token_client(org.admin)
    seen: list[int] = []
    url: str | None = "/api/v1/inmails/?page_size=2"
    sizes: list[int] = []
    while url is not None:
        page = client.get(url).json()
        assert page["count"] == 9
        seen += [inmail["id"] for inmail in page["results"]]
        sizes.append(len(page["results"]))
        url = page["next"]
    assert sizes == [2, 2, 2, 2, 1]
    assert sorted(seen) == sorted(InMail.objects.values_list("pk", flat=True))
    assert client.get("/api/v1/inmails/?page_size=2&page=5").json()["previous"] is not None
    assert client.get("/api/v1/inmails/?page_size=2&page=6").status_code == 404
