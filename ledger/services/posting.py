"""Writing the ledger: operations, entries, lots, taking credits in spend order, moving credits
(R1, R6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    F,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
)
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery

from ledger import schedule
from ledger.exceptions import (
    InsufficientCredits,
    credits_text,
)
from ledger.models import (
    Account,
    Entry,
    InMail,
    Lot,
    Operation,
    Refresh,
)
from ledger.services.accounts import refresh_due_at, spendable_lots
from ledger.services.catch_up_rules import post_to
from ledger.services.locking import Cause
from ledger.services.prepared import run_bound
from ledger.webhooks import announce as webhooks  # R23


class OpenOperation:
    """The operation one service call is writing (see `ledger/models.py`).

    Every entry is posted within one, so the rule "each call's entries form one operation" lives
    here. Its row is inserted with its first entry and dated at that entry's instant: a call
    that ends up moving no credit writes no operation, and one that does pays one INSERT more.
    """

    def __init__(self, kind: str, cause: Cause, *, memo: str = "") -> None:
        self.kind = kind
        self.cause = cause
        self.memo = memo
        self.row: Operation | None = None

    def row_at(self, at: datetime) -> Operation:
        if self.row is None:
            self.row = self.unsaved_row(at)
            self.row.save()
        return self.row

    def unsaved_row(self, at: datetime) -> Operation:
        """The row `row_at` inserts, for a caller that inserts it in a statement of its own."""
        return Operation(
            at=at, kind=self.kind, actor=self.cause.actor, via=self.cause.via, memo=self.memo[:500]
        )


def _entry(
    account: Account,
    *,
    at: datetime,
    kind: str,
    amount: int,
    lot: Lot | None,
    cause: Cause,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
) -> Entry:
    """The next entry of the account, unsaved, and the account's cached balance moved with it
    (`catch_up_rules.post_to` dates it)."""
    at = post_to(account, at, amount)
    return Entry(
        account=account,
        at=at,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        lot=lot,
        inmail=inmail,
        refresh=refresh,
        actor=cause.actor,
        cause=cause.via,
        memo=memo[:500],
    )


def _post(
    account: Account,
    *,
    at: datetime,
    kind: str,
    amount: int,
    lot: Lot,
    operation: OpenOperation,
    cause: Cause | None = None,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
) -> Entry:
    """Append one entry (`_entry`) to `operation` and move the account's cached balance with it.

    The entry's own cause is the operation's unless given (the catch-up says `expiry` or
    `refresh` on each entry).
    """
    entry = _entry(
        account,
        at=at,
        kind=kind,
        amount=amount,
        lot=lot,
        cause=cause or operation.cause,
        memo=memo,
        inmail=inmail,
        refresh=refresh,
    )
    entry.operation = operation.row_at(entry.at)
    entry.save()
    webhooks.announce_entry(entry, account.seat_id)  # R23
    return entry


def _new_lot(
    account: Account,
    *,
    source: str,
    credits: int,
    granted_at: datetime,
    lifetime_days: int | None,
    kind: str,
    at: datetime,
    operation: OpenOperation,
    cause: Cause | None = None,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
    refund_of: InMail | None = None,
) -> tuple[Lot, Entry]:
    expires_at = None if lifetime_days is None else schedule.add_days(granted_at, lifetime_days)
    lot = Lot.objects.create(
        account=account,
        source=source,
        granted_at=granted_at,
        expires_at=expires_at,
        initial=credits,
        remaining=credits,
        refund_of=refund_of,
    )
    entry = _post(
        account,
        at=at,
        kind=kind,
        amount=credits,
        lot=lot,
        operation=operation,
        cause=cause,
        memo=memo,
        inmail=inmail,
        refresh=refresh,
    )
    return lot, entry


def _take(lot: Lot, credits: int) -> None:
    _take_from(lot.pk, credits)
    lot.remaining -= credits


def _take_from(lot_id: int, credits: int) -> None:
    # The account is locked, so this cannot race; the condition still makes the database,
    # not this process's view of the row, the last word on whether the credits are there.
    taken = Lot.objects.filter(pk=lot_id, remaining__gte=credits).update(
        remaining=F("remaining") - credits
    )
    if taken != 1:
        raise InsufficientCredits("The credits were taken by another operation; try again.")


def _take_many(taken: dict[int, int]) -> None:
    """`_take` for several lots by id (`{lot id: credits}`), under their accounts' locks: on
    PostgreSQL one `UPDATE … FROM unnest(…)`, elsewhere one UPDATE each. The same condition:
    every lot must still hold what is taken from it, or InsufficientCredits is raised, after
    the lots that did hold it were taken from: the caller's transaction rolls them back."""
    if not taken:
        return
    if connection.vendor != "postgresql":
        for lot_id, credits in taken.items():
            _take_from(lot_id, credits)
        return
    # Bound by the server, as the send's writes are (`run_bound`): the arrays are not quoted
    # into the statement's text in Python.
    rowcount, _ = run_bound(
        "UPDATE ledger_lot AS lot SET remaining = lot.remaining - v.taken "
        "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, taken) "
        "WHERE lot.id = v.id AND lot.remaining >= v.taken",
        [list(taken), list(taken.values())],
    )
    if rowcount != len(taken):
        raise InsufficientCredits("The credits were taken by another operation; try again.")


