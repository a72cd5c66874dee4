"""The credit ledger: accounts, lots and immutable entries.

Design
------
Credits live in **accounts**: one per seat, and one pool per team that holds pooled seats
(R1). Every credit an account holds belongs to a **lot**: a batch with a source (grant,
refund, purchase, bonus, adjustment), the instant it was granted, the instant it expires (or
never) and how many of its credits remain. Spending takes credits out of lots in R6 order;
moving credits between a pool and a seat splits lots and keeps their expiry.

Every movement is an **entry**: one row, one lot, a signed amount, the instant it took effect
(`at`) and the account's balance after it. Entries are never edited or deleted (on PostgreSQL a
trigger refuses it); a correction is a new entry. For every lot and account these hold, and
`manage.py ledger_check` proves them:

    lot.remaining      == sum(entry.amount for the lot's entries)       >= 0
    account.balance    == sum(lot.remaining) == sum(entry.amount)      >= 0
    entry.balance_after == running sum of the account's entries ordered by (at, id)
    sum(entry.amount for a move operation's transfer or allocation entries) == 0

`Account.balance` is a cache for speed; the entries are the truth, so a balance at any past
instant is the sum of the entries up to it.

Operations. Every entry belongs to one **operation**: the one call that wrote it, with what it
did (`kind`: `inmail.send`, `pool.transfer`, ...), who (`actor`, null for the system), through
what (`via`: api, web, admin, ...) and when it took effect (`at`, its first entry's instant). A
service call's operation is inserted with its first entry, so a call that moves no credit (an
Open Profile send, a refusal, which rolls back anyway) leaves none. The entries of a move (a
transfer, a refresh's allocations) share their operation, and its move legs sum to zero.

What a call applies first because it was due (R17: expiries, refreshes, the allocations a pool
refresh pays) is not part of that call: it belongs to a `catch_up` operation of the system, one
per group of accounts and due instant, dated at that instant. So the ledger reads as what
happened and when — "the February refresh", then "Ann sent an InMail" — and it reads the same
whether the scheduled job applied the refresh on time or a send applied it late. Entries keep
their own `cause` (`expiry`, `refresh`, or the caller's `via`) for readers of single rows.

Time. Refreshes, expiries and response-window closures are *due* at known instants. An account
records how far it has been brought (`synced_until`) and when it next has something due
(`next_due_at`). Any operation on an account first applies, in time order, everything due up to
now, each entry dated at the instant it was due (R17); so entries of one account are always
appended in non-decreasing `at` order, and a late job can never make a balance wrong. At one
instant, expiries apply before refreshes.

Concurrency. Every write to an account holds that account's row lock (`SELECT ... FOR UPDATE`),
taken for all accounts involved at once in ascending id order, so two writers never deadlock and
`balance_after` is a true running balance. Constraints hold what the database can: remaining and
balances are never negative, one refund per InMail, one refresh per account and period, one
activation grant per seat, one idempotency record per key and scope, one pending InMail per seat
and recipient.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, Q
from django.db.models.functions import Length

from teams.models import Seat, Team


class AccountKind(models.TextChoices):
    SEAT = "seat", "Seat"
    POOL = "pool", "Team pool"


class AccountRefresh(models.TextChoices):
    """How an account receives monthly credits by itself."""

    BILLING_DAY = "billing_day", "Billing day"
    MONTH_START = "month_start", "1st of month"
    # Pooled seats: their monthly credits go to the pool, which refreshes instead.
    NONE = "none", "None"


class Account(models.Model):
    kind = models.CharField(max_length=8, choices=AccountKind.choices)
    seat = models.OneToOneField(
        Seat, on_delete=models.PROTECT, null=True, blank=True, related_name="account"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="accounts")
    # Refresh schedule: the first date of the schedule and how it repeats (R3).
    anchor_on = models.DateField()
    refresh = models.CharField(max_length=16, choices=AccountRefresh.choices)
    # Cached: sum of the account's entries (== sum of its lots' remaining).
    balance = models.IntegerField(default=0)
    # Everything due up to at least this instant has been applied, and no entry of the account
    # is dated after it (an account with nothing due is not rewritten just to move it on).
    synced_until = models.DateTimeField()
    # The earliest instant at which a refresh or lot expiry is due; null when nothing is.
    next_due_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_due_at"], name="account_due_idx", condition=Q(is_open=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(kind="seat") & Q(seat__isnull=False))
                | (Q(kind="pool") & Q(seat__isnull=True)),
                name="account_kind_matches_seat",
            ),
            models.UniqueConstraint(
                fields=["team"], condition=Q(kind="pool"), name="one_pool_per_team"
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.POOL:
            return f"Pool of {self.team}"
        return f"Seat #{self.seat_id}"


class LotSource(models.TextChoices):
    GRANT = "grant", "Monthly grant"
    REFUND = "refund", "Refund"
    PURCHASE = "purchase", "Purchase"
    BONUS = "bonus", "Bonus"
    ADJUSTMENT = "adjustment", "Adjustment"


# Spend order within an account (R6): soonest expiry first, then oldest; lots that never
# expire last.
SPEND_ORDER = (models.F("expires_at").asc(nulls_last=True), "granted_at", "id")


class Lot(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    source = models.CharField(max_length=16, choices=LotSource.choices)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    initial = models.PositiveIntegerField()
    remaining = models.IntegerField()
    # A lot moved between a pool and a seat keeps source, grant and expiry of its parent.
    moved_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="moved_to"
    )
    # The refund lot of an InMail: at most one per InMail.
    refund_of = models.OneToOneField(
        "InMail", on_delete=models.PROTECT, null=True, blank=True, related_name="refund_lot"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Spend order and expiry scans touch only lots with credits left, however long
            # the history is.
            models.Index(
                fields=["account", "expires_at", "granted_at", "id"],
                name="lot_spendable_idx",
                condition=Q(remaining__gt=0),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("initial")),
                name="lot_remaining_within_initial",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("granted_at")),
                name="lot_expires_after_grant",
            ),
        ]

    def __str__(self) -> str:
        return f"Lot #{self.pk} ({self.source}, {self.remaining}/{self.initial})"

    @property
    def is_capped(self) -> bool:
        """Purchased credits are outside the cap (R4); all others count towards it."""
        return self.source != LotSource.PURCHASE


class EntryKind(models.TextChoices):
    GRANT = "grant", "Grant"
    LOST_TO_CAP = "lost_to_cap", "Lost to cap"
    EXPIRY = "expiry", "Expiry"
    SPEND = "spend", "Spend"
    REFUND = "refund", "Refund"
    PURCHASE = "purchase", "Purchase"
    BONUS = "bonus", "Bonus"
    ADJUSTMENT = "adjustment", "Adjustment"
    FORFEIT = "forfeit", "Forfeit"
    ALLOCATION = "allocation", "Allocation"
    TRANSFER = "transfer", "Transfer"


# Entries that move credits between two accounts of the ledger: within one operation, they sum
# to zero.
MOVE_KINDS = (EntryKind.ALLOCATION, EntryKind.TRANSFER)


class OperationKind(models.TextChoices):
    """What the call that wrote an operation's entries did."""

    SEAT_ACTIVATE = "seat.activate", "Seat activated"
    SEAT_CANCEL = "seat.cancel", "Seat cancelled"
    SEAT_CHANGE_PLAN = "seat.change_plan", "Plan changed"
    INMAIL_SEND = "inmail.send", "InMail sent"
    INMAIL_RESPONSE = "inmail.response", "Response recorded"
    PURCHASE = "purchase", "Purchase"
    BONUS = "bonus", "Bonus"
    ADJUSTMENT = "adjustment", "Adjustment"
    POOL_TRANSFER = "pool.transfer", "Pool transfer"
    # Expiries, refreshes and allocations applied because they were due (R17).
    CATCH_UP = "catch_up", "Catch-up"


