"""Alerts: conditions the `send_alerts` job looks for, each raised once per condition and period.

| kind | condition | to whom | once per |
|---|---|---|---|
| low_balance | a seat's available credits below each holder threshold | holder | period |
| expiring | credits expiring within 7 days | holder (pool: leads) | expiry date |
| lost_to_cap | credits the cap keeps back at the next refresh | holder (pool: leads) | refresh |
| pool_low | a pool below 10% of its cap, or a lead's own thresholds | leads | pool period |
| quality | under 13% response rate, 100+ InMails in 14 days | holder and leads | 14 days |
| usage_limit | a seat at 80% and at 100% of its usage limit (R20) | holder, leads | period |
| reconcile | compare a seat with LinkedIn, unless done in the last 7 days (R21) | holder | week |

Several low-balance thresholds (issue 14, item 4): a holder's preference threshold and the
further ones in `teams.PersonalSettings.low_balance_thresholds` each raise their own alert, once
per period, when the seat's available credits are below them (0: when none are left); a lead's
`pool_thresholds` do the same for the pools of the teams they lead, to that lead alone.

The reconciliation reminder has a weekly job of its own (`ledger.tasks.remind_reconcile`); the
other alerts are looked for by every pass.

"Once" is held by the database: a notification is unique per (person, kind, key) and the key
names the condition and its period, so running the job every minute, twice, or on two workers
at once raises each alert once.

Email is claimed by a conditional update before it is sent: the claim moves the mail's next
attempt past now, so a second worker's claim finds nothing. A mail the server does not take
stays pending and is tried again after 1 minute, then 2, 4, ... at most an hour apart, until
24 hours after the alert was raised; only a mail still refused then is `failed`. (A worker
killed between the server's acceptance and the update that records it sends that one mail
again at its next attempt: a rare second mail rather than a lost one.)

A pass handed seats (the one queued after a send) reads only those seats, their teams' pools
and leads, and the notifications it raises: its cost does not grow with the organisation.

The quality warning reads the rules' "response rate" over the InMails sent in the last 14 days
(answered ÷ sent): none of them is 30 days old yet, so the 30-day definition could not apply.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import ngettext

from ledger import schedule
from ledger.models import (
    RESPONSE_STATUSES,
    Account,
    AccountKind,
    AccountRefresh,
    AlertKind,
    EmailStatus,
    InMail,
    Lot,
    Notification,
    NotificationPreference,
    Reconciliation,
)
from ledger.selectors import next_refreshes_of_pools, next_refreshes_of_seat_accounts
from ledger.services import ledger_bring_all_up_to_date, seats_bring_up_to_date, seats_usage
from ledger.services.accounts import last_refresh_at
from ledger.services.usage import resets_on_text
from ledger.webhooks import announce as webhooks  # R23
from teams.models import Membership, PersonalSettings, Plan, Role, Seat, SeatStatus, Team, User

logger = logging.getLogger(__name__)

EXPIRING_WITHIN_DAYS = 7
POOL_LOW_SHARE = 0.10
QUALITY_WINDOW_DAYS = 14
QUALITY_MIN_INMAILS = 100
QUALITY_MIN_RATE = 0.13
EMAIL_FIRST_RETRY = timedelta(minutes=1)
EMAIL_LONGEST_RETRY = timedelta(hours=1)
EMAIL_GIVE_UP_AFTER = timedelta(hours=24)
# Steps of one SMTP conversation that may each wait EMAIL_TIMEOUT (connect, EHLO, STARTTLS,
# AUTH, MAIL, RCPT, DATA, QUIT, with room to spare).
EMAIL_CLAIM_STEPS = 10


@dataclass(frozen=True)
class Alert:
    kind: str
    key: str
    title: str
    body: str
    recipients: tuple[User, ...]
    seat: Seat | None = None
    team: Team | None = None


@dataclass(frozen=True)
class AlertReport:
    raised: int
    emailed: int


def _credits(count: int) -> str:
    return ngettext("%(count)d credit", "%(count)d credits", count) % {"count": count}


def _answers(count: int) -> str:
    return ngettext("%(count)d answer", "%(count)d answers", count) % {"count": count}


def _paid_inmails(count: int) -> str:
    return ngettext("%(count)d paid InMail", "%(count)d paid InMails", count) % {"count": count}


def _inmail_credits(count: int) -> str:
    return ngettext("%(count)d InMail credit", "%(count)d InMail credits", count) % {"count": count}


def _preferences(users: Iterable[User]) -> dict[int, NotificationPreference]:
    """Each user's preferences; the defaults for people who never changed them."""
    ids = {user.pk for user in users}
    saved = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids)}
    return {pk: saved.get(pk) or NotificationPreference(user_id=pk) for pk in ids}


