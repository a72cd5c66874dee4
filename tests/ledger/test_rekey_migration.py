"""Migration 0013 (issue 12, item 4): InMails stored before the recipient key learnt more
spellings of one person get today's key, so the duplicate check, the teammate warning and the
candidate search find them; rows whose key is already right are left alone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from time_machine import TimeMachineFixture

from ledger.models import InMail
from ledger.rules import normalise_recipient
from tests.ledger.helpers import seat_on, send, utc

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("ledger", "0012_inmail_sender_required")


def test_stale_recipient_keys_are_recomputed_and_right_ones_kept(
    executor: MigrationExecutor, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(utc(2026, 3, 10, 9), tick=False)
    seat = seat_on("recruiter_lite")
    encoded = send(seat, "https://www.linkedin.com/in/J%C3%BCrgen-M%C3%BCller/").inmail
    plain = send(seat, "linkedin.com/in/ada-lovelace").inmail
    right = normalise_recipient(plain.recipient)

    executor.migrate([BEFORE])
    with connection.cursor() as cursor:
        # What a row stored with the earlier key looks like: the name still percent-encoded.
        cursor.execute(
            "UPDATE ledger_inmail SET recipient_key = %s WHERE id = %s",
            ["linkedin:in/j%c3%bcrgen-m%c3%bcller", encoded.pk],
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    keys = dict(InMail.objects.values_list("pk", "recipient_key"))
    assert keys[encoded.pk] == normalise_recipient(encoded.recipient)
    assert keys[encoded.pk] != "linkedin:in/j%c3%bcrgen-m%c3%bcller"
    assert keys[plain.pk] == right
    # The one person, however written, is one key now.
    assert keys[encoded.pk] == normalise_recipient("linkedin.com/in/jürgen-müller")
