"""Notification pages: a person's alerts, marking them read, and what they want to hear about.

Every query here is scoped to the signed-in user: someone else's notification is a 404, never a
403, so its existence isn't given away. The mark-as-read views answer an htmx request with the
updated fragment and a plain form post with a redirect back to the list.

The list groups repeats (`ledger.notifications.selectors`), and each group links to what it
speaks of, where this person can see it now: their own active seat's card on the home page, a
seat in the admin console for an admin, a seat's row on its team page for a lead, a team's pool
on its team page. A seat or team they can no longer see gets no link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ledger.models import AlertKind, Notification, NotificationPreference
from ledger.notifications.selectors import (
    NotificationGroup,
    notification_group_of,
    notification_group_rows,
    notification_groups,
)
from ledger.notifications.services import (
    notification_mark_read,
    notification_preferences_update,
    notifications_mark_all_read,
)
from teams.models import PersonalSettings, Seat, SeatStatus, Team, User
from teams.selectors import seats_visible_to, teams_led_by, teams_with_totals_visible_to

PAGE_SIZE = 25
THRESHOLD_MAX = 10_000


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required lets only a signed-in person through
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back_to_list(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page of the list the form was on, never to another site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("notifications:index")


def unread_notifications(request: HttpRequest) -> dict[str, int]:
    """Context processor: the signed-in user's unread count, for the navigation (one COUNT
    on the (user, read_at) index)."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()
    }


@dataclass(frozen=True)
class SubjectLink:
    """Where the seat or team a notification speaks of is shown to this person."""

    url: str
    label: str


@dataclass(frozen=True)
class ListedGroup:
    """A group of notifications as the list shows it."""

    group: NotificationGroup
    subject: str
    link: SubjectLink | None

    @property
    def latest(self) -> Notification:
        return self.group.latest


def _seat_name(seat: Seat, user: User) -> str:
    whose = "your" if seat.holder_id == user.pk else f"{seat.holder}'s"
    return f"{whose} {seat.plan.name} seat in {seat.team.name}"


def _subject(notification: Notification, user: User) -> str:
    if notification.seat is not None:
        return _seat_name(notification.seat, user)
    if notification.team is not None:
        return f"the {notification.team.name} pool"
    return ""


@dataclass(frozen=True)
class _Reach:
    """Which of a page's seats and teams the user can open now, and how."""

    user: User
    seats: set[int]
    led_teams: set[int]
    team_pages: set[int]

    @classmethod
    def of(cls, user: User, groups: list[NotificationGroup]) -> _Reach:
        seat_ids = {g.latest.seat_id for g in groups if g.latest.seat_id is not None}
        team_ids = {g.latest.team_id for g in groups if g.latest.team_id is not None}
        return cls(
            user=user,
            seats=set(seats_visible_to(user).filter(pk__in=seat_ids).values_list("pk", flat=True)),
            led_teams=set(teams_led_by(user).filter(pk__in=team_ids).values_list("pk", flat=True)),
            team_pages=set(
                teams_with_totals_visible_to(user)
                .filter(pk__in=team_ids)
                .values_list("pk", flat=True)
            ),
        )

    def _team_page(self, team: Team, fragment: str, label: str) -> SubjectLink | None:
        if team.pk not in self.team_pages:
            return None
        return SubjectLink(f"{reverse('team_detail', args=[team.pk])}#{fragment}", label)

    def link(self, notification: Notification) -> SubjectLink | None:
        seat, team, user = notification.seat, notification.team, self.user
        if seat is not None:
            name = _seat_name(seat, user)
            if seat.pk in self.seats:
                if seat.holder_id == user.pk and seat.status == SeatStatus.ACTIVE:
                    return SubjectLink(f"{reverse('home')}#seat-card-{seat.pk}", f"See {name}")
                if user.is_admin:
                    return SubjectLink(
                        reverse("manage:seat_detail", args=[seat.pk]),
                        f"Open {name} in the admin console",
                    )
                if seat.team_id in self.led_teams:
                    return self._team_page(seat.team, f"team-seat-{seat.pk}", f"See {name}")
            # A seat they no longer see (cancelled, reassigned): its team, if they see that.
            return self._team_page(seat.team, "totals-title", f"See the {seat.team.name} team")
        if team is not None:
            fragment = "pool-title" if team.pk in self.led_teams else "totals-title"
            return self._team_page(team, fragment, f"See the {team.name} pool")
        return None


def _listed(user: User, groups: list[NotificationGroup]) -> list[ListedGroup]:
    reach = _Reach.of(user, groups)
    return [
        ListedGroup(
            group=group, subject=_subject(group.latest, user), link=reach.link(group.latest)
        )
        for group in groups
    ]


