"""Webhook endpoints and their delivery log (SPEC R23; docs/api.md Additions). Admins only:
anyone else signed in gets 403 whatever the id, as the endpoints belong to no team."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ledger.api import webhook_serializers as hooks
from ledger.api.idempotency import idempotent
from ledger.api.views.common import (
    _NO_PAGE,
    _actor,
    _answers,
    _Documented,
    _query,
    _query_body,
    _require_admin,
    _write,
)
from ledger.models import WebhookDelivery, WebhookEndpoint
from ledger.webhooks import endpoints as services
from ledger.webhooks.selectors import webhook_deliveries, webhook_delivery, webhook_endpoints
from teams.selectors import user_is_admin


class AdminsOnly(BasePermission):
    """Checked before the body is read: anyone else signed in gets 403, whatever they send."""

    message = "Only an admin may manage webhooks."

    def has_permission(self, request: Request, view: object) -> bool:
        return user_is_admin(request.user)


def _endpoint(request: Request, pk: int) -> WebhookEndpoint:
    _require_admin(request, "manage webhooks")
    endpoint = webhook_endpoints().filter(pk=pk).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


class WebhookListCreate(_Documented, generics.GenericAPIView[WebhookEndpoint]):
    permission_classes = [IsAuthenticated, AdminsOnly]
    serializer_class = hooks.WebhookEndpointSerializer

    @extend_schema(
        responses={
            **_answers(hooks.WebhookEndpointSerializer(many=True), 400, 403),
            404: _NO_PAGE,
        }
    )
    def get(self, request: Request) -> Response:
        _require_admin(request, "manage webhooks")
        page = self.paginate_queryset(webhook_endpoints())
        assert page is not None
        return self.get_paginated_response(hooks.WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        **_write(
            hooks.WebhookEndpointCreatedSerializer,
            403,
            request=hooks.WebhookEndpointCreateSerializer,
        )
    )
    @idempotent
    def post(self, request: Request) -> Response:
        _require_admin(request, "manage webhooks")
        given = _query_body(hooks.WebhookEndpointCreateSerializer, request)
        endpoint = services.webhook_endpoint_create(actor=_actor(request), **given)
        return Response(
            hooks.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class WebhookDetail(_Documented, generics.GenericAPIView[WebhookEndpoint]):
    permission_classes = [IsAuthenticated, AdminsOnly]
    serializer_class = hooks.WebhookEndpointSerializer

    @extend_schema(
        request=hooks.WebhookEndpointUpdateSerializer,
        responses=_answers(hooks.WebhookEndpointSerializer, 400, 403, 404),
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = _endpoint(request, pk)
        given: dict[str, Any] = _query_body(hooks.WebhookEndpointUpdateSerializer, request)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint, actor=_actor(request), **given
        )
        return Response(hooks.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        responses={
            **_answers(None, 403, 404, ok_status=204),
            204: OpenApiResponse(description="Deleted, with its delivery log."),
        }
    )
    def delete(self, request: Request, pk: int) -> Response:
        endpoint = _endpoint(request, pk)
        services.webhook_endpoint_delete(endpoint=endpoint, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveries(_Documented, generics.GenericAPIView[WebhookDelivery]):
    permission_classes = [IsAuthenticated, AdminsOnly]
    serializer_class = hooks.WebhookDeliverySerializer

    @extend_schema(
        parameters=[hooks.WebhookDeliveryQuerySerializer],
        responses={
            **_answers(hooks.WebhookDeliverySerializer(many=True), 400, 403, 404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        endpoint = _endpoint(request, pk)
        given = _query(hooks.WebhookDeliveryQuerySerializer, request)
        page = self.paginate_queryset(webhook_deliveries(endpoint, status=given.get("status")))
        assert page is not None
        return self.get_paginated_response(hooks.WebhookDeliverySerializer(page, many=True).data)


class WebhookRedeliver(_Documented, generics.GenericAPIView[WebhookDelivery]):
    permission_classes = [IsAuthenticated, AdminsOnly]
    serializer_class = hooks.WebhookDeliverySerializer

    @extend_schema(**_write(hooks.WebhookDeliverySerializer, 403, 404, ok_status=202, request=None))
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        _require_admin(request, "manage webhooks")
        delivery = webhook_delivery(pk)
        if delivery is None:
            raise NotFound("No such webhook delivery.")
        delivery = services.webhook_delivery_redeliver(delivery=delivery, actor=_actor(request))
        return Response(
            hooks.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
