"""Pages for signed-in people. Views stay thin: a selector says what the user may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from ledger.models import Account, AccountKind
from ledger.services import accounts_bring_up_to_date
from teams.models import Seat, User
from teams.selectors import seats_visible_to


@dataclass(frozen=True)
class SeatRow:
    seat: Seat
    # Credits the seat holds itself.
    balance: int
    # What the seat may also draw from its team pool; None when it can't draw on one.
    pool: int | None


def _seat_rows(seats: QuerySet[Seat]) -> list[SeatRow]:
    """The seats with their balances as of now (SPEC R17), in a fixed number of queries.

    `ledger.selectors.seat_balance` gives one seat's full picture; a list needs only the
    balances, so this applies whatever is due on the seats' accounts and their team pools (a
    pool refresh moves allocations into pooled seats) and then reads the balances in bulk.
    Usually nothing is due and that is one indexed query.
    """
    now = timezone.now()
    team_ids = seats.values("team")
    due = list(
        Account.objects.filter(is_open=True, next_due_at__lte=now).filter(
            Q(seat__in=seats.values("pk")) | Q(kind=AccountKind.POOL, team__in=team_ids)
        )
    )
    if due:
        accounts_bring_up_to_date(due, until=now)
    pools = dict(
        Account.objects.filter(kind=AccountKind.POOL, team__in=team_ids).values_list(
            "team_id", "balance"
        )
    )
    return [
        SeatRow(
            seat=seat,
            balance=seat.account.balance,
            pool=pools.get(seat.team_id) if seat.pool_access and seat.is_active else None,
        )
        for seat in seats.select_related("account")
    ]


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required lets only a signed-in person through
    return render(request, "teams/home.html", {"rows": _seat_rows(seats_visible_to(user))})