def _leads_by_team(seat_ids: Collection[int] | None) -> dict[int, list[User]]:
    """The active leads of every team, or only of these seats' teams."""
    leads: dict[int, list[User]] = defaultdict(list)
    memberships = Membership.objects.filter(role=Role.LEAD, user__is_active=True)
    if seat_ids is not None:
        memberships = memberships.filter(
            team_id__in=Seat.objects.filter(pk__in=seat_ids).values("team_id")
        )
    for membership in memberships.select_related("user"):
        leads[membership.team_id].append(membership.user)
    return leads


def _spendable_by_account(now: datetime, account_ids: Collection[int] | None) -> dict[int, int]:
    """Credits spendable at `now` in every account, or only in these."""
    lots = Lot.objects.filter(remaining__gt=0).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if account_ids is not None:
        lots = lots.filter(account_id__in=account_ids)
    rows = lots.values("account").annotate(total=Sum("remaining")).values_list("account", "total")
    return {account: int(total) for account, total in rows}


def _pool_caps(team_ids: Collection[int]) -> dict[int, int]:
    """Each team pool's cap: the caps of its active pooled seats (all of them, even when the
    pass looks at one seat)."""
    rows = (
        Account.objects.filter(
            team_id__in=team_ids,
            kind=AccountKind.SEAT,
            refresh=AccountRefresh.NONE,
            is_open=True,
            seat__status=SeatStatus.ACTIVE,
        )
        .values("team_id")
        .annotate(cap=Sum("seat__plan__max_balance"))
        .values_list("team_id", "cap")
    )
    return {team_id: int(cap) for team_id, cap in rows}


def _refresh_may_pass_cap(account: Account, plan: Plan) -> bool:
    """An account of its own (not drawing on a pool) whose next grant would take it over its
    plan's cap: the ones whose next refresh the pass works out (R4)."""
    return (
        account.refresh != AccountRefresh.NONE
        and account.balance + plan.monthly_credits > plan.max_balance
    )


