"""What a person does in the browser, end to end: sign in, log an InMail, record its answer,
move pool credits, import a CSV with a mistake. Numbers are read off the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from ledger.models import InMail
from ledger.services import Cause, inmail_send
from teams.models import Seat
from tests.browser.conftest import BROWSER_TESTS, PASSWORD, sign_in, sign_in_by_form, upload_csv
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = BROWSER_TESTS


def number(locator: Locator) -> int:
    """The first whole number a stat shows ("143 of cap 1200" → 143)."""
    match = re.search(r"-?\d+", locator.inner_text())
    assert match is not None, f"no number in {locator.inner_text()!r}"
    return int(match.group())


def seat_card(page: Page, seat: Seat) -> Locator:
    return page.locator(f"#seat-card-{seat.pk}")


def available(page: Page, seat: Seat) -> int:
    return number(seat_card(page, seat).locator('[data-stat="available"]'))


def log_inmail(page: Page, *, recipient: str, subject: str, body: str) -> None:
    form = page.locator("#send-form")
    form.get_by_label("Recipient").fill(recipient)
    form.get_by_label("Subject").fill(subject)
    form.get_by_label("Message").fill(body)
    form.get_by_role("button", name="Log InMail").click()


@pytest.fixture
def lite_seat(org: Org) -> Seat:
    """The recruiter's Recruiter Lite seat: 30 credits."""
    return make_seat(holder=org.recruiter, team=org.team)


def test_signing_in_through_the_form_opens_my_credits(
    browser_page: Page, org: Org, lite_seat: Seat
) -> None:
    sign_in_by_form(browser_page, org.recruiter)
    expect(browser_page).to_have_url(re.compile(r"/$"))
    expect(browser_page.get_by_role("heading", name="My credits", level=1)).to_be_visible()
    expect(browser_page.get_by_label("Signed in as")).to_have_text(str(org.recruiter))


