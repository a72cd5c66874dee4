"""The API's InMails (log, list, respond, withdraw) and analytics."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import analytics, services
from ledger.api import serializers as api
from ledger.api.idempotency import idempotent
from ledger.api.views.common import (
    _NO_PAGE,
    _answers,
    _cause,
    _Documented,
    _known_seat,
    _known_seat_id,
    _known_team,
    _query,
    _query_body,
    _write,
)
from ledger.forms import RECIPIENT_MAX_LENGTH
from ledger.models import InMail
from ledger.rules import TAG_MAX, TEMPLATE_MAX, inmail_search
from teams.selectors import (
    seats_visible_to,
    team_totals_visible_to,
)

# --------------------------------------------------------------------------------------------
# InMails
# --------------------------------------------------------------------------------------------


def _visible_inmails(request: Request) -> QuerySet[InMail]:
    return InMail.objects.filter(seat__in=seats_visible_to(request.user).values("pk"))


# The search of the 2026-11-30 additions (issue 12, item 4). Blank values search nothing, as an
# empty search box does. R22's `template` and `tag` join here; `q` learns the template in
# `ledger.rules.INMAIL_TEXT_FIELDS`.
SEARCH_TEXT_MAX_LENGTH = 200


class InMailSearchQuerySerializer(api.InMailQuerySerializer):
    recipient = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=RECIPIENT_MAX_LENGTH,
        help_text=(
            "One person, in any spelling of their profile URL or member id, matched as the "
            "duplicate check matches them (docs/rules.md, Recipients)."
        ),
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SEARCH_TEXT_MAX_LENGTH,
        help_text=(
            "Text found anywhere in the recipient, the subject or the template, case ignored; "
            "a profile URL also finds its person however they were written."
        ),
    )
    # --- R22 outreach tags ---
    template = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEMPLATE_MAX,
        help_text="InMails written from this template, case ignored.",
    )
    tag = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TAG_MAX,
        help_text="InMails carrying this tag, case ignored.",
    )
    # --- end R22 ---


class InMailListCreate(_Documented, generics.GenericAPIView[InMail]):
    serializer_class = api.InMailSerializer

    @extend_schema(
        parameters=[InMailSearchQuerySerializer],
        responses={**_answers(api.InMailSerializer(many=True), 400), 404: _NO_PAGE},
    )
    def get(self, request: Request) -> Response:
        given = _query(InMailSearchQuerySerializer, request)
        seats = seats_visible_to(request.user)
        if "seat" in given:
            seats = seats.filter(pk=_known_seat(request, given["seat"]).pk)
        if "team" in given:
            seats = seats.filter(team=_known_team(request, given["team"]))
        inmails = InMail.objects.filter(seat__in=seats.values("pk"))
        # Every InMail of some seats: counted from the breakdown rows, not one by one. Any
        # other filter given (a blank one filters nothing), whatever it is, counts the InMails.
        narrowed = any(
            str(value).strip() for name, value in given.items() if name not in ("seat", "team")
        )
        self.known_count = None if narrowed else analytics.inmails_of_seats_count(seats)
        if "status" in given:
            inmails = inmails.filter(status=given["status"])
        if "sent_after" in given:
            inmails = inmails.filter(sent_at__gte=given["sent_after"])
        if "sent_before" in given:
            inmails = inmails.filter(sent_at__lt=given["sent_before"])
        found = inmail_search(recipient=given.get("recipient"), text=given.get("q"))
        inmails = inmails.filter(found)
        # --- R22 outreach tags ---
        if given.get("template", "").strip():
            inmails = inmails.filter(template__iexact=given["template"].strip())
        if given.get("tag", "").strip():
            inmails = inmails.filter(tags__tag=given["tag"].strip().lower())
        inmails = inmails.prefetch_related("tags")
        # --- end R22 ---
        page = self.paginate_queryset(inmails.order_by("-sent_at", "-pk"))
        assert page is not None
        return self.get_paginated_response(api.InMailSerializer(page, many=True).data)

    @extend_schema(**_write(api.InMailSerializer, 409, request=api.InMailCreateSerializer))
    @idempotent
    def post(self, request: Request) -> Response:
        given = _query_body(api.InMailCreateSerializer, request)
        seat = _known_seat_id(request, given.pop("seat"))
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

    # --- R22 outreach tags: whoever may see the InMail's seat (its holder, the team's leads,
    # admins) may act on it, so may retag it ---
    @extend_schema(
        request=api.InMailTagsSerializer, responses=_answers(api.InMailSerializer, 400, 404)
    )
    def patch(self, request: Request, pk: int) -> Response:
        inmail = self.get_object()
        given = _query_body(api.InMailTagsSerializer, request)
        inmail = services.inmail_update_tags(inmail=inmail, cause=_cause(request), **given)
        return Response(api.InMailSerializer(inmail).data)

    # --- end R22 ---


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
        # recruiter gets their own row, never a teammate's (docs/rules.md, "Who uses it").
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