def pending_alerts(*, now: datetime | None = None, seat_ids: set[int] | None = None) -> list[Alert]:
    """Every alert condition that holds at `now` (whether or not it was raised already).

    With `seat_ids`, only those seats and their teams' pools are looked at.
    """
    now = now or timezone.now()
    accounts_qs = Account.objects.filter(is_open=True)
    if seat_ids is not None:
        teams = Seat.objects.filter(pk__in=seat_ids).values("team_id")
        accounts_qs = accounts_qs.filter(
            Q(seat_id__in=seat_ids) | Q(kind=AccountKind.POOL, team_id__in=teams)
        )
    accounts = list(accounts_qs.select_related("seat__plan", "seat__holder", "team"))
    spendable = _spendable_by_account(
        now, None if seat_ids is None else [account.pk for account in accounts]
    )
    leads = _leads_by_team(seat_ids)
    pools = {a.team_id: a for a in accounts if a.kind == AccountKind.POOL}
    pool_caps = _pool_caps(pools) if pools else {}
    seat_accounts = [a for a in accounts if a.kind == AccountKind.SEAT and a.seat is not None]
    holders = [a.seat.holder for a in seat_accounts if a.seat is not None]
    preferences = _preferences(holders)
    personal = _personal_settings(
        [*holders, *(lead for team_leads in leads.values() for lead in team_leads)]
    )
    alerts: list[Alert] = []
    # Read together, not one account at a time: the pass looks at every seat.
    seat_refreshes = next_refreshes_of_seat_accounts(
        account
        for account in seat_accounts
        if account.seat is not None
        and account.seat.status == SeatStatus.ACTIVE
        and _refresh_may_pass_cap(account, account.seat.plan)
    )
    periods: dict[int, date] = {}

    def period_of(account: Account) -> date:
        # The local day of the period's start, read once per account (a pool's seats and the
        # pool itself share it, and a seat may cross several thresholds).
        if account.pk not in periods:
            periods[account.pk] = schedule.local_date(last_refresh_at(account))
        return periods[account.pk]

    pool_refreshes = next_refreshes_of_pools(
        [pool for pool in pools.values() if leads.get(pool.team_id)]
    )

    for account in seat_accounts:
        seat = account.seat
        assert seat is not None
        if seat.status != SeatStatus.ACTIVE:
            continue
        pool = pools.get(seat.team_id)
        available = spendable.get(account.pk, 0)
        if seat.pool_access and pool is not None:
            available += spendable.get(pool.pk, 0)
        period_account = pool if account.refresh == AccountRefresh.NONE and pool else account
        for threshold, key_suffix in _seat_thresholds(
            preferences[seat.holder_id], personal.get(seat.holder_id)
        ):
            if not low_balance_crossed(available, threshold):
                continue
            period = period_of(period_account)
            alerts.append(
                Alert(
                    kind=AlertKind.LOW_BALANCE,
                    key=f"seat:{seat.pk}:period:{period}{key_suffix}",
                    title=f"{_credits(available)} left on your {seat.plan.name} seat",
                    body=(
                        f"Your {seat.plan.name} seat in {account.team.name} has "
                        f"{_inmail_credits(available)} available, " + _below_text(threshold) + "."
                    ),
                    recipients=(seat.holder,),
                    seat=seat,
                    team=account.team,
                )
            )
        upcoming = seat_refreshes.get(account.pk)
        if upcoming is not None and upcoming.lost_to_cap > 0 and upcoming.on is not None:
            plan = seat.plan
            alerts.append(
                Alert(
                    kind=AlertKind.LOST_TO_CAP,
                    key=f"seat:{seat.pk}:refresh:{upcoming.on}",
                    title=(
                        f"{_credits(upcoming.lost_to_cap)} will be lost to the cap on {upcoming.on}"
                    ),
                    body=(
                        f"Your {plan.name} seat is near its cap of {plan.max_balance}: "
                        f"at the refresh on {upcoming.on} "
                        f"{_credits(upcoming.lost_to_cap)} won't be granted. "
                        "Spend credits before then to keep them."
                    ),
                    recipients=(seat.holder,),
                    seat=seat,
                    team=account.team,
                )
            )

    for pool in pools.values():
        team_leads = tuple(leads.get(pool.team_id, []))
        if not team_leads:
            continue
        upcoming = pool_refreshes[pool.pk]
        if upcoming.lost_to_cap > 0 and upcoming.on is not None:
            alerts.append(
                Alert(
                    kind=AlertKind.LOST_TO_CAP,
                    key=f"pool:{pool.pk}:refresh:{upcoming.on}",
                    title=(
                        f"{pool.team.name}: {_credits(upcoming.lost_to_cap)} will be "
                        f"lost to the cap on {upcoming.on}"
                    ),
                    body=(
                        f"The {pool.team.name} pool and its seats are near their cap: at the "
                        f"refresh on {upcoming.on} {_credits(upcoming.lost_to_cap)} "
                        "won't be granted."
                    ),
                    recipients=team_leads,
                    team=pool.team,
                )
            )
        cap = pool_caps.get(pool.team_id, 0)
        available = spendable.get(pool.pk, 0)
        if cap and available < cap * POOL_LOW_SHARE:
            period = period_of(pool)
            alerts.append(
                Alert(
                    kind=AlertKind.POOL_LOW,
                    key=f"pool:{pool.pk}:period:{period}",
                    title=f"{pool.team.name} pool is down to {_credits(available)}",
                    # The cap counts the pool and its seats' own credits (R14): say so, so
                    # the pool alone is not read as measured against all of it.
                    body=(
                        f"The {pool.team.name} pool holds {_credits(available)}, under "
                        f"{POOL_LOW_SHARE:.0%} of the cap of {cap} that the pool and its "
                        "pooled seats share."
                    ),
                    recipients=team_leads,
                    team=pool.team,
                )
            )

        alerts.extend(_pool_threshold_alerts(pool, available, team_leads, personal, period_of))

    alerts.extend(_expiring_alerts(now, {a.pk: a for a in accounts}, leads))
    alerts.extend(_quality_alerts(now, leads, seat_ids))
    active_seats = [
        a.seat for a in seat_accounts if a.seat is not None and a.seat.status == SeatStatus.ACTIVE
    ]
    alerts.extend(_usage_alerts(now, active_seats, leads))
    return alerts


