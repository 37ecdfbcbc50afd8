"""The demo's exchange rates: dated EUR→CNY rates, so that the shop can show an indicative price
in yuan next to the euro price, on the days of the Léonard de Vinci exhibition and today."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.payments.rates import exchange_rate_set

SOURCE = "Cimaise demo: an indicative EUR→CNY rate, not a published one"


def demo_rates(today: dt.date) -> list[tuple[dt.date, Decimal]]:
    """(valid from, rate): autumn 2019, the new year 2020, and 1 January of this year."""
    return [
        (dt.date(2019, 10, 1), Decimal("7.80")),
        (dt.date(2020, 1, 2), Decimal("7.83")),
        (dt.date(today.year, 1, 1), Decimal("8.20")),
    ]


def load(ctx: DemoContext) -> None:
    """Idempotent: a rate already recorded for its day is written again, unchanged."""
    for valid_from, rate in demo_rates(timezone.localdate()):
        exchange_rate_set(base="EUR", quote="CNY", rate=rate, valid_from=valid_from, source=SOURCE)


register_loader(
    DemoLoader(
        name="payments.rates",
        order=65,
        load=load,
        doc="Dated EUR→CNY exchange rates (indicative prices in yuan at the shop).",
    )
)
