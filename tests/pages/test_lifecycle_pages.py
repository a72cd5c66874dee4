"""The pages of issue 13, per role: reassigning a seat and its holding history (R19), usage
limits on the seat page, the team page and the seat card (R20), reconciling from the home page
and the seat page, and resolving from the reconciliation's page (R21)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from time_machine import TimeMachineFixture

from ledger.models import Reconciliation
from ledger.services import Cause, reconciliation_record, seat_set_usage_limit
from teams.models import AuditEvent, Membership, Seat, SeatHolding, User
from tests.conftest import Org
from tests.factories import make_seat
from tests.ledger.helpers import send, utc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

SYSTEM = Cause.system("page-test")


@dataclass
class Lifecycle:
    org: Org
    seat: Seat  # the recruiter's Recruiter Lite seat in Talent North, 30 credits
    lead_seat: Seat


@pytest.fixture
def life(org: Org, time_machine: TimeMachineFixture) -> Lifecycle:
    time_machine.move_to(utc(2025, 3, 10, 9), tick=False)
    return Lifecycle(
        org=org,
        seat=make_seat(holder=org.recruiter, team=org.team),
        lead_seat=make_seat(holder=org.lead, team=org.team),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- reassignment (console) ------------------------------------------------------------------


def test_the_seat_page_shows_what_moves_with_the_seat_and_its_holding_history(
    life: Lifecycle, admin_client: Client
) -> None:
    send(life.seat)

    page = admin_client.get(f"/manage/seats/{life.seat.pk}/").content.decode()

    text = text_of(page)
    assert "29 credits of its own" in text
    assert "1 pending InMail, which the new holder answers" in text
    assert "Who held this seat" in text
    assert "2025-03-10 00:00" in text


def test_reassigning_to_a_teammate_moves_the_seat_from_one_home_to_the_other(
    life: Lifecycle, admin_client: Client
) -> None:
    org = life.org

    answer = admin_client.post(
        f"/manage/seats/{life.seat.pk}/reassign/",
        {"holder": org.teammate.pk, "memo": "Ann moved to sales"},
    )

    assert answer.status_code == 302
    life.seat.refresh_from_db()
    assert life.seat.holder == org.teammate
    teammate_home = signed_in(org.teammate).get("/").content.decode()
    recruiter_home = signed_in(org.recruiter).get("/")
    assert f'id="seat-card-{life.seat.pk}"' in teammate_home
    assert f'id="seat-card-{life.seat.pk}"' not in recruiter_home.content.decode()
    page = admin_client.get(f"/manage/seats/{life.seat.pk}/").content.decode()
    assert "Ann moved to sales" in page


def test_reassigning_to_a_new_person_creates_them_in_the_team(
    life: Lifecycle, admin_client: Client
) -> None:
    answer = admin_client.post(
        f"/manage/seats/{life.seat.pk}/reassign/",
        {"holder": "", "username": "newbie", "first_name": "Nia", "last_name": "Bee"},
    )

    assert answer.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert not newbie.has_usable_password()
    assert Membership.objects.get(user=newbie, team=life.org.team).role == "recruiter"
    assert SeatHolding.objects.filter(seat=life.seat).count() == 2


def test_a_taken_username_is_a_form_error_and_nothing_changes(
    life: Lifecycle, admin_client: Client
) -> None:
    answer = admin_client.post(
        f"/manage/seats/{life.seat.pk}/reassign/", {"holder": "", "username": "teammate"}
    )
    nobody = admin_client.post(f"/manage/seats/{life.seat.pk}/reassign/", {"holder": ""})
    both = admin_client.post(
        f"/manage/seats/{life.seat.pk}/reassign/",
        {"holder": life.org.teammate.pk, "username": "someone"},
    )

    assert answer.status_code == 400
    assert "A user with that username already exists." in answer.content.decode()
    assert nobody.status_code == 400
    assert "Pick a person, or give a username to create one." in nobody.content.decode()
    assert both.status_code == 400
    assert not User.objects.filter(username="someone").exists()
    life.seat.refresh_from_db()
    assert life.seat.holder == life.org.recruiter


def test_a_cancelled_seat_offers_no_reassignment_and_refuses_one(
    life: Lifecycle, admin_client: Client
) -> None:
    admin_client.post(f"/manage/seats/{life.seat.pk}/cancel/")

    page = admin_client.get(f"/manage/seats/{life.seat.pk}/").content.decode()
    answer = admin_client.post(
        f"/manage/seats/{life.seat.pk}/reassign/", {"holder": life.org.teammate.pk}
    )

    assert "Reassign seat" not in page
    assert answer.status_code == 409
    assert f"Seat #{life.seat.pk} is cancelled." in answer.content.decode()


def test_the_console_is_404_for_anyone_but_an_admin(life: Lifecycle) -> None:
    for user in (life.org.lead, life.org.recruiter):
        client = signed_in(user)
        url = f"/manage/seats/{life.seat.pk}/reassign/"
        assert client.post(url, {"holder": life.org.teammate.pk}).status_code == 404
        url = f"/manage/seats/{life.seat.pk}/usage-limit/"
        assert client.post(url, {"monthly_usage_limit": "3"}).status_code == 404


# --- usage limits ----------------------------------------------------------------------------


def test_the_seat_card_says_used_n_of_m_this_period_and_when_it_resets(
    life: Lifecycle, admin_client: Client
) -> None:
    admin_client.post(f"/manage/seats/{life.seat.pk}/usage-limit/", {"monthly_usage_limit": "50"})
    for n in range(3):
        send(life.seat, f"linkedin.com/in/m-{n}")

    home = text_of(signed_in(life.org.recruiter).get("/").content.decode())

    assert "used 3 of 50 this period, resets Apr 10" in home
    assert AuditEvent.objects.filter(action="seat.update", seat=life.seat).count() == 1


def test_a_send_beyond_the_limit_is_refused_on_the_home_page(life: Lifecycle) -> None:
    seat_set_usage_limit(seat=life.seat, limit=0, cause=SYSTEM)

    answer = signed_in(life.org.recruiter).post(
        "/inmails/send/",
        {
            "seat": life.seat.pk,
            "recipient": "linkedin.com/in/jane-doe",
            "subject": "Hello",
            "body": "A role",
        },
    )

    assert answer.status_code == 409
    assert "it resets on Apr 10 (2025-04-10)" in answer.content.decode()


def test_a_negative_limit_is_a_form_error_on_the_seat_page(
    life: Lifecycle, admin_client: Client
) -> None:
    answer = admin_client.post(
        f"/manage/seats/{life.seat.pk}/usage-limit/", {"monthly_usage_limit": "-2"}
    )

    assert answer.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in answer.content.decode()


def test_a_lead_sets_a_limit_on_every_seat_of_the_team_from_the_team_page(
    life: Lifecycle,
) -> None:
    lead = signed_in(life.org.lead)
    page = lead.get(f"/teams/{life.org.team.pk}/").content.decode()
    assert 'id="usage-limits"' in page

    answer = lead.post(
        f"/teams/{life.org.team.pk}/usage-limits/", {"monthly_usage_limit": "40", "scope": "all"}
    )

    assert answer.status_code == 302
    assert dict(Seat.objects.values_list("pk", "monthly_usage_limit")) == {
        life.seat.pk: 40,
        life.lead_seat.pk: 40,
    }


def test_a_lead_sets_a_limit_on_the_seats_ticked_and_must_tick_one(life: Lifecycle) -> None:
    lead = signed_in(life.org.lead)
    url = f"/teams/{life.org.team.pk}/usage-limits/"

    none_ticked = lead.post(url, {"monthly_usage_limit": "5", "scope": "chosen"})
    ticked = lead.post(
        url, {"monthly_usage_limit": "5", "scope": "chosen", "seats": [life.seat.pk]}
    )

    assert none_ticked.status_code == 400
    assert "Tick at least one seat" in none_ticked.content.decode()
    assert ticked.status_code == 302
    assert dict(Seat.objects.values_list("pk", "monthly_usage_limit")) == {
        life.seat.pk: 5,
        life.lead_seat.pk: None,
    }


def test_a_recruiter_sees_no_usage_limit_form_and_cant_post_one(life: Lifecycle) -> None:
    recruiter = signed_in(life.org.recruiter)

    page = recruiter.get(f"/teams/{life.org.team.pk}/").content.decode()
    answer = recruiter.post(
        f"/teams/{life.org.team.pk}/usage-limits/", {"monthly_usage_limit": "5", "scope": "all"}
    )

    assert 'id="usage-limits"' not in page
    assert answer.status_code == 404


# --- reconciliations -------------------------------------------------------------------------


def test_the_holder_compares_with_linkedin_and_a_difference_lists_the_entries_since(
    life: Lifecycle, time_machine: TimeMachineFixture
) -> None:
    recruiter = signed_in(life.org.recruiter)
    reconciliation_record(seat=life.seat, linkedin_balance=30, cause=SYSTEM)
    time_machine.move_to(utc(2025, 3, 12, 9), tick=False)
    send(life.seat, "linkedin.com/in/logged-one")
    time_machine.move_to(utc(2025, 3, 13, 9), tick=False)

    answer = recruiter.post(f"/seats/{life.seat.pk}/reconcile/", {"linkedin_balance": "28"})

    opened = Reconciliation.objects.get(status="open")
    assert answer.status_code == 302
    assert answer["Location"] == f"/reconciliations/{opened.pk}/"
    page = text_of(recruiter.get(answer["Location"]).content.decode())
    assert "LinkedIn showed 28" in page
    assert "The ledger had 29" in page
    assert "Difference -1" in page
    assert "Since the last match (2025-03-10 09:00)" in page
    assert "linkedin.com/in/logged-one" in page
    assert "Resolve" not in page  # only an admin resolves


def test_from_the_home_card_htmx_shows_the_result_in_place(life: Lifecycle) -> None:
    recruiter = signed_in(life.org.recruiter)

    answer = recruiter.post(
        f"/seats/{life.seat.pk}/reconcile/", {"linkedin_balance": "30"}, HTTP_HX_REQUEST="true"
    )

    html = answer.content.decode()
    assert answer.status_code == 200
    assert html.lstrip().startswith(f'<div id="reconcile-{life.seat.pk}"')
    assert "Matched: LinkedIn and the ledger both show 30" in html


def test_a_future_instant_is_a_form_error(life: Lifecycle) -> None:
    answer = signed_in(life.org.recruiter).post(
        f"/seats/{life.seat.pk}/reconcile/",
        {"linkedin_balance": "30", "observed_at": "2025-03-11T09:00"},
        HTTP_HX_REQUEST="true",
    )

    assert answer.status_code == 400
    assert "What LinkedIn showed can&#x27;t be in the future." in answer.content.decode()
    assert not Reconciliation.objects.exists()


def test_a_teammate_cant_reconcile_someone_elses_seat(life: Lifecycle) -> None:
    answer = signed_in(life.org.teammate).post(
        f"/seats/{life.seat.pk}/reconcile/", {"linkedin_balance": "1"}
    )

    assert answer.status_code == 404


def test_an_admin_adjusts_from_the_reconciliation_page_and_the_seat_page_shows_it(
    life: Lifecycle, admin_client: Client
) -> None:
    opened = reconciliation_record(seat=life.seat, linkedin_balance=27, cause=SYSTEM)
    blank = admin_client.post(
        f"/reconciliations/{opened.pk}/resolve/", {"action": "adjust", "reason": " "}
    )

    answer = admin_client.post(
        f"/reconciliations/{opened.pk}/resolve/",
        {"action": "adjust", "reason": "Three sent from the app"},
    )
    again = admin_client.post(
        f"/reconciliations/{opened.pk}/resolve/", {"action": "dismiss", "reason": "Twice"}
    )

    assert blank.status_code == 400
    assert answer.status_code == 302
    assert again.status_code == 409
    assert "there is nothing left to resolve" in again.content.decode()
    seat_page = text_of(admin_client.get(f"/manage/seats/{life.seat.pk}/").content.decode())
    assert "Own balance 27" in seat_page
    assert "Adjusted" in seat_page
    assert "Three sent from the app" in seat_page


def test_a_lead_sees_an_open_reconciliation_but_may_not_resolve_it(life: Lifecycle) -> None:
    opened = reconciliation_record(seat=life.seat, linkedin_balance=31, cause=SYSTEM)
    lead = signed_in(life.org.lead)

    page = lead.get(f"/reconciliations/{opened.pk}/")
    answer = lead.post(
        f"/reconciliations/{opened.pk}/resolve/", {"action": "dismiss", "reason": "Fine"}
    )
    outsider = signed_in(life.org.outsider).get(f"/reconciliations/{opened.pk}/")

    assert page.status_code == 200
    assert (answer.status_code, outsider.status_code) == (403, 404)
    opened.refresh_from_db()
    assert opened.status == "open"


def test_the_open_list_shows_an_admin_every_open_difference(
    life: Lifecycle, admin_client: Client
) -> None:
    opened = reconciliation_record(seat=life.seat, linkedin_balance=31, cause=SYSTEM)
    reconciliation_record(seat=life.lead_seat, linkedin_balance=30, cause=SYSTEM)

    page = admin_client.get("/reconciliations/?status=open").content.decode()

    assert re.findall(r'data-reconciliation="(\d+)"', page) == [str(opened.pk)]


def test_the_seat_page_draws_the_drift_once_there_are_two_points(
    life: Lifecycle, admin_client: Client, time_machine: TimeMachineFixture
) -> None:
    reconciliation_record(seat=life.seat, linkedin_balance=31, cause=SYSTEM)
    first = admin_client.get(f"/manage/seats/{life.seat.pk}/").content.decode()
    time_machine.move_to(utc(2025, 3, 17, 9), tick=False)
    reconciliation_record(seat=life.seat, linkedin_balance=28, cause=SYSTEM)

    second = admin_client.get(f"/manage/seats/{life.seat.pk}/").content.decode()

    assert "drift-chart" not in first
    assert f'id="drift-chart-{life.seat.pk}"' in second
    assert '"data": [1, -2]' in second


def test_the_overview_counts_open_reconciliations_and_links_to_them(
    life: Lifecycle, admin_client: Client
) -> None:
    opened = reconciliation_record(seat=life.seat, linkedin_balance=31, cause=SYSTEM)
    reconciliation_record(seat=life.lead_seat, linkedin_balance=29, cause=SYSTEM)
    reconciliation_record(seat=life.lead_seat, linkedin_balance=30, cause=SYSTEM)

    html = admin_client.get("/overview/").content.decode()

    tile = re.search(r'<dd data-stat="open-reconciliations">(.*?)</dd>', html, re.S)
    assert tile is not None
    assert '<a href="/reconciliations/?status=open">2<' in tile.group(1)
    admin_client.post(
        f"/reconciliations/{opened.pk}/resolve/", {"action": "dismiss", "reason": "Misread"}
    )
    html = admin_client.get("/overview/").content.decode()
    tile = re.search(r'<dd data-stat="open-reconciliations">(.*?)</dd>', html, re.S)
    assert tile is not None
    assert '<a href="/reconciliations/?status=open">1<' in tile.group(1)


def test_the_seat_card_links_to_the_seats_past_comparisons(life: Lifecycle) -> None:
    home = signed_in(life.org.recruiter).get("/").content.decode()

    assert f'href="/seats/{life.seat.pk}/reconcile/#reconciliations"' in home
