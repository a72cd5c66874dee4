"""Serializers of the webhook endpoints (docs/api.md Additions, SPEC R23)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ledger.models import WebhookDeliveryStatus, WebhookEndpoint, WebhookKind
from ledger.webhooks.endpoints import URL_MAX_LENGTH
from ledger.webhooks.events import EVENT_TYPES


class WebhookEndpointSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(max_length=URL_MAX_LENGTH)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        help_text="The event types wanted; a Slack endpoint takes alert.raised only.",
    )
    kind = serializers.ChoiceField(choices=WebhookKind.choices, default=WebhookKind.JSON)
    active = serializers.BooleanField(default=True)


class WebhookEndpointCreateSerializer(WebhookEndpointSerializer):
    # Optional for a Slack endpoint (it gets alert.raised).
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        required=False,
        help_text="The event types wanted; a Slack endpoint takes (and defaults to) alert.raised.",
    )


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The 201 answer: the only time the secret is shown."""

    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery (InMail-Signature); shown only here."
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer[WebhookEndpoint]):
    url = serializers.CharField(max_length=URL_MAX_LENGTH, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        required=False,
    )
    kind = serializers.ChoiceField(choices=WebhookKind.choices, required=False)
    active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    event = serializers.CharField(source="event.type", help_text="The event type.")
    event_id = serializers.UUIDField(source="event.uid", help_text="The event's id (dedupe on it).")
    status = serializers.ChoiceField(choices=WebhookDeliveryStatus.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=WebhookDeliveryStatus.choices, required=False)
