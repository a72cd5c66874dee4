"""The API of a seat's life beside its credits: reassigning it (R19) and reconciling it with
what LinkedIn shows (R21). Usage limits (R20) are a seat setting (`PATCH /seats/{id}/`)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from ledger import services
from ledger.api import serializers as api
from ledger.api.idempotency import idempotent
from ledger.api.views.common import (
    _NO_PAGE,
    _answers,
    _cause,
    _Documented,
    _known_seat,
    _known_team,
    _query,
    _query_body,
    _require_admin,
    _seat_detail_answer,
    _visible_seat,
    _write,
)
from ledger.models import Reconciliation
from ledger.selectors import reconciliations_visible_to
from teams.models import Seat
from teams.selectors import user_can_act_on_seat


class SeatReassign(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatDetailSerializer

    @extend_schema(
        **_write(
            api.SeatDetailSerializer,
            403,
            404,
            409,
            ok_status=200,
            request=api.ReassignRequestSerializer,
        )
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        _require_admin(request, "reassign seats")
        given = _query_body(api.ReassignRequestSerializer, request)
        seat = services.seat_reassign(
            seat=seat, holder=given["holder"], memo=given["memo"], cause=_cause(request)
        )
        return Response(_seat_detail_answer(seat))


class SeatReconciliations(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.ReconciliationSerializer

    @extend_schema(
        **_write(
            api.ReconciliationSerializer, 403, 404, 409, request=api.ReconciliationRequestSerializer
        )
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        if not user_can_act_on_seat(request.user, seat):
            raise PermissionDenied("Only the seat's holder, a lead of its team or an admin may.")
        given = _query_body(api.ReconciliationRequestSerializer, request)
        reconciliation = services.reconciliation_record(
            seat=seat,
            linkedin_balance=given["linkedin_balance"],
            observed_at=given.get("observed_at"),
            cause=_cause(request),
        )
        return Response(
            api.ReconciliationSerializer(reconciliation).data, status=status.HTTP_201_CREATED
        )


class ReconciliationList(_Documented, generics.GenericAPIView[Reconciliation]):
    serializer_class = api.ReconciliationSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "seat",
                {"type": "integer", "minimum": 1},
                description="Only this seat's (a seat the user can't see is 400).",
            ),
            OpenApiParameter(
                "team",
                {"type": "integer", "minimum": 1},
                description="Only this team's seats' (a team the user can't see is 400).",
            ),
            OpenApiParameter("status", str, enum=["matched", "open", "adjusted", "dismissed"]),
        ],
        responses={
            **_answers(api.ReconciliationSerializer(many=True), 400),
            404: _NO_PAGE,
        },
    )
    def get(self, request: Request) -> Response:
        given = _query(api.ReconciliationQuerySerializer, request)
        rows = reconciliations_visible_to(
            request.user,
            seat=_known_seat(request, given["seat"]) if "seat" in given else None,
            team=_known_team(request, given["team"]) if "team" in given else None,
            status=given.get("status"),
        )
        page = self.paginate_queryset(rows)
        assert page is not None
        return self.get_paginated_response(api.ReconciliationSerializer(page, many=True).data)


class ReconciliationResolve(_Documented, generics.GenericAPIView[Reconciliation]):
    serializer_class = api.ReconciliationSerializer

    @extend_schema(
        **_write(
            api.ReconciliationSerializer,
            403,
            404,
            409,
            ok_status=200,
            request=api.ResolveRequestSerializer,
        )
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        reconciliation = get_object_or_404(reconciliations_visible_to(request.user), pk=pk)
        _require_admin(request, "resolve reconciliations")
        given = _query_body(api.ResolveRequestSerializer, request)
        resolved = services.reconciliation_resolve(
            reconciliation=reconciliation,
            action=given["action"],
            reason=given["reason"],
            cause=_cause(request),
        )
        return Response(api.ReconciliationSerializer(resolved).data)
