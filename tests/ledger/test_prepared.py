"""Reads compiled once and bound per call (`ledger.services.prepared`), and the statements a
send reuses (`posting._insert_sql`, `prepared.save_fields`, and for several rows
`save_fields_many`, `posting._take_many`): each answers exactly what the
ORM answers for the same values, on either database."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Field, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy
from time_machine import TimeMachineFixture

from ledger import schedule
from ledger.exceptions import InsufficientCredits
from ledger.models import (
    Account,
    Entry,
    EntryDay,
    EntryKind,
    IdempotencyRecord,
    InMail,
    InMailStatus,
    Lot,
    OperationKind,
)
from ledger.rate_rollups import analyze_if_filled
from ledger.rules import normalise_recipient
from ledger.services import inmails as sends
from ledger.services.flow_days import flow_days_rebuild
from ledger.services.idempotency import idempotent_call
from ledger.services.locking import Cause, _lock_seat_group, _seat_group_for_update
from ledger.services.posting import (
    _INSERTS,
    OpenOperation,
    _db_value,
    _insert_sql,
    _spend_from,
    _take_many,
)
from ledger.services.prepared import (
    FIRST_REPLAN,
    Prepared,
    _planned_again,
    run_bound,
    save_fields,
    save_fields_many,
    update_rows,
)
from teams.models import Seat
from tests.ledger.helpers import account_of, new_team, seat_on, send, utc

pytestmark = pytest.mark.django_db

RECIPIENTS = ("linkedin.com/in/jane-doe", "linkedin.com/in/john-roe", "ACwAAA1234")


def _fields(seat: Seat) -> tuple[Any, ...]:
    return (
        seat.pk,
        seat.status,
        seat.plan.code,
        seat.holder.username,
        seat._duplicate,  # type: ignore[attr-defined]
        seat._sent_this_month,  # type: ignore[attr-defined]
        seat._windows_to_close,  # type: ignore[attr-defined]
        seat._own_lot,  # type: ignore[attr-defined]
        seat._pool_lot,  # type: ignore[attr-defined]
        seat._teammate,  # type: ignore[attr-defined]
        seat._webhooks,  # type: ignore[attr-defined]
        seat._newest,  # type: ignore[attr-defined]
    )


def test_a_sends_read_answers_what_the_orm_answers_for_every_seat_recipient_and_instant(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    team = new_team()
    own = seat_on("recruiter_lite", team=team)
    pooled = seat_on("recruiter_corporate", team=team, pool_access=True)
    other = seat_on("recruiter_corporate", team=team, pool_access=True)
    send(own, RECIPIENTS[0])
    send(other, RECIPIENTS[1])  # a teammate's InMail: R8's warning for `own` and `pooled`
    time_machine.move_to(utc(2025, 2, 3, 12))
    send(pooled, RECIPIENTS[0])
    prepared = sends._SEND_READ

    compared = 0
    for seat in (own, pooled, other):
        account = account_of(seat)
        pool = Account.objects.filter(team=team, kind="pool").first()
        for recipient in RECIPIENTS:
            # Before, within and after the windows the read's conditions turn on.
            for now in (utc(2025, 2, 3, 13), utc(2025, 3, 1), utc(2025, 5, 10)):
                shape: dict[str, Any] = {} if account.refresh == "none" else {"pool_id": None}
                values = {
                    "seat_id": seat.pk,
                    "account_id": account.pk,
                    "recipient_key": normalise_recipient(recipient),
                    "now": now,
                    "month_start": schedule.month_start(now),
                    "windows_cutoff": sends._windows_cutoff(now),
                    "teammates_since": sends._teammates_since(now),
                }
                if not shape:
                    assert pool is not None
                    values["pool_id"] = pool.pk
                (bound,) = prepared.rows(shape, **values)
                (built,) = list(sends._send_read(**shape, **values))  # type: ignore[arg-type]
                assert _fields(bound) == _fields(built)
                compared += 1
    assert compared == 27
    # The statement was compiled once per shape and reused, on both databases (on SQLite with
    # the instants and days bound as the backend's text).
    compiled = list(prepared._compiled.values())
    assert compiled
    assert all(c is not None for c in compiled)
    adapted = {name for c in compiled if c is not None for name in c.adapters}
    if connection.vendor == "postgresql":
        assert adapted == set()
    else:
        assert adapted == {"now", "month_start", "windows_cutoff", "teammates_since"}


def test_the_answers_differ_where_the_values_do(time_machine: TimeMachineFixture) -> None:
    """A bound read is not a cached answer: a duplicate appears once there is one."""
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    account = account_of(seat)

    def duplicate(recipient: str) -> bool:
        now = utc(2025, 1, 16)
        with transaction.atomic():
            state = sends._read_for_send(seat.pk, account, None, recipient, now)
        return bool(state.duplicate)

    key = normalise_recipient(RECIPIENTS[1])
    assert duplicate(key) is False
    send(seat, RECIPIENTS[1])
    assert duplicate(key) is True
    assert duplicate(normalise_recipient(RECIPIENTS[2])) is False


def test_the_group_lock_takes_the_accounts_the_orm_would(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    team = new_team()
    pooled = [seat_on("recruiter_corporate", team=team, pool_access=True) for _ in range(3)]
    alone = seat_on("recruiter_lite", team=team)
    for seat in (*pooled, alone):
        with transaction.atomic():
            locked = sorted(_lock_seat_group(seat.pk).accounts)
            built = list(_seat_group_for_update(seat_id=seat.pk).values_list("pk", flat=True))
        assert locked == built
    with transaction.atomic():
        assert len(_lock_seat_group(pooled[0].pk).accounts) == 4  # three seats and the pool
        assert len(_lock_seat_group(alone.pk).accounts) == 1


def test_a_stand_in_that_does_not_come_out_as_it_went_in_is_not_prepared() -> None:
    """A value the ORM changes on its way to the driver can't be bound: every call builds."""
    calls: list[int] = []

    def build(*, seat_id: int) -> QuerySet[Seat]:
        calls.append(seat_id)
        # `seat_id + 1` reaches the statement, not the value given: nothing to bind it to.
        return Seat.objects.filter(pk=seat_id + 1)

    prepared: Prepared[Seat] = Prepared(build)
    seat = seat_on("recruiter_lite")
    assert prepared.rows({}, seat_id=seat.pk - 1) == [seat]
    assert prepared.rows({}, seat_id=seat.pk) == []
    assert list(prepared._compiled.values()) == [None]
    assert calls[1:] == [seat.pk - 1, seat.pk]  # built on every call after the failed compile


