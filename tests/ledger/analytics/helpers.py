"""The analytics tests' organisation time zone, and InMails logged as imported history."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from ledger.models import InMail, InMailStatus
from ledger.rules import normalise_recipient
from teams.models import Seat, User

ORG_TZ = "America/Los_Angeles"
_recipients = itertools.count(1)


def name(user: User, first: str, last: str) -> None:
    User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)


def logged(
    seat: Seat,
    sent_at: datetime,
    *,
    status: str = InMailStatus.PENDING,
    responded_at: datetime | None = None,
    subject: str = "Hello there",
    body: str = "x" * 50,
    open_profile: bool = False,
) -> InMail:
    """An InMail from imported history (analytics only, never charged), as a CSV import does."""
    recipient = f"linkedin.com/in/member-{next(_recipients)}"
    closed_at = responded_at
    if status == InMailStatus.NO_RESPONSE:
        closed_at = sent_at + timedelta(days=90)
    return InMail.objects.create(
        seat=seat,
        sender_id=seat.holder_id,
        recipient=recipient,
        recipient_key=normalise_recipient(recipient),
        subject=subject,
        body=body,
        open_profile=open_profile,
        status=status,
        sent_at=sent_at,
        responded_at=responded_at,
        closed_at=closed_at,
        imported=True,
    )
