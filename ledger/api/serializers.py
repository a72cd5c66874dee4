"""The API's shapes (docs/api.md): input serializers validate, output serializers render.

Serializers only check types and ranges; every rule lives in `ledger.services`, which the views
call. Relations named in a body (a seat, a team, a user) are looked up among the objects the
requesting user may see, so an invisible object reads as unknown (400), never as existing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ledger import schedule
from ledger.analytics import GROUP_BY, SeatForecast
from ledger.forms import BODY_MAX_LENGTH, RECIPIENT_MAX_LENGTH, SUBJECT_MAX_LENGTH
from ledger.models import (
    RESOLUTIONS,
    EntryKind,
    InMail,
    InMailStatus,
    LotSource,
    OperationKind,
    ReconciliationStatus,
)
from ledger.rules import TAG_MAX, TEMPLATE_MAX
from ledger.selectors import SeatBalance
from ledger.services import LINKEDIN_BALANCE_MAX, USAGE_LIMIT_MAX
from teams.models import PLAN_EDITABLE_FIELDS, AuditEvent, Plan, Role, Seat, SeatStatus, Team, User

# Large enough for any real seat, small enough that no arithmetic overflows a database integer.
MAX_CREDITS = 1_000_000

# Ids are 64-bit in every supported database; a larger number is simply unknown.
MAX_ID = 2**63 - 1

OUTCOMES = [InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED]

# Dates the ledger reasons about. Earlier dates would make a seat's catch-up (R17) replay
# decades of monthly refreshes; later ones leave the range date arithmetic can reach.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE = [
    MinValueValidator(EARLIEST_DATE, message=f"Use a date from {EARLIEST_DATE} on."),
    MaxValueValidator(LATEST_DATE, message=f"Use a date up to {LATEST_DATE}."),
]


def _json_type_of(field: serializers.Field[Any, Any, Any, Any]) -> tuple[type, ...] | None:
    """The JSON types a body field accepts (None: whatever the field itself accepts)."""
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return (int,)
    if isinstance(
        field,
        serializers.CharField
        | serializers.ChoiceField
        | serializers.SlugRelatedField
        | serializers.DateField
        | serializers.DateTimeField
        | serializers.DecimalField,
    ):
        return (str,)
    return None


# A JSON body read as its schema says: each field takes only its JSON type (not `"5"` for 5,
# nor `1` for `true`: DRF would coerce both), and a field the endpoint doesn't take, or may not
# change, is an error rather than silently ignored (a misspelt `open_profil` must not charge a
# credit). A comment, not a docstring: the OpenAPI document would show it on every body.
class StrictInput(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors: dict[str, list[str]] = {}
            for name, value in data.items():
                field = self.fields.get(name)
                if field is None or field.read_only:
                    errors[str(name)] = ["This field is unknown or can't be set."]
                    continue
                types = _json_type_of(field)
                wrong_bool = bool not in (types or ()) and isinstance(value, bool)
                if value is not None and types and (wrong_bool or not isinstance(value, types)):
                    expected = {bool: "true or false", int: "an integer", str: "a string"}
                    errors[name] = [f"Expected {expected[types[0]]}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# --------------------------------------------------------------------------------------------
# Auth and people
# --------------------------------------------------------------------------------------------


class TokenRequestSerializer(StrictInput):
    # Taken as typed: a username of blanks is a wrong username (400), like any other.
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()


class UserSerializer(StrictInput, serializers.ModelSerializer[User]):
    is_admin = serializers.BooleanField(source="is_staff", default=False)
    password = serializers.CharField(
        write_only=True, max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = ["id", "username", "password", "email", "is_admin"]
        # The length and type come from the model; the username's rules (its characters, one
        # per person in any case) and the password's are `teams.services.user_create`'s.
        extra_kwargs = {"email": {"required": False}, "username": {"validators": []}}


# --------------------------------------------------------------------------------------------
# Plans and teams
# --------------------------------------------------------------------------------------------


class PlanSerializer(StrictInput, serializers.ModelSerializer[Plan]):
    class Meta:
        model = Plan
        fields = ["code", *PLAN_EDITABLE_FIELDS]
        read_only_fields = ["code"]
        # The same bound on every database (the model's integer range differs between SQLite
        # and PostgreSQL), and the served schema states it.
        extra_kwargs = {
            name: {"max_value": MAX_CREDITS}
            for name in (
                "monthly_credits",
                "max_balance",
                "monthly_purchase_limit",
                "monthly_send_limit",
            )
        }


class TeamSerializer(StrictInput, serializers.ModelSerializer[Team]):
    share_usage = serializers.BooleanField(default=True)

    class Meta:
        model = Team
        fields = ["id", "name", "share_usage"]
        # A name taken in any case is `teams.services.team_create`'s refusal, not a validator's.
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}}


class MembershipRequestSerializer(StrictInput):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipSerializer(serializers.Serializer[Any]):
    user = serializers.IntegerField(source="user_id")
    team = serializers.IntegerField(source="team_id")
    role = serializers.ChoiceField(choices=Role.choices)


# --------------------------------------------------------------------------------------------
# Seats
# --------------------------------------------------------------------------------------------


class SeatSerializer(serializers.Serializer[Any]):
    """A seat as listed: the view passes each seat's `SeatBalance` in the context."""

    id = serializers.IntegerField()
    holder = serializers.IntegerField(source="holder_id")
    team = serializers.IntegerField(source="team_id")
    plan = serializers.CharField(source="plan.code")
    status = serializers.ChoiceField(choices=SeatStatus.choices)
    activated_on = serializers.DateField()
    anchor_day = serializers.IntegerField()
    next_refresh_on = serializers.SerializerMethodField()
    pool_access = serializers.BooleanField()
    monthly_allocation = serializers.IntegerField(allow_null=True)
    monthly_usage_limit = serializers.IntegerField(
        allow_null=True,
        help_text="R20: paid InMails the seat may send per usage period; null for no limit.",
    )
    balance = serializers.SerializerMethodField()

    def _balance(self, seat: Seat) -> SeatBalance:
        balance: SeatBalance = self.context["balances"][seat.pk]
        return balance

    # None for a cancelled seat, which refreshes no more.
    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_refresh_on(self, seat: Seat) -> str | None:
        on = self._balance(seat).next_refresh_on
        return None if on is None else on.isoformat()

    def get_balance(self, seat: Seat) -> int:
        return self._balance(seat).own