class Operation(models.Model):
    """One call that wrote entries: what it did, who did it and through what (see the top)."""

    # When it took effect: the instant of its first entry.
    at = models.DateTimeField()
    kind = models.CharField(max_length=32, choices=OperationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_operations",
    )
    via = models.CharField(max_length=32)
    memo = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["at", "id"], name="operation_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OperationKind.values), name="operation_kind_known"
            ),
            models.CheckConstraint(condition=~Q(via=""), name="operation_via_given"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} #{self.pk}"


class Entry(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    amount = models.IntegerField()
    balance_after = models.IntegerField()
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries")
    inmail = models.ForeignKey(
        "InMail", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    refresh = models.ForeignKey(
        "Refresh", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    # Who caused it: a person, or nobody for the scheduled jobs (then `cause` says which).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    cause = models.CharField(max_length=32)
    memo = models.CharField(max_length=500, blank=True)
    # The call that wrote it, with the other entries it wrote (see the top).
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="entries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["account", "at", "id"], name="entry_account_at_idx"),
            models.Index(fields=["kind", "at"], name="entry_kind_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="entry_balance_after_not_negative"
            ),
            models.UniqueConstraint(
                fields=["inmail"], condition=Q(kind="refund"), name="one_refund_entry_per_inmail"
            ),
            models.UniqueConstraint(
                fields=["inmail", "account"],
                condition=Q(kind="spend"),
                name="one_spend_entry_per_inmail",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.amount:+d}"


class EntryDay(models.Model):
    """The entries of one account on one local day (the organisation's time zone), per kind: a
    rollup of `Entry` that credit flows read instead of the entries themselves.

    Kept exact by database triggers on the entry table (migration 0017), in the statement that
    writes the entries, whatever writes them: the ORM, the spend's raw SQL, the batched
    catch-up's COPY. Never written by the application except by `flow_days_rebuild`. Its days
    are those of `EntryDayZone`'s zone; `manage.py ledger_flows_check` proves it against the
    entries.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entry_days")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    amount = models.BigIntegerField()
    entries = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "kind"], name="entry_day_account_day_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.amount:+d} ({self.entries})"


class ResponseDay(models.Model):
    """The responses of one seat's InMails on one local day (by `responded_at`, in
    `EntryDayZone`'s zone): the rollup credit flows count responses from (cost per response).

    Kept exact by database triggers on the InMail table (migration 0018), whatever writes the
    InMails (the ORM, an import's COPY); proved by `ledger_flows_check` like `EntryDay`.
    """

    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="response_days")
    day = models.DateField()
    responses = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seat", "day"], name="response_day_seat_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.responses}"


class EntryDayZone(models.Model):
    """The one row saying in which time zone `EntryDay` counts its days.

    The triggers date each entry in this zone; credit flows read the rollup only while it is
    the organisation's zone (`settings.TIME_ZONE`), and the entries otherwise, until
    `flow_days_rebuild` counts the days again in the new zone. No row: no rollup kept.
    """

    time_zone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.time_zone


class RefreshKind(models.TextChoices):
    ACTIVATION = "activation", "Activation grant"
    REFRESH = "refresh", "Monthly refresh"


class Refresh(models.Model):
    """One monthly grant to an account, with what the cap kept back (R2, R4, R14)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="refreshes")
    kind = models.CharField(max_length=16, choices=RefreshKind.choices)
    # The refresh date (org time zone) for refreshes; the activation date for activations.
    period_on = models.DateField()
    due_at = models.DateTimeField()
    # The seat whose activation this grant is (activation grants only).
    seat = models.ForeignKey(
        Seat, on_delete=models.PROTECT, null=True, blank=True, related_name="activation_grants"
    )
    monthly = models.PositiveIntegerField()
    cap = models.PositiveIntegerField()
    capped_before = models.PositiveIntegerField()
    granted = models.PositiveIntegerField()
    # Credits not granted plus capped credits trimmed above the cap.
    lost_to_cap = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="refresh_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period_on"],
                condition=Q(kind="refresh"),
                name="one_refresh_per_account_period",
            ),
            models.UniqueConstraint(
                fields=["seat"], condition=Q(kind="activation"), name="one_activation_per_seat"
            ),
            models.CheckConstraint(
                condition=Q(granted__lte=models.F("monthly")), name="refresh_grant_within_monthly"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_on}: {self.granted} of {self.monthly}"


class InMailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REPLIED = "replied", "Replied"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NO_RESPONSE = "no_response", "No response"


RESPONSE_STATUSES = (InMailStatus.ACCEPTED, InMailStatus.DECLINED, InMailStatus.REPLIED)


class PaidFrom(models.TextChoices):
    SEAT = "seat", "Seat"
    POOL = "pool", "Pool"


# The breakdowns by body and subject length (R22, the analytics' rules): body length buckets by
# characters, under the first limit, under the second, the rest; a subject of six or more
# whitespace-separated words is "long". A regular expression, not a word count, because both
# databases can match one (SQLite through Django's REGEXP) while neither can split a string.
# The rate rollups' triggers (ledger/rate_rollups.py) and the stored columns below sort by these.
BODY_LIMITS = (400, 1000)
SIX_WORDS_OR_MORE = r"^\s*\S+(\s+\S+){5}"


class InMail(models.Model):
    # No index of its own: (seat, sent_at) serves every per-seat lookup, and a bare seat index
    # tempts the planner into reading a seat's whole history.
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="inmails", db_index=False)
    recipient = models.CharField(max_length=255)
    # The recipient normalised (profile URL reduced to its member path, lower case), so the
    # same person is recognised however the URL was pasted.
    recipient_key = models.CharField(max_length=255)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=1900)
    # What the breakdowns by body and subject length group by, kept by the database with every
    # write (issue 15): the index the exact medians read (`inmail_answered_day_hours_idx`)
    # carries them, so a length breakdown's median reads that index alone, not the table.
    body_chars = models.GeneratedField(
        expression=Length("body"), output_field=models.IntegerField(), db_persist=True
    )
    subject_long = models.GeneratedField(
        expression=ExpressionWrapper(
            Q(subject__regex=SIX_WORDS_OR_MORE), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    open_profile = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=InMailStatus.choices, default=InMailStatus.PENDING
    )
    sent_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    credit_cost = models.PositiveSmallIntegerField(default=0)
    # Null (not blank) for free InMails: the API answers `paid_from: null`.
    paid_from = models.CharField(  # noqa: DJ001
        max_length=8, choices=PaidFrom.choices, null=True, blank=True
    )
    paid_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="paid_inmails"
    )
    refunded = models.BooleanField(default=False)
    # History imported from CSV counts in analytics but was never charged here.
    imported = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="logged_inmails",
    )
    # Who sent it: the seat's holder when it was sent (R19). Analytics by recruiter count it
    # here for good, whoever holds the seat later; `created_by` is whoever logged it.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sent_inmails"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # --- R22 outreach tags (issue 14 item 1): the template it was written from; its tags are
    # InMailTag rows (ledger.rules normalises both). ---
    template = models.CharField(max_length=100, blank=True, default="")
    # --- end R22 ---

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            # With what a usage limit counts (`services.usage._PAID`): a seat's paid sends in
            # its period are an index-only scan.
            models.Index(
                fields=["seat", "sent_at"],
                include=["credit_cost", "imported"],
                name="inmail_seat_sent_idx",
            ),
            # Lists newest first across many seats (an admin's or a lead's) read this in order
            # and stop at the page's end instead of sorting the whole table.
            models.Index(fields=["-sent_at", "-id"], name="inmail_recent_idx"),
            models.Index(fields=["recipient_key", "sent_at"], name="inmail_recipient_idx"),
            models.Index(
                fields=["sent_at"], name="inmail_pending_idx", condition=Q(status="pending")
            ),
            models.Index(
                fields=["seat", "sent_at"],
                name="inmail_seat_pending_idx",
                condition=Q(status="pending"),
            ),
            # The answered InMails, narrow (issue 15): the exact median hours to a response is
            # read from this alone (an index-only scan), not from the wide table.
            models.Index(
                fields=["seat"],
                include=["sender", "sent_at", "responded_at", "open_profile"],
                name="inmail_answered_idx",
                condition=Q(status__in=["accepted", "declined", "replied"]),
            ),
            # R22: the templates a team already uses (the send form's suggestions) are read
            # along this, one probe per distinct template, not from every InMail of the team.
            models.Index(
                fields=["template", "seat"],
                name="inmail_template_idx",
                condition=~Q(template=""),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["seat", "recipient_key"],
                condition=Q(status="pending"),
                name="one_pending_inmail_per_recipient",
            ),
            models.CheckConstraint(
                condition=Q(credit_cost__in=[0, 1]), name="inmail_credit_cost_valid"
            ),
            models.CheckConstraint(
                condition=(Q(credit_cost=0) & Q(paid_from__isnull=True))
                | (Q(credit_cost=1) & Q(paid_from__isnull=False)),
                name="inmail_paid_from_matches_cost",
            ),
            models.CheckConstraint(
                condition=Q(responded_at__isnull=True) | Q(responded_at__gte=models.F("sent_at")),
                name="inmail_response_after_send",
            ),
        ]

    def __str__(self) -> str:
        return f"InMail #{self.pk} to {self.recipient}"

    # --- R22 outreach tags ---
    @property
    def tag_names(self) -> list[str]:
        """Its tags, alphabetically (reads a prefetched `tags` when there is one)."""
        return sorted(row.tag for row in self.tags.all())

    # --- end R22 ---


