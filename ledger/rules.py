"""The ledger's rules that need no database: limits, the recipient key, the cap arithmetic.

Pure functions and the numbers they use (docs/rules.md cites each by its R-number). The services
apply them under their locks; the selectors use the same functions to say what a refresh will
do, so the cap arithmetic is written once.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from ledger import schedule
from ledger.exceptions import LedgerValidationError
from ledger.models import InMailStatus

SUBJECT_MAX = 200
BODY_MAX = 1900
RECIPIENT_MAX = 255
RESPONSE_WINDOW_DAYS = 90
REMINDER_AFTER_DAYS = 3
TEAMMATE_WARNING_DAYS = 90
BONUS_LIFETIME_DAYS = 30
IDLE_AFTER_DAYS = 14
WARNING_TEAMMATE = "recipient_contacted_by_teammate"
# Read once: `InMailStatus.values` builds a new list on every access, and an import checks
# every row.
_INMAIL_STATUSES = frozenset(InMailStatus.values)
# What a purchase's total (`Purchase.total`, 12 digits with 2 decimals) can hold.
MAX_PURCHASE_TOTAL = Decimal("9999999999.99")


_LINKEDIN_PATH = re.compile(r"^/(in|pub|sales/lead|sales/people|talent/profile)/([^/?#]+)", re.I)


def normalise_recipient(recipient: str) -> str:
    """The key that identifies a recipient however the profile URL was pasted.

    `https://www.linkedin.com/in/Jane-Doe/?trk=x` and `linkedin.com/in/jane-doe` are the same
    person; anything that is not a LinkedIn profile URL (a member id) is compared as given,
    ignoring case and surrounding spaces.
    """
    text = recipient.strip()
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:  # not a URL at all (an unbalanced "[" reads as a broken IPv6 host)
        return text.lower()
    if host == "linkedin.com" or host.endswith(".linkedin.com"):
        match = _LINKEDIN_PATH.match(parts.path)
        if match:
            return f"linkedin:{match.group(1).lower()}/{match.group(2).lower()}"
    return text.lower()


def grant_under_cap(*, monthly: int, cap: int, capped: int) -> int:
    """What a refresh grants (R4): the monthly credits, as far as the cap leaves room.

    `capped` is the capped balance at the refresh, purchased credits excluded.
    """
    return min(monthly, max(0, cap - capped))


def lost_to_cap(*, monthly: int, cap: int, capped: int) -> int:
    """What the cap takes at a refresh (docs/rules.md "Lost to cap at the next refresh"): the
    part of the monthly credits it holds back, and the capped credits trimmed above it (R4)."""
    return monthly - grant_under_cap(monthly=monthly, cap=cap, capped=capped) + max(0, capped - cap)


def seat_is_idle(*, activated_at: datetime, last_sent_at: datetime | None, as_of: datetime) -> bool:
    """Whether a seat is idle at `as_of`: activated more than `IDLE_AFTER_DAYS` days before it
    and sent no InMail within those days (a seat younger than the window is never idle)."""
    since = schedule.add_days(as_of, -IDLE_AFTER_DAYS)
    return activated_at < since and (last_sent_at is None or last_sent_at < since)


def _validate_message(recipient: str, subject: str, body: str) -> None:
    if not recipient.strip():
        raise LedgerValidationError("recipient", "Give the recipient's profile URL or member id.")
    if len(recipient.strip()) > RECIPIENT_MAX:
        raise LedgerValidationError("recipient", f"At most {RECIPIENT_MAX} characters.")
    text = recipient.strip()
    try:
        urlsplit(text if "://" in text else f"https://{text}")
    except ValueError as error:  # an unbalanced "[" reads as a broken IPv6 address
        raise LedgerValidationError(
            "recipient", "This is neither a profile URL nor a member id; paste it again."
        ) from error
    if not subject.strip():
        raise LedgerValidationError("subject", "An InMail needs a subject.")
    if len(subject) > SUBJECT_MAX:
        raise LedgerValidationError(
            "subject", f"At most {SUBJECT_MAX} characters (this one has {len(subject)})."
        )
    if not body.strip():
        raise LedgerValidationError("body", "An InMail needs a body.")
    if len(body) > BODY_MAX:
        raise LedgerValidationError(
            "body", f"At most {BODY_MAX} characters (this one has {len(body)})."
        )