class HoldingSerializer(serializers.Serializer[Any]):
    holder = serializers.IntegerField(source="holder_id")
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True, help_text="Null for the current holding.")
    by = serializers.IntegerField(
        source="by_id", allow_null=True, help_text="Who activated or reassigned the seat."
    )
    memo = serializers.CharField()


class SeatDetailSerializer(SeatSerializer):
    """A seat with its holding history, oldest first (R19)."""

    holdings = HoldingSerializer(many=True, source="holdings.all")


class ReassignRequestSerializer(StrictInput):
    holder = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text="The user id of the new holder."
    )
    memo = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SeatQuerySerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=SeatStatus.choices, required=False)


class SeatCreateSerializer(StrictInput):
    holder = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())
    activated_on = serializers.DateField(required=False, allow_null=True, validators=DATE_RANGE)
    pool_access = serializers.BooleanField(required=False, allow_null=True, default=None)
    monthly_allocation = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_CREDITS
    )


class SeatSettingsSerializer(StrictInput):
    pool_access = serializers.BooleanField(required=False)
    monthly_allocation = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_CREDITS
    )
    monthly_usage_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=USAGE_LIMIT_MAX
    )


class ChangePlanSerializer(StrictInput):
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())


class LotSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    # The API's field names are fixed (docs/api.md), even where they shadow a DRF Field attribute.
    source = serializers.ChoiceField(choices=LotSource.choices)  # type: ignore[assignment]
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    remaining = serializers.IntegerField()


