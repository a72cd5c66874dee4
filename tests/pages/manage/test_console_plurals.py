"""Counts of credits read correctly when there is one (issue 12, item 8): the console's cancel and
plan-change steps, and the ledger's refusals, say "1 credit", never "1 credits"."""

from __future__ import annotations

import pytest
from django.test import Client

from ledger.exceptions import InsufficientCredits, credits_text
from ledger.services import adjustment_post
from teams.models import Seat
from tests.pages.manage.conftest import Console
from tests.pages.manage.helpers import SYSTEM, html_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def test_credits_text_is_singular_for_one_only() -> None:
    assert [credits_text(n) for n in (0, 1, 2, 30)] == [
        "0 credits",
        "1 credit",
        "2 credits",
        "30 credits",
    ]


def leave_one_credit(seat: Seat) -> None:
    """Recruiter Lite starts with 30: take 29 away through R15."""
    adjustment_post(seat=seat, credits=-29, reason="test", cause=SYSTEM)


@pytest.mark.parametrize(
    ("step", "button"),
    [("cancel", "Cancel the seat and forfeit"), ("plan", "Change plan and forfeit")],
)
def test_the_forfeit_step_of_a_seat_with_one_credit_says_one_credit(
    admin_client: Client, console: Console, step: str, button: str
) -> None:
    leave_one_credit(console.seat)
    html = html_of(admin_client.get(f"/manage/seats/{console.seat.pk}/{step}/"))
    assert "1 credit will be forfeited." in html
    assert f"{button} 1 credit<" in html
    assert "1 credits" not in html


def test_the_forfeit_step_of_a_seat_with_thirty_credits_says_credits(
    admin_client: Client, console: Console
) -> None:
    html = html_of(admin_client.get(f"/manage/seats/{console.seat.pk}/cancel/"))
    assert "30 credits will be forfeited." in html
    assert "Cancel the seat and forfeit 30 credits<" in html


def test_a_refused_removal_from_a_seat_holding_one_credit_says_one_credit(
    console: Console,
) -> None:
    leave_one_credit(console.seat)
    with pytest.raises(InsufficientCredits) as refused:
        adjustment_post(seat=console.seat, credits=-2, reason="test", cause=SYSTEM)
    assert refused.value.detail == "The seat holds 1 credit; it can't lose 2."
