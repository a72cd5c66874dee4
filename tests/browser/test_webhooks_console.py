"""R23 in the console: an admin registers an endpoint, sees its secret once, reads the delivery
log and sends a delivery again; every step passes axe and fits a 390 px phone."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, expect

from ledger.models import WebhookDelivery, WebhookEndpoint
from ledger.webhooks.outbox import record_event
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import BROWSER_TESTS, expect_quiet_console, sign_in
from tests.conftest import Org

pytestmark = BROWSER_TESTS

PUBLIC_URL = "https://93.184.215.14/hook"


def check(page: Page, where: str) -> None:
    assert_accessible(page, where)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_fits(page, where + " at 390 px")
    assert_accessible(page, where + " at 390 px")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_admin_registers_an_endpoint_sees_the_secret_once_and_redelivers(
    browser_page: Page, org: Org
) -> None:
    page = browser_page
    sign_in(page, org.admin, next_path=reverse("manage:webhooks"))
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    check(page, "empty list")

    page.get_by_role("button", name="New endpoint").click()
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.get_by_label("inmail.sent").check()
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_text("webhooks go to public hosts only")).to_be_visible()
    assert WebhookEndpoint.objects.count() == 0
    check(page, "refused URL")

    page.get_by_label("URL").fill(PUBLIC_URL)
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_role("heading", name="Webhook created")).to_be_visible()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["inmail.sent"]
    expect(page.locator("[data-webhook-secret]")).to_have_value(endpoint.secret)
    check(page, "created")

    page.get_by_role("link", name="Back to webhooks").click()
    row = page.locator(f"[data-webhook-id='{endpoint.pk}']")
    expect(row).to_contain_text(PUBLIC_URL)
    expect(row).to_contain_text("inmail.sent")
    assert endpoint.secret not in page.content()

    record_event("inmail.sent", {"id": 1}, seat_id=None)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=9)
    row.get_by_role("link", name="Delivery log").click()
    line = page.locator(f"[data-delivery-id='{delivery.pk}']")
    expect(line).to_contain_text("Failed")
    expect(line).to_contain_text("9")
    check(page, "delivery log")

    line.get_by_role("button", name=f"Send again: delivery {delivery.pk}").click()
    expect(page.get_by_text(f"Delivery #{delivery.pk} will be sent again now.")).to_be_visible()
    expect(page.locator(f"[data-delivery-id='{delivery.pk}']")).to_contain_text("Pending")
    page.get_by_label("Status").select_option("delivered")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No deliveries with this status.")).to_be_visible()
    expect_quiet_console(page)