def test_a_wrong_password_is_refused_on_the_form(browser_page: Page, org: Org) -> None:
    browser_page.goto("/accounts/login/")
    browser_page.get_by_label("Username").fill(org.recruiter.username)
    browser_page.get_by_label("Password").fill("not the password")
    browser_page.get_by_role("button", name="Sign in").click()
    expect(browser_page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(browser_page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_the_sign_in_form_can_be_completed_with_tab_and_enter(browser_page: Page, org: Org) -> None:
    make_seat(holder=org.recruiter, team=org.team)
    browser_page.goto("/accounts/login/")
    keyboard = browser_page.keyboard
    # The username field has focus on arrival; Tab walks username → password → Sign in.
    expect(browser_page.get_by_label("Username")).to_be_focused()
    keyboard.type(org.recruiter.username)
    keyboard.press("Tab")
    expect(browser_page.get_by_label("Password")).to_be_focused()
    keyboard.type(PASSWORD)
    keyboard.press("Tab")
    expect(browser_page.get_by_role("button", name="Sign in")).to_be_focused()
    keyboard.press("Enter")
    expect(browser_page.get_by_role("heading", name="My credits", level=1)).to_be_visible()


def test_logging_an_inmail_takes_exactly_one_credit(
    browser_page: Page, org: Org, lite_seat: Seat
) -> None:
    sign_in(browser_page, org.recruiter)
    before = available(browser_page, lite_seat)
    assert before == 30

    log_inmail(
        browser_page,
        recipient="linkedin.com/in/ada-lovelace",
        subject="Analytical engines at Talent North",
        body="Hello Ada, we are hiring engineers who think in punched cards.",
    )

    expect(browser_page.locator("#send-form")).to_contain_text(
        "Logged the InMail to linkedin.com/in/ada-lovelace: 1 credit spent"
    )
    expect(seat_card(browser_page, lite_seat).locator('[data-stat="available"]')).to_have_text(
        str(before - 1)
    )
    row = browser_page.locator("#my-inmails tbody tr").filter(has_text="ada-lovelace")
    expect(row).to_contain_text("Pending")
    # The page agrees with the ledger after a reload, not only after the swap.
    browser_page.reload()
    assert available(browser_page, lite_seat) == before - 1


def test_recording_an_answer_refunds_the_credit(
    browser_page: Page, org: Org, lite_seat: Seat
) -> None:
    sent = inmail_send(
        seat=lite_seat,
        recipient="linkedin.com/in/grace-hopper",
        subject="Compilers",
        body="Hello Grace.",
        cause=Cause(actor=org.recruiter, via="web"),
    )
    sign_in(browser_page, org.recruiter)
    before = available(browser_page, lite_seat)
    assert before == 29

    row = browser_page.locator(f"#inmail-{sent.inmail.pk}")
    expect(row.locator(".badge")).to_have_text("Pending")
    row.get_by_text("Record response").click()
    row.get_by_label("Outcome").select_option(label="Accepted")
    row.get_by_role("button", name="Save response").click()

    expect(row.get_by_role("status")).to_have_text("Recorded: Accepted. 1 credit refunded.")
    expect(row.locator(".badge")).to_have_text("Accepted")
    expect(row).to_contain_text("credit refunded")
    expect(seat_card(browser_page, lite_seat).locator('[data-stat="available"]')).to_have_text(
        str(before + 1)
    )
    assert InMail.objects.get(pk=sent.inmail.pk).refunded


def test_the_character_counters_follow_the_typing(
    browser_page: Page, org: Org, lite_seat: Seat
) -> None:
    sign_in(browser_page, org.recruiter)
    form = browser_page.locator("#send-form")
    subject_count = form.locator("#subject-count")
    body_count = form.locator("#body-count")
    expect(subject_count).to_have_text(re.compile(r"^0/200"))
    expect(body_count).to_have_text(re.compile(r"^0/1900"))

    form.get_by_label("Subject").press_sequentially("Hello")
    expect(subject_count).to_have_text(re.compile(r"^5/200"))
    # The screen-reader words after the number survive the update.
    expect(subject_count).to_have_text("5/200 characters")
    form.get_by_label("Message").fill("x" * 1234)
    expect(body_count).to_have_text(re.compile(r"^1234/1900"))
    form.get_by_label("Subject").press("End")
    form.get_by_label("Subject").press("Backspace")
    expect(subject_count).to_have_text(re.compile(r"^4/200"))


def test_a_script_in_a_subject_is_shown_as_text(
    browser_page: Page, org: Org, lite_seat: Seat
) -> None:
    dialogs: list[str] = []
    browser_page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    subject = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
    sign_in(browser_page, org.recruiter)

    log_inmail(browser_page, recipient="linkedin.com/in/mallory", subject=subject, body="Hi.")

    row = browser_page.locator("#my-inmails tbody tr").filter(has_text="mallory")
    # Shown once as htmx swapped the list in, and again as the server renders the page.
    expect(row.get_by_role("cell", name=subject, exact=True)).to_be_visible()
    browser_page.reload()
    expect(row.get_by_role("cell", name=subject, exact=True)).to_be_visible()
    assert browser_page.locator("#my-inmails script, #my-inmails img").count() == 0
    assert dialogs == [], f"the subject ran as a script: {dialogs}"


def test_a_lead_moves_pool_credits_to_a_seat_and_back(browser_page: Page, org: Org) -> None:
    seat = make_seat(plan_code="recruiter_corporate", holder=org.recruiter, team=org.team)
    make_seat(plan_code="recruiter_corporate", holder=org.teammate, team=org.team)
    sign_in(browser_page, org.lead, next_path=f"/teams/{org.team.pk}/")
    ledger = browser_page.locator("#team-ledger")
    pool = ledger.locator('[data-stat="pool-available"]')
    held = ledger.locator(f'[data-seat-id="{seat.pk}"] [data-stat="own"]').first
    move = ledger.get_by_role("form", name=f"Move credits for {seat.holder}")
    pool_before, seat_before = number(pool), number(held)
    # Two Recruiter Corporate seats put 150 credits each into the pool, none into the seats.
    assert (pool_before, seat_before) == (300, 0)

    move.get_by_role("spinbutton").fill("7")
    move.get_by_role("button", name="Move", exact=True).click()

    expect(ledger.get_by_role("status")).to_contain_text("Moved 7 credits from the pool to")
    expect(pool).to_have_text(str(pool_before - 7))
    expect(held).to_have_text(str(seat_before + 7))

    move.get_by_role("spinbutton").fill("-3")
    move.get_by_role("button", name="Move", exact=True).click()

    expect(ledger.get_by_role("status")).to_contain_text("Moved 3 credits to the pool from")
    expect(pool).to_have_text(str(pool_before - 4))
    expect(held).to_have_text(str(seat_before + 4))
    browser_page.reload()
    assert (number(pool), number(held)) == (pool_before - 4, seat_before + 4)


def test_a_csv_with_one_bad_row_is_reported_row_by_row_and_nothing_is_imported(
    browser_page: Page, org: Org
) -> None:
    today = timezone.localdate()
    make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=40))
    sent = [(today - timedelta(days=days)).isoformat() for days in (20, 15, 10)]
    history = (
        "holder,recipient,subject,body,sent_at,status,responded_at\n"
        f"recruiter,linkedin.com/in/one,Hello,First,{sent[0]},accepted,{sent[1]}\n"
        "recruiter,linkedin.com/in/two,Hello,Second,last tuesday,pending,\n"
        f"recruiter,linkedin.com/in/three,Hello,Third,{sent[2]},pending,\n"
    )
    sign_in(browser_page, org.recruiter, next_path="/csv/")

    upload_csv(browser_page, "history.csv", history)

    expect(browser_page.get_by_role("heading", name="Import preview")).to_be_visible()
    expect(browser_page.get_by_role("alert")).to_contain_text(
        "Nothing can be imported while the file has problems"
    )
    problems = browser_page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(1)
    # Line 1 is the header: the second data row is line 3.
    expect(problems.first).to_have_attribute("data-row", "3")
    expect(problems.first.locator("td")).to_have_text(
        ["3", "sent_at", re.compile(r"^'last tuesday' is not a date")]
    )
    expect(browser_page.get_by_role("button", name=re.compile(r"^Import \d"))).to_have_count(0)
    assert InMail.objects.count() == 0
