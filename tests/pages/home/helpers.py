"""The recruiter home tests' instant and steps: sending, reading balances and cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.test import Client
from django.urls import reverse

from ledger.models import Account, InMail
from ledger.services import Cause, inmail_send
from teams.models import Seat

HTMX = {"HX-Request": "true"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def send(seat: Seat, recipient: str = "linkedin.com/in/ada", **fields: Any) -> InMail:
    return inmail_send(
        seat=seat,
        recipient=recipient,
        subject=fields.pop("subject", "A role you may like"),
        body=fields.pop("body", "Hello, would you talk about a role?"),
        cause=Cause.system("test"),
        **fields,
    ).inmail


def balance(seat: Seat) -> int:
    return Account.objects.get(seat=seat).balance


def card_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="seat-card-(\d+)"', html)}


def stat(html: str, seat: Seat, name: str) -> str:
    card = html[html.index(f'id="seat-card-{seat.pk}"') :]
    match = re.search(rf'data-stat="{name}">(.*?)</dd>', card, re.S)
    assert match, name
    return match.group(1).strip()


def post_send(client: Client, seat: Seat, *, htmx: bool = True, **fields: Any) -> Any:
    data = {
        "seat": seat.pk,
        "recipient": "https://www.linkedin.com/in/grace-hopper/",
        "subject": "Principal engineer, platform",
        "body": "Hi Grace, we are building a new platform team.",
        **fields,
    }
    return client.post(reverse("inmail_send"), data, headers=HTMX if htmx else None)
