"""The console's plans, teams and members, people, and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ledger.console.forms import (
    AuditFilterForm,
    MemberAddForm,
    MemberRoleForm,
    PlanForm,
    TeamForm,
    UserCreateForm,
    add_service_error,
)
from ledger.console.views.common import AUDIT_EVENTS_PER_PAGE, _actor, admin_only
from ledger.console.views.seats import _day_bounds
from teams import services as teams_services
from teams.models import PLAN_EDITABLE_FIELDS, Membership, Plan, Seat, SeatStatus, Team, User
from teams.selectors import audit_events_visible_to

# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------


@admin_only
@require_safe
def plans(request: HttpRequest) -> HttpResponse:
    catalog = Plan.objects.annotate(
        active_seats=Count("seats", filter=Q(seats__status=SeatStatus.ACTIVE))
    )
    return render(request, "manage/plans.html", {"plans": catalog})


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    # Services read a plan's numbers when they write (a grant, a purchase's price), so saving
    # the row changes what happens next and never an entry already in the ledger.
    form = PlanForm(request.POST if request.method == "POST" else None, instance=plan)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in PLAN_EDITABLE_FIELDS}
        try:
            plan = teams_services.plan_update(actor=_actor(request), plan=plan, **values)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Saved {plan.name}. Entries already written are unchanged.")
            return redirect("manage:plans")
    return render(request, "manage/plan_edit.html", {"plan": plan, "form": form})


# --------------------------------------------------------------------------------------------
# Teams and members
# --------------------------------------------------------------------------------------------


@admin_only
@require_safe
def teams(request: HttpRequest) -> HttpResponse:
    listed = Team.objects.annotate(
        member_count=Count("memberships", distinct=True),
        active_seat_count=Count("seats", filter=Q(seats__status=SeatStatus.ACTIVE), distinct=True),
    )
    return render(request, "manage/teams.html", {"teams": listed})


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            team = teams_services.team_create(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                share_usage=form.cleaned_data["share_usage"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Created the team {team.name}.")
            return redirect("manage:team_detail", team_id=team.pk)
    return render(request, "manage/team_create.html", {"form": form})


def _render_team(
    request: HttpRequest,
    team: Team,
    *,
    form: TeamForm | None = None,
    add_form: MemberAddForm | None = None,
) -> HttpResponse:
    members = team.memberships.select_related("user").order_by("user__username")
    active_holders = set(
        team.seats.filter(status=SeatStatus.ACTIVE).values_list("holder_id", flat=True)
    )
    context = {
        "team": team,
        "form": form or TeamForm(initial={"name": team.name, "share_usage": team.share_usage}),
        "add_form": add_form or MemberAddForm(team=team),
        "members": [(member, member.user_id in active_holders) for member in members],
        "role_form": MemberRoleForm(),
    }
    return render(request, "manage/team_detail.html", context)


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    if request.method != "POST":
        return _render_team(request, team)
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team = teams_services.team_update(
                actor=_actor(request),
                team=team,
                name=form.cleaned_data["name"],
                share_usage=form.cleaned_data["share_usage"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Saved the team {team.name}.")
            return redirect("manage:team_detail", team_id=team.pk)
    return _render_team(request, team, form=form)


@admin_only
@require_POST
def member_add(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    form = MemberAddForm(request.POST, team=team)
    if form.is_valid():
        try:
            member, _ = teams_services.membership_set(
                actor=_actor(request),
                team=team,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"Added {member.user} to {team.name} as {member.get_role_display()}."
            )
            return redirect("manage:team_detail", team_id=team.pk)
    return _render_team(request, team, add_form=form)


def _membership_or_404(team_id: int, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "team"), team_id=team_id, pk=membership_id
    )


@admin_only
@require_POST
def member_role(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    member = _membership_or_404(team_id, membership_id)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        member, _ = teams_services.membership_set(
            actor=_actor(request),
            team=member.team,
            user=member.user,
            role=form.cleaned_data["role"],
        )
        messages.success(request, f"{member.user} is now {member.get_role_display()}.")
    else:
        messages.error(request, "Choose a role: lead or recruiter.")
    return redirect("manage:team_detail", team_id=team_id)


@admin_only
@require_POST
def member_remove(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    member = _membership_or_404(team_id, membership_id)
    try:
        teams_services.membership_remove(actor=_actor(request), membership=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Removed {member.user} from {member.team.name}.")
    return redirect("manage:team_detail", team_id=team_id)


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


@admin_only
@require_safe
def users(request: HttpRequest) -> HttpResponse:
    people = User.objects.order_by("username").prefetch_related("memberships__team")
    return render(request, "manage/users.html", {"people": people})


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = teams_services.user_create(
                actor=_actor(request),
                username=data["username"],
                password=data["password1"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                is_staff=data["is_admin"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Created {user.username}.")
            return redirect(reverse("manage:users"))
    return render(request, "manage/user_create.html", {"form": form})


# --------------------------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------------------------


@admin_only
@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    """Every change outside the ledger, newest first; the filters of `GET /api/v1/audit/`."""
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    since, until = _day_bounds(filters)
    seat = Seat.objects.filter(pk=filters["seat"]).first() if filters.get("seat") else None
    events = audit_events_visible_to(
        request.user,
        seat=seat,
        team=filters.get("team"),
        actor_id=filters["actor"].pk if filters.get("actor") else None,
        since=since,
        until=until,
    )
    if filters.get("seat") and seat is None:
        form.add_error("seat", "No such seat.")
    if form.errors:
        # A filter that can't be read shows nothing rather than the whole trail.
        events = events.none()
    # The page names the people, teams and seats; the API answers their ids only.
    events = events.select_related("actor", "team", "seat")
    page = Paginator(events, AUDIT_EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "manage/audit.html", {"form": form, "page": page})
