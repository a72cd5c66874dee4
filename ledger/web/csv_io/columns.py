"""The InMail columns of a CSV file, shared by the export and the import."""

from __future__ import annotations

INMAIL_COLUMNS = (
    "id",
    "seat",
    "holder",  # the InMail's sender: who held the seat when it was sent (R19)
    "team",
    "recipient",
    "subject",
    "body",
    "open_profile",
    "status",
    "sent_at",
    "responded_at",
    "credit_cost",
    "paid_from",
    "refunded",
    "imported",
    # R22 outreach tags; `tags` holds them separated by ";" (the import reads ";" or ",").
    "template",
    "tags",
)
