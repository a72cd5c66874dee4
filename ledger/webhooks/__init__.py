"""Webhooks (SPEC R23): an outbox of events, written with the change, delivered by Celery.

- `outbox.record_event` is called by the services inside the transaction of the change; it
  writes the event and one pending delivery per active endpoint subscribed at that moment, and
  asks for a delivery run once the transaction commits (a lost message is harmless: the beat
  task `ledger.tasks.deliver_webhooks` runs every minute).
- `delivery.deliver_due` claims due deliveries row by row (FOR UPDATE SKIP LOCKED, so two
  workers never send the same one), never a seat's later event while an earlier one for the
  same endpoint is pending, signs the body (`signing`) and POSTs it with a 5 s timeout.
- `endpoints` holds the admin's writes (create, update, delete, redeliver), audited.
- `payloads` turns a row into the plain dict the API shows for it: services may not import the
  API's serializers (the import layers in pyproject.toml), so the few fields are listed here.

This package sits just above the models: it imports only models, `teams` and Django, so every
service may import it.
"""
