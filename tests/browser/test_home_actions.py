"""The home page after the row actions (issue 12, item 1): recording a response or withdrawing
an InMail updates its row and the seat's balance card in place, and nothing else. The lots
table stays in the card, the InMail table holds one row per InMail, and repeating actions adds
no copies. Everything is read off the page after each action."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from ledger.models import InMail, InMailStatus
from ledger.services import Cause, bonus_grant, inmail_send
from teams.models import Seat
from tests.browser.conftest import BROWSER_TESTS, accept_confirm, expect_quiet_console, sign_in
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS

WITHDRAW_CONFIRM = "Withdraw this InMail? Its credit is not given back."


@dataclass
class Expected:
    inmails: int
    lots: int
    available: int


def _card(page: Page, seat: Seat) -> Locator:
    return page.locator(f"#seat-card-{seat.pk}")


def _available(page: Page, seat: Seat) -> int:
    return int(_card(page, seat).locator('[data-stat="available"]').inner_text())


def _expect_home(page: Page, seat: Seat, expected: Expected) -> None:
    """The InMail table holds exactly the InMails; the seat's one card, in the balances
    section, holds exactly one lots table with the right rows and the right balance."""
    inmail_table = page.locator("#my-inmails table")
    expect(inmail_table).to_have_count(1)
    rows = inmail_table.locator("tbody > tr")
    expect(rows).to_have_count(expected.inmails)
    # Every row is an InMail's: no lots row, no nested table, no seat card inside the table.
    expect(inmail_table.locator("tbody > tr:not([data-inmail-id])")).to_have_count(0)
    expect(inmail_table.locator("table, .seat-card, [id^='seat-card-']")).to_have_count(0)
    expect(page.locator("#my-inmails .seat-card")).to_have_count(0)

    # One card for the seat, where it was: in the balances section.
    expect(page.locator(f"[id='seat-card-{seat.pk}']")).to_have_count(1)
    expect(page.locator(".seat-card")).to_have_count(1)
    expect(page.locator("section[aria-labelledby='balances-title'] > .seat-card")).to_have_count(1)
    card = _card(page, seat)
    expect(card.locator("table")).to_have_count(1)
    expect(card.locator("table tbody > tr")).to_have_count(expected.lots)
    expect(card.locator("summary")).to_have_text(f"Lots ({expected.lots})")
    expect(card.locator('[data-stat="available"]')).to_have_text(str(expected.available))
    # The lots table is nowhere else on the page.
    expect(page.locator("table:has(caption:text('Credit lots'))")).to_have_count(1)
    expect_quiet_console(page)


def _record_response(page: Page, inmail: InMail, outcome: str) -> None:
    row = page.locator(f"#inmail-{inmail.pk}")
    row.get_by_text("Record response").click()
    row.get_by_label("Outcome").select_option(label=outcome)
    row.get_by_role("button", name="Save response").click()
    expect(row.get_by_role("status")).to_have_text(f"Recorded: {outcome}. 1 credit refunded.")
    expect(row.locator(".badge")).to_have_text(outcome)


def _withdraw(page: Page, inmail: InMail) -> None:
    row = page.locator(f"#inmail-{inmail.pk}")
    accept_confirm(page, WITHDRAW_CONFIRM)
    row.get_by_role("button", name="Withdraw").click()
    expect(row.get_by_role("status")).to_have_text("Withdrawn. The credit is not given back.")
    expect(row.locator(".badge")).to_have_text("Withdrawn")


@pytest.fixture
def seat_with_lots(org: Org) -> Seat:
    """The recruiter's Recruiter Lite seat with its plan's lot and two bonus lots."""
    seat = make_seat(holder=org.recruiter, team=org.team)
    for credits in (10, 8):
        bonus_grant(seat=seat, credits=credits, memo="Campaign", cause=Cause.system("test"))
    return seat


def test_responses_and_withdrawals_update_the_row_and_the_card_in_place(
    browser_page: Page, org: Org, seat_with_lots: Seat
) -> None:
    seat = seat_with_lots
    cause = Cause(actor=org.recruiter, via="web")
    inmails = [
        inmail_send(
            seat=seat,
            recipient=f"linkedin.com/in/candidate-{n}",
            subject=f"Role {n}",
            body="Hello.",
            cause=cause,
        ).inmail
        for n in range(4)
    ]
    sign_in(browser_page, org.recruiter)
    page = browser_page
    start = Expected(
        inmails=len(inmails),
        lots=_card(page, seat).locator("table tbody > tr").count(),
        available=_available(page, seat),
    )
    # 30 + 10 + 8 credits, four spent; the plan's lot and the two bonus lots.
    assert (start.available, start.lots) == (44, 3)
    _expect_home(page, seat, start)

    # A reply within 90 days refunds 1 credit, as a new lot.
    _record_response(page, inmails[0], "Accepted")
    after_reply = Expected(start.inmails, start.lots + 1, start.available + 1)
    _expect_home(page, seat, after_reply)

    # A withdrawal gives nothing back.
    _withdraw(page, inmails[1])
    _expect_home(page, seat, after_reply)

    _record_response(page, inmails[2], "Declined")
    after_second_reply = Expected(start.inmails, start.lots + 2, start.available + 2)
    _expect_home(page, seat, after_second_reply)

    # The last InMail is still pending, with its actions; the page agrees after a reload.
    expect(page.locator(f"#inmail-{inmails[3].pk} .badge")).to_have_text("Pending")
    page.reload()
    _expect_home(page, seat, after_second_reply)
    statuses = {inmail.pk: inmail.status for inmail in InMail.objects.all()}
    assert statuses == {
        inmails[0].pk: InMailStatus.ACCEPTED,
        inmails[1].pk: InMailStatus.WITHDRAWN,
        inmails[2].pk: InMailStatus.DECLINED,
        inmails[3].pk: InMailStatus.PENDING,
    }