# --- R22 outreach tags (issue 14 item 1) ---
class InMailTag(models.Model):
    """One tag on one InMail (R22): stored lower-case and trimmed, at most 10 per InMail.

    A table rather than an array so that analytics group by tag, and `?tag=` filters, with one
    join on any database."""

    inmail = models.ForeignKey(InMail, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=50)

    class Meta:
        ordering = ["inmail_id", "tag"]
        indexes = [models.Index(fields=["tag"], name="inmailtag_tag_idx")]
        constraints = [
            models.UniqueConstraint(fields=["inmail", "tag"], name="one_tag_per_inmail"),
        ]

    def __str__(self) -> str:
        return self.tag


# --- end R22 ---


class Purchase(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="purchases")
    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="purchase")
    credits = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["seat", "at"], name="purchase_seat_at_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gte=1), name="purchase_credits_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits at {self.unit_price} for seat #{self.seat_id}"


class ReconciliationStatus(models.TextChoices):
    MATCHED = "matched", "Matched"
    OPEN = "open", "Open"
    ADJUSTED = "adjusted", "Adjusted"
    DISMISSED = "dismissed", "Dismissed"


# An open reconciliation is closed by an admin in one of these two ways (R21).
RESOLUTIONS = {"adjust": ReconciliationStatus.ADJUSTED, "dismiss": ReconciliationStatus.DISMISSED}


