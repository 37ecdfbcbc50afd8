"""Ticketing settings, typed (``settings.CIMAISE``)."""

from __future__ import annotations

import datetime as dt

from cimaise.core.conf import setting


def cart_hold() -> dt.timedelta:
    return dt.timedelta(minutes=int(setting("CART_HOLD_MINUTES")))


def payment_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(setting("PAYMENT_MINUTES")))


def entry_tolerance() -> dt.timedelta:
    return dt.timedelta(minutes=int(setting("ENTRY_TOLERANCE_MINUTES")))


def lock_timeout_seconds() -> int:
    return int(setting("SALE_LOCK_TIMEOUT_SECONDS"))
