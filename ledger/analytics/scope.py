"""Whose InMails and accounts a user's analytics count.

See docs/rules.md, "Who sees per-person analytics".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Q,
    QuerySet,
    Sum,
)

from ledger import schedule
from ledger.analytics.snapshot import asked_once
from ledger.models import (
    Account,
    InMail,
    RateBreakdown,
    RateBreakdownMonth,
)
from ledger.rate_breakdowns import breakdowns_settled_before
from ledger.rate_rollups import rollups_in_use
from teams.models import Seat, Team, User
from teams.selectors import seats_visible_to, teams_led_by, teams_with_totals_visible_to

GROUP_BY = (
    "recruiter",
    "team",
    "week",
    "month",
    "weekday",
    "body_length",
    "subject_length",
    "open_profile",
    "hour",
    "weekday_hour",
    # R22 outreach tags: one row per template (key null: no template), one per tag (an InMail
    # counts under each of its tags; untagged InMails under none).
    "template",
    "tag",
)
# Breakdowns whose rows name a person (docs/rules.md, "Who uses it": per-person analytics are for
# the leads of that team and admins; a recruiter gets their own row only).
PERSON_BREAKDOWNS = frozenset({"recruiter"})

Viewer = User | AnonymousUser

# Where a scope's InMails carry the same scope over the rate rollups (issue 15): the filter of
# the rollup rows that count exactly these InMails. An attribute of the queryset object itself,
# on purpose: any further `.filter()` makes a new queryset without it, whose response rates then
# come from the InMails themselves, never from rollups that would count something else.
_ROLLUP_FILTER = "_rate_rollup_filter"
# Likewise over the breakdowns by hour, weekday and hour, template and tag, which count all time
# (`RateBreakdown`) and by local month (`RateBreakdownMonth`): a range of days that is not whole
# months counts the InMails themselves.
_BREAKDOWN_FILTER = "_rate_breakdown_filter"


# The same scope as (the filter on seat and sender, first local day, last local day): the hours
# to a response are rolled up by month, not by day, and count a range's partial months from the
# InMails themselves.
_ROLLUP_SCOPE = "_rate_rollup_scope"
RollupScope = tuple[Q, date | None, date | None]


def _with_rollup_filter(
    inmails: QuerySet[InMail], keys: Q, start: date | None, end: date | None
) -> QuerySet[InMail]:
    rollups = keys
    if start is not None:
        rollups &= Q(day__gte=start)
    if end is not None:
        rollups &= Q(day__lte=end)
    setattr(inmails, _ROLLUP_FILTER, rollups)
    setattr(inmails, _ROLLUP_SCOPE, (keys, start, end))
    setattr(inmails, _BREAKDOWN_FILTER, keys)
    return inmails


def rollup_filter_of(inmails: QuerySet[InMail]) -> Q | None:
    """The rollup rows that count exactly `inmails` (made by `analytics_inmails` or
    `breakdown_inmails` and not narrowed since), when the rollups may be read; else None."""
    found: Q | None = getattr(inmails, _ROLLUP_FILTER, None)
    if found is None:
        return None
    using = inmails.db
    zone = schedule.org_tz().key
    return found if asked_once(using, ("rollups_in", zone), lambda: rollups_in_use(using)) else None


def inmails_of_seats_count(seats: QuerySet[Seat]) -> int | None:
    """How many InMails `seats` have, from the all-time breakdown rows by hour (every InMail is
    in exactly one hour row of its seat): a few rows a seat however long the history, where
    `COUNT(*)` reads every InMail (660 ms at 5,000,000, bench/RESULTS.md). None where the
    breakdowns may not be read (SQLite, no state row as after a flush, another zone): count the
    InMails. The rows are kept by the same transactions that write the InMails (a rebuild
    replaces them in one), so both are exact; `rates_check` compares them daily."""
    using = seats.db
    if breakdowns_settled_before(using) is None:
        return None
    rows = RateBreakdown.objects.using(using).filter(kind="hour", seat__in=seats.values("pk"))
    found: int | None = rows.aggregate(n=Sum("sent"))["n"]
    return found or 0


def bounding_end(inmails: QuerySet[InMail], end: date | None) -> date | None:
    """`end`, or None when no InMail at all was sent after it: rows by month then count only
    InMails up to it in `end`'s month, so a range ending today (the pages' default) reads its
    current month from them rather than from the InMails. One probe of the newest InMail's
    index (`inmail_recent_idx`) per snapshot (`one_snapshot`: a rate read's, or a page's for all
    its panels); an InMail dated after `end` keeps the bound (the services refuse one dated in
    the future, so only a past `end` meets one). Ask it in the snapshot of the reads that rely
    on its answer: an InMail committed after the probe and dated after `end` would otherwise be
    counted by the month's rows."""
    if end is None or schedule.is_month_end(end):
        return end  # a month's last day: whole months either way, nothing to probe
    using = inmails.db
    after = schedule.start_of_day(end + timedelta(days=1))

    def sent_after() -> bool:
        return InMail.objects.using(using).filter(sent_at__gte=after).exists()

    return end if asked_once(using, ("sent_after", after), sent_after) else None


