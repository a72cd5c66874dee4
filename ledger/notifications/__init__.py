"""Alerts and notifications: the conditions the alert job raises (`alerts`), and the pages
where people read them and choose what they get (`views`). The models live with the ledger's
in `ledger/models.py`."""
