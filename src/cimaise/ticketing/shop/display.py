"""What the shop's pages show, shaped for the templates: prices, the products with their tariffs,
the calendar of the next days, a day's slots grouped by time. Labels are in the active language
(names from the data's ``names``, dates by Django's localisation) and times in Europe/Paris."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import prefetch_related_objects
from django.utils import formats
from django.utils.translation import gettext as _

from cimaise.ticketing.capacity import PARIS
from cimaise.ticketing.models import Channel, Product, Tariff
from cimaise.ticketing.selectors import SlotView
from cimaise.ticketing.shop import reads

DAYS_SHOWN = 60
SYMBOLS = {"EUR": "€"}


def money(amount: Decimal, currency: str = "EUR", *, zero_is_free: bool = False) -> str:
    """``17,00 €`` in French, ``17.00 €`` in English and Chinese (a free tariff says "Free")."""
    if amount == 0 and zero_is_free:
        return _("Free")
    return f"{formats.number_format(amount, 2, use_l10n=True)}\u00a0{SYMBOLS.get(currency, currency)}"


def web_tariffs(product: Product) -> list[Tariff]:
    """The product's active tariffs sold on the web (prefetch ``tariffs`` for a list)."""
    return [t for t in product.tariffs.all() if t.active and Channel.WEB in t.channels]


# --- the products ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TariffRow:
    code: str
    name: str
    price: str
    proof: str


@dataclass(frozen=True)
class ProductRow:
    code: str
    name: str
    age_note: str
    price_from: str
    tariffs: list[TariffRow]


def tariff_row(tariff: Tariff) -> TariffRow:
    category = tariff.free_category
    return TariffRow(
        tariff.code,
        tariff.name,
        money(tariff.price, tariff.currency, zero_is_free=True),
        category.proof if category else "",
    )


def product_rows(products: Sequence[Product]) -> list[ProductRow]:
    prefetch_related_objects(list(products), "tariffs__free_category")
    rows = []
    for product in products:
        tariffs = web_tariffs(product)
        paying = [t.price for t in tariffs if t.price > 0]
        cheapest = min(paying, default=Decimal(0))
        rows.append(
            ProductRow(
                code=product.code,
                name=product.name,
                age_note=product.age_note,
                price_from=money(cheapest, zero_is_free=True),
                tariffs=[tariff_row(t) for t in tariffs],
            )
        )
    return rows


# --- the calendar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    date: dt.date
    state: str  # "sale": tickets on sale; "closed": the museum is closed; "none": nothing on sale
    chosen: bool


@dataclass
class Month:
    first: dt.date
    days: list[Day] = field(default_factory=list)

    @property
    def column(self) -> int:
        """The grid column of the first day shown (1 = Monday)."""
        return self.days[0].date.weekday() + 1 if self.days else 1


def calendar(
    *, today: dt.date, open_days: set[dt.date], sale_days: set[dt.date], chosen: dt.date | None
) -> list[Month]:
    """The next ``DAYS_SHOWN`` days by month, each on sale, closed, or with nothing on sale."""
    months: list[Month] = []
    for offset in range(DAYS_SHOWN):
        day = today + dt.timedelta(days=offset)
        if not months or months[-1].first.month != day.month:
            months.append(Month(first=day))
        state = "closed" if day not in open_days else ("sale" if day in sale_days else "none")
        months[-1].days.append(Day(day, state, day == chosen))
    return months


def weekday_names(today: dt.date) -> list[dt.date]:
    """A Monday-to-Sunday week (for the calendar's column headings)."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(days=n) for n in range(7)]


def product_days(*, product: Product, today: dt.date, chosen: dt.date | None) -> list[Month]:
    last = today + dt.timedelta(days=DAYS_SHOWN - 1)
    return calendar(
        today=today,
        open_days=reads.open_days(institution=product.institution, first=today, last=last),
        sale_days=reads.days_on_sale(product=product, first=today, last=last),
        chosen=chosen,
    )


def day_parse(text: str | None, today: dt.date) -> dt.date | None:
    """A day from ``?date=YYYY-MM-DD`` within the days shown, else None."""
    try:
        day = dt.date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if today <= day < today + dt.timedelta(days=DAYS_SHOWN) else None


# --- a day's slots --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotChoice:
    id: int
    entrance: str
    left: int
    state: str  # "sale", "sold_out", "closed"


@dataclass
class TimeGroup:
    starts_at: dt.datetime
    ends_at: dt.datetime
    choices: list[SlotChoice] = field(default_factory=list)


def slot_choice(view: SlotView) -> SlotChoice:
    state = "closed" if view.slot.closed else ("sale" if view.left > 0 else "sold_out")
    return SlotChoice(view.slot.pk, view.slot.entrance.name, view.left, state)


def time_groups(views: Iterable[SlotView], now: dt.datetime) -> list[TimeGroup]:
    """The slots still to come, grouped by their start, entrances side by side."""
    groups: dict[dt.datetime, TimeGroup] = {}
    for view in views:
        if view.slot.ends_at <= now:
            continue
        start = view.slot.starts_at.astimezone(PARIS)
        group = groups.setdefault(start, TimeGroup(start, view.slot.ends_at.astimezone(PARIS)))
        group.choices.append(slot_choice(view))
    return [groups[start] for start in sorted(groups)]