def test_instants_and_days_are_bound_as_the_backend_adapts_them_to_the_microsecond(
    time_machine: TimeMachineFixture,
) -> None:
    """On SQLite an instant is text in the backend's form (UTC, no offset): a call's instants
    and days are adapted as the ORM adapts them, so the boundaries answer the same."""
    flow_days_rebuild()  # the entries' days kept, as a deployment keeps them
    time_machine.move_to(utc(2025, 1, 15, 9, 30), tick=False)
    seat = seat_on("recruiter_lite")
    sent = send(seat, RECIPIENTS[0]).inmail
    since: Prepared[InMail] = Prepared(
        lambda *, seat_id, since: InMail.objects.filter(seat_id=seat_id, sent_at__gte=since)
    )
    on_or_after: Prepared[EntryDay] = Prepared(
        lambda *, day: EntryDay.objects.filter(day__gte=day).order_by("pk")
    )
    for instant in (
        sent.sent_at - timedelta(microseconds=1),
        sent.sent_at,
        sent.sent_at + timedelta(microseconds=1),
        (sent.sent_at + timedelta(hours=1)).astimezone(ZoneInfo("America/New_York")),
    ):
        assert since.rows({}, seat_id=seat.pk, since=instant) == list(
            InMail.objects.filter(seat_id=seat.pk, sent_at__gte=instant)
        )
    assert [row.pk for row in since.rows({}, seat_id=seat.pk, since=sent.sent_at)] == [sent.pk]
    days = list(EntryDay.objects.order_by("pk"))
    assert days
    for day in (days[0].day - timedelta(days=1), days[0].day, days[-1].day + timedelta(days=1)):
        assert on_or_after.rows({}, day=day) == [row for row in days if row.day >= day]
    compiled = [*since._compiled.values(), *on_or_after._compiled.values()]
    assert len(compiled) == 2
    assert None not in compiled