@dataclass(frozen=True)
class BreakdownRows:
    """The breakdown rows that count exactly a scope's InMails (`breakdown_filter_of`)."""

    # `RateBreakdown` (all time) or `RateBreakdownMonth` (a range of whole local months).
    model: type[RateBreakdown] | type[RateBreakdownMonth]
    # Their filter: seats and senders, and the months of a range.
    rows: Q
    # The InMails they count by time of sending (empty: all time).
    sent: Q
    # Their settled day (`RateBreakdownState.settled_before`).
    settled: date


def breakdown_filter_of(inmails: QuerySet[InMail]) -> BreakdownRows | None:
    """The breakdown rows that count exactly `inmails` (made by `analytics_inmails` or
    `breakdown_inmails`, not narrowed since) when the breakdowns may be read: the all-time rows
    for a scope without a range of days (or one ending on a day after which nothing was sent),
    the rows by month for a range of whole local months (from a month's first day to a month's
    last, or to a day after which nothing was sent); else None (the InMails are counted). Ask
    it in the snapshot of the reads (`bounding_end`)."""
    keys: Q | None = getattr(inmails, _BREAKDOWN_FILTER, None)
    if keys is None:
        return None
    _keys, start, end = getattr(inmails, _ROLLUP_SCOPE)
    end = bounding_end(inmails, end)
    if start is None and end is None:
        model: type[RateBreakdown] | type[RateBreakdownMonth] = RateBreakdown
        rows, sent = keys, Q()
    else:
        if start is not None and start.day != 1:
            return None
        # `end` is now None, or a month's last day, or a day after which something was sent.
        if end is not None and not schedule.is_month_end(end):
            return None
        model, rows, sent = RateBreakdownMonth, keys, Q()
        if start is not None:
            rows &= Q(month__gte=start)
            sent &= Q(sent_at__gte=schedule.start_of_day(start))
        if end is not None:
            rows &= Q(month__lte=end.replace(day=1))
            sent &= Q(sent_at__lt=schedule.start_of_day(end + timedelta(days=1)))
    using = inmails.db
    settled = asked_once(
        using, ("settled_in", schedule.org_tz().key), lambda: breakdowns_settled_before(using)
    )
    if settled is None:
        return None
    return BreakdownRows(model=model, rows=rows, sent=sent, settled=settled)


def rollup_scope_of(inmails: QuerySet[InMail]) -> RollupScope | None:
    """`rollup_filter_of`'s scope as (seat and sender filter, first day, last day), or None.

    Ask `rollup_filter_of` first: this one does not check that the rollups may be read.
    """
    found: RollupScope | None = getattr(inmails, _ROLLUP_SCOPE, None)
    return found


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------


def _analysable_seats(user: Viewer) -> QuerySet[Seat]:
    """Seats the user may see, plus every seat of the teams whose totals they may see."""
    return Seat.objects.filter(
        Q(pk__in=seats_visible_to(user).values("pk"))
        | Q(team__in=teams_with_totals_visible_to(user).values("pk"))
    )


def analytics_seats(
    user: Viewer, *, team: Team | None = None, seat: Seat | None = None
) -> QuerySet[Seat]:
    """The seats whose InMails `analytics_inmails` gives (same scope, same narrowing)."""
    seats = _analysable_seats(user)
    if team is not None:
        seats = seats.filter(team=team)
    if seat is not None:
        seats = seats.filter(pk=seat.pk)
    return seats


