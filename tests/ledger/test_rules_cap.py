"""The cap arithmetic (docs/rules.md R4 and "Lost to cap at the next refresh"), and the
message limits the services check against the model's columns."""

from __future__ import annotations

import pytest

from ledger.api.serializers import InMailCreateSerializer
from ledger.forms import BODY_MAX_LENGTH, RECIPIENT_MAX_LENGTH, SUBJECT_MAX_LENGTH
from ledger.models import InMail
from ledger.rules import BODY_MAX, RECIPIENT_MAX, SUBJECT_MAX, grant_under_cap, lost_to_cap
from ledger.web.forms import InMailSendForm
from teams.models import Seat


@pytest.mark.parametrize(
    ("monthly", "cap", "capped", "granted", "lost"),
    [
        (30, 120, 0, 30, 0),  # room for the whole grant
        (30, 120, 90, 30, 0),  # the grant lands exactly on the cap
        (30, 120, 100, 20, 10),  # the cap keeps back part of the grant
        (30, 120, 120, 0, 30),  # at the cap exactly: nothing granted
        (30, 100, 120, 0, 50),  # above a lowered cap: the grant lost and 20 trimmed
        (0, 120, 50, 0, 0),  # nothing monthly, below the cap: nothing lost
        (0, 100, 120, 0, 20),  # nothing monthly, above the cap: only the trim
    ],
)
def test_a_refresh_grants_under_the_cap_and_loses_the_rest(
    monthly: int, cap: int, capped: int, granted: int, lost: int
) -> None:
    assert grant_under_cap(monthly=monthly, cap=cap, capped=capped) == granted
    assert lost_to_cap(monthly=monthly, cap=cap, capped=capped) == lost


def test_the_message_limits_the_services_check_are_the_columns_lengths() -> None:
    assert InMail._meta.get_field("subject").max_length == SUBJECT_MAX == 200
    assert InMail._meta.get_field("body").max_length == BODY_MAX == 1900
    assert InMail._meta.get_field("recipient").max_length == RECIPIENT_MAX == 255


def test_forms_and_serializers_take_the_message_limits_from_the_columns() -> None:
    assert (SUBJECT_MAX_LENGTH, BODY_MAX_LENGTH, RECIPIENT_MAX_LENGTH) == (200, 1900, 255)
    names = ("subject", "body", "recipient")
    send = InMailCreateSerializer().fields
    assert [getattr(send[name], "max_length", None) for name in names] == [200, 1900, 255]
    typed = InMailSendForm(seats=Seat.objects.none()).fields
    assert [getattr(typed[name], "max_length", None) for name in names] == [200, 1900, 255]