def _take_by_id(lot_id: int, credits: int) -> Lot:
    """`_take` for a lot known by id, in one statement that answers with the lot as it is
    after the take (UPDATE … RETURNING): the spend needs no read of the lot first."""
    qn = connection.ops.quote_name
    table = qn(Lot._meta.db_table)
    column = qn(Lot._meta.get_field("remaining").column)
    taken = list(
        Lot.objects.raw(
            # Names from the model, values as parameters.
            f"UPDATE {table} SET {column} = {column} - %s "  # noqa: S608
            f"WHERE {qn(Lot._meta.pk.column)} = %s AND {column} >= %s RETURNING *",
            [credits, lot_id, credits],
        )
    )
    if len(taken) != 1:
        raise InsufficientCredits("The credits were taken by another operation; try again.")
    return taken[0]


def _spend_from(
    account: Account,
    lot_id: int,
    credits: int,
    *,
    at: datetime,
    kind: str,
    operation: OpenOperation,
    inmail: InMail | None = None,
) -> tuple[Lot, Entry]:
    """Take `credits` from one lot the caller chose in spend order (`spendable_lots`) under
    the account's lock, and post the entry.

    An `inmail` not saved yet (a send's) is inserted here, before its entry.

    On PostgreSQL the take, the InMail (when new), the operation's row (when it is the
    operation's first entry) and the entry are one statement: data-modifying CTEs, each INSERT
    compiled by the ORM from its model; the entry's foreign keys are checked at the statement's
    end, when the rows it names are there. If the lot no longer holds the credits nothing is
    returned, and the refusal undoes the rest with the transaction.
    """
    new_inmail = inmail if inmail is not None and inmail._state.adding else None
    if connection.vendor != "postgresql" or operation.row is not None:
        if new_inmail is not None:
            _insert(new_inmail)
        lot = _take_by_id(lot_id, credits)
        entry = _post(
            account, at=at, kind=kind, amount=-credits, lot=lot, operation=operation, inmail=inmail
        )
        return lot, entry
    entry = _entry(
        account,
        at=at,
        kind=kind,
        amount=-credits,
        lot=None,
        cause=operation.cause,
        inmail=None if new_inmail is not None else inmail,
    )
    entry.lot_id = lot_id
    row = operation.unsaved_row(entry.at)
    qn = connection.ops.quote_name
    # The ids of the rows inserted by the statement's other CTEs (constant strings: no input).
    entry.operation_id = RawSQL('(SELECT "id" FROM "operation_row")', ())
    inmail_cte, inmail_id = "", ""
    inmail_params: list[Any] = []
    if new_inmail is not None:
        entry.inmail_id = RawSQL('(SELECT "id" FROM "inmail_row")', ())
        inmail_sql, inmail_params = _insert_sql(new_inmail)
        inmail_cte = f"{qn('inmail_row')} AS ({inmail_sql} RETURNING {qn('id')}), "
        inmail_id = f", (SELECT {qn('id')} FROM {qn('inmail_row')})"  # noqa: S608
    operation_sql, operation_params = _insert_sql(row)
    entry_sql, entry_params = _insert_sql(entry)
    lot_fields = Lot._meta.concrete_fields
    table = qn(Lot._meta.db_table)
    remaining = qn(Lot._meta.get_field("remaining").column)
    taken_columns = ", ".join(f"{qn('taken')}.{qn(f.column)}" for f in lot_fields)
    # Names from the models, values as parameters.
    sql = (
        f"WITH {qn('taken')} AS (UPDATE {table} SET {remaining} = {remaining} - %s "  # noqa: S608
        f"WHERE {qn('id')} = %s AND {remaining} >= %s RETURNING *), "
        f"{inmail_cte}"
        f"{qn('operation_row')} AS ({operation_sql} RETURNING {qn('id')}), "
        f"{qn('entry_row')} AS ({entry_sql} RETURNING {qn('id')}) "
        f"SELECT {taken_columns}, "
        f"(SELECT {qn('id')} FROM {qn('operation_row')}), "
        f"(SELECT {qn('id')} FROM {qn('entry_row')}){inmail_id} "
        f"FROM {qn('taken')}"
    )
    remaining_field = Lot._meta.get_field("remaining")
    lot_pk = Lot._meta.pk
    assert lot_pk is not None
    # The ORM's own types for the values of the take (psycopg's Int4, Int8), so that the
    # server-bound statement keeps one set of parameter types whatever the numbers' sizes.
    amount = remaining_field.get_db_prep_save(credits, connection)
    _, taken = run_bound(
        sql,
        [
            amount,
            lot_pk.get_db_prep_save(lot_id, connection),
            amount,
            *inmail_params,
            *operation_params,
            *entry_params,
        ],
        fetch=True,
    )
    if len(taken) != 1:
        raise InsufficientCredits("The credits were taken by another operation; try again.")
    [found] = taken
    lot = Lot.from_db(connection.alias, [f.attname for f in lot_fields], found[: len(lot_fields)])
    row.pk, entry.pk = found[len(lot_fields) : len(lot_fields) + 2]
    if new_inmail is not None:
        new_inmail.pk = found[-1]
        new_inmail._state.adding = False
        new_inmail._state.db = connection.alias
        entry.inmail = new_inmail
    row._state.adding = False
    operation.row = row
    entry._state.adding = False
    entry.operation = row
    entry.lot = lot
    webhooks.announce_entry(entry, account.seat_id)  # R23
    return lot, entry


