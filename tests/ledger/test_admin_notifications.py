"""Admins see every alert raised and edit each person's alert preferences."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ledger.models import AlertKind, Notification, NotificationPreference
from ledger.notifications.alerts import alerts_raise
from ledger.services import Cause, inmail_send
from tests.conftest import Org
from tests.factories import make_seat

pytestmark = pytest.mark.usefixtures("plain_static_storage")


@pytest.mark.django_db
def test_admin_lists_raised_alerts_and_cannot_edit_them(admin_client: Client, org: Org) -> None:
    with time_machine.travel(datetime(2026, 1, 10, 9, tzinfo=UTC), tick=False):
        seat = make_seat(
            plan_code="premium_career", holder=org.recruiter, activated_on=date(2026, 1, 10)
        )
        inmail_send(
            seat=seat,
            recipient="linkedin.com/in/member-1",
            subject="Hi",
            body="Hello",
            cause=Cause.system("t"),
        )
        alerts_raise()
    notification = Notification.objects.get(user=org.recruiter)
    assert notification.kind == AlertKind.LOW_BALANCE

    listing = admin_client.get(reverse("admin:ledger_notification_changelist"))
    assert listing.status_code == 200
    assert notification.title in listing.content.decode()
    assert admin_client.get(reverse("admin:ledger_notification_add")).status_code == 403


@pytest.mark.django_db
def test_admin_sets_a_persons_alert_preferences(admin_client: Client, org: Org) -> None:
    response = admin_client.post(
        reverse("admin:ledger_notificationpreference_add"),
        {
            "user": org.recruiter.pk,
            "email": "",
            "low_balance_threshold": "25",
            "low_balance": "on",
            "expiring": "on",
            "quality": "on",
        },
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=org.recruiter)
    assert (preference.email, preference.low_balance_threshold) == (False, 25)
    assert (preference.lost_to_cap, preference.pool_low) == (False, False)


@pytest.mark.django_db
def test_notification_pages_are_for_admins_only(client: Client, org: Org) -> None:
    client.force_login(org.lead)
    response = client.get(reverse("admin:ledger_notificationpreference_changelist"))
    assert response.status_code == 302
