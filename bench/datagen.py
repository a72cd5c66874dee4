"""The ledger's rules for generated history, and loading it: what the data generators of
bench/datagen_spend.py and bench/datagen_analytics.py share.

A generator adds rows (dicts keyed by field attname) to `Rows`, runs each account's life
through an `AccountLedger` (its lots, its balance, its events in time order) and loads the lot
with `load_rows`: COPY on PostgreSQL, executemany on SQLite, ids continuing the tables'.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Rows:
    """Rows to load, per model, as dicts keyed by field attname; ids from `next_id` (or 1)."""

    next_id: dict[Any, int] = field(default_factory=dict)
    by_model: dict[Any, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, model: Any, **values: Any) -> int:
        pk = self.next_id.get(model, 1)
        self.next_id[model] = pk + 1
        values["id"] = pk
        self.by_model[model].append(values)
        return pk

    def count(self, model: Any) -> int:
        return len(self.by_model[model])


# The operation of an entry a call wrote (catch-up entries are grouped per instant instead).
OPERATION_OF_ENTRY = {
    "grant": "seat.activate",
    "spend": "inmail.send",
    "refund": "inmail.response",
    "purchase": "purchase",
    "bonus": "bonus",
    "adjustment": "adjustment",
    "forfeit": "seat.cancel",
}


@dataclass
class SimLot:
    pk: int
    granted_at: datetime
    expires_at: datetime
    remaining: int
    row: dict[str, Any] | None  # None: a lot already in the database


def spend_order(lot: SimLot) -> tuple[datetime, datetime, int]:
    """R6: the lot that expires first, then the oldest grant, then the first created."""
    return (lot.expires_at, lot.granted_at, lot.pk)


class AccountLedger:
    """One account's simulated ledger: its lots, its balance and its events in time order.

    At one instant expiries come first (priority 0), then the refresh (1), then everything
    else (2), as R17 orders them. Nothing after `until` is queued.
    """

    def __init__(
        self,
        rows: Rows,
        schedule: Any,
        *,
        account: int,
        lifetime: int,
        until: datetime,
        cause: str,
        balance: int = 0,
        lots: Iterable[SimLot] = (),
    ) -> None:
        self.rows = rows
        self.schedule = schedule
        self.account = account
        self.lifetime = lifetime
        self.until = until
        self.cause = cause
        self.balance = balance
        self.lots = list(lots)
        self.events: list[tuple[datetime, int, int, str, Any]] = []
        self.sequence = itertools.count()
        self.catch_up: tuple[datetime, int] | None = None

    def push(self, at: datetime, priority: int, kind: str, payload: Any) -> None:
        if at <= self.until:
            heapq.heappush(self.events, (at, priority, next(self.sequence), kind, payload))

    def pop(self) -> tuple[datetime, str, Any]:
        at, _, _, kind, payload = heapq.heappop(self.events)
        return at, kind, payload

    def post(self, at: datetime, kind: str, amount: int, lot: int, **extra: Any) -> None:
        from ledger.models import Entry

        self.balance += amount
        operation = self.operation(at, kind, extra.get("cause", self.cause), extra.get("actor"))
        self.rows.add(
            Entry,
            operation_id=operation,
            account_id=self.account,
            at=at,
            kind=kind,
            amount=amount,
            balance_after=self.balance,
            lot_id=lot,
            inmail_id=extra.get("inmail"),
            refresh_id=extra.get("refresh"),
            actor_id=extra.get("actor"),
            cause=extra.get("cause", self.cause),
            memo=extra.get("memo", ""),
            created_at=at,
        )

    def operation(self, at: datetime, kind: str, cause: str, actor: int | None) -> int:
        """The operation an entry belongs to, as the services group them: what one instant's
        catch-up applies to an account is one operation; every other entry is a call of its own.
        """
        from ledger.models import Operation, OperationKind

        operation_kind: str
        if cause in ("refresh", "expiry") or kind in ("expiry", "lost_to_cap"):
            operation_kind = OperationKind.CATCH_UP
            if self.catch_up is not None and self.catch_up[0] == at:
                return self.catch_up[1]
        else:
            operation_kind = OPERATION_OF_ENTRY.get(kind, OperationKind.ADJUSTMENT)
        pk = self.rows.add(
            Operation,
            at=at,
            kind=operation_kind,
            actor_id=actor,
            via="system" if operation_kind == OperationKind.CATCH_UP else "bench",
            memo="",
            created_at=at,
        )
        if operation_kind == OperationKind.CATCH_UP:
            self.catch_up = (at, pk)
        return pk

    def new_lot(
        self, at: datetime, credits: int, source: str, refund_of: int | None = None
    ) -> SimLot:
        """A lot granted at `at`, its expiry queued."""
        from ledger.models import Lot

        expires_at = self.schedule.add_days(at, self.lifetime)
        pk = self.rows.add(
            Lot,
            account_id=self.account,
            source=source,
            granted_at=at,
            expires_at=expires_at,
            initial=credits,
            remaining=credits,
            moved_from_id=None,
            refund_of_id=refund_of,
            created_at=at,
        )
        lot = SimLot(pk, at, expires_at, credits, self.rows.by_model[Lot][-1])
        self.lots.append(lot)
        self.push(expires_at, 0, "expiry", lot)
        return lot

    def take(self, lot: SimLot, credits: int) -> None:
        lot.remaining -= credits
        if lot.row is not None:
            lot.row["remaining"] = lot.remaining

    def expire(self, at: datetime, lot: SimLot, memo: Callable[[int], str] | None = None) -> None:
        """What remains of `lot` expires (an entry only if something remains)."""
        if lot.remaining:
            credits = lot.remaining
            self.take(lot, credits)
            self.post(
                at, "expiry", -credits, lot.pk, cause="expiry", memo=memo(credits) if memo else ""
            )

    def lose_to_cap(self, at: datetime, excess: int, refresh: int) -> None:
        """The credits over the cap at a refresh, from the lots in R6 order."""
        for lot in sorted(self.lots, key=spend_order):
            if excess <= 0:
                break
            piece = min(lot.remaining, excess)
            if piece:
                self.take(lot, piece)
                self.post(at, "lost_to_cap", -piece, lot.pk, refresh=refresh, cause="refresh")
                excess -= piece

    def first_to_spend(self, at: datetime) -> SimLot | None:
        """The lot a spend at `at` takes its credit from (R6), None without credit."""
        spendable = [lot for lot in self.lots if lot.remaining and lot.expires_at > at]
        return min(spendable, key=spend_order) if spendable else None

    def expiries(self) -> list[datetime]:
        """When each lot with credit left expires."""
        return [lot.expires_at for lot in self.lots if lot.remaining]


def load_rows(
    rows: Rows, order: list[Any], *, line: str, then: Callable[[], None] | None = None
) -> None:
    """Load every model's rows in `order` in one transaction (COPY on PostgreSQL, executemany
    on SQLite), printing `line` for each table; run `then`, move the id sequences on; ANALYZE.
    """
    from django.core.management.color import no_style
    from django.db import connection, transaction

    with transaction.atomic():
        for model in order:
            records = rows.by_model[model]
            if not records:
                continue
            # Generated columns (the InMail's stored lengths) are the database's to compute.
            fields = [f for f in model._meta.concrete_fields if not f.generated]
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            table = connection.ops.quote_name(model._meta.db_table)
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                with (
                    connection.cursor() as cursor,
                    cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for record in records:
                        copy.write_row([record[f.attname] for f in fields])
            else:
                marks = ", ".join("?" for _ in fields)
                # Table and column names come from the models, not from input.
                connection.connection.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                    (
                        [f.get_db_prep_value(record[f.attname], connection) for f in fields]
                        for record in records
                    ),
                )
            seconds = time.perf_counter() - started
            print(
                line.format(rows=len(records), table=model._meta.db_table, seconds=seconds),
                flush=True,
            )
        if then is not None:
            then()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), order):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
