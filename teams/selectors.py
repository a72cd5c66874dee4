"""Who may see what (docs/rules.md, "Who uses it").

Every user-facing query starts from one of these selectors, so an object outside a user's
scope is simply absent (a 404 in views, never a 403):

- admin (`is_staff`): everything;
- lead: every seat of the teams they lead, plus their own seats;
- recruiter: their own seats, and their teams' totals when the team shares usage;
- anyone else: nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from teams.models import AuditEvent, Membership, Plan, Role, Seat, Team, User


def user_is_admin(user: User | AnonymousUser) -> bool:
    """Whether whoever made the request is an admin; `User.is_admin` holds the rule."""
    return isinstance(user, User) and user.is_admin


def teams_visible_to(user: User | AnonymousUser) -> QuerySet[Team]:
    """Teams the user belongs to (any role); all teams for an admin."""
    if not (user.is_authenticated and user.is_active):
        return Team.objects.none()
    if user_is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


def teams_led_by(user: User | AnonymousUser) -> QuerySet[Team]:
    """Teams whose seats, InMails and ledgers the user may see and manage."""
    if not (user.is_authenticated and user.is_active):
        return Team.objects.none()
    if user_is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role=Role.LEAD).distinct()


def seats_visible_to(user: User | AnonymousUser) -> QuerySet[Seat]:
    """Seats whose balance, lots, entries and InMails the user may see."""
    seats = Seat.objects.select_related("holder", "team", "plan")
    if not (user.is_authenticated and user.is_active):
        return seats.none()
    if user_is_admin(user):
        return seats.all()
    return seats_visible_to_member(seats, user.pk)


def seats_visible_to_member(seats: QuerySet[Seat], user_id: int) -> QuerySet[Seat]:
    """Of `seats`, those an active user who is not an admin may see: theirs, and those of the
    teams they lead."""
    led = Membership.objects.filter(user_id=user_id, role=Role.LEAD).values("team_id")
    return seats.filter(Q(holder_id=user_id) | Q(team_id__in=led))


def team_totals_visible_to(user: User | AnonymousUser, team: Team) -> bool:
    """Whether the user may see a team's totals (pool balance, team analytics)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user_is_admin(user):
        return True
    role = Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()
    if role == Role.LEAD:
        return True
    return role == Role.RECRUITER and team.share_usage


def teams_with_totals_visible_to(user: User | AnonymousUser) -> QuerySet[Team]:
    """The teams whose totals the user may see: led teams, and sharing teams they belong to."""
    if not (user.is_authenticated and user.is_active):
        return Team.objects.none()
    if user_is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(
        Q(memberships__user=user, memberships__role=Role.LEAD)
        | Q(memberships__user=user, memberships__role=Role.RECRUITER, share_usage=True)
    ).distinct()


def user_can_manage_team(user: User | AnonymousUser, team: Team) -> bool:
    """Set allocations and move credits inside the team: its leads and admins."""
    return teams_led_by(user).filter(pk=team.pk).exists()


def user_can_act_on_seat(user: User | AnonymousUser, seat: Seat) -> bool:
    """Log InMails and responses for a seat: its holder, a lead of its team, an admin."""
    if not (user.is_authenticated and user.is_active):
        return False
    return seat.holder_id == user.pk or user_can_manage_team(user, seat.team)


def plans_visible_to(user: User | AnonymousUser) -> QuerySet[Plan]:
    """The catalog is visible to every signed-in user."""
    if not (user.is_authenticated and user.is_active):
        return Plan.objects.none()
    return Plan.objects.all()


def audit_events_visible_to(
    user: User | AnonymousUser,
    *,
    seat: Seat | None = None,
    team: Team | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail, newest first, for admins only; `since` and `until` are inclusive."""
    if not user_is_admin(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.all()
    if seat is not None:
        events = events.filter(seat=seat)
    if team is not None:
        events = events.filter(team=team)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lte=until)
    return events.order_by("-at", "-pk")
