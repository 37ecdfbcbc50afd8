"""Barcodes as inline SVG for the printed documents: Code 128 for what a handheld scans (crate
barcode, convoy code) and QR for our URIs. Modules are filled rectangles in a viewBox measured in
modules, so the code stays sharp at any print size and WeasyPrint writes it as vectors."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import segno
from barcode.charsets import code128
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

CODE128_QUIET_ZONE = 10  # modules each side, as the standard asks
QR_QUIET_ZONE = 4
_PRINTABLE_ASCII = frozenset(chr(c) for c in range(0x20, 0x7F))


def _runs(modules: Iterable[bool]) -> Iterator[tuple[int, int]]:
    """``(start, length)`` of each run of dark modules."""
    start = 0
    for dark, group in itertools.groupby(modules):
        length = len(list(group))
        if dark:
            yield start, length
        start += length


def _svg(width_mm: float, height_mm: float, view: tuple[float, float], path: str, label: str) -> SafeString:
    return mark_safe(  # noqa: S308 - numbers we computed and an escaped label
        f'<svg xmlns="http://www.w3.org/2000/svg" class="code" role="img" aria-label="{escape(label)}"'
        f' width="{width_mm:.2f}mm" height="{height_mm:.2f}mm" viewBox="0 0 {view[0]:g} {view[1]:g}"'
        f' shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )


def code128_encodable(value: str) -> bool:
    """Code 128 (sets A to C) carries printable ASCII; our crate barcodes and convoy codes are."""
    return bool(value) and set(value) <= _PRINTABLE_ASCII


CODE128_STOP = "1100011101011"  # the stop symbol with its final two-module bar


def code128_bits(value: str) -> str:
    """The modules of ``value`` in Code 128 set B (every printable ASCII character), start,
    check symbol and stop included. python-barcode's own set switching misencodes values that
    start with "99" (a scanner reads "999" as "9"), so labels use this plain encoding."""
    symbols = [code128.START_CODES["B"], *(ord(char) - 32 for char in value)]
    check = (symbols[0] + sum(weight * symbol for weight, symbol in enumerate(symbols[1:], start=1))) % 103
    return "".join(code128.CODES[symbol] for symbol in [*symbols, check]) + CODE128_STOP


def code128_svg(
    value: str, *, module_mm: float = 0.33, height_mm: float = 15, max_width_mm: float | None = None
) -> SafeString:
    """A Code 128 symbol of ``value``, quiet zones included; narrowed to ``max_width_mm`` if given.

    Raises ``ValueError`` for a value Code 128 cannot carry (see :func:`code128_encodable`).
    """
    if not code128_encodable(value):
        raise ValueError(f"Code 128 cannot carry {value!r}")
    bits = code128_bits(value)
    width = len(bits) + 2 * CODE128_QUIET_ZONE
    if max_width_mm is not None:
        module_mm = min(module_mm, max_width_mm / width)
    height = height_mm / module_mm
    path = "".join(
        f"M{CODE128_QUIET_ZONE + start} 0h{length}v{height:.2f}h-{length}z"
        for start, length in _runs(bit == "1" for bit in bits)
    )
    return _svg(width * module_mm, height_mm, (width, float(f"{height:.2f}")), path, value)


def qr_svg(value: str, *, size_mm: float = 30) -> SafeString:
    """A QR code (never Micro QR: many scanners cannot read it) of ``value``, error level M."""
    matrix = segno.make_qr(value, error="m", boost_error=False).matrix
    width = len(matrix) + 2 * QR_QUIET_ZONE
    path = "".join(
        f"M{QR_QUIET_ZONE + start} {QR_QUIET_ZONE + y}h{length}v1h-{length}z"
        for y, row in enumerate(matrix)
        for start, length in _runs(bool(module) for module in row)
    )
    return _svg(size_mm, size_mm, (width, width), path, value)
