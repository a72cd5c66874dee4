"""Who an InMail may be written to, and the key that recognises one person (docs/rules.md,
"Recipients"; issue 12, item 4). Pure rules: no database."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from ledger import rules
from ledger.exceptions import LedgerValidationError
from ledger.models import InMail
from ledger.rules import (
    NOT_A_RECIPIENT,
    RECIPIENT_MAX,
    inmail_search,
    normalise_recipient,
    recipient_key,
    recipient_problem,
    validate_recipient,
)

# One person, written every way the key must see through.
JANE = [
    "https://www.linkedin.com/in/jane-doe",
    "https://www.linkedin.com/in/Jane-Doe/",
    "http://linkedin.com/in/jane-doe",
    "HTTPS://WWW.LINKEDIN.COM/IN/JANE-DOE",
    "www.linkedin.com/in/jane-doe/",
    "linkedin.com/in/jane-doe",
    "https://uk.linkedin.com/in/jane-doe",
    "https://m.linkedin.com/in/jane-doe",
    "https://www.linkedin.com/mwlite/in/jane-doe",
    "https://www.linkedin.com/in/jane-doe?trk=people-search&originalSubdomain=uk",
    "https://www.linkedin.com/in/jane-doe/#experience",
    "https://www.linkedin.com/in/jane-doe/en",
    "https://www.linkedin.com/in/jane-doe/details/experience/",
    "https://www.linkedin.com/in/jane%2Ddoe",
    "  https://www.linkedin.com/in/jane-doe  ",
]
JEROME = [
    "https://www.linkedin.com/in/jérôme-dupont",
    "https://www.linkedin.com/in/Jérôme-Dupont/",
    "https://www.linkedin.com/in/j%C3%A9r%C3%B4me-dupont",
    "https://www.linkedin.com/in/J%c3%a9r%c3%b4me-Dupont/?trk=x",
    # é written as e and a combining accent (NFD), as some systems store it
    "https://www.linkedin.com/in/je\u0301ro\u0302me-dupont",
]
PROFILE_ID = "ACoAABcdEfGhIjKlMnOpQrStUvWxYz0123456789"
SALES_ID = "ACwAAAB1c2VyMTIzNDU2Nzg5"
RECRUITER_ID = "AEMAABcdEfGhIjKlMnOp"


@pytest.mark.parametrize("spelling", JANE)
def test_a_public_profile_has_one_key_however_it_was_pasted(spelling: str) -> None:
    assert recipient_key(spelling) == "linkedin:in/jane-doe"


@pytest.mark.parametrize("spelling", JEROME)
def test_a_name_in_any_script_is_one_key_encoded_or_not(spelling: str) -> None:
    assert recipient_key(spelling) == "linkedin:in/jérôme-dupont"


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (
            [
                PROFILE_ID,
                f"urn:li:fsd_profile:{PROFILE_ID}",
                f"urn:li:fs_miniProfile:{PROFILE_ID}",
                f"https://www.linkedin.com/in/{PROFILE_ID}",
            ],
            PROFILE_ID.lower(),
        ),
        (
            [
                SALES_ID,
                f"https://www.linkedin.com/sales/lead/{SALES_ID},NAME_SEARCH,x1y2?_ntb=abc",
                f"https://www.linkedin.com/sales/lead/{SALES_ID},NAME_SEARCH,q9r8",
                f"https://www.linkedin.com/sales/people/{SALES_ID},NAME_SEARCH,x1y2",
                f"urn:li:fs_salesProfile:({SALES_ID},NAME_SEARCH,x1y2)",
            ],
            SALES_ID.lower(),
        ),
        (
            [
                RECRUITER_ID,
                f"https://www.linkedin.com/talent/profile/{RECRUITER_ID}?project=42",
                f"https://www.linkedin.com/talent/hire/42/discover/recruiterSearch/profile/"
                f"{RECRUITER_ID}?searchContextId=x",
            ],
            RECRUITER_ID.lower(),
        ),
        (
            [
                "urn:li:member:123456789",
                "URN:LI:MEMBER:0123456789",
                "https://www.linkedin.com/recruiter/profile/123456789,Ab1c,CAP?pid=1",
                "https://www.linkedin.com/profile/view?id=123456789&trk=nav",
            ],
            "urn:li:member:123456789",
        ),
        (["urn:li:person:Ab12-cD_3"], "urn:li:person:ab12-cd_3"),
        (
            [
                "https://www.linkedin.com/pub/jane-doe/12/345/6a7",
                "linkedin.com/pub/Jane-Doe/12/345/6A7/",
            ],
            "linkedin:pub/jane-doe/12/345/6a7",
        ),
    ],
)
def test_a_member_id_is_one_key_bare_in_a_urn_or_in_a_url(spellings: list[str], key: str) -> None:
    assert {recipient_key(spelling) for spelling in spellings} == {key}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("linkedin.com/in/jane-doe", "linkedin.com/in/jane-doe-2"),
        ("linkedin.com/pub/jane-doe/12/345/678", "linkedin.com/pub/jane-doe/87/654/321"),
        ("urn:li:member:1", "urn:li:member:12"),
        (PROFILE_ID, SALES_ID),
    ],
)
def test_different_people_have_different_keys(one: str, other: str) -> None:
    assert recipient_key(one) != recipient_key(other)


@pytest.mark.parametrize(
    "text",
    [
        "not a url at all !!",
        "member-1",
        "123456789",
        "jane-doe",
        "jane@example.com",
        "https://www.linkedin.com/company/acme",
        "https://www.linkedin.com/jobs/view/123",
        "https://www.linkedin.com/pub/dir/jane/doe",
        "https://www.linkedin.com/pub/jane-doe",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/in/jane doe",
        "https://www.linkedin.com/in/jane%20doe",
        "https://www.linkedin.com/in/<script>",
        "linkedin.com/in/ja\nne",
        "https://www.linkedin.com/in/jane\u200bdoe",
        "https://evil-linkedin.com/in/jane",
        "https://linkedin.com.example.org/in/jane",
        "https://www.linkedin.co/in/jane",
        "https://lnkd.in/abc123",
        "ftp://www.linkedin.com/in/jane",
        "javascript:alert(1)",
        "https://jane@www.linkedin.com/in/jane",
        "https://www.linkedin.com:8443/in/jane",
        "https://[linkedin.com/in/x",
        "https://www.linkedin.com/sales/lead/jane-doe",
        "https://www.linkedin.com/talent/profile/123",
        "urn:li:member:jane",
        "urn:li:company:123",
        "ACoA",
        "ACoAAB c",
    ],
)
def test_anything_else_is_not_a_recipient(text: str) -> None:
    assert recipient_key(text) is None
    assert recipient_problem(text) == NOT_A_RECIPIENT
    with pytest.raises(LedgerValidationError) as refused:
        validate_recipient(text)
    assert (refused.value.field, refused.value.message) == ("recipient", NOT_A_RECIPIENT)


def test_the_refusal_says_what_to_give_instead() -> None:
    assert NOT_A_RECIPIENT.startswith("This is neither a profile URL nor a member id")
    assert "https://www.linkedin.com/in/jane-doe" in NOT_A_RECIPIENT
    assert "urn:li:member:" in NOT_A_RECIPIENT


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Give the recipient's profile URL or member id."),
        ("   ", "Give the recipient's profile URL or member id."),
        ("linkedin.com/in/" + "a" * (RECIPIENT_MAX - 16), None),
        ("linkedin.com/in/" + "a" * (RECIPIENT_MAX - 16) + "a", "At most 255 characters."),
        ("linkedin.com/in/jane-doe", None),
    ],
)
def test_empty_and_too_long_recipients_say_so(text: str, problem: str | None) -> None:
    assert recipient_problem(text) == problem


@pytest.mark.parametrize(
    ("stored", "key"),
    [
        ("not a url at all !!", "not a url at all !!"),
        ("  Member-1 ", "member-1"),
        ("https://[linkedin.com/in/x", "https://[linkedin.com/in/x"),
    ],
)
def test_a_stored_recipient_that_is_no_profile_is_compared_as_written(
    stored: str, key: str
) -> None:
    # Rows stored before recipients were checked keep comparing as they always did.
    assert normalise_recipient(stored) == key


def test_the_stored_key_of_a_profile_is_its_recipient_key() -> None:
    assert normalise_recipient(JANE[1]) == recipient_key(JANE[1]) == "linkedin:in/jane-doe"


def test_a_key_is_never_longer_than_the_recipient_column() -> None:
    column = InMail._meta.get_field("recipient_key").max_length
    assert column == RECIPIENT_MAX
    widest = "linkedin.com/in/" + "%C3%A9" * 39  # é, percent-encoded: 6 characters each
    assert recipient_key(widest) == "linkedin:in/" + "é" * 39
    longest = "linkedin.com/in/" + "é" * (RECIPIENT_MAX - 16)
    assert len(recipient_key(longest) or "") == RECIPIENT_MAX - 4


def test_a_name_whose_lower_case_outgrows_the_column_is_refused() -> None:
    # "İ" (dotted capital I) is two characters in lower case.
    assert recipient_key("linkedin.com/in/" + "İ" * 130) is None
    assert recipient_key("linkedin.com/in/" + "İ" * 121) == "linkedin:in/" + "i̇" * 121


# --- the search ---------------------------------------------------------------------------------


def test_a_search_for_nothing_filters_nothing() -> None:
    assert str(inmail_search()) == str(inmail_search(recipient="  ", text=""))
    assert not inmail_search(recipient=" ", text=" ")


def test_a_recipient_search_matches_the_key() -> None:
    found = inmail_search(recipient="https://uk.linkedin.com/in/Jane-Doe/")
    assert found.children == [("recipient_key", "linkedin:in/jane-doe")]


def test_a_text_search_looks_in_recipient_subject_template_and_for_the_person() -> None:
    found = inmail_search(text=" Jane-Doe ")
    assert found.connector == "OR"
    assert found.children == [
        ("recipient__icontains", "Jane-Doe"),
        ("subject__icontains", "Jane-Doe"),
        ("template__icontains", "Jane-Doe"),  # R22
    ]
    by_url = inmail_search(text="linkedin.com/in/Jane-Doe")
    assert by_url.children[-1] == ("recipient_key", "linkedin:in/jane-doe")


# --- issue 14: the import's fast readings give the general readings' answers ---------------

PLAIN_URLS = [
    *JANE,
    "https://www.linkedin.com/in/ACoAABcdefghijklmnop",
    "linkedin.com/in/acoaabcdefghijklmnop/",
    "https://de.linkedin.com/in/hans-müller",
    "https://www.linkedin.com/in/j%C3%A9r%C3%B4me",
    "https://www.linkedin.com/in/a_b.c",
    "https://www.linkedin.com/in/jane-doe?trk=x",
    "https://www.linkedin.com:443/in/jane-doe",
    "https://user@www.linkedin.com/in/jane-doe",
    "https://evillinkedin.com/in/jane-doe",
    "https://linkedin.com.evil.com/in/jane-doe",
    "ftp://linkedin.com/in/jane-doe",
    "https://www.linkedin.com/in/",
    "https://www.linkedin.com/in/jane/doe",
    "https://a.b.linkedin.com/in/x-1",
    "HTTP://LinkedIn.com/In/X",
]


@pytest.mark.parametrize("text", PLAIN_URLS)
def test_a_plain_profile_url_is_keyed_as_the_general_reading_keys_it(text: str) -> None:
    assert rules._profile_url_key(text) == rules._parsed_profile_url_key(text)


def test_the_printable_shortcut_lets_through_no_space_or_control_character() -> None:
    """`_has_space_or_control` skips its character-by-character test for printable text
    without " ": that is only right if no printable character but " " is a space or a
    control (every code point checked)."""
    wrong = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if (char := chr(code)).isprintable()
        and char != " "
        and (char.isspace() or unicodedata.category(char)[0] == "C")
    ]
    assert wrong == []
    assert rules._has_space_or_control("linkedin.com/in/a\u200bb")  # a zero-width space (Cf)
    assert rules._has_space_or_control("linkedin.com/in/a\u00a0b")  # a no-break space (Zs)
    assert not rules._has_space_or_control("linkedin.com/in/jérôme")
