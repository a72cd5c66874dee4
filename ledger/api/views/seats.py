"""The API's seats: create, cancel, change plan, settings, balance, entries, purchases, bonus,
adjustments, and team pools."""

from __future__ import annotations

from dataclasses import replace

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ledger import services
from ledger.analytics import Viewer, seat_forecast
from ledger.api import serializers as api
from ledger.api.idempotency import idempotent
from ledger.api.views.common import (
    _NO_PAGE,
    _answers,
    _cause,
    _Documented,
    _known_team,
    _query,
    _query_body,
    _require_admin,
    _seat_answer,
    _seat_detail_answer,
    _visible_seat,
    _visible_team,
    _write,
)
from ledger.models import Entry
from ledger.selectors import PoolBalance, pool_balance, seat_balance, seat_entries
from ledger.services.seats import duplicate_seat_warnings, seat_duplicates
from teams.models import Seat, Team
from teams.selectors import (
    seats_visible_to,
    team_totals_visible_to,
    user_can_manage_team,
)

# --------------------------------------------------------------------------------------------
# Seats
# --------------------------------------------------------------------------------------------


class SeatListCreate(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatSerializer

    def get_queryset(self) -> QuerySet[Seat]:
        return seats_visible_to(self.request.user).order_by("pk")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "team",
                {"type": "integer", "minimum": 1},
                description="Only this team's seats (a team the user can't see is 400).",
            ),
            OpenApiParameter("status", str, enum=["active", "cancelled"]),
        ],
        responses={**_answers(api.SeatSerializer(many=True), 400), 404: _NO_PAGE},
    )
    def get(self, request: Request) -> Response:
        given = _query(api.SeatQuerySerializer, request)
        seats = self.get_queryset()
        if "team" in given:
            seats = seats.filter(team=_known_team(request, given["team"]))
        if "status" in given:
            seats = seats.filter(status=given["status"])
        page = self.paginate_queryset(seats)
        assert page is not None
        return self.get_paginated_response(_seat_answer(list(page), many=True))

    @extend_schema(**_write(api.SeatCreatedSerializer, 403, request=api.SeatCreateSerializer))
    @idempotent
    def post(self, request: Request) -> Response:
        _require_admin(request, "create seats")
        given = _query_body(api.SeatCreateSerializer, request)
        # A duplicate is a warning, never a refusal: integrations rely on the seat being made.
        duplicates = seat_duplicates(holder=given["holder"], team=given["team"], plan=given["plan"])
        seat = services.seat_activate(
            holder=given["holder"],
            team=given["team"],
            plan=given["plan"],
            cause=_cause(request),
            activated_on=given.get("activated_on"),
            pool_access=given.get("pool_access"),
            monthly_allocation=given.get("monthly_allocation"),
        )
        answer = {**_seat_answer([seat]), "warnings": duplicate_seat_warnings(duplicates)}
        return Response(answer, status=status.HTTP_201_CREATED)


