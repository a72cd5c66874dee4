"""`manage.py demo`: fill an empty database with six months of a believable organisation.

Three teams, twenty recruiters and their leads on every plan (one team on Recruiter Corporate
with a shared pool), and an admin. Their seats were activated about six months ago; since
then the demo replays their days on a moving clock: recruiters send InMails on weekdays, some
of them open profiles; candidates answer a few days later (or never); the jobs refresh, expire
and close what falls due each night; the alert job runs each morning and people read their
notifications now and then. Along the way an admin buys credits twice and grants a bonus
(which the cap partly swallows), a lead moves pool credits and sets an allocation, and one
recruiter leaves (their seat is cancelled). Everything goes through the ledger services at the
instant it happens, so the demo ledger obeys every rule the real one does and every page and
chart shows something true.

Reproducible: one random seed, every date relative to today. Idempotent: the demo admin's
username marks a demo database; a second run changes nothing and prints the logins again. A
database holding anything else is left alone.
"""

from __future__ import annotations

import calendar
import heapq
import math
import os
import random
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import time_machine
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from ledger import schedule
from ledger.exceptions import LedgerRuleError
from ledger.models import InMail, Notification
from ledger.notifications.alerts import alerts_raise
from ledger.services import (
    Cause,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    ledger_tick,
    pool_transfer,
    purchase_record,
    seat_activate,
    seat_cancel,
    seat_update_settings,
)
from teams.models import Membership, Plan, Role, Seat, Team, User

# Where `make run` serves the demo: its PORT, 8000 unless set.
DEMO_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the local demo on purpose
ADMIN_NAME = "Margaret Okafor"
# Runs of the demo are told apart by this: it exists only in a database the demo filled.
ADMIN_USERNAME = "margaret.okafor"
SEED = 2026
HISTORY_MONTHS = 6


