"""The REST API v1 (API.md). Views validate, call one service or selector, and render.

Who may do what:
- every object is looked up through the `teams` selectors, so an object outside the user's
  scope answers 404 and never appears in a list;
- a user who may see an object but not do this to it gets 403 (a recruiter cancelling their
  own seat, a lead editing a plan);
- a relation named in a body or a filter that the user can't see is "unknown": 400.

Every POST takes an optional `Idempotency-Key` (see `ledger.api.idempotency`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import analytics, services
from ledger.api import serializers as api
from ledger.api.idempotency import HEADER, KEY_PATTERN, idempotent
from ledger.api.schema import LedgerAutoSchema
from ledger.api.throttles import TokenThrottle
from ledger.models import Entry, InMail
from ledger.selectors import pool_balance, seat_balance, seat_entries, seats_overview
from teams.models import AuditEvent, Membership, Plan, Seat, Team, User
from teams.selectors import (
    audit_events_visible_to,
    plans_visible_to,
    seats_visible_to,
    team_totals_visible_to,
    teams_visible_to,
    user_can_manage_team,
    user_is_admin,
)
from teams.services import membership_set, plan_update, team_create, user_create

# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def _error(name: str, **fields: Any) -> Any:
    return inline_serializer(name=name, fields=fields)


_DETAIL = _error("Detail", detail=serializers.CharField())
_FIELD_ERRORS = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description='Validation failed: `{"field": ["message"]}`.',
)
_RULE = OpenApiResponse(
    response=_error("LedgerRefusal", code=serializers.CharField(), detail=serializers.CharField()),
    description="A ledger rule said no; `code` is one of API.md's 409 codes.",
)
_REUSED = OpenApiResponse(
    response=_error(
        "IdempotencyKeyReused", code=serializers.CharField(), detail=serializers.CharField()
    ),
    description="The Idempotency-Key was already used with a different request.",
)
_COMMON = {
    401: OpenApiResponse(_DETAIL, description="Not signed in."),
    429: OpenApiResponse(_DETAIL, description="Throttled."),
}
_IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "1–255 visible ASCII characters (spaces only inside). A retry with the same key "
        "and body replays the first answer, refusals included (kept at least 24 hours); the "
        "same key with another request is 422."
    ),
)
_NO_PAGE = OpenApiResponse(_DETAIL, description="No such page.")


def _answers(ok: Any, *codes: int, ok_status: int = 200) -> dict[int, Any]:
    """The documented answers of an operation: its success and the errors it can give."""
    answers: dict[int, Any] = {ok_status: ok, **_COMMON}
    for code in codes:
        answers[code] = {
            400: _FIELD_ERRORS,
            403: OpenApiResponse(_DETAIL, description="Visible, but this role may not do it."),
            404: OpenApiResponse(_DETAIL, description="Unknown or not visible to this user."),
            409: _RULE,
            422: _REUSED,
        }[code]
    return answers


def _write(ok: Any, *codes: int, ok_status: int = 201, request: Any = None) -> dict[str, Any]:
    """extend_schema arguments of an idempotent POST."""
    return {
        "request": request,
        "responses": _answers(ok, 400, 422, *codes, ok_status=ok_status),
        "parameters": [_IDEMPOTENCY_KEY],
    }


def _cause(request: Request) -> services.Cause:
    return services.Cause(actor=_actor(request), via="api")


def _actor(request: Request) -> User:
    assert isinstance(request.user, User)  # DRF let only a signed-in user through
    return request.user


def _require_admin(request: Request, action: str) -> None:
    if not user_is_admin(request.user):
        raise PermissionDenied(f"Only an admin may {action}.")


def _query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    # A plain dict, not the QueryDict: DRF reads an empty `?to=` in a QueryDict as "not
    # given" (an HTML form's blank field); in a query string it is a bad value.
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _query_body(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _visible_seat(request: Request, pk: int) -> Seat:
    return get_object_or_404(seats_visible_to(request.user), pk=pk)


def _visible_team(request: Request, pk: int) -> Team:
    return get_object_or_404(teams_visible_to(request.user), pk=pk)


def _known_seat(request: Request, pk: int) -> Seat:
    """A seat named in a body or a filter: one the user can't see is unknown (400)."""
    seat = seats_visible_to(request.user).filter(pk=pk).first()
    if seat is None:
        raise ValidationError({"seat": ["Unknown seat."]})
    return seat