# --- issue 14 item 4: several low-balance thresholds, for seats and for a lead's pools -------


def low_balance_crossed(available: int, threshold: int) -> bool:
    """A balance has crossed a threshold when it is below it; the threshold 0 means "ran out"
    (nothing available), since no balance is below 0."""
    return available <= 0 if threshold == 0 else available < threshold


def _below_text(threshold: int) -> str:
    if threshold == 0:
        return "none left"
    return f"below your alert threshold of {threshold}"


def _personal_settings(users: Iterable[User]) -> dict[int, PersonalSettings]:
    ids = {user.pk for user in users}
    return {s.user_id: s for s in PersonalSettings.objects.filter(user_id__in=ids)}


def _thresholds(values: object) -> list[int]:
    """The whole, non-negative thresholds of a stored list, highest first, each once."""
    if not isinstance(values, list):
        return []
    return sorted(
        {v for v in values if isinstance(v, int) and not isinstance(v, bool) and v >= 0},
        reverse=True,
    )


def _seat_thresholds(
    preference: NotificationPreference, personal: PersonalSettings | None
) -> list[tuple[int, str]]:
    """A holder's thresholds for their seats with the suffix of each one's alert key: the
    preference's own threshold keeps the key it always had, each further one names itself."""
    main = preference.low_balance_threshold
    more = _thresholds(personal.low_balance_thresholds) if personal is not None else []
    return [(main, ""), *((t, f":below:{t}") for t in more if t != main)]


def _pool_threshold_alerts(
    pool: Account,
    available: int,
    leads: tuple[User, ...],
    personal: dict[int, PersonalSettings],
    period_of: Callable[[Account], date],
) -> list[Alert]:
    """Each lead's own thresholds for the pool they lead: one alert per threshold crossed, once
    per pool refresh period (`period_of`: its start's local day), to that lead only."""
    alerts = []
    for lead in leads:
        settings_of_lead = personal.get(lead.pk)
        if settings_of_lead is None:
            continue
        for threshold in _thresholds(settings_of_lead.pool_thresholds):
            if not low_balance_crossed(available, threshold):
                continue
            period = period_of(pool)
            alerts.append(
                Alert(
                    kind=AlertKind.POOL_LOW,
                    key=f"pool:{pool.pk}:period:{period}:below:{threshold}",
                    title=f"{pool.team.name} pool is down to {_credits(available)}",
                    body=(
                        f"The {pool.team.name} pool holds {_credits(available)}, "
                        + _below_text(threshold)
                        + " for the pool."
                    ),
                    recipients=(lead,),
                    team=pool.team,
                )
            )
    return alerts


# --- issue 13: usage limits (R20) and the weekly reconciliation reminder (R21) ---------------

# The shares of a seat's usage limit that raise an alert, as whole percentages.
USAGE_ALERT_PERCENTS = (80, 100)
RECONCILE_EVERY_DAYS = 7