# The INSERT statements `_insert_sql` compiled, by model and the fields holding expressions:
# the text is the same for every row of a model, only the parameters differ.
_INSERTS: dict[tuple[type[Model], str, tuple[str, ...]], str] = {}


def _insert_sql(obj: Model) -> tuple[str, list[Any]]:
    """The INSERT the ORM would run to save `obj` (its defaults and `auto_now_add` applied),
    as SQL and parameters.

    The ORM compiles the statement the first time for a model; later rows reuse its text and
    take their parameters as the ORM would (`pre_save`, `get_db_prep_save`). The first row
    checks that both ways give the same parameters, or nothing is reused.
    """
    meta = obj._meta
    # The database computes generated columns (the InMail's stored lengths): never written.
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    expressions = tuple(
        f.attname for f in fields if hasattr(getattr(obj, f.attname), "resolve_expression")
    )
    key = (type(obj), connection.vendor, expressions)
    plain = [f for f in fields if f.attname not in expressions]
    sql = _INSERTS.get(key)
    if sql is not None:
        return sql, [_db_value(f, obj, key[1]) for f in plain]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    # After the compile, `auto_now_add` values are on the object: read them, don't make new.
    same = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in plain]
    if same == list(params) and not any(hasattr(f, "get_placeholder") for f in plain):
        _INSERTS[key] = sql
    return sql, list(params)


# How the ORM writes a value of the type given to a field of these exact classes (a subclass
# may convert otherwise): `Field.pre_save` returns the attribute, and `get_db_prep_save`
# converts with str() or bool(), which give such a value back unchanged, or with int() and then
# the backend's integer wrapper (psycopg's Int2/Int4/Int8).
_TEXT = (CharField, TextField)
_INTEGER = (
    IntegerField,
    SmallIntegerField,
    BigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    PositiveBigIntegerField,
)
_Write = Callable[[Any], Any]
_WRITES: dict[tuple[Field[Any, Any], str], tuple[type, _Write] | None] = {}


