"""What a purpose (``ticketing.order``…) is told when its payments settle.

A purpose registers its hooks from its ``AppConfig.ready``. Every hook runs inside the transaction
that changes the payment, after the payment row is locked and before the ledger facts are
appended: a hook may lock its own rows and append its own facts, and whatever it raises rolls the
whole change back (a provider then sends its notification again later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cimaise.payments.models import Payment, Refund


@dataclass(frozen=True)
class PurposeHooks:
    """``on_paid`` is also called for a late payment (``payment.late``): the purpose decides, e.g.
    refunds it when the order it was for has expired."""

    on_paid: Callable[[Payment, dt.datetime], None]
    on_failed: Callable[[Payment, dt.datetime], None] | None = None
    on_refunded: Callable[[Refund, dt.datetime], None] | None = None


_HOOKS: dict[str, PurposeHooks] = {}


def register(purpose: str, hooks: PurposeHooks) -> None:
    """Declare a purpose and its hooks (registering again replaces them)."""
    _HOOKS[purpose] = hooks


def unregister(purpose: str) -> None:
    """Forget a purpose (tests)."""
    _HOOKS.pop(purpose, None)


def hooks_for(purpose: str) -> PurposeHooks | None:
    return _HOOKS.get(purpose)