def _usage_alerts(now: datetime, seats: list[Seat], leads: dict[int, list[User]]) -> list[Alert]:
    """At 80% and at 100% of a seat's usage limit, once each per usage period (R20)."""
    limited = [seat for seat in seats if seat.monthly_usage_limit]
    usage = seats_usage(limited, at=now)
    alerts = []
    for seat in limited:
        used, limit = usage[seat.pk].used, seat.monthly_usage_limit
        assert limit is not None
        # The highest threshold reached: a limit lowered past both says "reached", not "80%".
        reached = [p for p in USAGE_ALERT_PERCENTS if used * 100 >= limit * p]
        if not reached:
            continue
        percent = reached[-1]
        resets = resets_on_text(usage[seat.pk])
        period = schedule.local_date(usage[seat.pk].period_start)
        owner = f"{seat.holder}'s {seat.plan.name} seat"
        alerts.append(
            Alert(
                kind=AlertKind.USAGE_LIMIT,
                key=f"seat:{seat.pk}:usage:{period}:{percent}",
                title=(
                    f"{owner} reached its usage limit of {limit}"
                    if percent == 100
                    else f"{owner} used {used} of {_paid_inmails(limit)}"
                ),
                body=(
                    f"{owner} in {seat.team.name} has sent {used} of the {_paid_inmails(limit)} "
                    f"its usage limit allows this period ({percent}%). "
                    + (
                        "Further paid InMails are refused until "
                        if percent == 100
                        else "The count starts again on "
                    )
                    + f"{resets}; Open Profile InMails are not counted."
                ),
                recipients=tuple(dict.fromkeys([seat.holder, *leads.get(seat.team_id, [])])),
                seat=seat,
                team=seat.team,
            )
        )
    return alerts


def reconcile_reminders(now: datetime) -> list[Alert]:
    """Once a local ISO week, ask each holder to compare each active seat with LinkedIn (R21),
    unless the seat was reconciled in the last 7 days. Raised by its own weekly job
    (`alerts_raise(reminders=True)`), not by every alert pass."""
    year, week, _ = schedule.local_date(now).isocalendar()
    seats = list(
        Seat.objects.filter(status=SeatStatus.ACTIVE).select_related("holder", "team", "plan")
    )
    recent = set(
        Reconciliation.objects.filter(
            seat__in=seats, created_at__gt=schedule.add_days(now, -RECONCILE_EVERY_DAYS)
        ).values_list("seat_id", flat=True)
    )
    return [
        Alert(
            kind=AlertKind.RECONCILE,
            key=f"seat:{seat.pk}:week:{year}-W{week:02d}",
            title=f"Compare your {seat.plan.name} seat with LinkedIn",
            body=(
                f"Open LinkedIn, note the InMail credits it shows for your {seat.plan.name} "
                f"seat in {seat.team.name}, and enter them on your home page: a difference "
                "shows the InMails the ledger is missing."
            ),
            recipients=(seat.holder,),
            seat=seat,
            team=seat.team,
        )
        for seat in seats
        if seat.pk not in recent
    ]


def _expiring_alerts(
    now: datetime, accounts: dict[int, Account], leads: dict[int, list[User]]
) -> list[Alert]:
    until = schedule.add_days(now, EXPIRING_WITHIN_DAYS)
    expiring: dict[tuple[int, str], int] = defaultdict(int)
    lots = Lot.objects.filter(
        account_id__in=accounts, remaining__gt=0, expires_at__gt=now, expires_at__lte=until
    ).values_list("account_id", "expires_at", "remaining")
    for account_id, expires_at, remaining in lots:
        assert expires_at is not None
        expiring[(account_id, str(schedule.local_date(expires_at)))] += remaining
    alerts = []
    for (account_id, day), credits in sorted(expiring.items()):
        account = accounts.get(account_id)
        if account is None:
            continue
        if account.kind == AccountKind.POOL:
            recipients = tuple(leads.get(account.team_id, []))
            owner = f"The {account.team.name} pool"
            seat = None
        else:
            assert account.seat is not None
            recipients = (account.seat.holder,)
            owner = f"Your {account.seat.plan.name} seat"
            seat = account.seat
        if not recipients:
            continue
        alerts.append(
            Alert(
                kind=AlertKind.EXPIRING,
                key=f"account:{account_id}:expires:{day}",
                title=ngettext(
                    "%(count)d credit expires on %(day)s",
                    "%(count)d credits expire on %(day)s",
                    credits,
                )
                % {"count": credits, "day": day},
                body=f"{owner} has {_inmail_credits(credits)} expiring on {day}.",
                recipients=recipients,
                seat=seat,
                team=account.team,
            )
        )
    return alerts


