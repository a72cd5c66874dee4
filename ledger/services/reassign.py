"""Reassigning a seat to another person, and who held a seat when (R19).

A seat changes hands whole: its account, lots, anchor day, plan, allocation, usage limit,
pending InMails and history stay with the seat, so a reassignment writes no ledger entry and
forfeits nothing. What changes is `Seat.holder` (whom every "who sees and acts on this seat"
question follows, `teams.selectors`) and the holding history: the open holding ends and the
new one starts at the same instant. InMails keep their `sender`, the holder when each was sent,
so analytics by recruiter still credit the person who sent them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ledger.exceptions import LedgerValidationError
from ledger.services.catch_up import _bring_up_to_date
from ledger.services.locking import Cause
from ledger.services.seats import _locked_seat, _require_active
from ledger.webhooks import announce as webhooks  # R23
from teams.models import Seat, SeatHolding, User
from teams.services import audit_record, membership_ensure

MEMO_MAX = 500


def seat_reassign(*, seat: Seat, holder: User, cause: Cause, memo: str = "") -> Seat:
    """Give an active seat to `holder` from now on (R19), who joins its team as a recruiter
    if not already a member; the seat keeps everything it holds.

    Refused: the current holder again or someone who can't sign in (400), a cancelled seat
    (409 `seat_inactive`).
    """
    memo = memo.strip()
    if len(memo) > MEMO_MAX:
        raise LedgerValidationError("memo", f"At most {MEMO_MAX} characters.")
    if not holder.is_active:
        raise LedgerValidationError("holder", f"{holder} can't sign in; pick someone active.")
    now = timezone.now()
    with transaction.atomic():
        # The team's lock before the accounts', the order an activation takes them in.
        try:
            membership_ensure(actor=cause.actor, team=seat.team, user=holder)
        except ValidationError as refusal:
            raise LedgerValidationError(
                "holder", " ".join(refusal.messages) or "This person can't join the team."
            ) from refusal
        # The lock every send takes: a send either finishes under the old holder (its sender)
        # or starts after the new one holds the seat, never half-way.
        seat, _, group = _locked_seat(seat)
        _require_active(seat)
        if holder.pk == seat.holder_id:
            raise LedgerValidationError("holder", f"{holder} already holds this seat.")
        # What is due is applied first, so it reads as happening under the previous holder.
        _bring_up_to_date(group, now)
        previous = seat.holder
        SeatHolding.objects.filter(seat=seat, until__isnull=True).update(until=now)
        SeatHolding.objects.create(seat=seat, holder=holder, since=now, by=cause.actor, memo=memo)
        seat.holder = holder
        seat.save(update_fields=["holder"])
        changes: dict[str, tuple[object, object]] = {"holder": (previous.pk, holder.pk)}
        if memo:
            changes["memo"] = (None, memo)
        audit_record(
            actor=cause.actor,
            action="seat.reassign",
            obj=seat,
            changes=changes,
            team=seat.team,
            seat=seat,
        )
        webhooks.announce_seat(seat)  # R23
    return seat


@dataclass(frozen=True)
class HoldingHistory:
    """Who held each of some seats, from when: to name the sender of InMails logged later
    (imported history) as the holder at the instant each was sent."""

    starts: dict[int, list[datetime]]
    holders: dict[int, list[int]]
    current: dict[int, int]

    def holder_at(self, seat_id: int, at: datetime) -> int:
        """The holder at `at`; before the first holding (history older than the seat's
        activation), its first holder; a seat without holdings, its current holder."""
        starts = self.starts.get(seat_id)
        if not starts:
            return self.current[seat_id]
        index = max(0, bisect_right(starts, at) - 1)
        return self.holders[seat_id][index]


def seat_holding_history(seat_ids: Iterable[int]) -> HoldingHistory:
    ids = set(seat_ids)
    starts: dict[int, list[datetime]] = {}
    holders: dict[int, list[int]] = {}
    for seat_id, since, holder_id in (
        SeatHolding.objects.filter(seat_id__in=ids)
        .order_by("seat_id", "since", "pk")
        .values_list("seat_id", "since", "holder_id")
    ):
        starts.setdefault(seat_id, []).append(since)
        holders.setdefault(seat_id, []).append(holder_id)
    current = dict(Seat.objects.filter(pk__in=ids).values_list("pk", "holder_id"))
    return HoldingHistory(starts=starts, holders=holders, current=current)