class Reconciliation(models.Model):
    """What LinkedIn showed for a seat at an instant, beside the ledger's own figure (R21).

    `ledger_balance` is the seat's available credits (its own, and its pool's if it may draw)
    as of `observed_at`, and `difference = linkedin_balance - ledger_balance`, both kept as they
    were when recorded. No difference is `matched`; any other is `open` until an admin resolves
    it: `adjusted` by an R15 adjustment of the difference (`adjustment`, its first entry) or
    `dismissed`, with a reason either way. The constraints hold every combination.
    """

    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="reconciliations")
    observed_at = models.DateTimeField()
    linkedin_balance = models.PositiveIntegerField()
    ledger_balance = models.IntegerField()
    difference = models.IntegerField()
    status = models.CharField(max_length=16, choices=ReconciliationStatus.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconciliations_recorded",
    )
    created_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconciliations_resolved",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    adjustment = models.OneToOneField(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="reconciliation"
    )

    class Meta:
        ordering = ["-observed_at", "-id"]
        indexes = [
            models.Index(fields=["seat", "observed_at"], name="reconciliation_seat_idx"),
            models.Index(
                fields=["observed_at"], name="reconciliation_open_idx", condition=Q(status="open")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReconciliationStatus.values),
                name="reconciliation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(difference=models.F("linkedin_balance") - models.F("ledger_balance")),
                name="reconciliation_difference_is_linkedin_minus_ledger",
            ),
            models.CheckConstraint(
                condition=(Q(status="matched") & Q(difference=0))
                | (~Q(status="matched") & ~Q(difference=0)),
                name="reconciliation_matched_iff_no_difference",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["matched", "open"])
                    & Q(resolved_at__isnull=True)
                    & Q(resolved_by__isnull=True)
                    & Q(reason="")
                )
                | (
                    Q(status__in=["adjusted", "dismissed"])
                    & Q(resolved_at__isnull=False)
                    & ~Q(reason="")
                ),
                name="reconciliation_resolved_fields_match_status",
            ),
            models.CheckConstraint(
                condition=(Q(status="adjusted") & Q(adjustment__isnull=False))
                | (~Q(status="adjusted") & Q(adjustment__isnull=True)),
                name="reconciliation_adjustment_iff_adjusted",
            ),
        ]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} of seat #{self.seat_id}: {self.status}"