def _quality_alerts(
    now: datetime, leads: dict[int, list[User]], seat_ids: set[int] | None
) -> list[Alert]:
    since = schedule.add_days(now, -QUALITY_WINDOW_DAYS)
    # Once per 14 days per seat: a warning raised in the last 14 days covers the InMails that
    # are still in the window, so the next one can only come when they have all moved out.
    warnings = Notification.objects.filter(
        kind=AlertKind.QUALITY, created_at__gt=since, seat__isnull=False
    )
    inmails = InMail.objects.filter(sent_at__gt=since, sent_at__lte=now, imported=False)
    if seat_ids is not None:
        warnings = warnings.filter(seat_id__in=seat_ids)
        inmails = inmails.filter(seat_id__in=seat_ids)
    warned = set(warnings.values_list("seat_id", flat=True))
    rows = (
        inmails.values("seat")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(status__in=RESPONSE_STATUSES)))
        .filter(sent__gte=QUALITY_MIN_INMAILS)
    )
    low = {
        row["seat"]: row
        for row in rows
        if row["answered"] / row["sent"] < QUALITY_MIN_RATE and row["seat"] not in warned
    }
    alerts = []
    for seat in Seat.objects.filter(pk__in=low).select_related("holder", "team", "plan"):
        row = low[seat.pk]
        rate = row["answered"] / row["sent"]
        recipients = tuple(dict.fromkeys([seat.holder, *leads.get(seat.team_id, [])]))
        alerts.append(
            Alert(
                kind=AlertKind.QUALITY,
                key=f"seat:{seat.pk}:from:{schedule.local_date(now)}",
                title=f"Response rate {rate:.0%} on {seat.holder}'s last {row['sent']} InMails",
                body=(
                    f"{seat.holder}'s {seat.plan.name} seat had {_answers(row['answered'])} to "
                    f"{row['sent']} InMails in the last {QUALITY_WINDOW_DAYS} days "
                    f"({rate:.1%}). LinkedIn may restrict sending under "
                    f"{QUALITY_MIN_RATE:.0%} on {QUALITY_MIN_INMAILS} InMails or more."
                ),
                recipients=recipients,
                seat=seat,
                team=seat.team,
            )
        )
    return alerts


def alerts_raise(
    *, now: datetime | None = None, seat_ids: set[int] | None = None, reminders: bool = False
) -> AlertReport:
    """Store every alert that holds now as notifications (once each), then email them.

    With `seat_ids`, only those seats and their teams' pools are looked at, and only the mails
    of the alerts they raise are sent; the periodic pass (no `seat_ids`) sends every mail due,
    retries included. With `reminders`, the weekly reconciliation reminders instead (R21).
    """
    now = now or timezone.now()
    # Alerts speak of balances, so the ledger must be up to date first (R17).
    if seat_ids is None:
        ledger_bring_all_up_to_date(until=now)
    else:
        seats_bring_up_to_date(seat_ids, until=now)
    alerts = reconcile_reminders(now) if reminders else pending_alerts(now=now, seat_ids=seat_ids)
    preferences = _preferences(user for alert in alerts for user in alert.recipients)
    notifications = []
    for alert in alerts:
        for user in alert.recipients:
            preference = preferences[user.pk]
            if not preference.wants(alert.kind):
                continue
            wants_email = preference.email and bool(user.email)
            notifications.append(
                Notification(
                    user=user,
                    kind=alert.kind,
                    key=alert.key,
                    title=alert.title[:200],
                    body=alert.body,
                    seat=alert.seat,
                    team=alert.team,
                    created_at=now,
                    email_status=EmailStatus.PENDING if wants_email else EmailStatus.OFF,
                    email_next_attempt_at=now if wants_email else None,
                )
            )
    if seat_ids is None:
        raised_here: QuerySet[Notification] = Notification.objects.all()
    elif notifications:
        # The rows these alerts can be, counted through the (user, kind, key) index.
        raised_here = Notification.objects.filter(
            user_id__in={n.user_id for n in notifications}, key__in={n.key for n in notifications}
        )
    else:
        return AlertReport(raised=0, emailed=0)
    before = raised_here.count()
    with transaction.atomic():  # R23: the new alerts are announced with the rows that store them
        known = set(
            raised_here.filter(key__in={n.key for n in notifications})
            .order_by()
            .values_list("kind", "key")
        )
        # The unique (user, kind, key) constraint drops every alert raised before.
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        webhooks.announce_new_alerts(notifications, known)
    raised = raised_here.count() - before
    emailed = notifications_email_pending(now=now, among=None if seat_ids is None else raised_here)
    return AlertReport(raised=raised, emailed=emailed)


