"""The demo organisation that `manage.py demo` fills an empty database with.

Three teams, twenty recruiters and their leads on every plan (one team on Recruiter Corporate
with a shared pool), and an admin. Their seats were activated about six months ago; since
then the demo replays their days on a moving clock: recruiters send InMails on weekdays, some
of them open profiles; candidates answer a few days later (or never); the jobs refresh, expire
and close what falls due each night; the alert job runs each morning and people read their
notifications now and then. Along the way an admin buys credits twice and grants a bonus
(which the cap partly swallows), a lead moves pool credits and sets an allocation, and one
recruiter leaves (their seat is cancelled). Everything goes through the ledger services at the
instant it happens, so the demo ledger obeys every rule the real one does and every page and
chart shows something true.

Reproducible: one random seed, every date relative to today. Idempotent: the demo admin's
username marks a demo database; a second run changes nothing and prints the logins again. A
database holding anything else is left alone.
"""
