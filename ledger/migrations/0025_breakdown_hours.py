"""The response-rate breakdowns by hour, weekday and hour, template and tag count their answered
InMails by bucket of hours to the response too (issue 15), so that their exact medians read one
bucket of InMails rather than every answered one: the columns, the triggers that count them and
a rebuild of the rows (which also writes the breakdowns' state on a new database).

The 80 columns are one `AddIntegerColumns` operation rather than 80 `AddField`s: each `AddField`
re-renders the breakdown model and the models related to it (~30 ms), which made this migration
2.7 s of every new database's 6 s (each test worker's, each migration test's). The state it
leaves and the columns it adds are the same.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from ledger.models import RESPONSE_HOURS_COLUMNS


class AddIntegerColumns(migrations.operations.base.Operation):
    """`AddField(model_name, column, IntegerField(default=0, db_default=0))` for each column,
    with one re-render of the model's state instead of one per column."""

    def __init__(self, model_name: str, columns: list[str]) -> None:
        self.model_name = model_name
        self.columns = columns

    def state_forwards(self, app_label: str, state: Any) -> None:
        key = app_label, self.model_name
        for column in self.columns:
            state.models[key].fields[column] = models.IntegerField(default=0, db_default=0)
        # Integer columns relate to nothing: the model alone is re-rendered, once.
        state.reload_model(*key, delay=True)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, to_model):
            return
        if schema_editor.connection.vendor == "sqlite":
            # Django's SQLite `add_field` copies the table into a new one with the columns of the
            # model it is given: one column at a time from the model before, each copy lost the
            # column added before it (a SQLite database had h79 alone). SQLite adds a NOT NULL
            # column with a constant default in place.
            quote = schema_editor.quote_name
            for column in self.columns:
                field = to_model._meta.get_field(column)
                definition, params = schema_editor.column_sql(to_model, field)
                schema_editor.execute(
                    f"ALTER TABLE {quote(to_model._meta.db_table)} "
                    f"ADD COLUMN {quote(field.column)} {definition}",
                    params,
                )
            return
        from_model = from_state.apps.get_model(app_label, self.model_name)
        for column in self.columns:
            schema_editor.add_field(from_model, to_model._meta.get_field(column))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        from_model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, from_model):
            for column in self.columns:
                schema_editor.remove_field(from_model, from_model._meta.get_field(column))

    def describe(self) -> str:
        return f"Add {len(self.columns)} integer columns to {self.model_name}"


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns
    from ledger.rate_rollups import analyze_if_filled

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.trigger_sql(months=False))
    rate_breakdowns.breakdown_rebuild()
    with schema_editor.connection.cursor() as cursor:
        analyze_if_filled(cursor, rate_breakdowns.TABLE)


def uninstall(apps: Any, schema_editor: Any) -> None:
    # Back to the triggers and rebuild function without the hours buckets (what 0022 installed),
    # before the columns go: the rows stay kept, and the code before 0025 can check and rebuild
    # them. Rebuilt only where there were breakdowns.
    if schema_editor.connection.vendor != "postgresql":
        return
    from ledger import rate_breakdowns

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(rate_breakdowns.trigger_sql(hours=False, months=False))
        cursor.execute(
            f"SELECT time_zone, settled_before FROM {rate_breakdowns.STATE_TABLE} WHERE id = 1"
        )
        found = cursor.fetchone()
        if found is not None:
            cursor.execute("SELECT ledger_rate_breakdown_rebuild(%s, %s)", list(found))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0024_response_hours")]

    operations = [
        AddIntegerColumns("ratebreakdown", list(RESPONSE_HOURS_COLUMNS)),
        migrations.RunPython(install, uninstall),
    ]
