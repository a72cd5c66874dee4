"""Dates are typed as ISO 8601 everywhere (issue 12, item 8): date pickers (`type="date"`, value
YYYY-MM-DD) and date-and-time pickers (`type="datetime-local"`), on the home page, the CSV
page and the console; an ambiguous 03/04/2026 is a form error, never a guess, and changes
nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from ledger.console.forms import AuditFilterForm, LedgerFilterForm, SeatActivateForm
from ledger.models import InMail, InMailStatus
from ledger.services import Cause, inmail_send
from ledger.web.forms import InMailFilterForm, InMailResponseForm
from teams.models import Seat
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

START = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
DATE_ERROR = "Enter a valid date. Write it YYYY-MM-DD: 2026-03-01."
INSTANT_ERROR = "Enter a valid date and time. Write it YYYY-MM-DDTHH:MM: 2026-03-01T14:30."


@pytest.fixture
def seat(org: Org, clock: Any) -> Seat:
    return make_seat(holder=org.recruiter, team=org.team)


@pytest.fixture
def inmail(seat: Seat) -> InMail:
    return inmail_send(
        seat=seat,
        recipient="https://www.linkedin.com/in/ada-lovelace",
        subject="A role",
        body="Hello",
        cause=Cause.system("test"),
    ).inmail


def input_tag(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, name
    return found.group(0)


def rendered(form: forms.BaseForm, name: str) -> str:
    return str(form[name])


# --- the widgets ---------------------------------------------------------------------------------


def test_every_date_field_of_the_pages_is_a_date_picker_and_every_instant_a_datetime_one(
    seat: Seat,
) -> None:
    seats = Seat.objects.filter(pk=seat.pk)
    filters = InMailFilterForm({"sent_from": "2026-03-01"}, seats=seats)
    response = InMailResponseForm(initial={"responded_at": datetime(2026, 3, 5, 14, 30)})
    ledger = LedgerFilterForm(initial={"as_of": datetime(2026, 3, 5, 14, 30)}, now=START)

    assert 'type="date"' in rendered(filters, "sent_from")
    assert 'value="2026-03-01"' in rendered(filters, "sent_from")
    assert 'type="date"' in rendered(filters, "sent_to")
    assert 'type="datetime-local"' in rendered(response, "responded_at")
    assert 'value="2026-03-05T14:30"' in rendered(response, "responded_at")
    assert 'type="date"' in rendered(ledger, "since")
    assert 'type="datetime-local"' in rendered(ledger, "as_of")
    assert 'value="2026-03-05T14:30"' in rendered(ledger, "as_of")
    assert 'type="date"' in rendered(AuditFilterForm(), "since")
    assert re.search(
        r'type="date"[^>]*value="2026-03-09"', rendered(SeatActivateForm(), "activated_on")
    )


def test_the_csv_page_offers_date_pickers(client: Client, org: Org, seat: Seat) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("csv:index"), {"since": "2026-03-01"}).content.decode()

    for prefix in ("inmails", "entries"):
        assert 'type="date"' in input_tag(html, "since").replace(f'id="{prefix}-since"', "")
        assert f'id="{prefix}-until"' in html
    assert len(re.findall(r'<input type="date" name="(?:since|until)"', html)) == 4


# --- what is typed -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["03/04/2026", "4 March 2026", "2026-02-30"])
def test_an_inmail_filter_date_that_is_not_iso_is_a_filter_error(
    client: Client, org: Org, inmail: InMail, typed: str
) -> None:
    client.force_login(org.recruiter)

    html = client.get(reverse("inmail_list"), {"sent_from": typed}, headers=HTMX).content.decode()

    assert DATE_ERROR in html
    assert 'aria-invalid="true"' in input_tag(html, "sent_from")


def test_an_iso_inmail_filter_date_filters(client: Client, org: Org, inmail: InMail) -> None:
    client.force_login(org.recruiter)

    after = client.get(reverse("inmail_list"), {"sent_from": "2026-03-10"}, headers=HTMX)
    on = client.get(reverse("inmail_list"), {"sent_from": "2026-03-09"}, headers=HTMX)

    assert f'data-inmail-id="{inmail.pk}"' not in after.content.decode()
    assert f'data-inmail-id="{inmail.pk}"' in on.content.decode()
    assert DATE_ERROR not in on.content.decode()


@pytest.mark.parametrize("typed", ["03/09/2026 10:00", "10:00", "2026-03-09T25:00"])
def test_an_answer_time_that_is_not_iso_is_refused_and_changes_nothing(
    client: Client, org: Org, inmail: InMail, typed: str
) -> None:
    client.force_login(org.recruiter)

    response = client.post(
        reverse("inmail_respond", args=[inmail.pk]),
        {"outcome": "replied", "responded_at": typed},
        headers=HTMX,
    )

    assert response.status_code == 400
    assert INSTANT_ERROR in response.content.decode()
    inmail.refresh_from_db()
    assert (inmail.status, inmail.responded_at) == (InMailStatus.PENDING, None)


def test_an_iso_answer_time_is_recorded_at_that_instant(
    client: Client, org: Org, inmail: InMail, clock: Any
) -> None:
    clock.shift(timedelta(hours=3))
    client.force_login(org.recruiter)

    client.post(
        reverse("inmail_respond", args=[inmail.pk]),
        {"outcome": "replied", "responded_at": "2026-03-09T10:15"},
        headers=HTMX,
    )

    inmail.refresh_from_db()
    assert inmail.responded_at == datetime(2026, 3, 9, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize("name", ["csv:export_inmails", "csv:export_entries"])
@pytest.mark.parametrize("field", ["since", "until"])
def test_a_csv_export_date_that_is_not_iso_is_a_clear_400(
    client: Client, org: Org, seat: Seat, name: str, field: str
) -> None:
    client.force_login(org.recruiter)

    response = client.get(reverse(name), {field: "03/01/2026"})

    assert response.status_code == 400
    html = response.content.decode()
    assert DATE_ERROR in html
    assert 'value="03/01/2026"' in html


def test_an_iso_csv_export_date_downloads(client: Client, org: Org, seat: Seat) -> None:
    client.force_login(org.recruiter)

    response = client.get(reverse("csv:export_inmails"), {"since": "2026-03-01"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_the_team_page_shows_the_next_pool_refresh_as_an_iso_date(
    client: Client, org: Org, clock: Any
) -> None:
    make_seat(holder=org.recruiter, team=org.team, plan_code="recruiter_corporate")
    client.force_login(org.lead)

    html = client.get(reverse("team_detail", args=[org.team.pk])).content.decode()

    assert 'data-stat="pool-refresh">2026-04-09 <small>+150</small>' in html
