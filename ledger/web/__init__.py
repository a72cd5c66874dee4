"""The dashboard's pages: the recruiter home, its InMail actions, the team pages, CSV.

Views stay thin. A selector that takes the user says what they may see (anything else is a
404, never a 403); one ledger service does each write; a refusal of the ledger
(`LedgerRuleError`, `LedgerValidationError`) comes back as a form error with its sentence and
status 409 or 400, never a 500. Writes answer htmx with the fragment to swap in, and plain form
posts with a redirect (or the page again, with the error), so the pages work without JavaScript.
"""
