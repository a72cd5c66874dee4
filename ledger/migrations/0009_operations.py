"""Operations: every entry belongs to the one call that wrote it (issue 11, rule 5).

Entries written before this migration never recorded their call, so they are grouped by what
one call's entries always shared: the instant (`at`), the team of the account, the actor, the
cause and what was done (worked out from the entry's kind and cause: a refresh's or an expiry's
entries are a `catch_up` of the system; a spend is a send; a forfeit a cancellation; a grant
that no refresh made an activation; and so on). Each group becomes one operation whose id is
its first entry's id, with the memo `LEGACY_MEMO`; the two legs of a transfer or of an
allocation share an operation, so their sum is zero as for new ones. What can't be told apart
is not invented: a plan change shows as its cancellation and its activation, and two calls by
one person at the same microsecond (which never happens) would be one operation.

It is two statements over the entries (an INSERT ... SELECT ... GROUP BY, an UPDATE ... FROM a
window), whatever their number. On PostgreSQL the append-only trigger of 0002 refuses the
UPDATE, so it is switched off for that statement only, inside this migration's transaction, and
switched on again before the column becomes NOT NULL; nothing else can write meanwhile (ALTER
TABLE holds the table's exclusive lock until commit). Operations are append-only too.
"""

from __future__ import annotations

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

LEGACY_MEMO = "Recorded before operations: grouped by instant, team, actor and cause"

# What each existing entry's call did, and through what (a catch-up is the system's).
OPERATION_KIND = """
    CASE
        WHEN e.cause IN ('expiry', 'refresh')
            OR e.kind IN ('expiry', 'lost_to_cap', 'allocation') THEN 'catch_up'
        WHEN e.kind = 'spend' THEN 'inmail.send'
        WHEN e.kind = 'refund' THEN 'inmail.response'
        WHEN e.kind = 'purchase' THEN 'purchase'
        WHEN e.kind = 'bonus' THEN 'bonus'
        WHEN e.kind = 'adjustment' THEN 'adjustment'
        WHEN e.kind = 'transfer' THEN 'pool.transfer'
        WHEN e.kind = 'forfeit' THEN 'seat.cancel'
        ELSE 'seat.activate'
    END
"""

ENTRY_GROUPS = f"""
    SELECT e.id, e.at, e.actor_id, e.created_at, a.team_id,
           {OPERATION_KIND} AS op_kind,
           CASE WHEN {OPERATION_KIND} = 'catch_up' THEN 'system'
                -- An operation always names its cause (a check constraint); old rows may not.
                ELSE COALESCE(NULLIF(e.cause, ''), 'unknown') END AS op_via
    FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id
"""

INSERT_OPERATIONS = f"""
    INSERT INTO ledger_operation (id, at, kind, actor_id, via, memo, created_at)
    SELECT MIN(id), at, op_kind, actor_id, op_via, %s, MIN(created_at)
    FROM ({ENTRY_GROUPS}) grouped
    GROUP BY at, team_id, actor_id, op_kind, op_via
"""

LINK_ENTRIES = f"""
    UPDATE ledger_entry SET operation_id = linked.operation_id
    FROM (
        SELECT id, MIN(id) OVER (PARTITION BY at, team_id, actor_id, op_kind, op_via)
            AS operation_id
        FROM ({ENTRY_GROUPS}) grouped
    ) linked
    WHERE linked.id = ledger_entry.id
"""

OPERATION_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION ledger_operation_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger operations are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_operation_append_only
    BEFORE UPDATE OR DELETE ON ledger_operation
    FOR EACH ROW EXECUTE FUNCTION ledger_operation_is_append_only();
"""

DROP_OPERATION_APPEND_ONLY = """
DROP TRIGGER IF EXISTS ledger_operation_append_only ON ledger_operation;
DROP FUNCTION IF EXISTS ledger_operation_is_append_only();
"""


def group_entries_into_operations(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    Operation = apps.get_model("ledger", "Operation")
    with connection.cursor() as cursor:
        cursor.execute(INSERT_OPERATIONS, [LEGACY_MEMO])
        if postgres:
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
        cursor.execute(LINK_ENTRIES)
        if postgres:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")
        # The ids were given explicitly: new operations continue after them.
        for statement in connection.ops.sequence_reset_sql(no_style(), [Operation]):
            cursor.execute(statement)


def operations_append_only(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OPERATION_APPEND_ONLY)


def drop_operations_append_only(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_OPERATION_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_notification_email_retry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Operation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("seat.activate", "Seat activated"),
                            ("seat.cancel", "Seat cancelled"),
                            ("seat.change_plan", "Plan changed"),
                            ("inmail.send", "InMail sent"),
                            ("inmail.response", "Response recorded"),
                            ("purchase", "Purchase"),
                            ("bonus", "Bonus"),
                            ("adjustment", "Adjustment"),
                            ("pool.transfer", "Pool transfer"),
                            ("catch_up", "Catch-up"),
                        ],
                        max_length=32,
                    ),
                ),
                ("via", models.CharField(max_length=32)),
                ("memo", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ledger_operations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["at", "id"], name="operation_at_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            kind__in=[
                                "seat.activate",
                                "seat.cancel",
                                "seat.change_plan",
                                "inmail.send",
                                "inmail.response",
                                "purchase",
                                "bonus",
                                "adjustment",
                                "pool.transfer",
                                "catch_up",
                            ]
                        ),
                        name="operation_kind_known",
                    ),
                    models.CheckConstraint(condition=~models.Q(via=""), name="operation_via_given"),
                ],
            },
        ),
        migrations.AddField(
            model_name="entry",
            name="operation",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.operation",
            ),
        ),
        migrations.RunPython(group_entries_into_operations, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="entry",
            name="operation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.operation",
            ),
        ),
        migrations.RunPython(operations_append_only, drop_operations_append_only),
    ]
