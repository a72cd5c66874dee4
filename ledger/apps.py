from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created

from inmail_site.db import use_fast_timestamp_loader


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"

    def ready(self) -> None:
        # Register the Celery tasks in every process, the web's included: a service publishes
        # them by name (ledger/queue.py), and Celery finds a task by name only once its module
        # is imported (the worker's autodiscovery does that; a web process never runs it).
        from ledger import tasks  # noqa: F401
        from ledger.api.auth import connect_signals

        # A cached API token is forgotten when its user or the token changes (issue 15).
        connect_signals()
        # timestamptz values parsed by datetime.fromisoformat, not a regex (issue 15).
        connection_created.connect(use_fast_timestamp_loader, dispatch_uid="fast-timestamp-loader")
