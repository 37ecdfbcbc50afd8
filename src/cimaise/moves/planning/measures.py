"""Exact integer measures for the planners: millimetres, grams, cubic millimetres.

The registry keeps decimals (a tenth of a centimetre, a hundredth of a kilogram); the planners
compare integers, so a limit is never passed by a rounding. A work is rounded up and a place or
a crate down, so the conversion can only make the check stricter."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

Dims = tuple[int, int, int]
MM_PER_CM = 10
G_PER_KG = 1000


def _scaled(value: Decimal | float | int | None, unit: int, rounding: str) -> int | None:
    if value is None:
        return None
    exact = Decimal(str(value)) * unit
    return int(exact.to_integral_value(rounding=rounding))


def up(value: Decimal | float | int | None, unit: int) -> int | None:
    """``value × unit`` rounded up (a work's size or weight)."""
    return _scaled(value, unit, ROUND_CEILING)


def down(value: Decimal | float | int | None, unit: int) -> int | None:
    """``value × unit`` rounded down (a shelf's or a crate's limit)."""
    return _scaled(value, unit, ROUND_FLOOR)


def largest_first(lengths: tuple[int | None, int | None, int | None]) -> Dims | None:
    """Three lengths, largest first; None when one is missing or not positive."""
    a, b, c = lengths
    if a is None or b is None or c is None or min(a, b, c) <= 0:
        return None
    x, y, z = sorted((a, b, c), reverse=True)
    return (x, y, z)


def fits(inner: Dims, outer: Dims) -> bool:
    """Whether a box fits in another in some orientation (both largest first; for boxes kept
    square to each other this is exact)."""
    return inner[0] <= outer[0] and inner[1] <= outer[1] and inner[2] <= outer[2]


def volume(dims: Dims | None) -> int:
    return 0 if dims is None else dims[0] * dims[1] * dims[2]


def after_headroom(limit: int | None, headroom: Decimal) -> int | None:
    """The part of a limit the planner may use, rounded down."""
    if limit is None:
        return None
    return int((Decimal(limit) * (1 - headroom)).to_integral_value(rounding=ROUND_FLOOR))