def _db_value(field: Field[Any, Any], obj: Model, vendor: str) -> Any:
    """`field.get_db_prep_save(field.pre_save(obj, True))`, without the ORM's chain of calls
    where the value is a plain str, bool or int (7 % of a send's CPU went on them: ~47
    fields a send)."""
    try:
        write = _WRITES[field, vendor]
    except KeyError:
        write = _WRITES[field, vendor] = _write_of(field)
    if write is not None:
        value = getattr(obj, field.attname)
        if value is None:
            return None
        kind, convert = write
        if type(value) is kind:
            return convert(value)
    return field.get_db_prep_save(field.pre_save(obj, True), connection)


def _write_of(field: Field[Any, Any]) -> tuple[type, _Write] | None:
    ops = connection.ops  # of the vendor it is kept for; these two methods keep no state
    if isinstance(field, ForeignKey):
        # The target's own: an auto primary key is checked, not wrapped (AutoFieldMixin).
        if type(field.target_field) is BigAutoField:
            return int, ops.validate_autopk_value
        return None
    if type(field) in _TEXT:
        return str, _same
    if type(field) is BooleanField:
        return bool, _same
    if type(field) in _INTEGER:
        internal_type = field.get_internal_type()
        return int, lambda value: ops.adapt_integerfield_value(value, internal_type)
    return None


def _same(value: Any) -> Any:
    return value


def _insert(obj: Model) -> None:
    """Save a new `obj` in one INSERT, as `save()` would (no model of the ledger has signals),
    without compiling the statement again (`_insert_sql`)."""
    if connection.vendor != "postgresql":
        obj.save(force_insert=True)
        return
    sql, params = _insert_sql(obj)
    pk = obj._meta.pk
    assert pk is not None
    _, rows = run_bound(
        f"{sql} RETURNING {connection.ops.quote_name(pk.column)}", params, fetch=True
    )
    obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = connection.alias


def _take_in_order(
    account: Account,
    lots: Iterable[Lot],
    credits: int,
    *,
    at: datetime,
    kind: str,
    operation: OpenOperation,
    cause: Cause | None = None,
    memo: str = "",
    inmail: InMail | None = None,
    refresh: Refresh | None = None,
) -> list[tuple[Lot, int, Entry]]:
    """Take `credits` from `lots` in the order given; the caller checked there are enough."""
    pieces: list[tuple[Lot, int, Entry]] = []
    left = credits
    for lot in lots:
        if left == 0:
            break
        piece = min(lot.remaining, left)
        _take(lot, piece)
        entry = _post(
            account,
            at=at,
            kind=kind,
            amount=-piece,
            lot=lot,
            operation=operation,
            cause=cause,
            memo=memo,
            inmail=inmail,
            refresh=refresh,
        )
        pieces.append((lot, piece, entry))
        left -= piece
    if left:
        raise InsufficientCredits(
            f"Only {credits - left} of {credits_text(credits)} are available."
        )
    return pieces


def _move(
    source: Account,
    target: Account,
    credits: int,
    *,
    at: datetime,
    kind: str,
    operation: OpenOperation,
    cause: Cause | None = None,
    memo: str = "",
) -> None:
    """Move credits in spend order; each moved piece keeps its lot's source and expiry (R14).

    Both legs are posted in `operation`, so its move entries sum to zero.
    """
    for lot, piece, _ in _take_in_order(
        source,
        spendable_lots(source, at),
        credits,
        at=at,
        kind=kind,
        operation=operation,
        cause=cause,
        memo=memo,
    ):
        moved = Lot.objects.create(
            account=target,
            source=lot.source,
            granted_at=lot.granted_at,
            expires_at=lot.expires_at,
            initial=piece,
            remaining=piece,
            moved_from=lot,
        )
        _post(
            target,
            at=at,
            kind=kind,
            amount=piece,
            lot=moved,
            operation=operation,
            cause=cause,
            memo=memo,
        )


def _open_account(**fields: Any) -> Account:
    account = Account.objects.create(**fields)
    account.next_due_at = refresh_due_at(account)
    account.save(update_fields=["next_due_at"])
    return account
