"""The API's token, plans, users, teams and members, and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.api import serializers as api
from ledger.api.idempotency import idempotent
from ledger.api.throttles import TokenThrottle
from ledger.api.views.common import (
    _DETAIL,
    _FIELD_ERRORS,
    _NO_PAGE,
    _actor,
    _answers,
    _Documented,
    _known_seat,
    _known_team,
    _query,
    _query_body,
    _require_admin,
    _visible_team,
    _write,
)
from teams.models import AuditEvent, Membership, Plan, Team, User
from teams.selectors import (
    audit_events_visible_to,
    plans_visible_to,
    teams_visible_to,
)
from teams.services import (
    api_token_issue,
    membership_set,
    plan_update,
    team_create,
    user_create,
)

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
        return Response({"token": api_token_issue(user=user)})


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