class SeatDetail(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatDetailSerializer

    @extend_schema(responses=_answers(api.SeatDetailSerializer, 404))
    def get(self, request: Request, pk: int) -> Response:
        return Response(_seat_detail_answer(_visible_seat(request, pk)))

    @extend_schema(
        request=api.SeatSettingsSerializer,
        responses=_answers(api.SeatDetailSerializer, 400, 403, 404, 409),
    )
    def patch(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        if not user_can_manage_team(request.user, seat.team):
            raise PermissionDenied("Only a lead of the seat's team or an admin may change it.")
        given = _query_body(api.SeatSettingsSerializer, request)
        seat = services.seat_update_settings(seat=seat, cause=_cause(request), **given)
        return Response(_seat_detail_answer(seat))


class SeatCancel(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatSerializer

    @extend_schema(**_write(api.SeatSerializer, 403, 404, 409, ok_status=200))
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        _require_admin(request, "cancel seats")
        seat = services.seat_cancel(seat=seat, cause=_cause(request))
        return Response(_seat_answer([seat]))


class SeatChangePlan(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatSerializer

    @extend_schema(**_write(api.SeatSerializer, 403, 404, 409, request=api.ChangePlanSerializer))
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        _require_admin(request, "change a seat's plan")
        given = _query_body(api.ChangePlanSerializer, request)
        new = services.seat_change_plan(seat=seat, plan=given["plan"], cause=_cause(request))
        return Response(_seat_answer([new]), status=status.HTTP_201_CREATED)


class SeatBalanceView(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatBalanceSerializer

    @extend_schema(
        parameters=[api.AsOfQuerySerializer],
        responses=_answers(api.SeatBalanceSerializer, 400, 404),
    )
    def get(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        given = _query(api.AsOfQuerySerializer, request)
        balance = seat_balance(seat, as_of=given.get("as_of"))
        # The run-out forecast made at the same instant (issue 13).
        forecast = seat_forecast(seat, as_of=given.get("as_of"))
        return Response(api.SeatBalanceSerializer(balance, context={"forecast": forecast}).data)


class SeatEntries(_Documented, generics.GenericAPIView[Entry]):
    serializer_class = api.EntrySerializer

    @extend_schema(
        parameters=[api.EntryQuerySerializer],
        responses=_answers(api.EntrySerializer(many=True), 400, 404),  # 404: seat or page
    )
    def get(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        given = _query(api.EntryQuerySerializer, request)
        entries = seat_entries(
            seat, since=given.get("since"), until=given.get("until"), kind=given.get("kind")
        )
        page = self.paginate_queryset(entries)
        assert page is not None
        return self.get_paginated_response(api.EntrySerializer(page, many=True).data)


class SeatPurchases(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.PurchaseSerializer

    @extend_schema(
        **_write(api.PurchaseSerializer, 403, 404, 409, request=api.PurchaseRequestSerializer)
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        _require_admin(request, "record purchases")
        given = _query_body(api.PurchaseRequestSerializer, request)
        purchase = services.purchase_record(
            seat=seat, credits=given["credits"], cause=_cause(request)
        )
        return Response(api.PurchaseSerializer(purchase).data, status=status.HTTP_201_CREATED)


class SeatBonus(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.EntrySerializer

    @extend_schema(**_write(api.EntrySerializer, 403, 404, 409, request=api.BonusRequestSerializer))
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        _require_admin(request, "grant bonus credits")
        given = _query_body(api.BonusRequestSerializer, request)
        entry = services.bonus_grant(
            seat=seat, credits=given["credits"], memo=given["memo"], cause=_cause(request)
        )
        return Response(api.EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class SeatAdjustments(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.AdjustmentEntrySerializer

    @extend_schema(
        **_write(
            api.AdjustmentEntrySerializer, 403, 404, 409, request=api.AdjustmentRequestSerializer
        )
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        _require_admin(request, "post adjustments")
        given = _query_body(api.AdjustmentRequestSerializer, request)
        entries = services.adjustment_post(
            seat=seat, credits=given["credits"], reason=given["reason"], cause=_cause(request)
        )
        parts = api.EntrySerializer(entries, many=True).data
        # A removal spread over several lots is several entries; the answer is their sum, with
        # the balance after the last, and the entries themselves as `parts`.
        answer = {
            **parts[-1],
            "id": entries[0].pk,
            "amount": sum(entry.amount for entry in entries),
            "lot": entries[0].lot_id if len(entries) == 1 else None,
            "parts": parts,
        }
        return Response(answer, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------------


def _pool_team(request: Request, pk: int, *, manage: bool) -> Team:
    team = _visible_team(request, pk)
    if manage:
        if not user_can_manage_team(request.user, team):
            raise PermissionDenied("Only a lead of this team or an admin may move pool credits.")
    elif not team_totals_visible_to(request.user, team):
        raise PermissionDenied(
            "This team doesn't share its usage with its recruiters. What your seat may draw "
            "from the pool is in its balance: pool_available in GET /api/v1/seats/{id}/balance/."
        )
    return team


def _pool_seen_by(user: Viewer, team: Team, pool: PoolBalance) -> PoolBalance:
    """The pool as `user` may read it (docs/rules.md, "Who sees a team pool"): its leads and
    admins see every pooled seat; a recruiter of a team that shares usage sees the pool's
    totals and lots, and among its seats only their own, never a teammate's figures."""
    if user_can_manage_team(user, team):
        return pool
    return replace(pool, seats=[row for row in pool.seats if row.seat.holder_id == user.pk])


class TeamPool(_Documented, generics.GenericAPIView[Team]):
    serializer_class = api.PoolSerializer

    @extend_schema(
        parameters=[api.AsOfQuerySerializer],
        responses=_answers(api.PoolSerializer, 400, 403, 404),
    )
    def get(self, request: Request, pk: int) -> Response:
        team = _pool_team(request, pk, manage=False)
        given = _query(api.AsOfQuerySerializer, request)
        pool = pool_balance(team, as_of=given.get("as_of"))
        if pool is None:
            raise NotFound(f"{team.name} has no credit pool (it holds no pooled seat).")
        return Response(api.PoolSerializer(_pool_seen_by(request.user, team, pool)).data)


class PoolTransfers(_Documented, generics.GenericAPIView[Team]):
    serializer_class = api.TransferSerializer

    @extend_schema(
        **_write(api.TransferSerializer, 403, 404, 409, request=api.TransferRequestSerializer)
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        team = _pool_team(request, pk, manage=True)
        given = _query_body(api.TransferRequestSerializer, request)
        seat = seats_visible_to(request.user).filter(pk=given["seat"], team=team).first()
        if seat is None:
            raise ValidationError({"seat": ["No such seat in this team."]})
        result = services.pool_transfer(
            team=team, seat=seat, credits=given["credits"], cause=_cause(request)
        )
        return Response(api.TransferSerializer(result).data, status=status.HTTP_201_CREATED)
