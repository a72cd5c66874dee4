"""The send's serializers share their bound fields between instances (`_BoundOnce` in
ledger/api/serializers.py): what one instance was given never shows in another's answer or
errors, from one thread or many."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ledger.api.serializers import InMailCreateSerializer, InMailSerializer
from ledger.models import InMail
from tests.api.conftest import World
from tests.ledger.helpers import send

pytestmark = pytest.mark.django_db


def test_the_fields_are_built_once_per_class() -> None:
    assert InMailSerializer().fields is InMailSerializer().fields
    assert InMailCreateSerializer().fields is InMailCreateSerializer().fields
    assert InMailSerializer().fields is not InMailCreateSerializer().fields


def test_each_answer_carries_its_own_warnings(world: World) -> None:
    inmail = send(world.seat, "linkedin.com/in/jane-doe").inmail
    warned = [{"code": "recipient_contacted_by_teammate", "detail": "Seen before."}]

    first = InMailSerializer(inmail, context={"warnings": warned}).data
    second = InMailSerializer(inmail).data
    many = InMailSerializer([inmail, inmail], many=True).data

    assert first["warnings"] == warned
    assert second["warnings"] == []
    assert [row["warnings"] for row in many] == [[], []]
    assert {k: v for k, v in first.items() if k != "warnings"} == {
        k: v for k, v in second.items() if k != "warnings"
    }
    assert second["id"] == inmail.pk
    assert second["seat"] == world.seat.pk


def body(**changes: Any) -> dict[str, Any]:
    return {
        "seat": 1,
        "recipient": "linkedin.com/in/jane-doe",
        "subject": "A role you may like",
        "body": "We are hiring.",
        **changes,
    }


def test_errors_belong_to_the_body_that_made_them() -> None:
    bad = InMailCreateSerializer(data=body(subject="   ", open_profil=True))
    good = InMailCreateSerializer(data=body(tags=["Lisbon", "lisbon"]))

    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert set(bad.errors) == {"open_profil"}  # the unknown field first (StrictInput)
    assert good.validated_data["open_profile"] is False
    again = InMailCreateSerializer(data=body(subject="   "))
    assert not again.is_valid()
    assert again.errors == {"subject": ["An InMail needs a subject."]}


def test_many_threads_validate_and_answer_at_once(world: World) -> None:
    sent = send(world.seat, "linkedin.com/in/jane-doe").inmail
    # Its tags read now: the threads touch no database.
    inmail = InMail.objects.prefetch_related("tags").get(pk=sent.pk)

    def one(n: int) -> tuple[bool, Any, list[Any]]:
        given = body(subject="" if n % 2 else f"Role {n}", seat=n + 1)
        check = InMailCreateSerializer(data=given)
        valid = check.is_valid()
        seen = check.validated_data["seat"] if valid else sorted(check.errors)
        warned = [{"code": "n", "detail": str(n)}]
        answer = InMailSerializer(inmail, context={"warnings": warned}).data
        return valid, seen, answer["warnings"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(one, range(64)))

    for n, (valid, seen, warnings) in enumerate(found):
        assert valid == (n % 2 == 0)
        assert seen == (n + 1 if valid else ["subject"])
        assert warnings == [{"code": "n", "detail": str(n)}]
