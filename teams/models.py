"""People, teams, the plan catalog and seats.

A seat is one LinkedIn subscription held by one person in one team. Its credits live in the
ledger (`ledger.models.Account`); this app only says who holds what, on which plan, and who
may see it. Every number of a plan is data edited by admins, never a constant in code.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A person. Admins are `is_staff`; everything else comes from team memberships."""

    @property
    def is_admin(self) -> bool:
        # The one definition (docs/rules.md "Who uses it"); `teams.selectors.user_is_admin`
        # asks it about whoever made a request, signed in or not.
        return bool(self.is_staff and self.is_active)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    # When false, recruiters see only their own seats, not the team's totals.
    share_usage = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    RECRUITER = "recruiter", "Recruiter"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_user_team"),
            models.CheckConstraint(
                condition=models.Q(role__in=["lead", "recruiter"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.team} ({self.role})"


class PlanFamily(models.TextChoices):
    PREMIUM = "premium", "Premium"
    SALES_NAVIGATOR = "sales_navigator", "Sales Navigator"
    RECRUITER = "recruiter", "Recruiter"


class RefreshRule(models.TextChoices):
    BILLING_DAY = "billing_day", "Billing day"
    MONTH_START = "month_start", "1st of month"


class Plan(models.Model):
    """One row of the plan catalog (docs/rules.md), seeded by a data migration, editable."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    family = models.CharField(max_length=32, choices=PlanFamily.choices)
    monthly_price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    monthly_credits = models.PositiveIntegerField()
    # The cap ("max balance") of R4: grants stop once the capped balance reaches it.
    max_balance = models.PositiveIntegerField()
    refresh = models.CharField(max_length=16, choices=RefreshRule.choices)
    # Empty means granted credits never expire by age.
    credit_lifetime_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    pooled = models.BooleanField(default=False)
    purchasable = models.BooleanField(default=False)
    purchase_price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    # Empty means unlimited purchases.
    monthly_purchase_limit = models.PositiveIntegerField(null=True, blank=True)
    monthly_send_limit = models.PositiveIntegerField()

    class Meta:
        ordering = ["monthly_price", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_price__gte=0) & models.Q(purchase_price__gte=0),
                name="plan_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(refresh__in=RefreshRule.values),
                name="plan_refresh_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(credit_lifetime_days__isnull=True)
                | models.Q(credit_lifetime_days__gte=1),
                name="plan_lifetime_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Every field of a plan that admins edit, in the catalog's order; the code never changes.
PLAN_EDITABLE_FIELDS = (
    "name",
    "family",
    "monthly_price",
    "monthly_credits",
    "max_balance",
    "refresh",
    "credit_lifetime_days",
    "pooled",
    "purchasable",
    "purchase_price",
    "monthly_purchase_limit",
    "monthly_send_limit",
)


class SeatStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


class Seat(models.Model):
    """A subscription held by one person in one team.

    Seats are created, cancelled and re-planned only through `ledger.services`, which keep the
    seat and its credit account in step.
    """

    holder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="seats")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="seats")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="seats")
    status = models.CharField(max_length=16, choices=SeatStatus.choices, default=SeatStatus.ACTIVE)
    activated_on = models.DateField()
    # The billing day of month: the activation day. Months without it use their last day.
    anchor_day = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    # Whether this seat may spend from its team's pool (pooled plans only).
    pool_access = models.BooleanField(default=False)
    # Credits moved from the pool to this seat at each pool refresh (pooled plans only).
    monthly_allocation = models.PositiveIntegerField(null=True, blank=True)
    # R20: paid InMails the seat may send per usage period (it starts at each of the seat's
    # refresh instants, a pooled seat's pool's); empty means no limit of its own.
    monthly_usage_limit = models.PositiveIntegerField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # A plan change cancels this seat and activates the one it points to.
    replaced_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "holder__username", "id"]
        indexes = [models.Index(fields=["team", "status"]), models.Index(fields=["holder"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anchor_day__gte=1) & models.Q(anchor_day__lte=31),
                name="seat_anchor_day_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "cancelled"]), name="seat_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status="active", cancelled_at__isnull=True)
                | models.Q(status="cancelled", cancelled_at__isnull=False),
                name="seat_cancelled_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} · {self.plan.name} · {self.team}"

    @property
    def is_active(self) -> bool:
        return self.status == SeatStatus.ACTIVE


class SeatHolding(models.Model):
    """Who held a seat, from when until when, and who gave it to them (R19).

    The first holding starts at the seat's activation, by whoever activated it; a reassignment
    ends the current holding and starts the next at the same instant. `Seat.holder` is the
    holder of the open holding (the one without `until`); the database keeps one open holding
    per seat. Rows are written only by `ledger.services` (activation, reassignment).
    """

    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="holdings")
    holder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="seat_holdings")
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    # Who made this holding start: the admin who activated or reassigned the seat (null: the
    # system, or a seat activated before holdings were recorded by someone unknown).
    by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seat_holdings_given",
    )
    memo = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seat", "since", "id"]
        indexes = [models.Index(fields=["seat", "since"], name="seatholding_seat_since_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["seat"], condition=models.Q(until__isnull=True), name="one_open_holding"
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="holding_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} holds seat #{self.seat_id} from {self.since:%Y-%m-%d}"


class AuditEvent(models.Model):
    """Who changed what outside the ledger: plans, teams, memberships, people, seat settings.

    The ledger's own entries already say who moved which credits (`Entry.actor`); this table is
    the same for everything else (docs/rules.md, R15 and "Who uses it": admins see the audit).
    Rows are written by `teams.services.audit_record`, in the transaction of the change they
    describe, and never edited or deleted by the application. `changes` holds only the fields
    that changed, as `{field: [old, new]}`; `team` and `seat` are kept for filtering, and
    `object_type`/`object_id` still name the object should it ever be deleted.
    """

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    # "<object type>.<verb>": "plan.update", "team.create", "membership.set", "seat.update"...
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    seat = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at"], name="auditevent_at_desc")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} #{self.object_id}"


# --- issue 14 items 3 and 4 (csvmap helper): a person's own settings -------------------------


class PersonalSettings(models.Model):
    """Settings a person keeps for themself, beyond the ledger's notification preferences.

    `low_balance_thresholds`: more low-balance thresholds for their seats (whole credits; 0 means
    "ran out"), on top of `NotificationPreference.low_balance_threshold`.
    `pool_thresholds`: a lead's low-balance thresholds for the pools of the teams they lead.
    `csv_mappings`: the InMail import's column mappings saved by name, `{name: mapping}`.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="personal_settings")
    low_balance_thresholds = models.JSONField(default=list, blank=True)
    pool_thresholds = models.JSONField(default=list, blank=True)
    csv_mappings = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Personal settings of {self.user}"