class IdempotencyRecord(models.Model):
    """The first answer to a write, kept so a retry with the same key replays it (R16)."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="one_idempotency_record_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class AlertKind(models.TextChoices):
    LOW_BALANCE = "low_balance", "Balance running low"
    EXPIRING = "expiring", "Credits expiring within 7 days"
    LOST_TO_CAP = "lost_to_cap", "Credits lost to the cap at the next refresh"
    POOL_LOW = "pool_low", "Team pool running low"
    QUALITY = "quality", "Response rate quality warning"
    USAGE_LIMIT = "usage_limit", "Seat near or at its usage limit"
    RECONCILE = "reconcile", "Weekly reminder to reconcile with LinkedIn"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "To send"
    SENT = "sent", "Sent"
    OFF = "off", "Not wanted"
    FAILED = "failed", "Failed"


class NotificationPreference(models.Model):
    """What a person wants to hear about, and how."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(default=True, help_text="Also send alerts by email.")
    low_balance_threshold = models.PositiveIntegerField(
        default=10, help_text="Alert when a seat's available credits fall below this."
    )
    low_balance = models.BooleanField(default=True)
    expiring = models.BooleanField(default=True)
    lost_to_cap = models.BooleanField(default=True)
    pool_low = models.BooleanField(default=True)
    quality = models.BooleanField(default=True)
    usage_limit = models.BooleanField(default=True)
    reconcile = models.BooleanField(
        default=True, help_text="A weekly reminder to compare each seat with LinkedIn."
    )

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))


