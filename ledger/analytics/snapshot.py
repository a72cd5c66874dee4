"""One snapshot for reads that must agree, and the questions asked once in it.

A page reads its panels in one REPEATABLE READ transaction (`one_snapshot`), so they see the
same writes. Inside it, what every read asks first (may the rollups be read, up to which day
are the breakdowns settled, was anything sent after a range's end) has one answer for the whole
snapshot: `asked_once` asks it the first time and gives that answer to the later reads, and
`rows_once` reads a statement's rows once (the scope's (seat, sender) pairs, which each of a
page's breakdowns asks for).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

T = TypeVar("T")

# The connection whose snapshot is open in this thread (or task), and the answers given in it.
_ANSWERS: ContextVar[tuple[BaseDatabaseWrapper, dict[Hashable, Any]] | None] = ContextVar(
    "snapshot_answers", default=None
)


@contextmanager
def one_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Reads in one REPEATABLE READ transaction (PostgreSQL): those of a rate read, since a
    median takes its ranks from the rollups and its values from the InMails in separate
    statements, which must see the same writes, or a response recorded in between would shift
    a rank; and a page's panels, which then agree with each other. Only for reads: a write in
    it could fail on a concurrent update. Inside a caller's transaction the reads share the
    caller's snapshot rules (and nothing is remembered: a transaction at READ COMMITTED sees
    each statement's own snapshot)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        token = _ANSWERS.set((connection, {}))
        try:
            yield
        finally:
            _ANSWERS.reset(token)


def asked_once(using: str, question: Hashable, ask: Callable[[], T]) -> T:
    """`ask()`, whose answer depends only on what the database holds and on `question` (which
    names whatever else it depends on, the organisation's zone say): inside `one_snapshot`'s
    own transaction on `using`, the first answer to `question` in it, asked once. A context
    copied to another thread has another connection there, and is asked every time."""
    open_snapshot = _ANSWERS.get()
    if open_snapshot is None or open_snapshot[0] is not connections[using]:
        return ask()
    answers = open_snapshot[1]
    if question not in answers:
        answers[question] = ask()
    answer: T = answers[question]
    return answer


def _frozen(value: Any) -> Hashable:
    """A statement's parameters as a key: lists (an `__in`'s values) as tuples."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value  # type: ignore[no-any-return]


def rows_once(queryset: QuerySet[Any, T]) -> list[T]:
    """The rows of `queryset`, read once per `one_snapshot` for the same statement and values:
    the (seat, sender) pairs of a scope, say, which every breakdown of a page asks for. Outside
    a snapshot, read every time."""
    using = queryset.db
    open_snapshot = _ANSWERS.get()
    if open_snapshot is None or open_snapshot[0] is not connections[using]:
        return list(queryset)
    sql, params = queryset.query.get_compiler(using=using).as_sql()
    return asked_once(using, ("rows", str(sql), _frozen(list(params))), lambda: list(queryset))
