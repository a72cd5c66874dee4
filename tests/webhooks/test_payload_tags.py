"""R22 in R23: an InMail event carries its template and tags as the API shows them, and an
InMail nobody is told about is not read again for its event."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.services import inmail_send
from ledger.webhooks.announce import announce_inmail_closed
from ledger.webhooks.delivery import deliver_due
from ledger.webhooks.endpoints import webhook_endpoint_create
from tests.ledger.helpers import SYSTEM, seat_on, send
from tests.webhooks.receiver import Receiver

START = datetime(2026, 3, 2, 9, 0)


@pytest.mark.django_db
def test_a_tagged_send_is_announced_with_its_template_and_sorted_lower_case_tags(
    receiver: Receiver, clock: time_machine.Traveller
) -> None:
    seat = seat_on("recruiter_lite")
    webhook_endpoint_create(url=receiver.url, events=["inmail.sent"], actor=None)

    inmail_send(
        seat=seat,
        recipient="linkedin.com/in/ada",
        subject="A role you may like",
        body="We are hiring.",
        template="Intro v2",
        tags=[" Rust", "backend", "rust"],
        cause=SYSTEM,
    )
    assert deliver_due().delivered == 1

    [got] = receiver.received
    assert (got.json["data"]["template"], got.json["data"]["tags"]) == (
        "Intro v2",
        ["backend", "rust"],
    )


@pytest.mark.django_db
def test_a_closure_nobody_subscribed_to_reads_nothing(clock: time_machine.Traveller) -> None:
    inmail = send(seat_on("recruiter_lite"), "linkedin.com/in/ada").inmail

    with CaptureQueriesContext(connection) as queries:
        announce_inmail_closed(inmail.pk)

    assert not [q for q in queries.captured_queries if "ledger_inmail" in q["sql"]]
