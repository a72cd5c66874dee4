"""Querysets built and compiled once per process, their values bound on each call.

The ORM builds and compiles a queryset on every call: for the one read of a send, with its
eight subqueries, that took a third of the request's CPU time (bench/RESULTS.md, "Send
throughput"). A `Prepared` read is built by the same queryset functions the rest of the ledger
uses, so its conditions stay where the rules are, but only once per shape: it is compiled with
stand-in values, the positions where each stand-in lands among the statement's parameters are
remembered, and a call binds its own values there and runs the remembered SQL.

Only values that reach the driver as they went in, or as the backend's adapter for their type
makes them, can be bound this way: ids, text, and instants and days (which PostgreSQL takes as
they are and SQLite as the text `adapt_datetimefield_value` / `adapt_datefield_value` write, so
a call's instants and days are adapted the same way before they are bound). If a stand-in does
not come out as either — `seat_id + 1`, or an instant reaching a SQLite statement unadapted,
which would compare in another text form — the shape is not prepared and every call builds its
queryset as usual: slower, never different.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)

_FIRST_STAND_IN = 1_900_000_000
_STAND_IN_INSTANT = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


def _stand_in(index: int, value: Any) -> Any:
    """A value of `value`'s type that nothing else in a statement can equal."""
    if isinstance(value, bool):
        raise TypeError("A bool is part of a read's shape, not one of its values.")
    if isinstance(value, int):
        return _FIRST_STAND_IN + index
    if isinstance(value, str):
        return f"\x1fprepared value {index}\x1f"
    if isinstance(value, datetime):
        return _STAND_IN_INSTANT + timedelta(seconds=index)
    if isinstance(value, date):
        return date(1901, 2, 3) + timedelta(days=index)
    raise TypeError(f"A {type(value).__name__} can't be bound to a prepared read.")


