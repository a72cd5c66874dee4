"""Webhook endpoints in the console (R23): list, create (the secret shown once), edit, delete,
and each endpoint's delivery log with "send again". Admins only, like every console page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ledger.console.views.common import admin_only
from ledger.exceptions import LedgerValidationError
from ledger.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookKind
from ledger.webhooks import endpoints as services
from ledger.webhooks.events import EVENT_TYPES
from ledger.webhooks.selectors import webhook_deliveries, webhook_endpoints
from teams.models import User

DELIVERIES_SHOWN = 100


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=services.URL_MAX_LENGTH,
        help_text="http:// or https://; for Slack, the incoming-webhook URL.",
    )
    kind = forms.ChoiceField(label="Kind", choices=WebhookKind.choices)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(event, event) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="A Slack endpoint receives alert.raised only (the default).",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _values(form: WebhookForm) -> dict[str, Any]:
    data = form.cleaned_data
    events = data["events"] or (None if data["kind"] == WebhookKind.SLACK else [])
    return {"url": data["url"], "kind": data["kind"], "events": events, "active": data["active"]}


@admin_only
@require_safe
def webhooks(request: HttpRequest) -> HttpResponse:
    return render(request, "manage/webhooks.html", {"endpoints": webhook_endpoints()})


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(actor=_actor(request), **_values(form))
        except LedgerValidationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            # The only time the secret is shown: this answer is not a redirect.
            return render(request, "manage/webhook_created.html", {"endpoint": endpoint})
    return render(request, "manage/webhook_form.html", {"form": form, "endpoint": None})


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_edit(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    initial = {
        "url": endpoint.url,
        "kind": endpoint.kind,
        "events": endpoint.events,
        "active": endpoint.active,
    }
    form = WebhookForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = _values(form)
        if values["events"] is None:
            values.pop("events")
        try:
            services.webhook_endpoint_update(endpoint=endpoint, actor=_actor(request), **values)
        except LedgerValidationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Saved the endpoint {endpoint.url}.")
            return redirect(reverse("manage:webhooks"))
    return render(request, "manage/webhook_form.html", {"form": form, "endpoint": endpoint})


@admin_only
@require_POST
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    url = endpoint.url
    services.webhook_endpoint_delete(endpoint=endpoint, actor=_actor(request))
    messages.success(request, f"Deleted the endpoint {url} and its delivery log.")
    return redirect(reverse("manage:webhooks"))


@admin_only
@require_safe
def webhook_log(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
    status = request.GET.get("status", "")
    if status not in WebhookDeliveryStatus.values:
        status = ""
    rows = webhook_deliveries(endpoint, status=status or None)[:DELIVERIES_SHOWN]
    return render(
        request,
        "manage/webhook_log.html",
        {
            "endpoint": endpoint,
            "deliveries": rows,
            "status": status,
            "statuses": WebhookDeliveryStatus.choices,
        },
    )


@admin_only
@require_POST
def webhook_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    services.webhook_delivery_redeliver(delivery=delivery, actor=_actor(request))
    messages.success(request, f"Delivery #{delivery.pk} will be sent again now.")
    return redirect(reverse("manage:webhook_log", args=[delivery.endpoint_id]))
