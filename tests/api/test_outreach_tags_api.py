"""R22 outreach tags through the API (issue 14 item 1, API.md "Additions"): POST /inmails/ takes
`template` and `tags`, every InMail answer carries them and its `sender`, PATCH /inmails/{id}/
edits them, GET /inmails/ filters by `template`, `tag` and `q`, and response rates group by
`template` (null key: no template) and by `tag`.

The clock starts at 15 January 2025, 09:00 UTC."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from ledger.models import InMail
from ledger.services import Cause, inmail_record_response
from teams.models import AuditEvent
from tests.api.conftest import World, inmail_body, send
from tests.ledger.helpers import utc

pytestmark = pytest.mark.django_db

SYSTEM = Cause.system("test")


def test_a_send_takes_a_template_and_tags_and_answers_them_with_the_sender(
    world: World, as_recruiter: APIClient
) -> None:
    body = {
        **inmail_body(world.seat),
        "template": " Intro v2 ",
        "tags": ["Java", " java", "Remote"],
    }
    answer = as_recruiter.post("/api/v1/inmails/", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["template"], answer.json()["tags"]) == ("Intro v2", ["java", "remote"])
    assert answer.json()["sender"] == world.org.recruiter.pk
    fetched = as_recruiter.get(f"/api/v1/inmails/{answer.json()['id']}/").json()
    assert (fetched["template"], fetched["tags"]) == ("Intro v2", ["java", "remote"])


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
        ({"tags": ["  "]}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": [5]}, "tags"),
        ({"tags": "java"}, "tags"),
        ({"template": "T" * 101}, "template"),
    ],
)
def test_a_send_with_bad_tags_or_template_is_refused_on_that_field(
    world: World, as_recruiter: APIClient, extra: dict[str, Any], field: str
) -> None:
    answer = as_recruiter.post(
        "/api/v1/inmails/", {**inmail_body(world.seat), **extra}, format="json"
    )
    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    assert not InMail.objects.exists()


@pytest.mark.parametrize("who", ["recruiter", "lead", "admin"])
def test_the_holder_a_lead_or_an_admin_may_retag_an_inmail(
    world: World, who: str, as_recruiter: APIClient, as_lead: APIClient, as_admin: APIClient
) -> None:
    client = {"recruiter": as_recruiter, "lead": as_lead, "admin": as_admin}[who]
    inmail = send(world.seat, tags=["java"])
    answer = client.patch(
        f"/api/v1/inmails/{inmail.pk}/", {"template": "Intro", "tags": ["Berlin"]}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["template"], answer.json()["tags"]) == ("Intro", ["berlin"])
    event = AuditEvent.objects.get(action="inmail.update")
    assert event.actor == world.user(who)
    assert event.changes == {"template": ["", "Intro"], "tags": [["java"], ["berlin"]]}


def test_a_teammate_or_an_outsider_cant_retag_and_bad_edits_change_nothing(
    world: World, as_teammate: APIClient, as_outsider: APIClient, as_recruiter: APIClient
) -> None:
    inmail = send(world.seat, template="Intro", tags=["java"])
    url = f"/api/v1/inmails/{inmail.pk}/"
    assert as_teammate.patch(url, {"tags": []}, format="json").status_code == 404
    assert as_outsider.patch(url, {"tags": []}, format="json").status_code == 404
    refused = as_recruiter.patch(url, {"tags": ["a"] * 3 + [""]}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["tags"]
    unknown = as_recruiter.patch(url, {"subject": "Hi"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json() == {"subject": ["This field is unknown or can't be set."]}
    inmail.refresh_from_db()
    assert (inmail.template, inmail.tag_names) == ("Intro", ["java"])
    assert not AuditEvent.objects.filter(action="inmail.update").exists()


@pytest.fixture
def tagged(world: World, time_machine: TimeMachineFixture) -> dict[str, InMail]:
    """Four InMails of the recruiter's seat; `a` accepted the next day; the clock then stands
    at 1 March 2025, when every 30-day window is over."""
    made = {
        "a": send(
            world.seat, "linkedin.com/in/member-a", template="Intro", tags=["java", "berlin"]
        ),
        "b": send(world.seat, "linkedin.com/in/member-b", template="Intro", tags=["Java"]),
        "c": send(world.seat, "linkedin.com/in/member-c", subject="Lisbon role"),
        "d": send(world.seat, "linkedin.com/in/member-d", template="Follow-up", tags=["berlin"]),
    }
    time_machine.move_to(utc(2025, 1, 16, 9), tick=False)
    inmail_record_response(inmail=made["a"], outcome="accepted", cause=SYSTEM)
    time_machine.move_to(utc(2025, 3, 1, 9), tick=False)
    return made


def found(client: APIClient, **query: str) -> list[int]:
    answer = client.get("/api/v1/inmails/", query)
    assert answer.status_code == 200, answer.json()
    return sorted(row["id"] for row in answer.json()["results"])


def test_filters_by_template_tag_and_q_ignore_case(
    tagged: dict[str, InMail], as_recruiter: APIClient
) -> None:
    a, b, c, d = (tagged[name].pk for name in "abcd")
    assert found(as_recruiter, template="INTRO") == [a, b]
    assert found(as_recruiter, template="intr") == []  # whole template, not a substring
    assert found(as_recruiter, tag=" Berlin ") == [a, d]
    assert found(as_recruiter, tag="java", template="intro") == [a, b]
    assert found(as_recruiter, q="follow") == [d]
    assert found(as_recruiter, q="lisbon") == [c]
    assert found(as_recruiter, template="", tag="") == [a, b, c, d]


def rows(client: APIClient, group_by: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/analytics/response-rates/", {"group_by": group_by})
    assert answer.status_code == 200, answer.content
    return list(answer.json()["rows"])


def test_rates_by_template_have_a_null_row_for_no_template(
    tagged: dict[str, InMail], as_admin: APIClient
) -> None:
    by_template = rows(as_admin, "template")
    assert [
        (r["key"], r["label"], r["sent"], r["eligible"], r["answered_30d"]) for r in by_template
    ] == [
        ("Follow-up", "Follow-up", 1, 1, 0),
        ("Intro", "Intro", 2, 2, 1),
        (None, "No template", 1, 1, 0),
    ]
    intro = by_template[1]
    assert intro["response_rate"] == 0.5
    # Wilson 95% for 1 of 2, by hand: centre 0.5, half-width 1.96·√(0.125 + 0.2401)/2.9207.
    assert intro["rate_low"] == pytest.approx(0.0945, abs=1e-4)
    assert intro["rate_high"] == pytest.approx(0.9055, abs=1e-4)
    assert intro["small_sample"] is True


def test_rates_by_tag_count_an_inmail_under_each_tag_and_untagged_under_none(
    tagged: dict[str, InMail], as_admin: APIClient
) -> None:
    by_tag = rows(as_admin, "tag")
    assert [(r["key"], r["sent"], r["eligible"], r["answered_30d"]) for r in by_tag] == [
        ("berlin", 2, 2, 1),
        ("java", 2, 2, 1),
    ]
