"""Money checks: an amount is a ``Decimal`` with at most two decimals, a currency an ISO 4217 code."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from cimaise.core.errors import InvalidInput

CURRENCY = re.compile(r"^[A-Z]{3}$")
CENT = Decimal("0.01")
MAXIMUM = Decimal("9999999999.99")  # what the amount columns hold (12 digits, 2 decimals)


def amount_check(amount: object, *, allow_zero: bool = False, field: str = "amount") -> Decimal:
    """The amount as a two-decimal ``Decimal``, or ``InvalidInput`` naming ``field``."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise InvalidInput(f"{field} must be a Decimal", field=field)
    value = Decimal(amount)
    if not value.is_finite():
        raise InvalidInput(f"{field} must be a number", field=field)
    lowest = "0" if allow_zero else "more than 0"
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(f"{field} must be {lowest}", field=field)
    if value > MAXIMUM:  # checked before quantize, which fails on huge values
        raise InvalidInput(f"{field} must be at most {MAXIMUM}", field=field)
    if value != value.quantize(CENT):
        raise InvalidInput(f"{field} must have at most two decimals", field=field)
    return value.quantize(CENT)


def amount_parse(text: str) -> Decimal | None:
    """A decimal amount written as text (``"12.50"``), or None if it is not one."""
    if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", text):
        return None
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation:
        return None


def amount_text(amount: Decimal) -> str:
    """``12.5`` → ``"12.50"``: how amounts travel in notifications and facts."""
    return f"{amount.quantize(CENT):f}"


def currency_check(currency: object) -> str:
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        raise InvalidInput("currency must be an ISO 4217 code such as EUR or CNY", field="currency")
    return currency