class AsOfQuerySerializer(serializers.Serializer[Any]):
    as_of = serializers.DateTimeField(required=False)


class SeatBalanceSerializer(serializers.Serializer[Any]):
    seat = serializers.IntegerField(source="seat.pk")
    as_of = serializers.DateTimeField()
    own = serializers.IntegerField()
    pool_available = serializers.IntegerField()
    available = serializers.IntegerField()
    lots = LotSerializer(many=True)
    next_refresh_on = serializers.DateField(allow_null=True)
    next_refresh_credits = serializers.IntegerField()
    expiring_7d = serializers.IntegerField()
    expiring_30d = serializers.IntegerField()
    lost_to_cap_next_refresh = serializers.IntegerField()
    # R20, for the usage period containing `as_of`.
    usage_this_period = serializers.IntegerField(
        source="usage.used", help_text="Paid InMails sent in the usage period."
    )
    usage_limit = serializers.IntegerField(
        source="usage.limit", allow_null=True, help_text="The seat's usage limit; null for none."
    )
    usage_period_start = serializers.DateTimeField(source="usage.period_start")
    # --- run-out forecast (issue 12 item 2, issue 13): the view passes `forecast` ---
    run_out_on = serializers.SerializerMethodField(
        help_text="The day the seat's own credits are forecast to run out; null: not within a "
        "year, no paid send of its own in 30 days, or a cancelled seat."
    )
    pool_run_out_on = serializers.SerializerMethodField(
        help_text="The day the team pool it may draw on is forecast to run out; null: not "
        "within a year, nobody spending from it, or no pool access."
    )

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_run_out_on(self, balance: SeatBalance) -> date | None:
        forecast: SeatForecast = self.context["forecast"]
        return forecast.run_out_on

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_pool_run_out_on(self, balance: SeatBalance) -> date | None:
        forecast: SeatForecast = self.context["forecast"]
        return forecast.pool_run_out_on

    # --- end run-out forecast ---


class EntryQuerySerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["`until` is before `since`."]})
        return attrs


class EntryOperationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=OperationKind.choices)


class EntrySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    amount = serializers.IntegerField(help_text="Signed: credits in are positive.")
    balance_after = serializers.IntegerField()
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    inmail = serializers.IntegerField(source="inmail_id", allow_null=True)
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    cause = serializers.CharField()
    memo = serializers.CharField()
    operation = EntryOperationSerializer(
        help_text=(
            "The call that wrote this entry, shared by every entry it wrote (both legs of a "
            "transfer). `catch_up` is the system applying refreshes, expiries and allocations "
            "that were due."
        )
    )


class AdjustmentEntrySerializer(EntrySerializer):
    """An adjustment: one entry, or for a removal spread over lots, their sum and the parts."""

    parts = EntrySerializer(many=True)


class PurchaseRequestSerializer(StrictInput):
    credits = serializers.IntegerField(min_value=1, max_value=MAX_CREDITS)


class PurchaseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    seat = serializers.IntegerField(source="seat_id")
    credits = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    at = serializers.DateTimeField()


class BonusRequestSerializer(StrictInput):
    credits = serializers.IntegerField(min_value=1, max_value=MAX_CREDITS)
    memo = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AdjustmentRequestSerializer(StrictInput):
    credits = serializers.IntegerField(min_value=-MAX_CREDITS, max_value=MAX_CREDITS)
    reason = serializers.CharField(max_length=500)

    def validate_credits(self, credits: int) -> int:
        if credits == 0:
            raise serializers.ValidationError("An adjustment can't be zero.")
        return credits


# --------------------------------------------------------------------------------------------
# Reconciliations with LinkedIn (R21)
# --------------------------------------------------------------------------------------------


class ReconciliationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    seat = serializers.IntegerField(source="seat_id")
    observed_at = serializers.DateTimeField()
    linkedin_balance = serializers.IntegerField(min_value=0)
    ledger_balance = serializers.IntegerField(
        help_text="The seat's available credits (own, and pool if it may draw) at observed_at."
    )
    difference = serializers.IntegerField(help_text="linkedin_balance − ledger_balance.")
    status = serializers.ChoiceField(choices=ReconciliationStatus.choices)
    resolved_by = serializers.IntegerField(source="resolved_by_id", allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    adjustment = serializers.IntegerField(
        source="adjustment_id", allow_null=True, help_text="The adjustment entry's id, if any."
    )
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ReconciliationRequestSerializer(StrictInput):
    linkedin_balance = serializers.IntegerField(
        min_value=0, max_value=LINKEDIN_BALANCE_MAX, help_text="The credits LinkedIn shows."
    )
    observed_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When LinkedIn showed it: not in the future, not before the activation.",
    )


class ReconciliationQuerySerializer(serializers.Serializer[Any]):
    seat = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=ReconciliationStatus.choices, required=False)


class ResolveRequestSerializer(StrictInput):
    action = serializers.ChoiceField(choices=list(RESOLUTIONS))
    reason = serializers.CharField(max_length=500)


# --------------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------------


class PoolSeatSerializer(serializers.Serializer[Any]):
    seat = serializers.IntegerField(source="seat.pk")
    monthly_allocation = serializers.IntegerField(allow_null=True)
    own = serializers.IntegerField()


class PoolSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(source="team.pk")
    as_of = serializers.DateTimeField()
    available = serializers.IntegerField()
    cap = serializers.IntegerField()
    lots = LotSerializer(many=True)
    seats = PoolSeatSerializer(many=True)
    next_refresh_on = serializers.DateField(allow_null=True)
    next_refresh_credits = serializers.IntegerField()
    lost_to_cap_next_refresh = serializers.IntegerField()


class TransferRequestSerializer(StrictInput):
    seat = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    credits = serializers.IntegerField(
        min_value=-MAX_CREDITS,
        max_value=MAX_CREDITS,
        help_text="More than 0 moves credits from the pool to the seat, less than 0 back.",
    )

    def validate_credits(self, credits: int) -> int:
        if credits == 0:
            raise serializers.ValidationError("Move at least one credit.")
        return credits


class TransferSerializer(serializers.Serializer[Any]):
    pool_available = serializers.IntegerField()
    seat_own = serializers.IntegerField()


# --------------------------------------------------------------------------------------------
# InMails
# --------------------------------------------------------------------------------------------


class WarningSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    detail = serializers.CharField()


class SeatCreatedSerializer(SeatSerializer):
    """The answer to creating a seat: the seat, and `warnings` about it. `duplicate_seat`: the
    holder already held an active seat on this plan in this team (the seat is made all the
    same; a second seat may be intended)."""

    # A seat is created active. One choice, so the schema's enum is this answer's own and
    # doesn't collide with the seat's `status` enum (drf-spectacular names enums by field).
    status = serializers.ChoiceField(choices=[(SeatStatus.ACTIVE, SeatStatus.ACTIVE.label)])
    warnings = WarningSerializer(many=True, read_only=True)


class _BoundOnce:
    """A serializer whose fields are built and bound once per class, then shared by every
    instance of it.

    DRF builds a serializer's fields afresh for each instance (a deep copy of the declared
    fields, and for a ModelSerializer the fields it works out from the model): a fifth of the
    Python time of a send, which builds two (bench/RESULTS.md, "Send throughput"). Sharing is
    safe only for a serializer whose fields depend on nothing of the instance: no field reads
    the serializer's `context`, `partial` or `instance`, nothing changes a field after binding,
    and a method field runs on the class's first instance, so it must not read `self`
    (InMailSerializer adds its `warnings` in `to_representation`). A field is read, never
    changed, while a body is validated or an answer is formatted, so threads may share them.
    """

    _bound: ClassVar[dict[type, Any]] = {}

    @property
    def fields(self) -> Any:
        cls = type(self)
        bound = _BoundOnce._bound.get(cls)
        if bound is None:
            # DRF's own `fields` of a first instance, without going through this property.
            first = cls()
            bound = _BoundOnce._bound[cls] = serializers.Serializer.fields.func(first)  # type: ignore[attr-defined]
        return bound


