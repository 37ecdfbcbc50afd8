"""Exchange rates as dated data: the rate of a pair on a day is the latest one whose
``valid_from`` is on or before that day. Indicative amounts only (a price in yuan shown next to
the euro price); nothing is charged with them."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from cimaise.core.errors import InvalidInput
from cimaise.payments.models import ExchangeRate
from cimaise.payments.money import CENT, currency_check


def rate_on(*, base: str, quote: str, day: dt.date) -> ExchangeRate | None:
    """The rate of ``base``→``quote`` in force on ``day``, or None before the pair's first."""
    rows = ExchangeRate.objects.filter(base=base, quote=quote, valid_from__lte=day)
    return rows.order_by("-valid_from").first()


def indicative_amount(*, amount: Decimal, base: str, quote: str, day: dt.date) -> Decimal | None:
    """``amount`` in ``base`` converted to ``quote`` at the rate in force on ``day``, rounded to
    the cent half up (``12.50`` EUR at 7.83 → ``97.88``); None when no rate is known. A currency
    converted to itself is the amount unchanged."""
    if base == quote:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    rate = rate_on(base=base, quote=quote, day=day)
    if rate is None:
        return None
    return (amount * rate.rate).quantize(CENT, rounding=ROUND_HALF_UP)


def exchange_rate_set(
    *, base: str, quote: str, rate: Decimal, valid_from: dt.date, source: str
) -> ExchangeRate:
    """Record the rate of a pair from ``valid_from`` (replacing the one of that day, if any)."""
    for field, code in (("base", base), ("quote", quote)):
        try:
            currency_check(code)
        except InvalidInput as exc:
            raise InvalidInput(f"{field} must be an ISO 4217 code such as EUR", field=field) from exc
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise InvalidInput("rate must be a Decimal above 0", field="rate")
    if rate != rate.quantize(Decimal("0.000001")) or rate >= Decimal("1000000"):
        raise InvalidInput("rate must have at most 6 decimals and 6 digits before them", field="rate")
    with transaction.atomic():
        row, _created = ExchangeRate.objects.update_or_create(
            base=base, quote=quote, valid_from=valid_from, defaults={"rate": rate, "source": source}
        )
    return row