def _email_timeout() -> timedelta:
    return timedelta(seconds=settings.EMAIL_TIMEOUT or 60)


def _next_attempt_after(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1 minute, doubling, at most an hour."""
    wait: timedelta = EMAIL_FIRST_RETRY * 2 ** min(attempts - 1, 16)
    return min(wait, EMAIL_LONGEST_RETRY)


def notifications_email_pending(
    *, now: datetime | None = None, among: QuerySet[Notification] | None = None
) -> int:
    """Email every notification whose mail is due (or only those `among`), each at most once.

    A failure keeps the mail pending until its next attempt, and fails it only a day after the
    alert was raised. The first failure ends the pass: the server is most likely down, and the
    mails not tried keep their turn for the next pass.
    """
    now = now or timezone.now()
    due = (Notification.objects.all() if among is None else among).filter(
        email_status=EmailStatus.PENDING, email_next_attempt_at__lte=now
    )
    sent = 0
    for notification in due.select_related("user").order_by("email_next_attempt_at").iterator():
        attempt = notification.email_attempts + 1
        # Claim it first: the next attempt moves past now, so a second worker's claim (the same
        # conditional update) finds nothing. The claim outlasts a whole SMTP conversation (each
        # of its steps may take EMAIL_TIMEOUT), so a slow server can't have a mail sent twice.
        lease = max(_next_attempt_after(attempt), EMAIL_CLAIM_STEPS * _email_timeout())
        claimed = Notification.objects.filter(
            pk=notification.pk,
            email_status=EmailStatus.PENDING,
            email_next_attempt_at__lte=now,
        ).update(
            email_attempts=F("email_attempts") + 1,
            email_next_attempt_at=now + lease,
        )
        if not claimed:
            continue
        try:
            send_mail(
                subject=f"[InMail ledger] {notification.title}",
                message=notification.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[notification.user.email],
            )
        except Exception:  # the mail server is outside our control; the alert stays in-app
            give_up_at = notification.created_at + EMAIL_GIVE_UP_AFTER
            if now >= give_up_at:
                logger.exception(
                    "Could not email notification %s; gave up after %s attempts",
                    notification.pk,
                    attempt,
                )
                Notification.objects.filter(pk=notification.pk).update(
                    email_status=EmailStatus.FAILED, email_next_attempt_at=None
                )
            else:
                retry_at = min(now + _next_attempt_after(attempt), give_up_at)
                logger.warning(
                    "Could not email notification %s (attempt %s); next attempt at %s",
                    notification.pk,
                    attempt,
                    retry_at.isoformat(),
                    exc_info=True,
                )
                Notification.objects.filter(pk=notification.pk).update(
                    email_next_attempt_at=retry_at
                )
            break
        Notification.objects.filter(pk=notification.pk).update(
            email_status=EmailStatus.SENT, emailed_at=now, email_next_attempt_at=None
        )
        sent += 1
    return sent
