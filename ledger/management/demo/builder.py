"""Replays six months of a recruiting organisation day by day through the services, on a moving
clock, so every entry, refresh, expiry, alert and notification is one the product made."""

from __future__ import annotations

import calendar
import heapq
import math
import random
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

import time_machine
from django.contrib.auth.hashers import make_password

from ledger import schedule
from ledger.exceptions import LedgerRuleError
from ledger.management.demo.data import (
    ADMIN_NAME,
    ALERTS_AT,
    ANSWER_FACTOR_BY_BODY,
    ANSWER_FACTOR_BY_WEEKDAY,
    ANSWER_FACTOR_OPEN_PROFILE,
    ANSWER_FACTOR_SHORT_SUBJECT,
    ANSWER_HOURS,
    CANDIDATE_FIRST_NAMES,
    CANDIDATE_LAST_NAMES,
    DEMO_PASSWORD,
    HISTORY_MONTHS,
    LONG_BODIES,
    MEDIUM_BODIES,
    OUTCOME_WEIGHTS,
    OUTCOMES,
    SEND_HOURS,
    SHORT_BODIES,
    SUBJECTS,
    TEAMMATE_RECIPIENT_SHARE,
    TEAMS,
    TICK_AT,
    WITHDRAWN_SHARE,
    DemoTeam,
    Person,
    _username,
)
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
