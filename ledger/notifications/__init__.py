"""Alerts and notifications: the conditions the alert job raises (`alerts`), the reads of a
person's list with repeats grouped (`selectors`), the writes a person makes to it (`services`),
and the pages where people read them and choose what they get (`views`). The models live with
the ledger's in `ledger/models.py`."""
