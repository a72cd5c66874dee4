"""R23 console pages over the test client: admins only (404 otherwise), edit, delete."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import WebhookEndpoint
from ledger.webhooks.endpoints import webhook_endpoint_create
from tests.conftest import Org

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

URL = "https://93.184.215.14/hook"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_admins_see_the_webhook_pages(org: Org) -> None:
    endpoint = webhook_endpoint_create(url=URL, events=["inmail.sent"], actor=None)
    pages = [
        reverse("manage:webhooks"),
        reverse("manage:webhook_create"),
        reverse("manage:webhook_edit", args=[endpoint.pk]),
        reverse("manage:webhook_log", args=[endpoint.pk]),
    ]
    for user in (org.lead, org.recruiter):
        assert [signed_in(user).get(page).status_code for page in pages] == [404] * 4
    assert [signed_in(org.admin).get(page).status_code for page in pages] == [200] * 4
    delete = reverse("manage:webhook_delete", args=[endpoint.pk])
    assert signed_in(org.lead).post(delete).status_code == 404
    assert WebhookEndpoint.objects.count() == 1


def test_an_admin_edits_and_deletes_an_endpoint(org: Org) -> None:
    endpoint = webhook_endpoint_create(url=URL, events=["inmail.sent"], actor=None)
    admin = signed_in(org.admin)

    refused = admin.post(
        reverse("manage:webhook_edit", args=[endpoint.pk]),
        {"url": "ftp://x", "kind": "json", "events": ["seat.changed"], "active": "on"},
    )
    assert refused.status_code == 200
    assert "Use an http:// or https:// URL." in refused.content.decode()

    saved = admin.post(
        reverse("manage:webhook_edit", args=[endpoint.pk]),
        {"url": URL + "/v2", "kind": "json", "events": ["seat.changed", "alert.raised"]},
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        URL + "/v2",
        ["alert.raised", "seat.changed"],
        False,
    )

    gone = admin.post(reverse("manage:webhook_delete", args=[endpoint.pk]))
    assert gone.status_code == 302
    assert WebhookEndpoint.objects.count() == 0
