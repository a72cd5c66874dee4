"""The migrations describe the models exactly: `makemigrations --check` finds nothing to write.

Besides a model change without its migration, this catches a hand-written operation (0025's
`AddIntegerColumns`) leaving a state other than the fields it stands for.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_need_no_new_migration() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(
            f"makemigrations would write a migration (exit {exit_.code}):\n{out.getvalue()}"
        )
    assert "No changes detected" in out.getvalue()