def _known_team(request: Request, pk: int) -> Team:
    """A team named in a body or a filter: one the user can't see is unknown (400)."""
    team = teams_visible_to(request.user).filter(pk=pk).first()
    if team is None:
        raise ValidationError({"team": ["Unknown team."]})
    return team


def _seat_answer(seats: list[Seat], *, many: bool = False) -> Any:
    context = {"balances": seats_overview(seats).by_seat()}
    if many:
        return api.SeatSerializer(seats, many=True, context=context).data
    return api.SeatSerializer(seats[0], context=context).data


class _Documented:
    """Every view's OpenAPI description comes from `LedgerAutoSchema`."""

    schema = LedgerAutoSchema()


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the API: a JSON 404 like the API's own, never an HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


# --------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------


class TokenView(_Documented, APIView):
    """Exchange a username and password for an API token (django-axes locks out guessing)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=api.TokenRequestSerializer,
        responses={
            200: api.TokenSerializer,
            400: _FIELD_ERRORS,
            429: OpenApiResponse(_DETAIL, description="Throttled, or locked out."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        given = _query_body(api.TokenRequestSerializer, request)
        # django-axes needs Django's own request: it records the failure against it.
        django_request = request._request
        user = authenticate(
            request=django_request, username=given["username"], password=given["password"]
        )
        if getattr(django_request, "axes_locked_out", False):
            raise Throttled(detail="Too many failed sign-ins for this user; try again later.")
        if user is None or not user.is_active:
            raise ValidationError(
                {"non_field_errors": ["Unable to sign in with this username and password."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


# --------------------------------------------------------------------------------------------
# Plans, users, teams
# --------------------------------------------------------------------------------------------


class PlanList(_Documented, generics.ListAPIView[Plan]):
    serializer_class = api.PlanSerializer

    def get_queryset(self) -> QuerySet[Plan]:
        return plans_visible_to(self.request.user)

    @extend_schema(responses={**_answers(api.PlanSerializer(many=True), 400), 404: _NO_PAGE})
    def get(self, request: Request) -> Response:
        return self.list(request)


class PlanDetail(_Documented, generics.GenericAPIView[Plan]):
    serializer_class = api.PlanSerializer
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Plan]:
        return plans_visible_to(self.request.user)

    @extend_schema(responses=_answers(api.PlanSerializer, 404))
    def get(self, request: Request, code: str) -> Response:
        return Response(api.PlanSerializer(self.get_object()).data)

    @extend_schema(
        request=api.PlanSerializer, responses=_answers(api.PlanSerializer, 400, 403, 404)
    )
    def patch(self, request: Request, code: str) -> Response:
        plan = self.get_object()
        _require_admin(request, "edit the plan catalog")
        serializer = api.PlanSerializer(plan, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        plan = plan_update(actor=_actor(request), plan=plan, **serializer.validated_data)
        return Response(api.PlanSerializer(plan).data)


class UserCreate(_Documented, generics.GenericAPIView[User]):
    serializer_class = api.UserSerializer

    @extend_schema(**_write(api.UserSerializer, 403, request=api.UserSerializer))
    @idempotent
    def post(self, request: Request) -> Response:
        _require_admin(request, "create users")
        given = _query_body(api.UserSerializer, request)
        user = user_create(actor=_actor(request), **given)
        return Response(api.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TeamListCreate(_Documented, generics.ListAPIView[Team]):
    serializer_class = api.TeamSerializer

    def get_queryset(self) -> QuerySet[Team]:
        return teams_visible_to(self.request.user).order_by("name", "pk")

    @extend_schema(responses={**_answers(api.TeamSerializer(many=True), 400), 404: _NO_PAGE})
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(**_write(api.TeamSerializer, 403, request=api.TeamSerializer))
    @idempotent
    def post(self, request: Request) -> Response:
        _require_admin(request, "create teams")
        given = _query_body(api.TeamSerializer, request)
        team = team_create(actor=_actor(request), **given)
        return Response(api.TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamMembers(_Documented, generics.GenericAPIView[Membership]):
    serializer_class = api.MembershipRequestSerializer

    @extend_schema(
        **{
            **_write(api.MembershipSerializer, 403, 404, request=api.MembershipRequestSerializer),
            "responses": {
                **_answers(api.MembershipSerializer, 400, 403, 404, 422, ok_status=201),
                200: OpenApiResponse(
                    api.MembershipSerializer, description="The user's role in the team changed."
                ),
            },
        }
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        team = _visible_team(request, pk)
        _require_admin(request, "change a team's members")
        given = _query_body(api.MembershipRequestSerializer, request)
        membership, created = membership_set(
            actor=_actor(request), team=team, user=given["user"], role=given["role"]
        )
        return Response(
            api.MembershipSerializer(membership).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
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

    @extend_schema(**_write(api.SeatSerializer, 403, request=api.SeatCreateSerializer))
    @idempotent
    def post(self, request: Request) -> Response:
        _require_admin(request, "create seats")
        given = _query_body(api.SeatCreateSerializer, request)
        seat = services.seat_activate(
            holder=given["holder"],
            team=given["team"],
            plan=given["plan"],
            cause=_cause(request),
            activated_on=given.get("activated_on"),
            pool_access=given.get("pool_access"),
            monthly_allocation=given.get("monthly_allocation"),
        )
        return Response(_seat_answer([seat]), status=status.HTTP_201_CREATED)


class SeatDetail(_Documented, generics.GenericAPIView[Seat]):
    serializer_class = api.SeatSerializer

    @extend_schema(responses=_answers(api.SeatSerializer, 404))
    def get(self, request: Request, pk: int) -> Response:
        return Response(_seat_answer([_visible_seat(request, pk)]))

    @extend_schema(
        request=api.SeatSettingsSerializer,
        responses=_answers(api.SeatSerializer, 400, 403, 404, 409),
    )
    def patch(self, request: Request, pk: int) -> Response:
        seat = _visible_seat(request, pk)
        if not user_can_manage_team(request.user, seat.team):
            raise PermissionDenied("Only a lead of the seat's team or an admin may change it.")
        given = _query_body(api.SeatSettingsSerializer, request)
        seat = services.seat_update_settings(seat=seat, cause=_cause(request), **given)
        return Response(_seat_answer([seat]))


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
        return Response(api.SeatBalanceSerializer(balance).data)


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
        raise PermissionDenied("This team doesn't share its usage with its recruiters.")
    return team


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
        return Response(api.PoolSerializer(pool).data)


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


# --------------------------------------------------------------------------------------------
# InMails
# --------------------------------------------------------------------------------------------


def _visible_inmails(request: Request) -> QuerySet[InMail]:
    return InMail.objects.filter(seat__in=seats_visible_to(request.user).values("pk"))


class InMailListCreate(_Documented, generics.GenericAPIView[InMail]):
    serializer_class = api.InMailSerializer

    @extend_schema(
        parameters=[api.InMailQuerySerializer],
        responses={**_answers(api.InMailSerializer(many=True), 400), 404: _NO_PAGE},
    )
    def get(self, request: Request) -> Response:
        given = _query(api.InMailQuerySerializer, request)
        inmails = _visible_inmails(request)
        if "seat" in given:
            inmails = inmails.filter(seat=_known_seat(request, given["seat"]))
        if "team" in given:
            inmails = inmails.filter(seat__team=_known_team(request, given["team"]))
        if "status" in given:
            inmails = inmails.filter(status=given["status"])
        if "sent_after" in given:
            inmails = inmails.filter(sent_at__gte=given["sent_after"])
        if "sent_before" in given:
            inmails = inmails.filter(sent_at__lt=given["sent_before"])
        page = self.paginate_queryset(inmails.order_by("-sent_at", "-pk"))
        assert page is not None
        return self.get_paginated_response(api.InMailSerializer(page, many=True).data)

    @extend_schema(**_write(api.InMailSerializer, 409, request=api.InMailCreateSerializer))
    @idempotent
    def post(self, request: Request) -> Response:
        given = _query_body(api.InMailCreateSerializer, request)
        seat = _known_seat(request, given.pop("seat"))
        sent = services.inmail_send(seat=seat, cause=_cause(request), **given)
        answer = api.InMailSerializer(sent.inmail, context={"warnings": sent.warnings}).data
        return Response(answer, status=status.HTTP_201_CREATED)


class InMailDetail(_Documented, generics.GenericAPIView[InMail]):
    serializer_class = api.InMailSerializer

    def get_queryset(self) -> QuerySet[InMail]:
        return _visible_inmails(self.request)

    @extend_schema(responses=_answers(api.InMailSerializer, 404))
    def get(self, request: Request, pk: int) -> Response:
        return Response(api.InMailSerializer(self.get_object()).data)


class InMailResponse(_Documented, generics.GenericAPIView[InMail]):
    serializer_class = api.InMailSerializer

    def get_queryset(self) -> QuerySet[InMail]:
        return _visible_inmails(self.request)

    @extend_schema(
        **_write(
            api.InMailSerializer, 404, 409, ok_status=200, request=api.ResponseRequestSerializer
        )
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        inmail = self.get_object()
        given = _query_body(api.ResponseRequestSerializer, request)
        inmail = services.inmail_record_response(
            inmail=inmail,
            outcome=given["outcome"],
            responded_at=given.get("responded_at"),
            cause=_cause(request),
        )
        return Response(api.InMailSerializer(inmail).data)


class InMailWithdraw(_Documented, generics.GenericAPIView[InMail]):
    serializer_class = api.InMailSerializer

    def get_queryset(self) -> QuerySet[InMail]:
        return _visible_inmails(self.request)

    @extend_schema(**_write(api.InMailSerializer, 404, 409, ok_status=200))
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        inmail = services.inmail_withdraw(inmail=self.get_object(), cause=_cause(request))
        return Response(api.InMailSerializer(inmail).data)


# --------------------------------------------------------------------------------------------
# Analytics
# --------------------------------------------------------------------------------------------


def _analytics_scope(request: Request, given: dict[str, Any]) -> dict[str, Any]:
    """The team and seat filters, checked: unknown → 400, visible but private → 403."""
    scope: dict[str, Any] = {"team": None, "seat": None}
    if "team" in given:
        team = _known_team(request, given["team"])
        if not team_totals_visible_to(request.user, team):
            raise PermissionDenied("This team doesn't share its usage with its recruiters.")
        scope["team"] = team
    if "seat" in given:
        scope["seat"] = _known_seat(request, given["seat"])
    return scope


class ResponseRates(_Documented, APIView):
    @extend_schema(
        parameters=[api.ResponseRatesQuerySerializer],
        responses=_answers(api.ResponseRatesSerializer, 400, 403),
    )
    def get(self, request: Request) -> Response:
        given = _query(api.ResponseRatesQuerySerializer, request)
        # A breakdown by recruiter counts only the seats the user may see one by one: a
        # recruiter gets their own row, never a teammate's (SPEC "Clarifications").
        inmails = analytics.breakdown_inmails(
            request.user,
            given["group_by"],
            **_analytics_scope(request, given),
            start=given.get("from"),
            end=given.get("to"),
        )
        rows = analytics.response_rates(inmails, group_by=given["group_by"])
        return Response(api.ResponseRatesSerializer({"rows": rows}).data)


class CreditFlows(_Documented, APIView):
    @extend_schema(
        parameters=[api.AnalyticsScopeQuerySerializer],
        responses=_answers(api.CreditFlowsSerializer, 400, 403),
    )
    def get(self, request: Request) -> Response:
        given = _query(api.AnalyticsScopeQuerySerializer, request)
        start: date | None = given.get("from")
        end: date | None = given.get("to")
        flows = analytics.credit_flows(
            request.user, **_analytics_scope(request, given), start=start, end=end
        )
        return Response(api.CreditFlowsSerializer(flows).data)


# --------------------------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------------------------


class AuditList(_Documented, generics.GenericAPIView[AuditEvent]):
    """Every change outside the ledger, newest first (admins only)."""

    serializer_class = api.AuditEventSerializer

    @extend_schema(
        parameters=[api.AuditQuerySerializer],
        responses={**_answers(api.AuditEventSerializer(many=True), 400, 403), 404: _NO_PAGE},
    )
    def get(self, request: Request) -> Response:
        _require_admin(request, "read the audit trail")
        given = _query(api.AuditQuerySerializer, request)
        # A person is named by id only: one who changed nothing simply has no rows.
        events = audit_events_visible_to(
            request.user,
            seat=_known_seat(request, given["seat"]) if "seat" in given else None,
            team=_known_team(request, given["team"]) if "team" in given else None,
            actor_id=given.get("actor"),
            since=given.get("since"),
            until=given.get("until"),
        )
        page = self.paginate_queryset(events)
        assert page is not None
        return self.get_paginated_response(api.AuditEventSerializer(page, many=True).data)
