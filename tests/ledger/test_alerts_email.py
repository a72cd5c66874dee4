"""Alert mail through a real SMTP server (aiosmtpd on 127.0.0.1), stopped and started (issue 10).

While the server is down a mail stays pending and is tried again 1, 2, 4 … minutes later, at
most an hour apart; it is `failed` only when it still cannot go a day after the alert was
raised. The person always has the alert in the app, and the page says what became of the mail.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import Client
from django.urls import reverse

from ledger.models import AlertKind, EmailStatus, Notification
from ledger.notifications.alerts import alerts_raise
from ledger.tasks import send_alerts
from tests.conftest import Org
from tests.ledger.helpers import seat_on, utc

START = utc(2025, 3, 10, 9)


class Inbox:
    """An aiosmtpd handler that keeps every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


class MailServer:
    """A port on 127.0.0.1 where an SMTP server can be started and stopped."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def mail_server(settings: Any) -> Iterator[MailServer]:
    """Django sends over SMTP to a free port; the server on it starts stopped."""
    server = MailServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def page_of(client: Client, notification: Notification) -> str:
    """The notification as its person sees it on the notifications page."""
    client.force_login(notification.user)
    response = client.get(reverse("notifications:index"))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index(f'id="notification-{notification.pk}"') :].split("</article>")[0]


@pytest.mark.django_db
def test_smtp_failure_then_recovery_sends_the_mail_once(
    org: Org, mail_server: MailServer, client: Client, plain_static_storage: None
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        # Premium Career grants 5 credits, under the default threshold of 10.
        seat_on("premium_career", holder=org.recruiter, team=org.team)

        report = alerts_raise()

        notification = Notification.objects.get(user=org.recruiter)
        assert notification.kind == AlertKind.LOW_BALANCE
        assert (report.raised, report.emailed) == (1, 0)
        assert (notification.email_status, notification.email_attempts) == (EmailStatus.PENDING, 1)
        assert notification.email_next_attempt_at == START + timedelta(minutes=1)
        assert "the email is not delivered yet: we keep trying for a day" in page_of(
            client, notification
        )

        mail_server.start()
        # Not due yet: the server being back changes nothing before the next attempt.
        assert send_alerts() == {"raised": 0, "emailed": 0}
        assert mail_server.inbox.messages == []

        clock.move_to(START + timedelta(minutes=1))
        assert send_alerts() == {"raised": 0, "emailed": 1}
        clock.move_to(START + timedelta(hours=2))
        assert send_alerts() == {"raised": 0, "emailed": 0}

    [message] = mail_server.inbox.messages
    assert message.rcpt_tos == ["recruiter@example.com"]
    assert isinstance(message.content, bytes)
    assert f"Subject: [InMail ledger] {notification.title}" in message.content.decode()
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT
    assert notification.emailed_at == START + timedelta(minutes=1)
    assert notification.email_attempts == 2
    assert notification.email_next_attempt_at is None
    assert "the email" not in page_of(client, notification)


@pytest.mark.django_db
def test_a_mail_the_server_never_takes_is_retried_with_backoff_and_failed_after_a_day(
    org: Org, mail_server: MailServer, client: Client, plain_static_storage: None
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        seat_on("premium_career", holder=org.recruiter, team=org.team)
        alerts_raise()
        notification = Notification.objects.get(user=org.recruiter)
        attempts_at = [START]
        while notification.email_status == EmailStatus.PENDING:
            assert notification.email_next_attempt_at is not None
            clock.move_to(notification.email_next_attempt_at)
            attempts_at.append(notification.email_next_attempt_at)
            assert send_alerts()["emailed"] == 0
            notification.refresh_from_db()

    waits = [later - earlier for earlier, later in pairwise(attempts_at)]
    minutes = [int(wait.total_seconds() // 60) for wait in waits]
    assert minutes[:8] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert set(minutes[6:-1]) == {60}
    # Attempts go on until a day after the alert; the last one is at the 24-hour mark.
    assert attempts_at[-1] == START + timedelta(hours=24)
    assert notification.email_status == EmailStatus.FAILED
    assert notification.email_attempts == len(attempts_at) == 30
    assert notification.email_next_attempt_at is None
    assert mail_server.inbox.messages == []
    assert "the email could not be delivered" in page_of(client, notification)


@pytest.mark.django_db
def test_while_the_server_is_down_one_refused_mail_ends_the_pass_and_the_rest_wait_their_turn(
    org: Org, mail_server: MailServer
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for holder in (org.recruiter, org.teammate, org.outsider):
            seat_on("premium_career", holder=holder)

        alerts_raise()

        statuses = list(
            Notification.objects.order_by("email_attempts").values_list(
                "email_status", "email_attempts"
            )
        )
        assert statuses == [(EmailStatus.PENDING, 0)] * 2 + [(EmailStatus.PENDING, 1)]

        mail_server.start()
        assert send_alerts() == {"raised": 0, "emailed": 2}
        clock.move_to(START + timedelta(minutes=1))
        assert send_alerts() == {"raised": 0, "emailed": 1}

    assert sorted(m.rcpt_tos[0] for m in mail_server.inbox.messages) == [
        "outsider@example.com",
        "recruiter@example.com",
        "teammate@example.com",
    ]
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db
def test_a_mail_being_sent_is_claimed_for_longer_than_a_slow_smtp_conversation(
    org: Org, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EMAIL_TIMEOUT = 10
    leases: list[timedelta] = []

    def slow_server(**kwargs: Any) -> int:
        # While the server talks, a second worker must find the mail claimed.
        [claimed] = Notification.objects.filter(user=org.recruiter)
        assert claimed.email_next_attempt_at is not None
        leases.append(claimed.email_next_attempt_at - START)
        return 1

    monkeypatch.setattr("ledger.notifications.alerts.send_mail", slow_server)
    with time_machine.travel(START, tick=False):
        seat_on("premium_career", holder=org.recruiter, team=org.team)
        report = alerts_raise()

    assert report.emailed == 1
    assert leases == [timedelta(seconds=100)]