class InMailSerializer(_BoundOnce, serializers.ModelSerializer[InMail]):
    seat = serializers.IntegerField(source="seat_id")
    # --- R22 outreach tags (and R19's sender) ---
    sender = serializers.IntegerField(
        source="sender_id", help_text="Who sent it: the seat's holder when it was sent (R19)."
    )
    template = serializers.CharField(help_text='The template it was written from; "" for none.')
    tags = serializers.ListField(
        child=serializers.CharField(),
        source="tag_names",
        help_text="Its tags, lower-case, alphabetically (R22).",
    )
    # --- end R22 ---
    paid_from = serializers.ChoiceField(
        choices=[("seat", "Seat"), ("pool", "Pool")], allow_null=True
    )
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = InMail
        fields = [
            "id",
            "seat",
            "recipient",
            "subject",
            "body",
            "open_profile",
            "status",
            "sent_at",
            "responded_at",
            "credit_cost",
            "paid_from",
            "refunded",
            "reminder_at",
            "sender",
            "template",
            "tags",
            "warnings",
        ]

    def get_warnings(self, inmail: InMail) -> list[dict[str, str]]:
        return []  # the fields are shared (_BoundOnce): to_representation puts in this answer's

    def to_representation(self, instance: InMail) -> Any:
        answer = super().to_representation(instance)
        answer["warnings"] = self.context.get("warnings", [])
        return answer


# --- R22 outreach tags: what a send and an edit accept (ledger.rules has the rules) ---
class _Text(serializers.CharField):
    """A string and nothing else: a list's items don't pass through StrictInput's type check,
    and DRF's CharField would read 5 as "5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _template_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEMPLATE_MAX,
        help_text="The template it was written from, up to 100 characters; blank for none.",
    )


def _tags_field() -> serializers.ListField:
    return serializers.ListField(
        child=_Text(max_length=TAG_MAX),
        required=False,
        help_text=(
            "Up to 10 tags of 1–50 characters; stored trimmed and lower-case, duplicates "
            "dropped (the limit counts after that)."
        ),
    )


class InMailTagsSerializer(StrictInput):
    """PATCH /inmails/{id}/: a new template, new tags, or both (R22)."""

    template = _template_field()
    tags = _tags_field()


# --- end R22 ---


class InMailCreateSerializer(_BoundOnce, StrictInput):
    seat = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    recipient = serializers.CharField(max_length=RECIPIENT_MAX_LENGTH)
    # Lengths count what was typed, spaces included, as LinkedIn does.
    subject = serializers.CharField(max_length=SUBJECT_MAX_LENGTH, trim_whitespace=False)
    body = serializers.CharField(max_length=BODY_MAX_LENGTH, trim_whitespace=False)
    open_profile = serializers.BooleanField(default=False)
    template = _template_field()  # R22
    tags = _tags_field()  # R22

    def validate_subject(self, subject: str) -> str:
        if not subject.strip():
            raise serializers.ValidationError("An InMail needs a subject.")
        return subject

    def validate_body(self, body: str) -> str:
        if not body.strip():
            raise serializers.ValidationError("An InMail needs a body.")
        return body


class InMailQuerySerializer(serializers.Serializer[Any]):
    seat = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=InMailStatus.choices, required=False)
    sent_after = serializers.DateTimeField(required=False)
    sent_before = serializers.DateTimeField(required=False)


class ResponseRequestSerializer(StrictInput):
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    responded_at = serializers.DateTimeField(required=False, allow_null=True)


# --------------------------------------------------------------------------------------------
# Analytics
# --------------------------------------------------------------------------------------------


class AnalyticsScopeQuerySerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    seat = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    to = serializers.DateField(required=False, validators=DATE_RANGE)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # `from` is a Python keyword, so it can't be declared as a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, validators=DATE_RANGE)
        return dict(sorted(fields.items(), key=lambda item: item[0] != "from"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("from")
        # Without `to` the period ends today (the analytics' default).
        end = attrs.get("to") or schedule.local_date(timezone.now())
        if start is not None and start > end:
            name = "to" if "to" in attrs else "from"
            raise serializers.ValidationError({name: ["The period starts after it ends."]})
        return attrs


class ResponseRatesQuerySerializer(AnalyticsScopeQuerySerializer):
    group_by = serializers.ChoiceField(choices=list(GROUP_BY), default="month")


@extend_schema_field(
    {
        "oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0, "maximum": 23}],
        # R22: the row of the InMails without a template has the key null.
        "nullable": True,
        "description": (
            'The group: text ("2026-11", "Monday", a username, "2-09" for `weekday_hour`: ISO '
            "weekday, Monday 1, and hour), or for `group_by=hour` the hour itself, 0–23; for "
            "`group_by=template`, null for the InMails without a template."
        ),
    }
)
class ResponseRateKeyField(serializers.Field[Any, Any, Any, Any]):
    """A response-rate row's key: text, or an integer hour for `group_by=hour` (R22)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return value


