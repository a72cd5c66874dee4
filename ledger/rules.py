"""The ledger's rules that need no database: limits, recipients and their key, the cap arithmetic.

Pure functions and the numbers they use (docs/rules.md cites each by its R-number). The services
apply them under their locks; the selectors use the same functions to say what a refresh will
do, so the cap arithmetic is written once.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from django.db.models import Q

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


# --------------------------------------------------------------------------------------------
# Recipients: what may be written to, and the key that recognises one person (R8; issue 12)
# --------------------------------------------------------------------------------------------

NOT_A_RECIPIENT = (
    "This is neither a profile URL nor a member id: give a LinkedIn profile URL like "
    "https://www.linkedin.com/in/jane-doe, or a member id like urn:li:member:123456789 or "
    "ACoAAB…."
)
# LinkedIn's opaque profile ids: ACoA… (the member's profile), ACwA… (Sales Navigator),
# AEMA… (Recruiter). Each one names one person; the same person's ids in two products differ.
_PROFILE_ID = r"(?:ACoA|ACwA|AEMA)[A-Za-z0-9_-]{10,96}"
_BARE_ID = re.compile(rf"^{_PROFILE_ID}$")
_MEMBER_URN = re.compile(r"^urn:li:member:([0-9]{1,19})$", re.I)
_PERSON_URN = re.compile(r"^urn:li:person:([A-Za-z0-9_-]{3,64})$", re.I)
# The profile URNs LinkedIn's own pages and Sales Navigator carry: an id, optionally inside
# parentheses with the search that found it (`(ACwAA…,NAME_SEARCH,x1y2)`).
_PROFILE_URN = re.compile(
    rf"^urn:li:(?:fsd_profile|fs_profile|fs_miniProfile|fs_salesProfile|fs_normalized_profile):"
    rf"\(?({_PROFILE_ID})(?:,[^)]*)?\)?$",
    re.I,
)
# LinkedIn Lite, the mobile site, puts `/mwlite` before the profile's path.
_IN_PATH = re.compile(r"^(?:/mwlite)?/in/([^/]+)(?:/.*)?$", re.I)
# The public profile of before 2017: /pub/<name>/<a>/<b>/<c>; the name alone is not one person.
_PUB_PATH = re.compile(r"^/pub/([^/]+)/([0-9a-z]{1,3})/([0-9a-z]{1,3})/([0-9a-z]{1,3})/?$", re.I)
# Sales Navigator (`/sales/lead/<id>,NAME_SEARCH,x1y2`, the older `/sales/people/…`), Recruiter
# (`/talent/profile/<id>`, or inside a project `/talent/hire/…/profile/<id>`), and the old
# Recruiter and profile pages that name the numeric member id.
_SALES_PATH = re.compile(rf"^/sales/(?:lead|people)/({_PROFILE_ID})(?:[,/].*)?$", re.I)
_TALENT_PATH = re.compile(rf"^/talent/(?:.+/)?profile/({_PROFILE_ID})(?:[,/].*)?$", re.I)
_RECRUITER_PATH = re.compile(r"^/recruiter/profile/([0-9]{1,19})(?:[,/].*)?$", re.I)
_PROFILE_VIEW_ID = re.compile(r"(?:^|&)id=([0-9]{1,19})(?:&|$)")
# What a public profile's name part may hold once decoded: letters of any script, digits,
# hyphens (LinkedIn's own rule), and the underscores and dots of old custom URLs.
_SLUG = re.compile(r"^[\w.-]+$")


def _member_key(member_id: str) -> str:
    return f"urn:li:member:{int(member_id)}"


# The common spelling of a profile URL: an ASCII /in/ name and nothing after it (a slash at
# most), on linkedin.com or one of its subdomains, with or without http(s)://.
_PLAIN_IN_URL = re.compile(
    r"(?:https?://)?(?:[a-z0-9-]+\.)*linkedin\.com/in/([A-Za-z0-9-]+)/?", re.I
)


def _profile_url_key(text: str) -> str | None:
    if plain := _PLAIN_IN_URL.fullmatch(text):
        # Read without parsing the URL (an import reads 100,000 of them); the key is the one
        # the general reading below gives (tests/ledger/test_recipient_rules.py compares them).
        slug = plain.group(1)
        return slug.lower() if _BARE_ID.match(slug) else f"linkedin:in/{slug.lower()}"
    return _parsed_profile_url_key(text)


def _parsed_profile_url_key(text: str) -> str | None:
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:  # an unbalanced "[" reads as a broken IPv6 host
        return None
    if parts.scheme.lower() not in {"http", "https"} or parts.netloc.lower() != host:
        return None  # another scheme, a user name or a port: not a link LinkedIn gives out
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        return None
    path = parts.path
    if match := _IN_PATH.match(path):
        # `/in/Jérôme` and `/in/j%C3%A9r%C3%B4me` are one person: the key holds the name
        # decoded, composed (NFC) and in lower case, so it is never longer than what was typed.
        slug = unicodedata.normalize("NFC", unquote(match.group(1)))
        if _BARE_ID.match(slug):
            return slug.lower()
        if not _SLUG.match(slug):
            return None
        return f"linkedin:in/{slug.lower()}"
    if match := _PUB_PATH.match(path):
        return "linkedin:pub/" + "/".join(part.lower() for part in match.groups())
    if match := _SALES_PATH.match(path) or _TALENT_PATH.match(path):
        return match.group(1).lower()
    if match := _RECRUITER_PATH.match(path):
        return _member_key(match.group(1))
    if path.rstrip("/").lower() == "/profile/view" and (
        match := _PROFILE_VIEW_ID.search(parts.query)
    ):
        return _member_key(match.group(1))
    return None


def recipient_key(recipient: str) -> str | None:
    """The key that identifies a recipient however it was written, or None when it is neither
    a LinkedIn profile URL nor a member id (docs/rules.md, "Recipients").

    `https://www.linkedin.com/in/Jane-Doe/?trk=x` and `uk.linkedin.com/in/jane-doe` are the
    same person; so are a profile id bare, in a URN and in a Sales Navigator or profile URL,
    and a numeric member id in a URN and in an old Recruiter URL.
    """
    text = recipient.strip()
    if not text or _has_space_or_control(text):
        return None
    key = _key_of(text)
    # Lower case can lengthen a name ("İ" is two characters in lower case); a key the column
    # can't hold can't be compared, so its recipient is refused rather than cut.
    return key if key is not None and len(key) <= RECIPIENT_MAX else None


def _has_space_or_control(text: str) -> bool:
    # `isprintable` is false for every control, format, private-use or unassigned character and
    # every separator but " " (checked over all code points), so the character-by-character
    # test only runs on the rare text it lets through: an import checks 100,000 of these.
    if text.isprintable() and " " not in text:
        return False
    return any(char.isspace() or unicodedata.category(char)[0] == "C" for char in text)


def _key_of(text: str) -> str | None:
    if _BARE_ID.match(text):
        return text.lower()
    if match := _MEMBER_URN.match(text):
        return _member_key(match.group(1))
    if match := _PERSON_URN.match(text):
        return f"urn:li:person:{match.group(1).lower()}"
    if match := _PROFILE_URN.match(text):
        return match.group(1).lower()
    if text.lower().startswith("urn:"):
        return None
    return _profile_url_key(text)


def normalise_recipient(recipient: str) -> str:
    """The key stored with an InMail and compared by the duplicate and teammate checks (R8).

    A recipient that is not a profile URL or member id (rows stored before recipients were
    checked, or a search for any text) is compared as given, ignoring case and surrounding
    spaces.
    """
    return recipient_key(recipient) or recipient.strip().lower()


def recipient_checked(recipient: str) -> tuple[str | None, str | None]:
    """The recipient's key and None, or None and why it can't be written to: the one check
    every way in applies (an import reads each key once from here)."""
    text = recipient.strip()
    if not text:
        return None, "Give the recipient's profile URL or member id."
    if len(text) > RECIPIENT_MAX:
        return None, f"At most {RECIPIENT_MAX} characters."
    key = recipient_key(text)
    if key is None:
        return None, NOT_A_RECIPIENT
    return key, None


def recipient_problem(recipient: str) -> str | None:
    """Why a recipient can't be written to, or None."""
    return recipient_checked(recipient)[1]


