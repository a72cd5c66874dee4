"""`manage.py demo`: fill an empty database with a believable organisation.

Three teams, twenty recruiters and their leads on a mix of plans (one team on Recruiter
Corporate with a shared pool), an admin, and a little InMail activity. Everything goes through
the ledger services, exactly as an admin and the recruiters would have done it, so the demo
ledger obeys every rule the real one does.

Idempotent: the demo admin's username marks a demo database; a second run changes nothing and
prints the logins again. A database holding anything else is left alone.
"""

from __future__ import annotations

import calendar
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from ledger import schedule
from ledger.services import Cause, inmail_record_response, inmail_send, seat_activate
from teams.models import Membership, Plan, Role, Seat, Team, User

DEMO_URL = "http://127.0.0.1:8000/"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the local demo on purpose
ADMIN_NAME = "Margaret Okafor"
# Runs of the demo are told apart by this: it exists only in a database the demo filled.
ADMIN_USERNAME = "margaret.okafor"
SEED = 2026


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
SUBJECTS = (
    "{role} at Northwind",
    "Quick question about your next move",
    "Your work caught our eye",
    "Building something new: {role}",
    "Open to a conversation?",
    "A {role} role worth a look",
)
BODIES = (
    # Short, medium and long, so the body-length breakdowns of the analytics have data.
    "Hi {first}, I lead hiring for a {role} opening at Northwind. Your background looks like a "
    "strong fit. Open to a 20-minute call next week?",
    "Hi {first},\n\nI'm hiring a {role} at Northwind, where we are growing the team that owns "
    "our core product. What stood out in your profile is the depth of your recent work and "
    "the way you describe the impact it had. The role is hybrid, with a competitive package "
    "and real ownership from the first month.\n\nWould you be open to a short call to hear "
    "more? If the timing isn't right, I'd still be glad to stay in touch.\n\nBest regards",
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
# Answers, weighted as recruiters typically see them.
OUTCOMES = ("accepted", "accepted", "accepted", "replied", "replied", "declined")


class Command(BaseCommand):
    help = "Fill an empty database with a believable demo organisation and print its logins."

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
            summary = DemoBuilder(random.Random(SEED)).build()  # noqa: S311 - demo data, not secrets
        self.stdout.write(self.style.SUCCESS(f"Demo organisation created: {summary}."))
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(
            f"\nOpen {DEMO_URL} and sign in with one of these "
            f'(every demo account\'s password is "{DEMO_PASSWORD}"):'
        )
        for role, username in LOGINS:
            self.stdout.write(f"  {role:<10} username: {username:<18} password: {DEMO_PASSWORD}")


class DemoBuilder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.today = schedule.today()
        # One hash for every demo account: hashing is slow on purpose, and these accounts all
        # share the printed password anyway.
        self.password = make_password(DEMO_PASSWORD)
        self.recipients = 0
        self.sent = 0
        self.answered = 0

    def build(self) -> str:
        admin = self._user(ADMIN_NAME, is_staff=True)
        cause = Cause(actor=admin, via="demo")
        plans = {plan.code: plan for plan in Plan.objects.all()}
        seats = 0
        for demo_team in TEAMS:
            team = Team.objects.create(name=demo_team.name, share_usage=demo_team.share_usage)
            people = (demo_team.lead, *demo_team.recruiters)
            holders = {person: self._user(person.name) for person in people}
            for person in people:
                role = Role.LEAD if person is demo_team.lead else Role.RECRUITER
                Membership.objects.create(user=holders[person], team=team, role=role)
            pooled = [person for person in people if plans[person.plan].pooled]
            pooled_dates = iter(
                self._pooled_activation_dates(len(pooled), plans[pooled[0].plan]) if pooled else ()
            )
            for person in people:
                plan = plans[person.plan]
                seat = seat_activate(
                    holder=holders[person],
                    team=team,
                    plan=plan,
                    activated_on=next(pooled_dates)
                    if plan.pooled
                    else self.today - timedelta(days=self.rng.randint(20, 150)),
                    monthly_allocation=person.allocation,
                    cause=cause,
                )
                seats += 1
                self._send_inmails(seat, holders[person], demo_team.roles)
        return f"{len(TEAMS)} teams, {seats} seats, {self.sent} InMails ({self.answered} answered)"

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

    def _pooled_activation_dates(self, count: int, plan: Plan) -> list[date]:
        """The first pooled seat a few months back, the others after the pool's last refresh.

        Seats are activated in this order. A pooled seat can't be activated before a refresh
        its pool already had (the ledger would have to rewrite that refresh), and activating
        the first seat brings the pool up to today; so the others join within the current
        pool period, in date order.
        """
        first = _months_before(self.today - timedelta(days=12), 3)
        last_refresh = first
        k = 1
        while (due := schedule.refresh_date(first, plan.refresh, k)) <= self.today:
            last_refresh = due
            k += 1
        window_start = last_refresh + timedelta(days=1)
        if window_start > self.today:
            # The pool refreshes today: only a pool that starts today can take more seats.
            return [self.today] * count
        span = (self.today - window_start).days
        later = sorted(
            window_start + timedelta(days=self.rng.randint(0, span)) for _ in range(count - 1)
        )
        return [first, *later]

    def _send_inmails(self, seat: Seat, holder: User, roles: tuple[str, ...]) -> None:
        cause = Cause(actor=holder, via="demo")
        for _ in range(self.rng.randint(3, 6)):
            first = self.rng.choice(CANDIDATE_FIRST_NAMES)
            last = self.rng.choice(CANDIDATE_LAST_NAMES)
            self.recipients += 1
            role = self.rng.choice(roles)
            sent = inmail_send(
                seat=seat,
                recipient=(
                    f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-"
                    f"{self.recipients:04x}"
                ),
                subject=self.rng.choice(SUBJECTS).format(role=role),
                body=self.rng.choice(BODIES).format(first=first, role=role),
                open_profile=self.rng.random() < 0.15,
                cause=cause,
            )
            self.sent += 1
            if self.rng.random() < 0.45:
                inmail_record_response(
                    inmail=sent.inmail, outcome=self.rng.choice(OUTCOMES), cause=cause
                )
                self.answered += 1


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