def test_an_instant_reaching_the_statement_unadapted_is_not_prepared_where_it_would_differ(
    time_machine: TimeMachineFixture,
) -> None:
    """Raw SQL's values skip the backend's adapters: on SQLite such an instant is bound in the
    driver's own text form, so binding a call's adapted instant there would compare other text.
    The shape is not prepared and the ORM builds it every call; on PostgreSQL it is the same
    value either way and is prepared. The instant is used adapted too (the lookup), so the raw
    use is what refuses the shape, not a value found nowhere."""
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    sent = send(seat, RECIPIENTS[0]).inmail

    def build(*, since: datetime) -> QuerySet[InMail]:
        return InMail.objects.filter(sent_at__gte=since).exclude(sent_at__lt=RawSQL("%s", [since]))

    raw: Prepared[InMail] = Prepared(build)
    since = sent.sent_at - timedelta(days=1)
    assert raw.rows({}, since=since) == list(build(since=since))
    (compiled,) = raw._compiled.values()
    assert (compiled is None) == (connection.vendor == "sqlite")


def test_a_bool_is_a_shape_not_a_value() -> None:
    prepared: Prepared[Seat] = Prepared(lambda *, flag: Seat.objects.filter(pk=1))
    with pytest.raises(TypeError, match="shape"):
        prepared.rows({}, flag=True)