def validate_recipient(recipient: str) -> None:
    """Refuse, on the `recipient` field, anything but a profile URL or a member id."""
    problem = recipient_problem(recipient)
    if problem is not None:
        raise LedgerValidationError("recipient", problem)


# What `q` searches in an InMail, case ignored (GET /inmails/?q=, the candidate search).
INMAIL_TEXT_FIELDS = ("recipient", "subject", "template")


# --------------------------------------------------------------------------------------------
# R22 outreach tags: an InMail's template and tags (issue 14 item 1)
# --------------------------------------------------------------------------------------------

TEMPLATE_MAX = 100
TAG_MAX = 50
TAGS_MAX = 10


def normalise_template(template: str | None) -> str:
    """The template as stored: trimmed, case kept; "" for none. Longer than 100 characters is
    refused on the `template` field."""
    text = (template or "").strip()
    if len(text) > TEMPLATE_MAX:
        raise LedgerValidationError(
            "template", f"At most {TEMPLATE_MAX} characters (this one has {len(text)})."
        )
    return text


def normalise_tags(tags: list[str] | tuple[str, ...] | None) -> list[str]:
    """The tags as stored: each trimmed and lower-case, duplicates dropped, in the order first
    given. Empty tags (after trimming), tags over 50 characters and more than 10 tags after
    removing duplicates are refused on the `tags` field."""
    found: list[str] = []
    for raw in tags or ():
        if not isinstance(raw, str):
            raise LedgerValidationError("tags", "Each tag must be text.")
        tag = raw.strip().lower()
        if not tag:
            raise LedgerValidationError("tags", "A tag can't be empty.")
        if len(tag) > TAG_MAX:
            raise LedgerValidationError(
                "tags", f"A tag has at most {TAG_MAX} characters ({tag[:20]}… has {len(tag)})."
            )
        if tag not in found:
            found.append(tag)
    if len(found) > TAGS_MAX:
        raise LedgerValidationError(
            "tags", f"At most {TAGS_MAX} tags (these are {len(found)} once duplicates go)."
        )
    return found


def split_tags(text: str) -> list[str]:
    """Tags written in one text field (the send form, a CSV cell): separated by commas, "|" or
    ";"; blanks between separators are ignored."""
    return [part for part in re.split(r"[,|;]", text or "") if part.strip()]


# --- end R22 ---


def inmail_search(*, recipient: str | None = None, text: str | None = None) -> Q:
    """The InMails a search names: `recipient` in any spelling (its key, as the duplicate
    check compares it), and `text` as a substring of the searched fields, case ignored.

    A `text` that reads as a recipient also finds that person however they were written.
    """
    found = Q()
    if recipient is not None and recipient.strip():
        found &= Q(recipient_key=normalise_recipient(recipient))
    if text is not None and text.strip():
        needle = text.strip()
        matches = Q()
        for name in INMAIL_TEXT_FIELDS:
            matches |= Q(**{f"{name}__icontains": needle})
        key = recipient_key(needle)
        if key is not None:
            matches |= Q(recipient_key=key)
        found &= matches
    return found


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
    validate_recipient(recipient)
    _validate_subject_and_body(subject, body)


def _validate_subject_and_body(subject: str, body: str) -> None:
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
