"""InMails through the API: send, the send rules' 409s, responses and refunds, withdrawals,
lists and filters (R6–R10). The clock starts at 15 January 2025, 09:00 UTC."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import Entry, EntryKind, InMail
from tests.api.conftest import World, inmail_body, send
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db


def own(client: APIClient, world: World) -> int:
    return int(client.get(f"/api/v1/seats/{world.seat.pk}/balance/").json()["own"])


# --- Sending -----------------------------------------------------------------------------------


def test_an_inmail_costs_one_credit(world: World, as_recruiter: APIClient) -> None:
    answer = as_recruiter.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert answer.status_code == 201
    inmail = InMail.objects.get()
    assert answer.json() == {
        "id": inmail.pk,
        "seat": world.seat.pk,
        "recipient": "https://www.linkedin.com/in/jane-doe/",
        "subject": "Staff engineer, payments",
        "body": "Would you be open to a short call this week?",
        "open_profile": False,
        "status": "pending",
        "sent_at": "2025-01-15T09:00:00Z",
        "responded_at": None,
        "credit_cost": 1,
        "paid_from": "seat",
        "refunded": False,
        "reminder_at": None,
        "sender": world.org.recruiter.pk,  # R22 additions
        "template": "",
        "tags": [],
        "warnings": [],
    }
    assert own(as_recruiter, world) == 29


def test_an_inmail_to_an_open_profile_costs_nothing(world: World, as_recruiter: APIClient) -> None:
    body = {**inmail_body(world.seat), "open_profile": True}

    answer = as_recruiter.post("/api/v1/inmails/", body, format="json")

    assert answer.status_code == 201
    assert (answer.json()["credit_cost"], answer.json()["paid_from"]) == (0, None)
    assert own(as_recruiter, world) == 30


def test_a_lead_logs_an_inmail_for_a_seat_of_their_team(world: World, as_lead: APIClient) -> None:
    answer = as_lead.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert answer.status_code == 201
    assert Entry.objects.get(kind=EntryKind.SPEND).actor == world.org.lead


def test_a_teammates_inmail_to_the_same_recipient_is_a_warning(
    world: World, as_recruiter: APIClient
) -> None:
    send(world.lead_seat, "linkedin.com/in/Jane-Doe")

    answer = as_recruiter.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert answer.status_code == 201
    assert answer.json()["warnings"] == [
        {
            "code": "recipient_contacted_by_teammate",
            "detail": f"{world.org.lead} sent an InMail to this recipient on 2025-01-15.",
        }
    ]
    assert own(as_recruiter, world) == 29


def assert_refused(answer: Any, code: str, detail: str | None = None) -> None:
    assert answer.status_code == 409, answer.content
    assert set(answer.json()) == {"code", "detail"}
    assert answer.json()["code"] == code
    assert answer.json()["detail"]
    if detail is not None:
        assert answer.json()["detail"] == detail


def test_a_second_pending_inmail_to_the_same_recipient_is_409_duplicate_pending(
    world: World, as_recruiter: APIClient
) -> None:
    send(world.seat)

    answer = as_recruiter.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert_refused(
        answer,
        "duplicate_pending",
        "This seat already has a pending InMail to this recipient; wait for an answer or "
        "withdraw it first.",
    )
    assert InMail.objects.count() == 1
    assert own(as_recruiter, world) == 29


def test_a_seat_without_credits_is_409_insufficient_credits(
    world: World, as_admin: APIClient, as_recruiter: APIClient
) -> None:
    as_admin.post(
        f"/api/v1/seats/{world.seat.pk}/adjustments/",
        {"credits": -30, "reason": "Match LinkedIn"},
        format="json",
    )

    answer = as_recruiter.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert_refused(answer, "insufficient_credits", "No InMail credit is available for this seat.")
    assert not InMail.objects.exists()


def test_the_plans_monthly_send_limit_is_409_send_limit_reached(
    world: World, as_admin: APIClient, as_recruiter: APIClient
) -> None:
    as_admin.patch("/api/v1/plans/recruiter_lite/", {"monthly_send_limit": 1}, format="json")
    send(world.seat, "linkedin.com/in/member-1")

    answer = as_recruiter.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert_refused(answer, "send_limit_reached", "This seat has sent its 1 InMail for this month.")
    assert own(as_recruiter, world) == 29


def test_a_cancelled_seat_is_409_seat_inactive(
    world: World, as_admin: APIClient, as_recruiter: APIClient
) -> None:
    as_admin.post(f"/api/v1/seats/{world.seat.pk}/cancel/")

    answer = as_recruiter.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert_refused(answer, "seat_inactive", f"Seat #{world.seat.pk} is cancelled.")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", ""),
        ("subject", " "),
        ("subject", "x" * 201),
        ("body", ""),
        ("body", "x" * 1901),
        ("recipient", ""),
        ("recipient", "x" * 256),
        ("recipient", "https://[linkedin.com/in/jane"),
    ],
)
def test_a_bad_subject_body_or_recipient_is_400(
    world: World, as_recruiter: APIClient, field: str, value: str
) -> None:
    answer = as_recruiter.post(
        "/api/v1/inmails/", {**inmail_body(world.seat), field: value}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    assert not InMail.objects.exists()


def test_a_subject_of_200_and_a_body_of_1900_characters_are_accepted(
    world: World, as_recruiter: APIClient
) -> None:
    body = {**inmail_body(world.seat), "subject": "s" * 200, "body": "b" * 1900}

    assert as_recruiter.post("/api/v1/inmails/", body, format="json").status_code == 201


def test_a_seat_the_user_can_not_see_is_an_unknown_seat(
    world: World, as_outsider: APIClient
) -> None:
    answer = as_outsider.post("/api/v1/inmails/", inmail_body(world.seat), format="json")

    assert answer.status_code == 400
    assert answer.json() == {"seat": ["Unknown seat."]}


# --- Responses and refunds (R9) ----------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["accepted", "declined", "replied"])
def test_a_response_within_90_days_refunds_the_credit(
    world: World, as_recruiter: APIClient, time_machine: TimeMachineFixture, outcome: str
) -> None:
    inmail = send(world.seat)
    time_machine.move_to(utc(2025, 4, 15, 9), tick=False)  # day 90, to the second
    before = own(as_recruiter, world)

    answer = as_recruiter.post(
        f"/api/v1/inmails/{inmail.pk}/response/", {"outcome": outcome}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == outcome
    assert answer.json()["responded_at"] == "2025-04-15T09:00:00Z"
    assert answer.json()["refunded"] is True
    assert own(as_recruiter, world) == before + 1


def test_a_response_on_day_91_is_recorded_without_a_refund(
    world: World, as_recruiter: APIClient, time_machine: TimeMachineFixture
) -> None:
    inmail = send(world.seat)
    time_machine.move_to(utc(2025, 4, 16, 9), tick=False)
    before = own(as_recruiter, world)

    answer = as_recruiter.post(
        f"/api/v1/inmails/{inmail.pk}/response/", {"outcome": "replied"}, format="json"
    )

    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["refunded"]) == ("replied", False)
    assert own(as_recruiter, world) == before


def test_a_response_dated_within_the_window_refunds_even_when_logged_later(
    world: World, as_recruiter: APIClient, time_machine: TimeMachineFixture
) -> None:
    inmail = send(world.seat)
    time_machine.move_to(utc(2025, 5, 1, 9), tick=False)

    answer = as_recruiter.post(
        f"/api/v1/inmails/{inmail.pk}/response/",
        {"outcome": "accepted", "responded_at": "2025-04-15T09:00:00+00:00"},
        format="json",
    )

    assert answer.json()["refunded"] is True


def test_an_open_profile_inmail_answered_refunds_nothing(
    world: World, as_recruiter: APIClient
) -> None:
    inmail = send(world.seat, open_profile=True)

    answer = as_recruiter.post(
        f"/api/v1/inmails/{inmail.pk}/response/", {"outcome": "accepted"}, format="json"
    )

    assert answer.json()["refunded"] is False
    assert own(as_recruiter, world) == 30


def test_answering_twice_is_409_already_answered(world: World, as_recruiter: APIClient) -> None:
    inmail = send(world.seat)
    url = f"/api/v1/inmails/{inmail.pk}/response/"
    as_recruiter.post(url, {"outcome": "accepted"}, format="json")

    answer = as_recruiter.post(url, {"outcome": "declined"}, format="json")

    assert_refused(answer, "already_answered", "This InMail was already answered (accepted).")
    assert Entry.objects.filter(kind=EntryKind.REFUND).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "maybe"},
        {"outcome": "accepted", "responded_at": "2025-01-15T08:59:59Z"},
        {"outcome": "accepted", "responded_at": "2025-01-15T09:00:01Z"},
        {"outcome": "accepted", "responded_at": "last tuesday"},
        {},
    ],
)
def test_a_bad_response_is_400_and_changes_nothing(
    world: World, as_recruiter: APIClient, body: dict[str, Any]
) -> None:
    inmail = send(world.seat)

    answer = as_recruiter.post(f"/api/v1/inmails/{inmail.pk}/response/", body, format="json")

    assert answer.status_code == 400
    inmail.refresh_from_db()
    assert (inmail.status, inmail.refunded) == ("pending", False)


# --- Withdrawals -------------------------------------------------------------------------------


def test_a_withdrawn_inmail_gets_nothing_back(world: World, as_recruiter: APIClient) -> None:
    inmail = send(world.seat)

    answer = as_recruiter.post(f"/api/v1/inmails/{inmail.pk}/withdraw/")

    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["refunded"]) == ("withdrawn", False)
    assert own(as_recruiter, world) == 29
    again = as_recruiter.post(f"/api/v1/inmails/{inmail.pk}/withdraw/")
    assert_refused(again, "already_answered")


def test_a_withdrawn_inmail_can_not_be_answered(world: World, as_recruiter: APIClient) -> None:
    inmail = send(world.seat)
    as_recruiter.post(f"/api/v1/inmails/{inmail.pk}/withdraw/")

    answer = as_recruiter.post(
        f"/api/v1/inmails/{inmail.pk}/response/", {"outcome": "accepted"}, format="json"
    )

    assert_refused(answer, "already_answered")


# --- Reading, lists and filters ----------------------------------------------------------------


def test_an_inmail_outside_the_scope_is_404(world: World, as_outsider: APIClient) -> None:
    inmail = send(world.seat)

    for answer in (
        as_outsider.get(f"/api/v1/inmails/{inmail.pk}/"),
        as_outsider.post(f"/api/v1/inmails/{inmail.pk}/withdraw/"),
    ):
        assert answer.status_code == 404
    assert InMail.objects.get().status == "pending"


def test_the_reminder_is_shown_three_days_later(
    world: World, as_recruiter: APIClient, time_machine: TimeMachineFixture
) -> None:
    from ledger.services import inmails_record_reminders

    inmail = send(world.seat)
    time_machine.move_to(utc(2025, 1, 18, 10), tick=False)
    inmails_record_reminders()

    answer = as_recruiter.get(f"/api/v1/inmails/{inmail.pk}/").json()

    assert answer["reminder_at"] == "2025-01-18T09:00:00Z"


@pytest.fixture
def sent(world: World, time_machine: TimeMachineFixture) -> dict[str, InMail]:
    """Four InMails on three seats over three days."""
    first = send(world.seat, "linkedin.com/in/member-1")
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    second = send(world.seat, "linkedin.com/in/member-2")
    lead = send(world.lead_seat, "linkedin.com/in/member-3")
    time_machine.move_to(utc(2025, 1, 17, 9), tick=False)
    outsider = send(world.outsider_seat, "linkedin.com/in/member-4")
    from ledger.services import Cause, inmail_record_response

    inmail_record_response(inmail=second, outcome="accepted", cause=Cause.system("test"))
    return {"first": first, "second": second, "lead": lead, "outsider": outsider}


def listed(client: APIClient, query: str = "") -> list[int]:
    answer = client.get(f"/api/v1/inmails/{query}")
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["results"]]


def test_inmails_are_listed_newest_first_within_the_scope(
    world: World,
    sent: dict[str, InMail],
    as_admin: APIClient,
    as_lead: APIClient,
    as_recruiter: APIClient,
    as_outsider: APIClient,
) -> None:
    first, second, lead, outsider = (sent[k].pk for k in ("first", "second", "lead", "outsider"))

    assert listed(as_admin) == [outsider, lead, second, first]
    assert listed(as_lead) == [lead, second, first]
    assert listed(as_recruiter) == [second, first]
    assert listed(as_outsider) == [outsider]


def test_inmails_filter_by_seat_team_status_and_sent_time(
    world: World, sent: dict[str, InMail], as_admin: APIClient
) -> None:
    first, second, lead = (sent[k].pk for k in ("first", "second", "lead"))

    assert listed(as_admin, f"?seat={world.seat.pk}") == [second, first]
    assert listed(as_admin, f"?team={world.team.pk}") == [lead, second, first]
    assert listed(as_admin, "?status=accepted") == [second]
    assert listed(as_admin, "?sent_after=2025-01-16T09:00:00Z&sent_before=2025-01-17T00:00Z") == [
        lead,
        second,
    ]
    assert listed(as_admin, f"?team={world.team.pk}&status=pending&sent_before=2025-01-16") == [
        first
    ]


@pytest.mark.parametrize(
    "query",
    ["?status=lost", "?sent_after=soon", "?seat=abc", "?team=-1", "?page=0", "?page_size=x"],
)
def test_bad_inmail_filters_are_400(world: World, as_admin: APIClient, query: str) -> None:
    answer = as_admin.get(f"/api/v1/inmails/{query}")

    assert answer.status_code == 400, answer.content


def test_filtering_by_a_seat_or_team_outside_the_scope_is_400(
    world: World, sent: dict[str, InMail], as_recruiter: APIClient
) -> None:
    by_seat = as_recruiter.get(f"/api/v1/inmails/?seat={world.outsider_seat.pk}")
    by_team = as_recruiter.get(f"/api/v1/inmails/?team={world.org.other_team.pk}")

    assert (by_seat.status_code, by_seat.json()) == (400, {"seat": ["Unknown seat."]})
    assert (by_team.status_code, by_team.json()) == (400, {"team": ["Unknown team."]})


def test_the_inmail_list_is_paginated(
    world: World, sent: dict[str, InMail], as_admin: APIClient
) -> None:
    page = as_admin.get("/api/v1/inmails/?page_size=3&page=2").json()

    assert page["count"] == 4
    assert page["previous"] == "http://testserver/api/v1/inmails/?page_size=3"
    assert page["next"] is None
    assert [row["id"] for row in page["results"]] == [sent["first"].pk]
    assert as_admin.get("/api/v1/inmails/?page=3&page_size=3").status_code == 404


def test_a_page_size_above_500_is_capped_at_500(
    world: World, as_admin: APIClient, time_machine: TimeMachineFixture
) -> None:
    InMail.objects.bulk_create(
        InMail(
            seat=world.seat,
            sender_id=world.seat.holder_id,
            recipient=f"linkedin.com/in/member-{n}",
            recipient_key=f"linkedin:in/member-{n}",
            subject="Hello",
            body="A role",
            sent_at=utc(2025, 1, 1) + timedelta(minutes=n),
            imported=True,
        )
        for n in range(501)
    )

    page = as_admin.get("/api/v1/inmails/?page_size=1000").json()

    assert page["count"] == 501
    assert len(page["results"]) == 500
    assert page["next"] == "http://testserver/api/v1/inmails/?page=2&page_size=1000"