@require_safe
@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(notification_group_rows(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/index.html",
        {
            "nav_section": "notifications",
            "page": page,
            "items": _listed(user, notification_groups(user, page.object_list)),
        },
    )


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a notification read, with the earlier repeats grouped under it."""
    user = _user(request)
    notification = get_object_or_404(Notification.objects.select_related("user"), pk=pk, user=user)
    notification_mark_read(user=user, notification=notification)
    if _is_htmx(request):
        (item,) = _listed(user, [notification_group_of(notification)])
        return render(
            request,
            "notifications/_notification.html",
            # `oob`: the nav badge and the "N unread" line come along and update in place.
            {"item": item, "next": request.POST.get("next", ""), "oob": True},
        )
    return _back_to_list(request)


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    marked = notifications_mark_all_read(user=_user(request))
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                marked,
            )
            % {"count": marked},
        )
    if _is_htmx(request):
        # The whole list changes: let htmx reload the page rather than patch every item.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("notifications:index")
        return response
    return _back_to_list(request)


THRESHOLDS_MAX_COUNT = 5


class ThresholdsField(forms.CharField):
    """Whole credits separated by commas ("20, 10, 0"), as a list highest first, each once."""

    def clean(self, value: Any) -> list[int]:
        text = super().clean(value) or ""
        parts = [part.strip() for part in str(text).replace(";", ",").split(",") if part.strip()]
        error = (
            f"Give up to {THRESHOLDS_MAX_COUNT} whole numbers of credits from 0 to "
            f"{THRESHOLD_MAX:,}, separated by commas, e.g. 20, 10, 0."
        )
        if not all(part.isdigit() for part in parts):
            raise forms.ValidationError(error, code="invalid")
        numbers = sorted({int(part) for part in parts}, reverse=True)
        if len(numbers) > THRESHOLDS_MAX_COUNT or any(n > THRESHOLD_MAX for n in numbers):
            raise forms.ValidationError(error, code="invalid")
        return numbers


def _thresholds_text(values: object) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) else ""


class NotificationPreferenceForm(forms.ModelForm[NotificationPreference]):
    # Issue 14, item 4: several thresholds, for seats and (leads) for their pools.
    more_thresholds = ThresholdsField(
        label="More low-balance thresholds (credits)",
        required=False,
        max_length=100,
        help_text=(
            "Optional, e.g. 20, 0: each one alerts me once per period when a seat of mine "
            "goes below it (0: when it runs out)."
        ),
    )
    pool_thresholds = ThresholdsField(
        label="Low-balance thresholds for my teams' pools (credits)",
        required=False,
        max_length=100,
        help_text=(
            "Team leads only. E.g. 50, 10: each one alerts me once per period when a pool of "
            "a team I lead goes below it."
        ),
    )

    low_balance_threshold = forms.IntegerField(
        label="Low-balance threshold (credits)",
        min_value=1,
        max_value=THRESHOLD_MAX,
        help_text="Alert me when a seat of mine has fewer credits than this available.",
        error_messages=dict.fromkeys(
            ("required", "invalid", "min_value", "max_value"),
            f"Give a whole number of credits from 1 to {THRESHOLD_MAX:,}.",
        ),
    )

    class Meta:
        model = NotificationPreference
        fields = [
            "email",
            "low_balance",
            "low_balance_threshold",
            "expiring",
            "lost_to_cap",
            "pool_low",
            "quality",
            "usage_limit",
            "reconcile",
        ]
        labels = {
            "email": "Also send my alerts by email",
            **{kind.value: kind.label for kind in AlertKind},
        }
        help_texts = {
            "email": "Alerts always appear here; email is extra.",
            "pool_low": "Team leads only.",
            "usage_limit": "At 80% and at 100% of a seat's limit: its holder and team leads.",
            "reconcile": "Once a week for each seat you hold, unless you reconciled it lately.",
        }


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    # Someone who never saved preferences has the defaults; looking at them writes nothing.
    saved = NotificationPreference.objects.filter(user=user).first()
    instance = saved or NotificationPreference(user=user)
    personal = PersonalSettings.objects.filter(user=user).first()
    initial = {
        "more_thresholds": _thresholds_text(personal.low_balance_thresholds if personal else []),
        "pool_thresholds": _thresholds_text(personal.pool_thresholds if personal else []),
    }
    is_lead = teams_led_by(user).exists()
    if request.method == "POST":
        form = NotificationPreferenceForm(request.POST, instance=instance, initial=initial)
        if not is_lead:
            del form.fields["pool_thresholds"]
        if form.is_valid():
            notification_preferences_update(user=user, values=form.cleaned_data)
            messages.success(request, "Notification preferences saved.")
            return redirect("notifications:preferences")
    else:
        form = NotificationPreferenceForm(instance=instance, initial=initial)
        if not is_lead:
            del form.fields["pool_thresholds"]
    return render(
        request,
        "notifications/preferences.html",
        {"nav_section": "notifications", "form": form},
    )