def _username(name: str) -> str:
    """ "Tomás Alvarez" -> "tomas.alvarez": ASCII, so anyone can type it at the login page."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(ascii_name.lower().split())


@dataclass(frozen=True)
class Person:
    name: str
    plan: str
    # Credits moved from the team pool to this seat at each pool refresh (pooled plans only).
    allocation: int | None = None

    @property
    def username(self) -> str:
        return _username(self.name)


@dataclass(frozen=True)
class DemoTeam:
    name: str
    share_usage: bool
    lead: Person
    recruiters: tuple[Person, ...]
    roles: tuple[str, ...]


TEAMS = (
    DemoTeam(
        name="Engineering Talent",
        share_usage=True,
        lead=Person("Hannah Whitfield", "recruiter_professional"),
        recruiters=(
            Person("Marcus Chen", "recruiter_professional"),
            Person("Aisha Rahman", "recruiter_professional"),
            Person("Daniel Okoro", "recruiter_professional"),
            Person("Sofia Martinez", "recruiter_professional"),
            Person("Liam Brennan", "recruiter_lite"),
            Person("Mei Tanaka", "recruiter_lite"),
            Person("Jonas Weber", "recruiter_lite"),
        ),
        roles=(
            "Senior Backend Engineer",
            "Staff Platform Engineer",
            "Engineering Manager, Payments",
            "Site Reliability Engineer",
            "Senior iOS Engineer",
        ),
    ),
    DemoTeam(
        name="Go-To-Market Hiring",
        share_usage=True,
        lead=Person("Rachel Goldberg", "sales_navigator_advanced"),
        recruiters=(
            Person("Priya Natarajan", "sales_navigator_core"),
            Person("Ethan Brooks", "sales_navigator_core"),
            Person("Tomás Alvarez", "sales_navigator_core"),
            Person("Oluwaseun Adeyemi", "premium_business"),
            Person("Chloe Dubois", "premium_business"),
            Person("Noah Fischer", "premium_career"),
            Person("Grace Kim", "recruiter_lite"),
        ),
        roles=(
            "Enterprise Account Executive",
            "Sales Development Manager",
            "Solutions Engineer",
            "Head of Customer Success",
        ),
    ),
    DemoTeam(
        name="Executive Search",
        # Searches for executives are confidential: recruiters see only their own seats.
        share_usage=False,
        lead=Person("Catherine Ashworth", "recruiter_corporate"),
        recruiters=(
            Person("Vikram Desai", "recruiter_corporate", allocation=20),
            Person("Elena Petrova", "recruiter_corporate", allocation=20),
            Person("James Whitaker", "recruiter_corporate", allocation=20),
            Person("Isabelle Laurent", "recruiter_corporate", allocation=15),
            Person("Samuel Mensah", "recruiter_corporate", allocation=15),
            Person("Yuki Nakamura", "recruiter_corporate"),
        ),
        roles=(
            "Chief Financial Officer",
            "VP of Engineering",
            "General Counsel",
            "Chief Operating Officer",
        ),
    ),
)

# The logins printed for people to try: one lead and one recruiter of the first team.
LOGINS = (
    ("admin", ADMIN_USERNAME),
    ("lead", TEAMS[0].lead.username),
    ("recruiter", TEAMS[0].recruiters[0].username),
)

CANDIDATE_FIRST_NAMES = (
    "Ava", "Ben", "Carmen", "Dmitri", "Eleanor", "Farah", "Gabriel", "Hana", "Ivan", "Julia",
    "Kwame", "Lucia", "Mateo", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Stefan", "Tara",
)  # fmt: skip
CANDIDATE_LAST_NAMES = (
    "Andersen", "Bianchi", "Castillo", "Dimitrov", "Eriksen", "Fernandes", "Gupta", "Hoffmann",
    "Ibrahim", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Osei", "Park",
)  # fmt: skip
# Subjects of two to ten words, so the subject-length breakdown (≤5 words or more) has data.
SUBJECTS = (
    "Hello {first}",
    "Coffee next week?",
    "Open to a conversation?",
    "Your work caught our eye",
    "{role} at Northwind",
    "Quick question about your next move",
    "Building something new: {role}",
    "A {role} role worth a look",
    "{first}, a confidential conversation about our {role} search",
)
# Short, medium and long bodies (<400, 400–999, ≥1000 characters), for the body-length
# breakdown of the analytics.
SHORT_BODIES = (
    "Hi {first}, I lead hiring for a {role} opening at Northwind. Your background looks like a "
    "strong fit. Open to a 20-minute call next week?",
    "Hi {first},\n\nYour recent work stood out to me. We're hiring a {role} at Northwind: "
    "hybrid, well paid, and a team that ships. If you're curious, I'd love to share more over "
    "a short call. If not, no worries at all.\n\nBest,",
)
MEDIUM_BODIES = (
    "Hi {first},\n\nI'm hiring a {role} at Northwind, where we are growing the team that owns "
    "our core product. What stood out in your profile is the depth of your recent work and "
    "the way you describe the impact it had. The role is hybrid, with a competitive package "
    "and real ownership from the first month.\n\nWould you be open to a short call to hear "
    "more? If the timing isn't right, I'd still be glad to stay in touch.\n\nBest regards",
    "Hi {first},\n\nI hope you're well. I'm reaching out about a {role} role at Northwind. "
    "We've grown profitably for five years, and this hire will shape how the team works as we "
    "double again: standards, hiring and the roadmap.\n\nA few things people tell us they "
    "value: a four-step interview process with feedback after every step, a learning budget, "
    "flexible hybrid working, and leaders who give real room to make decisions.\n\nIf that "
    "sounds interesting, would you have twenty minutes this week or next? And if you're happy "
    "where you are, I'd be grateful for a pointer to someone who might be looking.\n\n"
    "Thanks for reading,",
)
LONG_BODIES = (
    "Hi {first},\n\nI hope this finds you well. I'm reaching out because we're looking for a "
    "{role} at Northwind, and your experience maps closely to what the team needs next.\n\n"
    "A little context: Northwind has grown steadily for five years, profitably, and the team "
    "you would join has doubled in the last twelve months. The person in this role will shape "
    "how we work as we grow again: hiring, standards, and the roadmap for the next two years. "
    "You would work directly with our leadership team and have the room to make decisions.\n\n"
    "What we offer: a competitive base salary with equity, flexible hybrid working, a learning "
    "budget, and a team that genuinely enjoys working together. The interview process is four "
    "conversations over two weeks, and we share feedback after every step.\n\n"
    "I'd love to tell you more and hear what you're looking for in your next role. Would a "
    "call later this week or early next week work for you? If you're not looking right now, "
    "I'd be grateful if you could point me to someone in your network who might be.\n\n"
    "Thank you for reading, and I look forward to hearing from you.",
)
# How much likelier an answer is, by what the recipient sees (the analytics breakdowns).
ANSWER_FACTOR_BY_BODY = {"short": 1.2, "medium": 1.0, "long": 0.7}
ANSWER_FACTOR_BY_WEEKDAY = (1.0, 1.15, 1.1, 1.0, 0.8)  # Monday .. Friday
ANSWER_FACTOR_SHORT_SUBJECT = 1.1
ANSWER_FACTOR_OPEN_PROFILE = 1.2
OUTCOMES = ("accepted", "replied", "declined")
OUTCOME_WEIGHTS = (45, 35, 20)
WITHDRAWN_SHARE = 0.015
TEAMMATE_RECIPIENT_SHARE = 0.03
# The working day: InMails go out between these hours, answers come in between those.
SEND_HOURS = (8.5, 18.0)
ANSWER_HOURS = (7.0, 22.0)
# When the nightly jobs and the morning alert run happen on the replayed clock.
TICK_AT = timedelta(minutes=5)
ALERTS_AT = timedelta(hours=7, minutes=30)
# Alert emails of the replayed months went to people at made-up addresses long ago: the replay
# raises the notifications but sends no mail. Tasks aren't published either: the replay runs
# the jobs itself, at the instant they were due.
REPLAY_SETTINGS = {
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LEDGER_PUBLISH_TASKS": False,
}


class Command(BaseCommand):
    help = (
        "Fill an empty database with six months of a believable demo organisation and print "
        "its logins."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write("demo data already present; nothing changed.")
            self._print_logins()
            return
        usernames = [ADMIN_USERNAME] + [
            person.username for team in TEAMS for person in (team.lead, *team.recruiters)
        ]
        if (
            Team.objects.exists()
            or Seat.objects.exists()
            or User.objects.filter(username__in=usernames).exists()
        ):
            self.stderr.write(
                "The database already holds teams, seats or demo usernames; the demo only fills "
                "an empty database, so nothing was added."
            )
            return
        # All or nothing: a demo that failed half-way must not look like a finished one.
        with transaction.atomic():
            builder = DemoBuilder(random.Random(SEED), now=timezone.now())  # noqa: S311 - demo data
            with override_settings(**REPLAY_SETTINGS):
                builder.replay()
            # Today's alerts are raised the way the job raises them, by mail if it sends mail.
            builder.raise_alerts()
            builder.read_notifications()
        self.stdout.write(self.style.SUCCESS(f"Demo organisation created: {builder.summary()}."))
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(
            f"\nOpen {DEMO_URL} and sign in with one of these "
            f'(every demo account\'s password is "{DEMO_PASSWORD}"):'
        )
        for role, username in LOGINS:
            self.stdout.write(f"  {role:<10} username: {username:<18} password: {DEMO_PASSWORD}")


@dataclass
class Sender:
    """One seat holder and how they work: volume, style and how well their InMails land."""

    person: Person
    user: User
    team: Team
    roles: tuple[str, ...]
    plan: Plan
    activated_on: date
    sends_per_day: float
    answer_rate: float
    open_profile_share: float
    # Shares of short and long bodies; the rest are medium.
    short_share: float
    long_share: float
    # A week off: no InMails go out.
    away: tuple[date, date]
    seat: Seat | None = None

    @property
    def sending(self) -> bool:
        return self.seat is not None and self.seat.is_active


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    withdrawn: int = 0
    refused: int = 0
    purchases: int = 0
    bonuses: int = 0
    transfers: int = 0
    notifications: int = 0
    by_refusal: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class DemoBuilder:
    """Replays the organisation's last six months, event by event, on a moving clock."""

    def __init__(self, rng: random.Random, *, now: datetime) -> None:
        self.rng = rng
        # The real now: the replay stops here, and anything later simply hasn't happened yet.
        self.now = now
        self.today = schedule.local_date(now)
        self.start = _months_before(self.today, HISTORY_MONTHS)
        # One hash for every demo account: hashing is slow on purpose, and these accounts all
        # share the printed password anyway.
        self.password = make_password(DEMO_PASSWORD)
        self.plans = {plan.code: plan for plan in Plan.objects.all()}
        self.tally = Tally()
        self.recipients = 0
        self.recent_recipients: dict[int, deque[tuple[int, str]]] = defaultdict(
            lambda: deque(maxlen=50)
        )
        self.events: list[tuple[datetime, int, Callable[[], object]]] = []
        self.sequence = 0
        self.senders: dict[str, Sender] = {}
        self.teams: dict[str, Team] = {}

    # --- the clock ------------------------------------------------------------------------

    def _at(self, day: date, offset: timedelta) -> datetime:
        return schedule.start_of_day(day) + offset

    def _hour(self, day: date, hours: tuple[float, float]) -> datetime:
        return self._at(day, timedelta(hours=self.rng.uniform(*hours)))

    def _schedule(self, at: datetime, action: Callable[[], object]) -> None:
        # The sequence number keeps events at one instant in the order they were scheduled.
        self.sequence += 1
        heapq.heappush(self.events, (at, self.sequence, action))

    def replay(self) -> None:
        """Create the people, then run every event up to now in time order."""
        with time_machine.travel(self._at(self.start, timedelta(hours=8)), tick=False) as clock:
            self.admin = self._user(ADMIN_NAME, is_staff=True)
            self._people()
            self._schedule_history()
            while self.events and self.events[0][0] <= self.now:
                at, _, action = heapq.heappop(self.events)
                clock.move_to(at)
                action()

    # --- people and the plan of the six months --------------------------------------------

    def _people(self) -> None:
        for demo_team in TEAMS:
            team = Team.objects.create(name=demo_team.name, share_usage=demo_team.share_usage)
            self.teams[demo_team.name] = team
            for person in (demo_team.lead, *demo_team.recruiters):
                user = self._user(person.name)
                is_lead = person is demo_team.lead
                Membership.objects.create(
                    user=user, team=team, role=Role.LEAD if is_lead else Role.RECRUITER
                )
                self.senders[person.username] = self._sender(person, user, team, demo_team, is_lead)
        # The head of talent acquisition oversees the confidential executive searches herself,
        # so she hears about that team's pool with its lead.
        Membership.objects.create(user=self.admin, team=self.teams[TEAMS[2].name], role=Role.LEAD)

    def _sender(
        self, person: Person, user: User, team: Team, demo_team: DemoTeam, is_lead: bool
    ) -> Sender:
        plan = self.plans[person.plan]
        if plan.pooled:
            # The pool starts with its lead's seat; the others join within its first period
            # (a pooled seat can't join before a refresh its pool already had).
            offset = 0 if is_lead else self.rng.randint(1, 20)
        else:
            offset = self.rng.randint(0, 6 if demo_team is TEAMS[0] else 20)
        activated_on = self.start + timedelta(days=offset)
        # Share of the monthly credits each person sends InMails for. Like many teams, this one
        # lets a good part of its credits expire; leads send a little themselves, and executive
        # search writes few, careful InMails on a generous pooled plan.
        usage = self.rng.uniform(0.25, 0.4)
        if is_lead:
            usage = 0.12
        elif plan.pooled:
            usage = self.rng.uniform(0.12, 0.18)
        if person.username == "marcus.chen":
            usage = 0.5
        if person.username == "noah.fischer":
            # Barely uses his Premium Career seat: his credits pile up against the cap.
            usage = 0.2
        away_from = self.start + timedelta(days=self.rng.randint(30, 170))
        long_writer = demo_team is TEAMS[2] or self.rng.random() < 0.3
        return Sender(
            person=person,
            user=user,
            team=team,
            roles=demo_team.roles,
            plan=plan,
            activated_on=activated_on,
            sends_per_day=plan.monthly_credits * 12 / 261 * usage,
            answer_rate=self.rng.uniform(0.15, 0.35),
            open_profile_share=self.rng.uniform(0.05, 0.2),
            short_share=0.15 if long_writer else 0.45,
            long_share=0.45 if long_writer else 0.15,
            away=(away_from, away_from + timedelta(days=6)),
        )

    def _schedule_history(self) -> None:
        for sender in self.senders.values():
            self._schedule(
                self._at(sender.activated_on, timedelta(hours=8)),
                partial(self._activate, sender),
            )
        day = self.start
        while day <= self.today:
            self._schedule(self._at(day, TICK_AT), ledger_tick)
            self._schedule(self._at(day, ALERTS_AT), alerts_raise)
            if day.weekday() < 5:
                self._schedule(
                    self._at(day, timedelta(hours=8, minutes=15)),
                    partial(self._plan_workday, day),
                )
            day += timedelta(days=1)
        self._schedule_admin_work()

    def _schedule_admin_work(self) -> None:
        """What admins and leads did besides sending: purchases, a bonus, the pool."""
        admin = Cause(actor=self.admin, via="demo")
        lead = self.senders[TEAMS[2].lead.username].user
        by_lead = Cause(actor=lead, via="demo")

        def month(months: int, days: int, hour: int = 10) -> datetime:
            return self._at(
                _months_after(self.start, months) + timedelta(days=days), timedelta(hours=hour)
            )

        def purchase(username: str, credits: int) -> Callable[[], None]:
            def run() -> None:
                purchase_record(seat=self._seat(username), credits=credits, cause=admin)
                self.tally.purchases += 1

            return run

        # Ahead of two hiring pushes the admin bought extra credits for Recruiter Lite seats.
        self._schedule(month(2, 9), purchase("liam.brennan", 20))
        self._schedule(month(4, 3), purchase("grace.kim", 10))

        # LinkedIn made good a billing error with bonus credits, days before a refresh of a
        # seat that was already near its cap: the cap kept back part of that refresh.
        noah = self.senders["noah.fischer"]
        refresh_on = schedule.refresh_date(noah.activated_on, noah.plan.refresh, 3)

        def bonus() -> None:
            bonus_grant(
                seat=self._seat("noah.fischer"),
                credits=10,
                memo="LinkedIn goodwill credits after a billing error",
                cause=admin,
            )
            self.tally.bonuses += 1

        self._schedule(self._at(refresh_on - timedelta(days=4), timedelta(hours=11)), bonus)

        # The executive search lead tops up two seats with big searches from the pool, and
        # gives the one seat without an allocation a small one.
        team = self.teams[TEAMS[2].name]

        def transfer(username: str, credits: int) -> Callable[[], None]:
            def run() -> None:
                pool_transfer(team=team, seat=self._seat(username), credits=credits, cause=by_lead)
                self.tally.transfers += 1

            return run

        self._schedule(month(1, 12), transfer("vikram.desai", 40))
        self._schedule(month(3, 5), transfer("elena.petrova", 30))
        self._schedule(
            month(2, 2),
            lambda: seat_update_settings(
                seat=self._seat("yuki.nakamura"), monthly_allocation=10, cause=by_lead
            ),
        )

        # Jonas left Northwind: his seat is cancelled and its credits forfeited.
        def cancel() -> None:
            sender = self.senders["jonas.weber"]
            assert sender.seat is not None
            sender.seat = seat_cancel(seat=sender.seat, cause=admin)

        self._schedule(month(4, 10, hour=17), cancel)

    def _seat(self, username: str) -> Seat:
        seat = self.senders[username].seat
        assert seat is not None, f"{username} has no seat yet"
        return seat

    # --- what happens ---------------------------------------------------------------------

    def _user(self, name: str, *, is_staff: bool = False) -> User:
        first, last = name.split(" ", 1)
        username = _username(name)
        return User.objects.create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@northwind.example",
            password=self.password,
            is_staff=is_staff,
        )

    def _activate(self, sender: Sender) -> None:
        sender.seat = seat_activate(
            holder=sender.user,
            team=sender.team,
            plan=sender.plan,
            activated_on=sender.activated_on,
            monthly_allocation=sender.person.allocation,
            cause=Cause(actor=self.admin, via="demo"),
        )

    def _plan_workday(self, day: date) -> None:
        for sender in self.senders.values():
            if not sender.sending or sender.away[0] <= day <= sender.away[1]:
                continue
            for _ in range(_poisson(self.rng, sender.sends_per_day)):
                self._schedule(self._hour(day, SEND_HOURS), partial(self._send, sender))

    def _send(self, sender: Sender) -> None:
        if not sender.sending:
            return
        assert sender.seat is not None
        first = self.rng.choice(CANDIDATE_FIRST_NAMES)
        role = self.rng.choice(sender.roles)
        recipient = self._recipient(sender, first)
        subject = self.rng.choice(SUBJECTS).format(first=first, role=role)
        length = self.rng.choices(
            ("short", "medium", "long"),
            weights=(
                sender.short_share,
                1 - sender.short_share - sender.long_share,
                sender.long_share,
            ),
        )[0]
        bodies = {"short": SHORT_BODIES, "medium": MEDIUM_BODIES, "long": LONG_BODIES}[length]
        body = self.rng.choice(bodies).format(first=first, role=role)
        open_profile = self.rng.random() < sender.open_profile_share
        cause = Cause(actor=sender.user, via="demo")
        try:
            sent = inmail_send(
                seat=sender.seat,
                recipient=recipient,
                subject=subject,
                body=body,
                open_profile=open_profile,
                cause=cause,
            )
        except LedgerRuleError as refusal:
            # Out of credits until the next refresh, or already waiting on this person: the
            # recruiter moves on, as they would.
            self.tally.refused += 1
            self.tally.by_refusal[type(refusal).__name__] += 1
            return
        self.tally.sent += 1
        self.recent_recipients[sender.team.pk].append((sender.seat.pk, recipient))
        inmail = sent.inmail
        chance = (
            sender.answer_rate
            * ANSWER_FACTOR_BY_BODY[length]
            * ANSWER_FACTOR_BY_WEEKDAY[schedule.local_date(inmail.sent_at).weekday()]
            * (ANSWER_FACTOR_SHORT_SUBJECT if len(subject.split()) <= 5 else 1 / 1.1)
            * (ANSWER_FACTOR_OPEN_PROFILE if open_profile else 1.0)
        )
        if self.rng.random() < chance:
            outcome = self.rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
            self._schedule(
                self._answer_at(inmail.sent_at), partial(self._answer, inmail, outcome, cause)
            )
        elif self.rng.random() < WITHDRAWN_SHARE:
            withdrawn_at = inmail.sent_at + timedelta(days=self.rng.uniform(1, 6))
            self._schedule(withdrawn_at, partial(self._withdraw, inmail, cause))

    def _recipient(self, sender: Sender, first: str) -> str:
        """Mostly someone new; now and then a person a teammate contacted recently."""
        assert sender.seat is not None
        teammates = [
            url
            for seat_id, url in self.recent_recipients[sender.team.pk]
            if seat_id != sender.seat.pk
        ]
        if teammates and self.rng.random() < TEAMMATE_RECIPIENT_SHARE:
            return self.rng.choice(teammates)
        self.recipients += 1
        last = self.rng.choice(CANDIDATE_LAST_NAMES)
        return f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{self.recipients:04x}"

    def _answer_at(self, sent_at: datetime) -> datetime:
        """Most answers come within a few days; some after weeks."""
        if self.rng.random() < 0.85:
            days = min(self.rng.expovariate(1 / 2.5), 14)
        else:
            days = self.rng.uniform(14, 45)
        day = schedule.local_date(sent_at) + timedelta(days=int(days))
        return max(self._hour(day, ANSWER_HOURS), sent_at + timedelta(minutes=30))

    def _answer(self, inmail: InMail, outcome: str, cause: Cause) -> None:
        inmail_record_response(inmail=inmail, outcome=outcome, cause=cause)
        self.tally.answered += 1

    def _withdraw(self, inmail: InMail, cause: Cause) -> None:
        inmail_withdraw(inmail=inmail, cause=cause)
        self.tally.withdrawn += 1

    # --- notifications ----------------------------------------------------------------------

    def raise_alerts(self) -> None:
        alerts_raise(now=self.now)

    def read_notifications(self) -> None:
        """People look at their notifications every few days; the newest are still unread.

        Each person's last look is a little before their newest notification, so everyone who
        has any has something new waiting when they sign in.
        """
        by_user: dict[int, list[Notification]] = defaultdict(list)
        for notification in Notification.objects.order_by("created_at", "id"):
            by_user[notification.user_id].append(notification)
        read = []
        for notifications in by_user.values():
            last_look = notifications[-1].created_at - timedelta(hours=self.rng.uniform(1, 48))
            look = notifications[0].created_at + timedelta(hours=self.rng.uniform(2, 72))
            looks = []
            while look < last_look:
                looks.append(look)
                look += timedelta(hours=self.rng.uniform(24, 120))
            for notification in notifications:
                notification.read_at = next(
                    (at for at in looks if at >= notification.created_at), None
                )
                if notification.read_at is not None:
                    read.append(notification)
        Notification.objects.bulk_update(read, ["read_at"], batch_size=500)
        self.tally.notifications = sum(len(n) for n in by_user.values())

    def summary(self) -> str:
        tally = self.tally
        return (
            f"{len(TEAMS)} teams, {len(self.senders)} seats activated from {self.start}, "
            f"{tally.sent} InMails ({tally.answered} answered, {tally.withdrawn} withdrawn; "
            f"{tally.refused} not sent: {dict(tally.by_refusal)}), {tally.purchases} "
            f"purchases, {tally.bonuses} bonus, {tally.transfers} pool transfers, "
            f"{tally.notifications} notifications"
        )


def _poisson(rng: random.Random, mean: float) -> int:
    """How many InMails go out on one day: Poisson-distributed around the person's mean."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _months_after(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months_before(day: date, months: int) -> date:
    return _months_after(day, -months)
