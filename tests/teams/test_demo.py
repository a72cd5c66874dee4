"""`manage.py demo` fills an empty database with six months of a believable organisation, once.

Replaying six months takes a while (every InMail goes through the ledger), so the demo is built
once, by the module-scoped `demo` fixture, inside a transaction that is rolled back after the
last test of this module; each test runs in a savepoint within it (pytest-django's `db`), so
what one test changes is undone before the next. `make test` hands whole files to its xdist
workers (`--dist loadfile`), so one worker builds the demo once per run. A test here that needs
a database without the demo belongs elsewhere (see test_demo_refusal.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from ledger.management.demo.data import ADMIN_USERNAME, DEMO_PASSWORD, DEMO_URL
from ledger.models import (
    RESPONSE_STATUSES,
    Account,
    AccountKind,
    Entry,
    EntryKind,
    InMail,
    InMailStatus,
    Lot,
    Notification,
    Purchase,
    Refresh,
    RefreshKind,
)
from ledger.schedule import add_days, local_date, today
from ledger.selectors import ledger_discrepancies
from teams.models import Membership, PlanFamily, Role, Seat, SeatStatus, Team, User
from teams.selectors import seats_visible_to, teams_led_by
from tests.teams.demo import printed_logins, run_demo, table_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    """What `manage.py demo` printed; its data stays until this module's last test has run.

    The settings the function-scoped autouse fixtures of tests/conftest.py give every test are
    given to the build here: the fast password hasher and no task publishing.
    """
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LEDGER_PUBLISH_TASKS=False,
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


CARD = re.compile(r'id="seat-card-(\d+)"')
TEAM_SEAT_ROW = re.compile(r'id="team-seat-(\d+)"')


def ids(pattern: re.Pattern[str], html: str) -> set[int]:
    return {int(pk) for pk in pattern.findall(html)}


def page_html(client: Client, url: str) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def body_length(body: str) -> str:
    return "short" if len(body) < 400 else "medium" if len(body) < 1000 else "long"


# The checks of one filled database, and of running the demo on it again, share a test.
def test_demo_replays_six_months_of_a_believable_organisation_once(
    client: Client, demo: str
) -> None:
    output = demo

    # --- people, teams and seats ---------------------------------------------------------
    assert Team.objects.count() == 3
    for team in Team.objects.all():
        seat_holding_leads = team.memberships.filter(role=Role.LEAD, user__seats__team=team)
        assert seat_holding_leads.count() == 1, team.name
    recruiter_seats = Seat.objects.filter(
        holder__memberships__team=F("team"), holder__memberships__role=Role.RECRUITER
    )
    assert 18 <= recruiter_seats.count() <= 24
    assert Seat.objects.count() == recruiter_seats.count() + 3
    # An admin, who holds no seat but co-leads the executive searches (so hears of its pool).
    admin = User.objects.get(username=ADMIN_USERNAME)
    assert admin.is_staff
    assert not admin.seats.exists()
    assert admin.memberships.get().role == Role.LEAD
    assert set(Seat.objects.values_list("plan__family", flat=True)) == set(PlanFamily.values)
    pool = Account.objects.get(kind=AccountKind.POOL)
    assert pool.balance > 0
    assert set(pool.team.seats.values_list("plan__code", "pool_access")) == {
        ("recruiter_corporate", True)
    }
    # One recruiter left: their seat was cancelled and its credits forfeited.
    cancelled = Seat.objects.get(status=SeatStatus.CANCELLED)
    assert cancelled.account.balance == 0
    assert Entry.objects.filter(account=cancelled.account, kind=EntryKind.FORFEIT).exists()
    assert not cancelled.inmails.filter(sent_at__gt=cancelled.cancelled_at).exists()

    # --- six months of history ----------------------------------------------------------
    now = timezone.now()
    assert Refresh.objects.filter(kind=RefreshKind.ACTIVATION).count() == Seat.objects.count()
    first_activation = min(Seat.objects.values_list("activated_on", flat=True))
    assert 180 <= (today() - first_activation).days <= 185
    assert all(
        seat.activated_on <= first_activation + timedelta(days=21) for seat in Seat.objects.all()
    )
    first_sent = InMail.objects.order_by("sent_at").values_list("sent_at", flat=True).first()
    assert first_sent is not None
    assert (today() - local_date(first_sent)).days >= 170
    assert not InMail.objects.filter(Q(sent_at__gt=now) | Q(responded_at__gt=now)).exists()
    # Monthly refreshes happened all along, and credits expired unused.
    refresh_months = {
        (d.year, d.month)
        for d in Refresh.objects.filter(kind=RefreshKind.REFRESH).values_list(
            "period_on", flat=True
        )
    }
    assert len(refresh_months) >= 6
    assert Entry.objects.filter(kind=EntryKind.EXPIRY).count() > 0

    # --- InMails: weekdays, of every shape, answered at believable rates ------------------
    inmails = InMail.objects.all()
    assert 1500 <= inmails.count() <= 5000
    sent = list(inmails.values_list("sent_at", "subject", "body", "open_profile"))
    assert {local_date(at).weekday() for at, *_ in sent} == {0, 1, 2, 3, 4}
    assert set(Counter(body_length(body) for _, _, body, _ in sent)) == {"short", "medium", "long"}
    subject_words = {len(subject.split()) for _, subject, _, _ in sent}
    assert min(subject_words) <= 3
    assert max(subject_words) >= 8
    open_profiles = sum(open_profile for *_, open_profile in sent)
    assert 0.03 < open_profiles / len(sent) < 0.25
    statuses = Counter(inmails.values_list("status", flat=True))
    assert set(statuses) == set(InMailStatus.values)
    assert 0 < statuses[InMailStatus.WITHDRAWN] < 0.05 * len(sent)
    answered = inmails.filter(status__in=RESPONSE_STATUSES)
    assert all(inmail.refunded for inmail in answered.filter(credit_cost=1, seat__status="active"))
    assert 0.15 <= answered.count() / len(sent) <= 0.35
    # Every answer came after its InMail; most within the 30 days the response rate counts.
    assert not answered.filter(responded_at__lt=F("sent_at")).exists()
    late = [
        inmail
        for inmail in answered
        if inmail.responded_at and inmail.responded_at > add_days(inmail.sent_at, 30)
    ]
    assert 0 < len(late) < 0.15 * answered.count()
    # Recruiters differ: some land far more answers than others.
    rates = [
        row["answered"] / row["sent"]
        for row in inmails.values("seat")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(status__in=RESPONSE_STATUSES)))
        .filter(sent__gte=60)
    ]
    assert len(rates) >= 8
    assert max(rates) - min(rates) >= 0.08

    # --- the rest of the ledger's life --------------------------------------------------
    assert Purchase.objects.count() == 2
    assert Entry.objects.filter(kind=EntryKind.BONUS).count() == 1
    assert Entry.objects.filter(kind=EntryKind.TRANSFER).count() >= 4  # two moves, two legs each
    assert Entry.objects.filter(kind=EntryKind.ALLOCATION).exists()
    assert Seat.objects.filter(plan__pooled=True, monthly_allocation__isnull=True).count() == 1
    # The cap kept credits back at least once.
    assert Refresh.objects.filter(lost_to_cap__gt=0).exists()
    # Credits expire soon: the at-risk figures have something to show.
    assert Lot.objects.filter(
        remaining__gt=0, expires_at__gt=now, expires_at__lte=add_days(now, 30)
    ).exists()
    # No balance ever went negative and every cached balance matches its entries.
    assert ledger_discrepancies() == []
    check = StringIO()
    call_command("ledger_check", stdout=check)
    assert "0 differences" in check.getvalue()

    # --- the printed logins, and what each of them finds ---------------------------------
    assert DEMO_URL in output
    logins = printed_logins(output)
    assert set(logins) == {"admin", "lead", "recruiter"}
    assert logins["admin"] == (ADMIN_USERNAME, DEMO_PASSWORD)
    lead = User.objects.get(username=logins["lead"][0])
    assert Membership.objects.filter(user=lead, role=Role.LEAD).exists()
    recruiter = User.objects.get(username=logins["recruiter"][0])
    assert Membership.objects.filter(user=recruiter, role=Role.RECRUITER).exists()
    for username, password in logins.values():
        assert User.objects.get(username=username).check_password(password)
    # The recruiter sent InMails in each of the last six months and got answers.
    mine = InMail.objects.filter(seat__holder=recruiter)
    for months_ago in range(6):
        window = (add_days(now, -30 * (months_ago + 1)), add_days(now, -30 * months_ago))
        assert mine.filter(sent_at__gt=window[0], sent_at__lte=window[1]).exists(), months_ago
    assert mine.filter(status__in=RESPONSE_STATUSES).exists()
    for role, (username, _) in logins.items():
        user = User.objects.get(username=username)
        visible = InMail.objects.filter(seat__in=seats_visible_to(user))
        assert visible.filter(sent_at__gt=add_days(now, -30)).exists(), role
        # Notifications were raised over the months; the newest wait unread.
        notifications = Notification.objects.filter(user=user)
        assert notifications.filter(read_at__isnull=False).exists(), role
        assert notifications.filter(read_at__isnull=True).exists(), role
        newest = notifications.order_by("-created_at").first()
        assert newest is not None
        assert newest.read_at is None, role
    assert not Notification.objects.filter(read_at__lt=F("created_at")).exists()
    assert not Notification.objects.filter(created_at__gt=now).exists()
    client.force_login(recruiter)
    assert "<mark>New</mark>" in client.get(reverse("notifications:index")).content.decode()

    # --- a second run changes nothing and prints the logins again --------------------------
    before = table_counts()

    again = run_demo()

    assert "demo data already present" in again
    assert DEMO_URL in again
    assert printed_logins(again) == logins
    assert table_counts() == before


def test_printed_demo_logins_reach_their_own_seats_and_their_teams_seats(
    client: Client, demo: str
) -> None:
    logins = printed_logins(demo)

    for role in ("recruiter", "lead", "admin"):
        username, password = logins[role]
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 302, role
        assert response["Location"] == reverse("home")

        user = User.objects.get(username=username)
        own = set(
            seats_visible_to(user).filter(holder=user, status="active").values_list("pk", flat=True)
        )
        home = page_html(client, reverse("home"))
        assert ids(CARD, home) == own, role
        if not own:
            assert "You hold no active InMail seat" in home, role
        # The team pages together list every seat the user may see.
        on_team_pages: set[int] = set()
        for team in teams_led_by(user):
            on_team_pages |= ids(
                TEAM_SEAT_ROW, page_html(client, reverse("team_detail", args=[team.pk]))
            )
        if role != "recruiter":
            assert on_team_pages == set(seats_visible_to(user).values_list("pk", flat=True)), role

        client.post(reverse("logout"))
    # What each role sees differs: one seat, one team, everything.
    assert len(seats_visible_to(User.objects.get(username=logins["recruiter"][0]))) == 1
    assert seats_visible_to(User.objects.get(username=logins["admin"][0])).count() == 23