class Notification(models.Model):
    """One alert for one person. Raised once per condition and period: `key` names both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    body = models.TextField()
    seat = models.ForeignKey(
        Seat, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=8, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A mail the server refused stays pending and is tried again, less often each time, until
    # a day after the alert was raised; only then is it `failed`.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(
                fields=["email_next_attempt_at"],
                name="notification_email_next_idx",
                condition=Q(email_status="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "key"], name="one_notification_per_condition_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}: {self.title}"


# --- Webhooks (R23; issue 14 item 2). Written by ledger/webhooks/ only. ---------------------


class WebhookKind(models.TextChoices):
    JSON = "json", "JSON"
    SLACK = "slack", "Slack"


class WebhookEndpoint(models.Model):
    """Where an admin wants events sent: signed JSON, or alerts as text to a Slack URL."""

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    kind = models.CharField(max_length=8, choices=WebhookKind.choices, default=WebhookKind.JSON)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} webhook {self.url}"


class WebhookEvent(models.Model):
    """The outbox: one row per event, written in the transaction of the change it announces."""

    # The id receivers dedupe on; the integer primary key orders the events (insertion order).
    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40)
    # Events of one seat are delivered in order; null is its own (unordered) stream.
    seat_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: tried until a 2xx, with backoff, for 24 hours."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    # The event's seat, copied so the next due delivery of a seat is found through one index.
    seat_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-event_id", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "seat_id", "event"], name="webhook_delivery_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to endpoint {self.endpoint_id}: {self.status}"


# --- Import jobs (issue 14 item 3): large CSV imports checked and committed by a worker ---


class ImportJobStatus(models.TextChoices):
    # The file is stored and waits for its columns to be mapped (or for the check to be asked).
    UPLOADED = "uploaded", "Uploaded"
    QUEUED = "queued", "Waiting for a worker"
    CHECKING = "checking", "Checking"
    CHECKED = "checked", "Checked: ready to import"
    COMMITTING = "committing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Not imported"


class ImportJob(models.Model):
    """A CSV file of InMail history too large to check and import within a web request.

    The file's text is kept here (not in the session) from the upload until it is imported; a
    worker checks it, then, once the person confirms, imports the rows its check kept, all or
    nothing, as the page does for small files. Status moves only forward, each step claimed by
    a conditional update so two workers never run the same step. `problems` holds the first
    problems (row, column, message) and `problems_total` how many there were; `sample` the
    first rows as read.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    name = models.CharField(max_length=255)
    content = models.TextField(blank=True)
    # The rows as the check read them (`ledger.services.imports.CheckedImport.as_json`): the
    # commit imports these without reading the file again.
    checked_rows = models.TextField(blank=True)
    digest = models.CharField(max_length=64)
    mapping = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportJobStatus.choices, default=ImportJobStatus.UPLOADED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    problems_total = models.PositiveIntegerField(default=0)
    sample = models.JSONField(default=list, blank=True)
    # Why it failed when no row is to blame (the file can't be read, the queue is down...).
    message = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importjob_user_idx")]

    def __str__(self) -> str:
        return f"Import of {self.name} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status in {
            ImportJobStatus.QUEUED,
            ImportJobStatus.CHECKING,
            ImportJobStatus.COMMITTING,
        }


