"""Typed refusals of the ledger.

A `LedgerRuleError` is a ledger rule saying no (HTTP 409 with its `code`, docs/api.md); a
`LedgerValidationError` is bad input for one field (HTTP 400). Both are raised before anything
is written, or inside the transaction that is then rolled back, so a refusal never changes the
ledger.
"""

from __future__ import annotations

from django.utils.translation import ngettext


def credits_text(n: int) -> str:
    """'1 credit', '2 credits': a count of credits in a refusal's sentence."""
    return ngettext("%(n)s credit", "%(n)s credits", n) % {"n": n}


class LedgerError(Exception):
    """Base class of every refusal the ledger services raise."""


class LedgerValidationError(LedgerError):
    """Input that no rule could accept: answered as 400 `{field: [message]}`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class LedgerRuleError(LedgerError):
    """A ledger rule refused the operation: answered as 409 `{code, detail}`."""

    code: str = "ledger_rule"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InsufficientCredits(LedgerRuleError):
    code = "insufficient_credits"


class DuplicatePending(LedgerRuleError):
    code = "duplicate_pending"


class SendLimitReached(LedgerRuleError):
    code = "send_limit_reached"


class SeatInactive(LedgerRuleError):
    code = "seat_inactive"


class AlreadyAnswered(LedgerRuleError):
    code = "already_answered"


class NotPurchasable(LedgerRuleError):
    code = "not_purchasable"


class PurchaseLimitReached(LedgerRuleError):
    code = "purchase_limit_reached"


class PoolInsufficient(LedgerRuleError):
    code = "pool_insufficient"


class NoPool(LedgerRuleError):
    code = "no_pool"


class UsageLimitReached(LedgerRuleError):
    code = "usage_limit_reached"


class AlreadyResolved(LedgerRuleError):
    code = "already_resolved"


class IdempotencyKeyReused(LedgerError):
    """The same idempotency key came with a different request: answered as 422."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new request."
        )
        self.detail = str(self)


LEDGER_RULE_CODES = tuple(
    cls.code
    for cls in (
        InsufficientCredits,
        DuplicatePending,
        SendLimitReached,
        SeatInactive,
        AlreadyAnswered,
        NotPurchasable,
        PurchaseLimitReached,
        PoolInsufficient,
        NoPool,
        UsageLimitReached,
        AlreadyResolved,
    )
)
