"""CSV cells that a spreadsheet opens as data, never as a formula (CSV injection): a text starting
with ``=``, ``+``, ``@``, a tab, a carriage return, or a ``-`` that is not a number, gets a
leading apostrophe. Numbers, negative ones included, are left as they are."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


def is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def spreadsheet_safe(value: object) -> str:
    """``value`` as a CSV cell text a spreadsheet will not run."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or (text.startswith("-") and not is_number(text)):
        return f"'{text}"
    return text