def _adapter(connection: Any, value: Any) -> Callable[[Any], Any] | None:
    """What the backend does to a value of this type on its way to a statement's parameters,
    as a field's `get_db_prep_value` does (None: nothing)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value  # type: ignore[no-any-return]
    return None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per parameter of the statement: the name of the value it binds, or None for a constant
    # compiled into the queryset (kept in `constants`).
    names: tuple[str | None, ...]
    constants: tuple[Any, ...]
    # By name, the backend's adapter a call's value goes through before it is bound.
    adapters: dict[str, Callable[[Any], Any]]
    compiler: SQLCompiler
    # What turning a row into values and models takes, worked out once (Django works it out
    # for every query): the columns' converters, and the select_related populators.
    converters: dict[int, tuple[list[Any], Any]]
    populators: list[Any]


class Prepared(Generic[M]):
    """`build(**shape, **values)` returns the queryset; `Prepared(build).rows(shape, **values)`
    runs it.

    `shape` holds the arguments that change the statement's text (a None that removes a
    subquery, a flag): each shape is compiled once, and they are passed to `build` as they
    are. The values (ids, text, instants) are bound by name on each call.
    """

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self._build = build
        self._compiled: dict[tuple[str, Hashable], _Compiled | None] = {}
        self._lock = threading.Lock()

    def rows(self, shape: dict[str, Hashable], **values: Any) -> list[Any]:
        key = (DEFAULT_DB_ALIAS, tuple(sorted(shape.items())))
        if key not in self._compiled:
            with self._lock:
                if key not in self._compiled:
                    self._compiled[key] = self._compile(DEFAULT_DB_ALIAS, shape, values)
        compiled = self._compiled[key]
        if compiled is None:
            return list(self._build(**shape, **values))
        for name, adapt in compiled.adapters.items():
            values[name] = adapt(values[name])
        params = [
            compiled.constants[i] if name is None else values[name]
            for i, name in enumerate(compiled.names)
        ]
        _, found = run_bound(compiled.sql, params, fetch=True)
        rows = _converted(compiled, found)
        if compiled.compiler.klass_info is None:  # values_list(): tuples, converted
            return rows
        return _models(compiled, rows, DEFAULT_DB_ALIAS)

    def _compile(
        self, db: str, shape: dict[str, Hashable], values: dict[str, Any]
    ) -> _Compiled | None:
        stand_ins = {name: _stand_in(i, value) for i, (name, value) in enumerate(values.items())}
        queryset = self._build(**shape, **stand_ins)
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        # The adapters that change a value (on PostgreSQL none: a send binds as before).
        adapters = {
            name: adapt
            for name, s in stand_ins.items()
            if (adapt := _adapter(compiler.connection, s)) is not None and adapt(s) != s
        }
        # Each stand-in as the backend passes it on (on PostgreSQL, the stand-in itself).
        adapted = {
            name: adapters[name](s) if name in adapters else s for name, s in stand_ins.items()
        }
        names: list[str | None] = []
        constants: list[Any] = []
        found: set[str] = set()
        for param in params:
            name = next(
                (n for n, a in adapted.items() if type(param) is type(a) and param == a), None
            )
            if name is None and any(
                type(param) is type(s) and param == s for s in stand_ins.values()
            ):
                return None  # a stand-in the backend did not adapt: another form than a call's
            names.append(name)
            constants.append(None if name is not None else param)
            if name is not None:
                found.add(name)
        text = str(sql)
        leaked = any(str(a) in text for a in adapted.values() if not isinstance(a, datetime))
        if found != set(stand_ins) or leaked:
            return None
        columns = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(columns):
            return None
        converters = compiler.get_converters(columns)
        klass_info = compiler.klass_info
        populators = (
            [] if klass_info is None else get_related_populators(klass_info, compiler.select, db)
        )
        return _Compiled(
            str(sql),
            tuple(names),
            tuple(constants),
            adapters,
            compiler,
            converters,
            populators,
        )


#: Runs of a prepared read before its text changes for the first time (`_planned_again`).
FIRST_REPLAN = 64


def _planned_again(sql: str, runs: int) -> str:
    """The read's text for its `runs`-th run in this process: the same statement, with a
    comment that changes after 64, 128, 256, … runs (14 times in its first million).

    PostgreSQL keeps one generic plan per prepared statement and connection, made with the
    table sizes it knew at the time. A worker that starts on new tables (a new deployment, a
    benchmark's fresh database, the demo's build) plans a send's read while `ledger_inmail` is
    empty, by sequential scans, and keeps that plan as the table grows; only an ANALYZE
    replaces it, and this machine's PostgreSQL runs no autovacuum. A new text is a new
    prepared statement, planned with the sizes of the moment (psycopg drops the oldest past
    its `prepared_max`). The statement is planned again each time its runs double, so the
    cost of planning falls per run as the process lives on.
    """
    generation = (runs // FIRST_REPLAN).bit_length()
    return sql if generation == 0 else f"{sql} /* plan {generation} */"


def _cursor(connection: Any) -> Any:
    """Django's cursor for a prepared read or a bound write (`run_bound`, `update_rows`); on
    PostgreSQL one whose values the server binds, so that psycopg keeps the statement prepared
    on the connection once it has run `prepare_threshold` times (settings.py): PostgreSQL plans
    it once per connection instead of on every call. Still Django's cursor wrapper, so the
    statement is logged and counted."""
    threshold = connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold")
    if connection.vendor != "postgresql" or threshold is None:
        return connection.cursor()
    # As Django's own `cursor()`: a connection that failed its health check is replaced first.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)
        if connection.queries_logged:
            connection.validate_thread_sharing()
            return _BoundDebugCursor(cursor, connection)
        return connection._prepare_cursor(cursor)


class _BoundDebugCursor(CursorDebugWrapper):
    """Django's debug cursor (DEBUG, or a test capturing queries), logging each statement as
    the code wrote it: Django logs the text psycopg last sent, and psycopg keeps none once it
    runs the statement as a prepared one (`connection.queries` would hold None)."""

    @contextmanager
    def debug_sql(
        self,
        sql: Any = None,
        params: Any = None,
        use_last_executed_query: bool = False,
        many: bool = False,
    ) -> Iterator[None]:
        with super().debug_sql(sql, params, use_last_executed_query=False, many=many):
            yield


# Runs of each statement `run_bound` ran in this process, by text (`_planned_again`): each
# shape of a prepared read and each write counts its own.
_BOUND_RUNS: dict[str, Iterator[int]] = {}


def run_bound(
    sql: str, params: Sequence[Any], *, fetch: bool = False
) -> tuple[int, list[tuple[Any, ...]]]:
    """Run a prepared read's statement or one of a send's writes with its values bound by the
    server (`_cursor`), so that psycopg keeps it prepared on the connection: PostgreSQL
    parses and plans the statement once per connection, not on every send (the five writes of
    a send spent 0.33 ms a send planning, by `pg_stat_statements`). Its text changes as
    `_planned_again` says. Returns the row count and, with `fetch`, the rows. Elsewhere than
    on PostgreSQL, Django's usual cursor."""
    runs = _BOUND_RUNS.get(sql)
    if runs is None:
        runs = _BOUND_RUNS.setdefault(sql, itertools.count())
    with _cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
        cursor.execute(_planned_again(sql, next(runs)), params)
        return cursor.rowcount, (cursor.fetchall() if fetch else [])


def _converted(compiled: _Compiled, found: list[tuple[Any, ...]]) -> list[Any]:
    """The rows with each column's converters applied, as `SQLCompiler.results_iter` does."""
    if not compiled.converters:
        return found
    return list(map(tuple, compiled.compiler.apply_converters(found, compiled.converters)))