# --- Response-rate rollups (issue 15) --------------------------------------------------------

# The groups a rollup row splits its InMails into (all of them; by body length; by subject
# length; Open Profile or paid) and what it counts of each: column `<group>_<measure>`. The
# rules that sort InMails into them live in ledger/rate_rollups.py.
RATE_ROLLUP_GROUPS = (
    "all",
    "body_short",
    "body_medium",
    "body_long",
    "subject_short",
    "subject_long",
    "open_profile",
    "paid",
)
RATE_ROLLUP_MEASURES = (
    "sent",
    "answered_30d",
    "accepted",
    "declined",
    "replied",
    "pending",
    "no_response",
    "withdrawn",
)


class RateRollup(models.Model):
    """The InMails of one seat, sent by one person, on one local day, counted (issue 15).

    Written only by the database's triggers on the InMail table (ledger/rate_rollups.py);
    `manage.py rates_check` recomputes them from the InMails.
    """

    seat = models.ForeignKey(
        Seat, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    for _group in RATE_ROLLUP_GROUPS:
        for _measure in RATE_ROLLUP_MEASURES:
            locals()[f"{_group}_{_measure}"] = models.IntegerField(default=0)
    del _group, _measure

    class Meta:
        db_table = "ledger_rate_rollup"
        constraints = [
            models.UniqueConstraint(fields=["seat", "sender", "day"], name="rate_rollup_key"),
        ]
        indexes = [models.Index(fields=["day"], name="rate_rollup_day_idx")]

    def __str__(self) -> str:
        return f"rollup of seat {self.seat_id}, sender {self.sender_id}, {self.day}"


# Hours to a response counted in buckets (issue 15): how many columns `ResponseHoursRollup` has;
# the buckets' limits are a rule of ledger/rate_rollups.py (HOURS_LIMITS).
RESPONSE_HOURS_BUCKETS = 80
RESPONSE_HOURS_COLUMNS = tuple(f"h{bucket:02d}" for bucket in range(RESPONSE_HOURS_BUCKETS))


class ResponseHoursRollup(models.Model):
    """The answered InMails of one seat, sent by one person in one local month, counted by
    bucket of hours to the response, for one value of one breakdown (issue 15).

    `dimension` is "all" (value ""), "body_length", "subject_length", "open_profile" (value:
    the rate rollups' group, "body_short" ...), "weekday" (value: the ISO weekday, "1" to "7")
    or "week" (value: the Monday of the local ISO week, "2026-06-01"; a week across two months
    has a row in each). Written only by the database's triggers on the InMail table
    (ledger/rate_rollups.py); `manage.py rates_check` recomputes them from the InMails.
    """

    seat = models.ForeignKey(
        Seat, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # The first day of the local month of sending.
    month = models.DateField()
    dimension = models.CharField(max_length=16)
    value = models.CharField(max_length=16, blank=True)
    for _column in RESPONSE_HOURS_COLUMNS:
        locals()[_column] = models.IntegerField(default=0)
    del _column

    class Meta:
        db_table = "ledger_response_hours"
        constraints = [
            # Dimension first: a breakdown reads one dimension's rows of many seats.
            models.UniqueConstraint(
                fields=["dimension", "seat", "sender", "month", "value"],
                name="response_hours_key",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"hours to response of seat {self.seat_id}, sender {self.sender_id}, {self.month}, "
            f"{self.dimension} {self.value}"
        )


class RateRollupZone(models.Model):
    """The one time zone the rollups' local days are in (id 1)."""

    time_zone = models.CharField(max_length=64)

    class Meta:
        db_table = "ledger_rate_rollup_zone"

    def __str__(self) -> str:
        return self.time_zone


# --- Response-rate breakdowns by hour, weekday and hour, template and tag (issue 15) ---------

# What a breakdown row's `bucket` is, by its `kind`: the local hour of sending ("09"), the ISO
# weekday and hour ("2-09"), the template ("" for none), one tag. The rules that sort InMails
# into them live in ledger/rate_breakdowns.py.
RATE_BREAKDOWN_KINDS = ("hour", "weekday_hour", "template", "tag")


class BreakdownCounts(models.Model):
    """What a breakdown row counts of the InMails of one seat, sent by one person, in one bucket
    of one breakdown (issue 15): each outcome; `settled_unanswered`, those of them that were
    neither answered nor withdrawn and were sent before the local day
    `RateBreakdownState.settled_before`; `h00`... its answered ones by bucket of hours to the
    response, as `ResponseHoursRollup` counts them, so that the exact median of a breakdown
    reads one bucket of InMails, not all of them (zero by default in the database too: the
    triggers write them only for answered InMails).

    Written only by the database's triggers on the InMail and InMail tag tables and by
    ledger/rate_breakdowns.py; `manage.py rates_check` recomputes them from the InMails.
    """

    kind = models.CharField(max_length=16)
    bucket = models.CharField(max_length=100)
    for _measure in RATE_ROLLUP_MEASURES:
        locals()[_measure] = models.IntegerField(default=0)
    del _measure
    settled_unanswered = models.IntegerField(default=0)
    for _column in RESPONSE_HOURS_COLUMNS:
        locals()[_column] = models.IntegerField(default=0, db_default=0)
    del _column

    class Meta:
        abstract = True


class RateBreakdown(BreakdownCounts):
    """`BreakdownCounts` over all time: one row per kind, seat, sender and bucket."""

    seat = models.ForeignKey(
        Seat, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        db_table = "ledger_rate_breakdown"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "seat", "sender", "bucket"], name="rate_breakdown_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.bucket!r} of seat {self.seat_id}, sender {self.sender_id}"


class RateBreakdownMonth(BreakdownCounts):
    """`BreakdownCounts` by local month of sending: one row per seat, kind, month, sender and
    bucket. A range of whole months (the pages' last 3, 6 or 12 months) reads these rather than
    counting its InMails; the all-time rows stay, so that a breakdown over all time reads one
    row per bucket, not one per month. The triggers write both from the same counts.
    """

    # No index of their own: the key's index leads with the seat.
    seat = models.ForeignKey(
        Seat, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # The first day of the local month of sending.
    month = models.DateField()

    class Meta:
        db_table = "ledger_rate_breakdown_month"
        constraints = [
            # A page reads one kind's rows of a few months of a team's seats: seat, kind and
            # month lead, so that it reads those rows and not every row of the seats.
            models.UniqueConstraint(
                fields=["seat", "kind", "month", "sender", "bucket"],
                name="rate_breakdown_month_key",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.bucket!r} of seat {self.seat_id}, sender {self.sender_id}, "
            f"{self.month:%Y-%m}"
        )


class RateBreakdownState(models.Model):
    """The one time zone the breakdowns' local hours and days are in, and the local day before
    which their unanswered InMails are `settled_unanswered` (id 1)."""

    time_zone = models.CharField(max_length=64)
    settled_before = models.DateField()

    class Meta:
        db_table = "ledger_rate_breakdown_state"

    def __str__(self) -> str:
        return f"{self.time_zone}, settled before {self.settled_before}"