def test_a_reused_insert_takes_its_parameters_as_the_orm_does(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    first = send(seat, RECIPIENTS[0]).inmail
    time_machine.move_to(utc(2025, 1, 15, 10))
    second = send(seat, RECIPIENTS[1]).inmail
    again = InMail.objects.get(pk=second.pk)
    assert (again.recipient_key, again.sent_at, again.sender_id) == (
        normalise_recipient(RECIPIENTS[1]),
        utc(2025, 1, 15, 10),
        seat.holder_id,
    )
    assert first.pk != second.pk
    assert not second._state.adding
    fresh = InMail(
        seat=seat,
        recipient="x",
        recipient_key="x",
        subject="s",
        body="b",
        sent_at=utc(2025, 1, 16),
        sender=seat.holder,
    )
    sql, params = _insert_sql(fresh)
    if connection.vendor == "postgresql":
        assert any(key[0] is InMail for key in _INSERTS)
    # The same text and parameters as the ORM's own compile of the same row.
    meta = InMail._meta
    query = InsertQuery(InMail)
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    query.insert_values(fields, [fresh])
    [(orm_sql, orm_params)] = query.get_compiler(connection=connection).as_sql()
    assert (sql, params) == (orm_sql, list(orm_params))


def test_save_fields_writes_what_save_would_and_refuses_a_missing_row(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    account = account_of(seat_on("recruiter_lite"))
    account.balance += 7
    account.next_due_at = utc(2025, 3, 1) + timedelta(hours=5)
    save_fields(account, ("balance", "next_due_at"))
    stored = Account.objects.get(pk=account.pk)
    assert (stored.balance, stored.next_due_at) == (account.balance, account.next_due_at)
    gone = Account(pk=account.pk + 10_000, balance=1)
    with pytest.raises(Exception, match="was not updated"):
        save_fields(gone, ("balance",))


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_prepared_read_reconnects_when_the_server_dropped_its_connection() -> None:
    """As Django's own cursor does with CONN_HEALTH_CHECKS: the first statement of a request
    on a connection PostgreSQL has closed (a restart, a failover) reconnects, not a 500."""
    seat = seat_on("recruiter_lite")
    prepared: Prepared[Seat] = Prepared(lambda *, seat_id: Seat.objects.filter(pk=seat_id))
    assert prepared.rows({}, seat_id=seat.pk) == [seat]
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        other = psycopg.connect(
            **{k: v for k, v in connection.get_connection_params().items() if k != "context"}
        )
        with other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        connection.close_if_unusable_or_obsolete()  # what a request's start does

        assert prepared.rows({}, seat_id=seat.pk) == [seat]
    finally:
        connection.settings_dict["CONN_HEALTH_CHECKS"] = False


def test_save_fields_many_writes_what_save_fields_would_in_one_statement_on_postgresql(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    accounts = [account_of(seat_on("recruiter_lite")) for _ in range(3)]
    accounts[0].balance += 7
    accounts[1].next_due_at = None
    accounts[2].next_due_at = utc(2025, 3, 1) + timedelta(hours=5)
    accounts[2].is_open = False
    names = ("balance", "next_due_at", "is_open")
    with CaptureQueriesContext(connection) as statements:
        save_fields_many(accounts, names)
    assert len(statements) == (1 if connection.vendor == "postgresql" else 3)
    stored = Account.objects.in_bulk([a.pk for a in accounts])
    for account in accounts:
        assert [getattr(stored[account.pk], n) for n in names] == [
            getattr(account, n) for n in names
        ]
    gone = Account(pk=accounts[0].pk + 10_000, balance=1, next_due_at=None, is_open=True)
    with pytest.raises(DatabaseError, match="not updated"), transaction.atomic():
        save_fields_many([accounts[0], gone], names)


@pytest.mark.postgres
def test_update_rows_refuses_a_text_too_long_for_its_column_as_an_update_does(
    time_machine: TimeMachineFixture,
) -> None:
    # The arrays are cast to the column's type without its length: `varchar(16)[]` would cut.
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    accounts = [account_of(seat_on("recruiter_lite")) for _ in range(2)]
    with pytest.raises(DatabaseError, match="too long"), transaction.atomic():
        update_rows(Account, ("kind",), [a.pk for a in accounts], [["seat", "x" * 40]])
    assert {a.kind for a in Account.objects.filter(pk__in=[a.pk for a in accounts])} == {"seat"}


@pytest.mark.postgres
def test_a_migration_analyses_a_table_only_when_it_holds_rows() -> None:
    # An analysed empty table is planned as empty until the next ANALYZE (none where autovacuum
    # is off): its foreign-key checks and trigger statements keep sequential scans as it grows.
    # Left unanalysed (reltuples -1), the planner sizes it as at least ten pages.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE analysed_empty (id int PRIMARY KEY)")
        cursor.execute("CREATE TEMP TABLE analysed_filled (id int PRIMARY KEY)")
        cursor.execute("INSERT INTO analysed_filled SELECT generate_series(1, 3)")
        analyze_if_filled(cursor, "analysed_empty", "analysed_filled")
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class"
            " WHERE relname IN ('analysed_empty', 'analysed_filled') ORDER BY relname"
        )
        assert cursor.fetchall() == [("analysed_empty", -1), ("analysed_filled", 3)]


def test_take_many_takes_from_every_lot_or_raises_for_the_transaction_to_undo(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    lots = [
        Lot.objects.get(account=account_of(seat_on("recruiter_lite")), remaining__gt=0)
        for _ in range(2)
    ]
    before = [lot.remaining for lot in lots]
    with transaction.atomic():
        _take_many({lots[0].pk: 2, lots[1].pk: before[1]})
    assert [Lot.objects.get(pk=lot.pk).remaining for lot in lots] == [before[0] - 2, 0]
    with pytest.raises(InsufficientCredits), transaction.atomic():
        _take_many({lots[0].pk: 1, lots[1].pk: 1})
    assert [Lot.objects.get(pk=lot.pk).remaining for lot in lots] == [before[0] - 2, 0]


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("recipient", "https://www.linkedin.com/in/x"),
        ("recipient", gettext_lazy("a lazy text")),
        ("status", InMailStatus.PENDING),  # a choice: the enum member, not a str
        ("paid_from", None),
        ("open_profile", True),
        ("credit_cost", 1),
        ("credit_cost", True),  # a bool in an integer column is written as 1
        ("seat", None),
        ("sent_at", utc(2025, 1, 16, 9)),
        ("template", ""),
    ],
)
def test_a_value_taken_as_it_is_is_the_one_the_orm_would_write(field_name: str, value: Any) -> None:
    field = InMail._meta.get_field(field_name)
    assert isinstance(field, Field)
    inmail = InMail()
    setattr(inmail, field.attname, value)

    ours = _db_value(field, inmail, connection.vendor)
    orm = field.get_db_prep_save(field.pre_save(inmail, True), connection)

    assert ours == orm
    assert type(ours) is type(orm)


def test_every_field_a_send_inserts_is_written_as_the_orm_would(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    sent = send(seat_on("recruiter_lite"), RECIPIENTS[0])
    entry = sent.inmail.entries.get()
    rows = [InMail.objects.get(pk=sent.inmail.pk), entry, entry.operation]
    for row in rows:
        meta = row._meta
        for field in meta.local_concrete_fields:
            if field.generated:  # the database's to write
                continue
            orm = field.get_db_prep_save(field.pre_save(row, True), connection)
            ours = _db_value(field, row, connection.vendor)
            assert (ours, type(ours)) == (orm, type(orm)), (type(row).__name__, field.name)


def test_a_prepared_reads_text_changes_as_its_runs_double() -> None:
    sql = "SELECT 1"
    texts = {runs: _planned_again(sql, runs) for runs in (0, 63, 64, 127, 128, 255, 256, 10**6)}

    assert texts[0] == texts[63] == sql
    assert texts[64] == texts[127] == f"{sql} /* plan 1 */"
    assert texts[128] == texts[255] == f"{sql} /* plan 2 */"
    assert texts[256] == f"{sql} /* plan 3 */"
    assert texts[10**6] == f"{sql} /* plan 14 */"


def test_a_read_planned_again_answers_as_before(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    sent = send(seat, RECIPIENTS[0]).inmail
    read = Prepared(lambda seat_id: InMail.objects.filter(seat_id=seat_id))
    texts: list[str] = []

    def note(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        texts.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        answers = [read.rows({}, seat_id=seat.pk) for _ in range(FIRST_REPLAN + 1)]

    assert {tuple(row.pk for row in answer) for answer in answers} == {(sent.pk,)}
    assert "/* plan" not in texts[FIRST_REPLAN - 1]
    assert texts[FIRST_REPLAN].endswith("/* plan 1 */")


def test_a_sends_writes_are_prepared_on_the_connection_and_answer_as_before(
    time_machine: TimeMachineFixture,
) -> None:
    # The idempotency record's insert and answer, the lot's take with the InMail, the operation
    # and the entry, and the account's update go through `run_bound`: on PostgreSQL bound by
    # the server, and kept prepared from their third run.
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    account = account_of(seat)
    before = Lot.objects.get(account=account, remaining__gt=0).remaining

    def send_once(recipient: str) -> tuple[int, Any]:
        sent = send(seat, recipient)
        return 201, {"id": sent.inmail.pk}

    answers = [
        idempotent_call(
            scope=f"seat:{seat.pk}",
            key=f"send-{n}",
            fingerprint=f"print-{n}",
            operation=partial(send_once, f"linkedin.com/in/person-{n}"),
        )
        for n in range(4)
    ]
    replay = idempotent_call(
        scope=f"seat:{seat.pk}",
        key="send-2",
        fingerprint="print-2",
        operation=lambda: (500, None),
    )

    inmails = list(InMail.objects.filter(seat=seat).order_by("pk"))
    assert [(a.status_code, a.body, a.replayed) for a in answers] == [
        (201, {"id": inmail.pk}, False) for inmail in inmails
    ]
    assert (replay.status_code, replay.body, replay.replayed) == (201, answers[2].body, True)
    records = IdempotencyRecord.objects.filter(scope=f"seat:{seat.pk}").order_by("key")
    assert [(r.key, r.status_code, r.response) for r in records] == [
        (f"send-{n}", 201, {"id": inmails[n].pk}) for n in range(4)
    ]
    spends = list(Entry.objects.filter(inmail__seat=seat).order_by("pk"))
    assert [
        (e.amount, e.inmail_id, e.lot_id is not None, e.operation_id is not None) for e in spends
    ] == [(-1, inmail.pk, True, True) for inmail in inmails]
    assert Lot.objects.get(pk=spends[0].lot_id).remaining == before - 4
    account.refresh_from_db()
    assert account.balance == before - 4
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0].lstrip() for row in cursor.fetchall()]
        starts = (
            'INSERT INTO "ledger_idempotencyrecord"',
            'UPDATE "ledger_idempotencyrecord"',
            'WITH "taken" AS (UPDATE "ledger_lot"',
            'UPDATE "ledger_account"',
        )
        assert [any(p.startswith(start) for p in prepared) for start in starts] == [True] * 4
        take = next(p for p in prepared if p.startswith(starts[2]))
        assert '"inmail_row" AS (INSERT INTO "ledger_inmail"' in take


@pytest.mark.postgres
def test_a_statement_kept_prepared_is_still_logged_with_its_text() -> None:
    # psycopg keeps no text of a statement it runs as a prepared one, from the third run
    # (prepare_threshold 2); Django's query log (DEBUG, tests capturing queries) would hold None.
    sql = "SELECT %s::int + 1"
    with CaptureQueriesContext(connection) as queries:
        answers = [run_bound(sql, [n], fetch=True)[1] for n in range(4)]
    assert answers == [[(n + 1,)] for n in range(4)]
    assert [query["sql"] for query in queries.captured_queries] == [sql] * 4


class _TakeForASend:
    """What `inmail_send` gives `_spend_from`: the seat's first lot holding credits, its new
    InMail (not saved) and the send's operation."""

    def __init__(self, seat: Seat, recipient: str) -> None:
        self.account = account_of(seat)
        lot = Lot.objects.filter(account=self.account, remaining__gt=0).order_by("pk").first()
        assert lot is not None
        self.lot = lot
        self.now = timezone.now()
        self.inmail = InMail(
            seat=seat,
            recipient=recipient,
            recipient_key=normalise_recipient(recipient),
            subject="Hello",
            body="A role you may like",
            sent_at=self.now,
            credit_cost=1,
            paid_from="seat",
            paid_account=self.account,
            created_by=seat.holder,
            sender=seat.holder,
        )
        cause = Cause(actor=seat.holder, via="api")
        self.operation = OpenOperation(OperationKind.INMAIL_SEND, cause)

    def run(self) -> tuple[Lot, Entry]:
        return _spend_from(
            self.account,
            self.lot.pk,
            1,
            at=self.now,
            kind=EntryKind.SPEND,
            operation=self.operation,
            inmail=self.inmail,
        )


def test_a_take_with_its_new_inmail_answers_the_rows_it_stored(
    time_machine: TimeMachineFixture,
) -> None:
    # `_spend_from` inserts a new InMail in the take's statement (on PostgreSQL) and rebuilds
    # the lot from the columns the take returns (`Lot.from_db`): every field of what it answers
    # is what a read of the stored rows gives.
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    take = _TakeForASend(seat, RECIPIENTS[0])
    chosen, inmail, operation = take.lot, take.inmail, take.operation

    with transaction.atomic():
        _lock_seat_group(seat.pk)
        lot, entry = take.run()

    def row(obj: Any) -> dict[str, Any]:
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    stored_inmail = InMail.objects.get(pk=inmail.pk)
    assert not inmail._state.adding
    assert row(inmail) == row(stored_inmail)
    assert row(lot) == row(Lot.objects.get(pk=chosen.pk))
    assert lot.remaining == chosen.remaining - 1
    assert row(entry) == row(Entry.objects.get(pk=entry.pk))
    assert (entry.inmail_id, entry.lot_id, entry.amount) == (inmail.pk, chosen.pk, -1)
    assert operation.row is not None
    assert entry.operation_id == operation.row.pk


def test_a_take_that_finds_the_credits_gone_stores_neither_the_inmail_nor_the_entry(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(utc(2025, 1, 15, 9), tick=False)
    seat = seat_on("recruiter_lite")
    take = _TakeForASend(seat, RECIPIENTS[1])
    Lot.objects.filter(pk=take.lot.pk).update(remaining=0)
    entries = Entry.objects.count()

    with pytest.raises(InsufficientCredits), transaction.atomic():
        take.run()

    assert not InMail.objects.filter(seat=seat).exists()
    assert Entry.objects.count() == entries