class ResponseRateRowSerializer(serializers.Serializer[Any]):
    key = ResponseRateKeyField()
    label = serializers.CharField()  # type: ignore[assignment]
    sent = serializers.IntegerField()
    answered_30d = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    replied = serializers.IntegerField()
    pending = serializers.IntegerField()
    no_response = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    acceptance_rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    median_hours_to_response = serializers.FloatField(allow_null=True)
    # R22: the rate's base, its 95% Wilson interval, and whether the base is too small.
    eligible = serializers.IntegerField(
        min_value=0, help_text="InMails sent at least 30 days ago or answered: the rate's base."
    )
    rate_low = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="Lower end of the response rate's 95% Wilson interval; null without eligible.",
    )
    rate_high = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="Upper end of the response rate's 95% Wilson interval; null without eligible.",
    )
    small_sample = serializers.BooleanField(help_text="Fewer than 20 eligible InMails.")


class ResponseRatesSerializer(serializers.Serializer[Any]):
    rows = ResponseRateRowSerializer(many=True)


class CreditFlowsSerializer(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()
    granted = serializers.IntegerField()
    spent = serializers.IntegerField()
    refunded = serializers.IntegerField()
    expired = serializers.IntegerField()
    lost_to_cap = serializers.IntegerField()
    forfeited = serializers.IntegerField()
    purchased = serializers.IntegerField()
    adjusted = serializers.IntegerField()
    bonus = serializers.IntegerField()
    utilisation = serializers.FloatField(allow_null=True)
    responses = serializers.IntegerField()
    # Wide enough for any sum of catalog prices (each below 10^8) over any period.
    cost = serializers.DecimalField(max_digits=20, decimal_places=2)
    cost_per_response = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)


# --------------------------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------------------------


class AuditQuerySerializer(serializers.Serializer[Any]):
    seat = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    actor = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Changes made by this user id."
    )
    since = serializers.DateTimeField(required=False, help_text="From this instant (inclusive).")
    until = serializers.DateTimeField(required=False, help_text="Up to this instant (inclusive).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["`until` is before `since`."]})
        return attrs


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    changes = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2),
        help_text="Each changed field: `[old, new]`.",
    )

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "action", "object_type", "object_id", "changes"]
