"""The event types an endpoint may subscribe to (SPEC R23)."""

from __future__ import annotations

INMAIL_SENT = "inmail.sent"
INMAIL_RESPONDED = "inmail.responded"
INMAIL_CLOSED = "inmail.closed"
ENTRY_CREATED = "entry.created"
ALERT_RAISED = "alert.raised"
RECONCILIATION_OPENED = "reconciliation.opened"
SEAT_CHANGED = "seat.changed"

EVENT_TYPES: tuple[str, ...] = (
    INMAIL_SENT,
    INMAIL_RESPONDED,
    INMAIL_CLOSED,
    ENTRY_CREATED,
    ALERT_RAISED,
    RECONCILIATION_OPENED,
    SEAT_CHANGED,
)

# A Slack incoming webhook takes text, and only alerts make sense as text.
SLACK_EVENT_TYPES: tuple[str, ...] = (ALERT_RAISED,)