def _models(compiled: _Compiled, rows: list[Any], db: str) -> list[Any]:
    """The model instances of `rows`, as `ModelIterable` makes them (select_related and
    annotations included)."""
    compiler = compiled.compiler
    select, klass_info, annotations = (
        compiler.select,
        compiler.klass_info,
        compiler.annotation_col_map,
    )
    assert klass_info is not None
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    made = []
    for row in rows:
        obj = model.from_db(db, init_list, row[start:end])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in (annotations or {}).items():
            setattr(obj, name, row[position])
        made.append(obj)
    return made


# The UPDATE statements `save_fields` wrote, by model, fields and database vendor.
_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], str] = {}


def save_fields(obj: Model, names: tuple[str, ...]) -> None:
    """`obj.save(update_fields=names)` for plain fields (no `auto_now`, no signals): the same
    UPDATE by primary key, its text written once per model and fields."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta = obj._meta
    fields = [meta.get_field(name) for name in names]
    key = (type(obj), names, connection.vendor)
    sql = _UPDATES.get(key)
    if sql is None:
        pk = meta.pk
        assert pk is not None
        quote = connection.ops.quote_name
        columns = [field.column for field in fields]  # type: ignore[union-attr]
        assignments = ", ".join(f"{quote(str(column))} = %s" for column in columns)
        sql = _UPDATES[key] = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model)
            f"WHERE {quote(pk.column)} = %s"
        )
    params = [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]  # type: ignore[union-attr]
    pk_value = meta.pk.get_db_prep_save(obj.pk, connection)
    updated, _ = run_bound(sql, [*params, pk_value])
    if updated != 1:
        raise DatabaseError(f"{meta.label} #{obj.pk} was not updated.")


def save_fields_many(objs: list[M], names: tuple[str, ...]) -> None:
    """`save_fields` for several rows of one model: on PostgreSQL one `UPDATE … FROM unnest(…)`
    (`update_rows`; a catch-up of a twenty-seat pool changes a dozen accounts), elsewhere one
    UPDATE each."""
    connection = connections[DEFAULT_DB_ALIAS]
    if len(objs) < 2 or connection.vendor != "postgresql":
        for obj in objs:
            save_fields(obj, names)
        return
    meta = objs[0]._meta
    fields = [meta.get_field(name) for name in names]
    update_rows(
        type(objs[0]),
        names,
        [obj.pk for obj in objs],
        [
            [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]  # type: ignore[union-attr]
            for field in fields
        ],
    )


def _array_element_type(field: Any, connection: Any) -> str:
    """The column's type without its modifiers: a cast to `varchar(3)` would cut a longer text
    where the assignment to the column refuses it, as `save_fields`' UPDATE does."""
    db_type = str(field.db_type(connection))
    assert "[" not in db_type, f"{field.name}: an array column can't be unnested"
    return re.sub(r"\(.*?\)", "", db_type)


def update_rows(
    model: type[Model], names: tuple[str, ...], pks: list[Any], columns: list[list[Any]]
) -> None:
    """Set `names` on the rows `pks` to the values in `columns` (one list per name, in the
    order of `pks`), in one `UPDATE … FROM unnest(…)`: PostgreSQL only. The values go to the
    driver as they are (ints, aware datetimes, booleans). Raises if a row is missing."""
    connection = connections[DEFAULT_DB_ALIAS]
    assert connection.vendor == "postgresql", "unnest(…) is PostgreSQL's"
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [pk, *(meta.get_field(name) for name in names)]
    quote = connection.ops.quote_name
    key = (model, names, "unnest")
    sql = _UPDATES.get(key)
    if sql is None:
        quoted = [quote(str(field.column)) for field in fields]  # type: ignore[union-attr]
        arrays = ", ".join(f"%s::{_array_element_type(field, connection)}[]" for field in fields)
        assignments = ", ".join(f"{column} = v.{column}" for column in quoted[1:])
        sql = _UPDATES[key] = (
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names from the model)
            f"FROM unnest({arrays}) AS v({', '.join(quoted)}) WHERE t.{quoted[0]} = v.{quoted[0]}"
        )
    # Bound by the server (`_cursor`): the arrays go to PostgreSQL as psycopg dumps them
    # (binary where their elements' type is known), not quoted element by element into the
    # statement's text in Python (a tenth of a tick's CPU at 100,000 seats, its accounts'
    # timestamps above all).
    with _cursor(connection) as cursor:
        cursor.execute(sql, [pks, *columns])
        if cursor.rowcount != len(pks):
            missing = len(pks) - cursor.rowcount
            raise DatabaseError(f"{missing} of the {meta.label} rows were not updated.")
