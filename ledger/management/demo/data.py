"""The demo organisation: its people, teams and seats, and what their InMails say."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

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
