"""What every API view shares: documented answers, scoped lookups, the JSON 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request

from ledger import services
from ledger.api import serializers as api
from ledger.api.idempotency import HEADER, KEY_PATTERN
from ledger.api.schema import LedgerAutoSchema
from ledger.selectors import seats_overview
from ledger.services.prepared import Prepared
from teams.models import Seat, Team, User
from teams.selectors import (
    seats_visible_to,
    seats_visible_to_member,
    teams_visible_to,
    user_is_admin,
)

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
    description="A ledger rule said no; `code` is one of docs/api.md's 409 codes.",
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
        raise _unknown_seat()
    return seat


def _unknown_seat() -> ValidationError:
    return ValidationError({"seat": ["Unknown seat."]})


def _visible_seat_ids(*, admin: bool, user_id: int | None = None, seat_id: int) -> Any:
    seats = Seat.objects.filter(pk=seat_id)
    if not admin:
        assert user_id is not None
        seats = seats_visible_to_member(seats, user_id)
    return seats.values_list("pk")


# Compiled once per process (`Prepared`): a send checks its seat on every request.
_VISIBLE_SEAT = Prepared(_visible_seat_ids)


def _known_seat_id(request: Request, pk: int) -> int:
    """`_known_seat` when only the seat's id is needed (the service reads the seat itself
    under its lock): the same rule, `teams.selectors.seats_visible_to`, in one cheap read."""
    user = request.user
    if not (user.is_authenticated and user.is_active):
        raise _unknown_seat()
    if user_is_admin(user):
        found = _VISIBLE_SEAT.rows({"admin": True}, seat_id=pk)
    else:
        found = _VISIBLE_SEAT.rows({"admin": False}, user_id=user.pk, seat_id=pk)
    if not found:
        raise _unknown_seat()
    return pk


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


def _seat_detail_answer(seat: Seat) -> Any:
    """A seat with its holding history (R19): GET /seats/{id}/ and the writes answering it."""
    seat = Seat.objects.select_related("plan", "team", "holder").get(pk=seat.pk)
    context = {"balances": seats_overview([seat]).by_seat()}
    return api.SeatDetailSerializer(seat, context=context).data


class _Documented:
    """Every view's OpenAPI description comes from `LedgerAutoSchema`."""

    schema = LedgerAutoSchema()


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the API: a JSON 404 like the API's own, never an HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)
