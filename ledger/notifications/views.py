"""Notification pages: a person's alerts, marking them read, and what they want to hear about.

Every query here is scoped to the signed-in user: someone else's notification is a 404, never a
403, so its existence isn't given away. The mark-as-read views answer an htmx request with the
updated fragment and a plain form post with a redirect back to the list.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ledger.models import AlertKind, Notification, NotificationPreference
from ledger.notifications.services import (
    notification_mark_read,
    notification_preferences_update,
    notifications_mark_all_read,
)
from teams.models import User

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


@require_safe
@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    notifications = Notification.objects.filter(user=user).select_related("team")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/index.html",
        {
            "nav_section": "notifications",
            "page": page,
        },
    )


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(
        Notification.objects.select_related("team"), pk=pk, user=_user(request)
    )
    if notification.read_at is None:
        notification_mark_read(user=_user(request), notification=notification)
    if _is_htmx(request):
        return render(
            request,
            "notifications/_notification.html",
            # `oob`: the nav badge and the "N unread" line come along and update in place.
            {"notification": notification, "next": request.POST.get("next", ""), "oob": True},
        )
    return _back_to_list(request)


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    marked = notifications_mark_all_read(user=_user(request))
    if marked:
        messages.success(
            request, f"{marked} notification{'' if marked == 1 else 's'} marked as read."
        )
    if _is_htmx(request):
        # The whole list changes: let htmx reload the page rather than patch every item.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("notifications:index")
        return response
    return _back_to_list(request)


class NotificationPreferenceForm(forms.ModelForm[NotificationPreference]):
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
        ]
        labels = {
            "email": "Also send my alerts by email",
            **{kind.value: kind.label for kind in AlertKind},
        }
        help_texts = {
            "email": "Alerts always appear here; email is extra.",
            "pool_low": "Team leads only.",
        }


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    # Someone who never saved preferences has the defaults; looking at them writes nothing.
    saved = NotificationPreference.objects.filter(user=user).first()
    instance = saved or NotificationPreference(user=user)
    if request.method == "POST":
        form = NotificationPreferenceForm(request.POST, instance=instance)
        if form.is_valid():
            notification_preferences_update(user=user, values=form.cleaned_data)
            messages.success(request, "Notification preferences saved.")
            return redirect("notifications:preferences")
    else:
        form = NotificationPreferenceForm(instance=instance)
    return render(
        request,
        "notifications/preferences.html",
        {"nav_section": "notifications", "form": form},
    )