def analytics_inmails(
    user: Viewer,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date | None = None,
    end: date | None = None,
    sender: User | None = None,
) -> QuerySet[InMail]:
    """The InMails a user may analyse, narrowed by team, seat, local sent date (inclusive) and
    the person who sent them.

    Callers have already checked that `team` and `seat` are visible; narrowing still happens
    inside the user's scope, so a wrong argument can only give fewer InMails, never more.
    """
    # The same narrowing of the InMails and of their rollups (one row per seat, sender and
    # local day: `sent_at` within local days is `day` within them).
    seats = Q(seat__in=_analysable_seats(user).values("pk"))
    inmails = InMail.objects.filter(seats)
    keys = seats
    for narrowing in (
        Q(seat__team=team) if team is not None else None,
        Q(seat=seat) if seat is not None else None,
        Q(sender=sender) if sender is not None else None,
    ):
        if narrowing is not None:
            inmails, keys = inmails.filter(narrowing), keys & narrowing
    if start is not None:
        inmails = inmails.filter(sent_at__gte=schedule.start_of_day(start))
    if end is not None:
        inmails = inmails.filter(sent_at__lt=schedule.start_of_day(end + timedelta(days=1)))
    return _with_rollup_filter(inmails, keys, start, end)


def breakdown_inmails(
    user: Viewer,
    group_by: str,
    *,
    team: Team | None = None,
    seat: Seat | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[InMail]:
    """The InMails a `group_by` breakdown may count for the user: the one scope of every
    response-rate breakdown, in the API and in the pages alike.

    Totals (by team, month, weekday, hour, length, Open Profile) count everything
    `analytics_inmails` gives: the user's own seats and the teams whose totals they may see.
    A breakdown whose rows name a person (PERSON_BREAKDOWNS) groups by each InMail's sender
    (R19: the holder when it was sent) and counts, of those, every InMail of the teams the user
    leads (all, for an admin) and the InMails the user sent, so a recruiter sees their own row
    and never a teammate's, even on a seat that a teammate held before them, team by team:
    someone who leads one team and recruits in another sees every row of the first and their
    own in the second.
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"Unknown group_by {group_by!r}; use one of {', '.join(GROUP_BY)}.")
    inmails = analytics_inmails(user, team=team, seat=seat, start=start, end=end)
    if group_by in PERSON_BREAKDOWNS:
        # A row counts what its person sent (R19: `sender`, whoever holds the seat now): a
        # recruiter their own InMails, a lead every InMail of the teams they lead.
        persons = Q(seat__team__in=teams_led_by(user).values("pk")) | Q(sender_id=user.pk)
        keys, first, last = getattr(inmails, _ROLLUP_SCOPE)
        inmails = _with_rollup_filter(inmails.filter(persons), keys & persons, first, last)
    return inmails


def breakdown_scopes(
    user: Viewer,
    group_bys: list[str],
    *,
    team: Team | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, QuerySet[InMail]]:
    """`breakdown_inmails` of each of `group_bys`, built once per kind of scope (the totals',
    the person breakdowns'), for a page that shows many breakdowns of one period."""
    totals = analytics_inmails(user, team=team, start=start, end=end)
    persons: QuerySet[InMail] | None = None
    found = {}
    for group_by in group_bys:
        if group_by in PERSON_BREAKDOWNS:
            if persons is None:
                persons = breakdown_inmails(user, group_by, team=team, start=start, end=end)
            found[group_by] = persons
        elif group_by in GROUP_BY:
            found[group_by] = totals
        else:
            raise ValueError(f"Unknown group_by {group_by!r}; use one of {', '.join(GROUP_BY)}.")
    return found


def analytics_accounts(
    user: Viewer, *, team: Team | None = None, seat: Seat | None = None
) -> QuerySet[Account]:
    """Accounts whose flows the user may see: visible seats' accounts, and every account (seats
    and pool) of the teams whose totals they may see; narrowed to a team or one seat."""
    accounts = Account.objects.filter(
        Q(seat__in=seats_visible_to(user).values("pk"))
        | Q(team__in=teams_with_totals_visible_to(user).values("pk"))
    )
    if team is not None:
        accounts = accounts.filter(team=team)
    if seat is not None:
        accounts = accounts.filter(seat=seat)
    return accounts
