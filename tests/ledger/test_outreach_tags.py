"""R22 outreach tags (issue 14 item 1): the rules for a template and tags, a send and an import
that carry them, and the audited edit later."""

from __future__ import annotations

import pytest
from time_machine import TimeMachineFixture

from ledger.exceptions import LedgerValidationError
from ledger.models import InMail, InMailTag
from ledger.rules import normalise_tags, normalise_template, split_tags
from ledger.services import Cause, HistoricInMail, ImportRejected, inmails_import
from ledger.services.inmails import inmail_send
from ledger.services.tags import inmail_tags, inmail_update_tags
from teams.models import AuditEvent
from tests.ledger.helpers import footprint, person, seat_on, utc

# --- the rules (no database) ----------------------------------------------------------------


def test_tags_are_trimmed_lower_cased_and_deduplicated_in_the_order_given() -> None:
    assert normalise_tags(["  Java ", "java", "BACKEND", "Backend "]) == ["java", "backend"]
    assert normalise_tags(None) == []


def test_ten_tags_count_after_removing_duplicates() -> None:
    eleven_with_a_duplicate = [f"t{n}" for n in range(10)] + ["T0 "]
    assert len(normalise_tags(eleven_with_a_duplicate)) == 10
    with pytest.raises(LedgerValidationError) as refused:
        normalise_tags([f"t{n}" for n in range(11)])
    assert (refused.value.field, refused.value.message) == (
        "tags",
        "At most 10 tags (these are 11 once duplicates go).",
    )


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (["ok", "   "], "A tag can't be empty."),
        (["x" * 51], "A tag has at most 50 characters (xxxxxxxxxxxxxxxxxxxx… has 51)."),
    ],
)
def test_an_empty_or_long_tag_is_refused(tags: list[str], message: str) -> None:
    with pytest.raises(LedgerValidationError) as refused:
        normalise_tags(tags)
    assert (refused.value.field, refused.value.message) == ("tags", message)


def test_a_tag_of_fifty_characters_and_a_template_of_a_hundred_are_kept() -> None:
    assert normalise_tags(["y" * 50]) == ["y" * 50]
    assert normalise_template(" " + "T" * 100 + " ") == "T" * 100
    assert normalise_template(None) == ""
    with pytest.raises(LedgerValidationError) as refused:
        normalise_template("T" * 101)
    assert refused.value.field == "template"
    assert refused.value.message == "At most 100 characters (this one has 101)."


def test_split_tags_reads_commas_pipes_and_semicolons() -> None:
    assert split_tags("java, Backend|berlin;; ") == ["java", " Backend", "berlin"]
    assert split_tags("") == []


# --- a send, an import, an edit -----------------------------------------------------------


@pytest.mark.django_db
def test_a_send_stores_the_template_and_normalised_tags(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    sent = inmail_send(
        seat=seat,
        recipient="linkedin.com/in/jane-doe",
        subject="Hi",
        body="Hello",
        cause=Cause.system("test"),
        template=" Java intro v2 ",
        tags=["Java", "berlin", "JAVA"],
    )
    inmail = InMail.objects.get(pk=sent.inmail.pk)
    assert inmail.template == "Java intro v2"
    assert inmail_tags(inmail) == ["berlin", "java"]


@pytest.mark.django_db
def test_a_send_with_bad_tags_is_refused_and_charges_nothing(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    before = footprint(seat)
    with pytest.raises(LedgerValidationError) as refused:
        inmail_send(
            seat=seat,
            recipient="linkedin.com/in/jane-doe",
            subject="Hi",
            body="Hello",
            cause=Cause.system("test"),
            tags=[""],
        )
    assert refused.value.field == "tags"
    assert footprint(seat) == before
    assert not InMail.objects.exists()


@pytest.mark.django_db
def test_an_import_carries_template_and_tags_and_refuses_bad_ones_by_row(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 3, 1, 9), tick=False)
    holder = person()
    seat = seat_on("recruiter_lite", holder=holder)

    def row(line: int, recipient: str, **extra: object) -> HistoricInMail:
        return HistoricInMail(
            line=line,
            seat=seat,
            recipient=recipient,
            subject="Hi",
            body="Hello",
            sent_at=utc(2025, 2, 1, 9),
            **extra,  # type: ignore[arg-type]
        )

    with pytest.raises(ImportRejected) as refused:
        inmails_import(
            user=holder,
            rows=[row(2, "linkedin.com/in/a", template="T" * 101), row(3, "linkedin.com/in/b")],
            cause=Cause(actor=holder, via="test"),
        )
    assert [(p.line, p.column) for p in refused.value.problems] == [(2, "template")]
    assert not InMail.objects.exists()

    count = inmails_import(
        user=holder,
        rows=[
            row(2, "linkedin.com/in/a", template="Intro", tags=("Java", "java ", "Remote")),
            row(3, "linkedin.com/in/b"),
        ],
        cause=Cause(actor=holder, via="test"),
    )
    assert count == 2
    tagged = InMail.objects.get(recipient="linkedin.com/in/a")
    assert (tagged.template, inmail_tags(tagged)) == ("Intro", ["java", "remote"])
    assert InMailTag.objects.count() == 2


@pytest.mark.django_db
def test_editing_tags_later_is_audited_only_when_something_changed(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    holder = person()
    seat = seat_on("recruiter_lite", holder=holder)
    cause = Cause(actor=holder, via="test")
    inmail = inmail_send(
        seat=seat,
        recipient="linkedin.com/in/jane-doe",
        subject="Hi",
        body="Hello",
        cause=cause,
        tags=["java", "berlin"],
    ).inmail

    inmail_update_tags(inmail=inmail, cause=cause, template="Intro", tags=["Berlin", "remote"])

    inmail.refresh_from_db()
    assert (inmail.template, inmail_tags(inmail)) == ("Intro", ["berlin", "remote"])
    event = AuditEvent.objects.get(action="inmail.update")
    assert event.actor == holder
    assert event.seat_id == seat.pk
    assert event.changes == {
        "template": ["", "Intro"],
        "tags": [["berlin", "java"], ["berlin", "remote"]],
    }

    inmail_update_tags(inmail=inmail, cause=cause, template="Intro", tags=["REMOTE", "berlin"])
    inmail_update_tags(inmail=inmail, cause=cause, tags=None)
    assert AuditEvent.objects.filter(action="inmail.update").count() == 1

    with pytest.raises(LedgerValidationError) as refused:
        inmail_update_tags(inmail=inmail, cause=cause, template="x", tags=["b" * 51])
    assert refused.value.field == "tags"
    inmail.refresh_from_db()
    assert (inmail.template, inmail_tags(inmail)) == ("Intro", ["berlin", "remote"])
