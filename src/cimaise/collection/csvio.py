"""CSV import and export of the registry. An import with any bad row imports nothing and
returns every problem with its line and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cimaise.collection.models import Department, Fragility, Work
from cimaise.core.models import Institution, Place

COLUMNS = [
    "inventory", "title", "department", "artist", "date", "materials", "height_cm", "width_cm",
    "depth_cm", "weight_kg", "fragility", "handling_notes", "hazard_notes", "normal_place",
    "barcode", "insurance_value", "insurance_currency",
]  # fmt: skip
REQUIRED = ("inventory", "title", "department")
DECIMALS = {
    "height_cm": "0.1",
    "width_cm": "0.1",
    "depth_cm": "0.1",
    "weight_kg": "0.01",
    "insurance_value": "0",
}
TEXT_LIMITS = {"inventory": 40, "title": 300, "artist": 200, "date": 100, "materials": 300, "barcode": 64}
MAX_ROWS = 300_000


@dataclass(frozen=True)
class RowError:
    """A problem at ``line`` (1 = the header) in ``column``."""

    line: int
    column: str
    message: str


@dataclass
class ParsedRows:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _decimal(raw: str, column: str, minimum: str) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not value.is_finite() or value < Decimal(minimum) or (minimum != "0" and value == 0):
        raise ValueError(f"{raw!r} must be a positive number")
    return value


def _text_problems(clean: dict[str, str]) -> list[tuple[str, str]]:
    problems = [(column, "required") for column in REQUIRED if not clean[column]]
    return problems + [
        (column, f"longer than {limit} characters")
        for column, limit in TEXT_LIMITS.items()
        if len(clean[column]) > limit
    ]


def _parse_row(row: dict[str, str], places: dict[str, Place]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    values: dict[str, Any] = {}
    clean = {k: (row.get(k) or "").strip() for k in COLUMNS}
    problems = _text_problems(clean)
    if clean["department"] and clean["department"] not in Department.values:
        problems.append(("department", f"unknown department (use {', '.join(Department.values)})"))
    fragility = clean["fragility"] or Fragility.MEDIUM.value
    if fragility not in Fragility.values:
        problems.append(("fragility", f"use one of {', '.join(Fragility.values)}"))
    for column, minimum in DECIMALS.items():
        try:
            values[column] = _decimal(clean[column], column, minimum)
        except ValueError as exc:
            problems.append((column, str(exc)))
    place = None
    if clean["normal_place"]:
        place = places.get(clean["normal_place"])
        if place is None:
            problems.append(("normal_place", f"no place {clean['normal_place']!r}"))
    currency = clean["insurance_currency"] or "EUR"
    if len(currency) != 3 or not currency.isalpha():
        problems.append(("insurance_currency", "a three-letter currency code"))
    values.update(
        inventory=clean["inventory"], title=clean["title"], department=clean["department"],
        artist=clean["artist"], date_text=clean["date"], materials=clean["materials"],
        fragility=fragility, handling_notes=clean["handling_notes"], hazard_notes=clean["hazard_notes"],
        normal_place=place, barcode=clean["barcode"] or None, insurance_currency=currency.upper(),
    )  # fmt: skip
    return values, problems


def _check_header(fieldnames: Sequence[str] | None) -> list[RowError]:
    if not fieldnames:
        return [RowError(1, "", "the file is empty or has no header line")]
    unknown = [name for name in fieldnames if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in fieldnames]
    return [RowError(1, name, "unknown column") for name in unknown] + [
        RowError(1, name, "required column missing") for name in missing
    ]


def _check_unique(parsed: ParsedRows) -> None:
    seen: dict[tuple[str, str], int] = {}
    for line, values in parsed.rows:
        for column in ("inventory", "barcode"):
            value = values.get(column)
            if not value:
                continue
            if (column, value) in seen:
                parsed.errors.append(RowError(line, column, f"also on line {seen[(column, value)]}"))
            else:
                seen[(column, value)] = line


def parse_csv(text: str, *, institution: Institution) -> ParsedRows:
    """Read and validate every row; nothing is written here."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    parsed = ParsedRows(errors=_check_header(reader.fieldnames))
    if parsed.errors:
        return parsed
    places = {p.code: p for p in Place.objects.filter(institution=institution)}
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            parsed.errors.append(RowError(line, "", f"more than {MAX_ROWS} rows"))
            break
        values, problems = _parse_row(row, places)
        parsed.errors.extend(RowError(line, column, message) for column, message in problems)
        parsed.rows.append((line, values))
    _check_unique(parsed)
    return parsed


def export_csv(works: Any) -> str:
    """The registry as CSV, in the import's columns (so an export re-imports unchanged)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for work in works:
        writer.writerow(
            [
                work.inventory, work.title, work.department, work.artist, work.date_text, work.materials,
                work.height_cm or "", work.width_cm or "", work.depth_cm or "", work.weight_kg or "",
                work.fragility, work.handling_notes, work.hazard_notes,
                work.normal_place.code if work.normal_place else "", work.barcode or "",
                work.insurance_value if work.insurance_value is not None else "", work.insurance_currency,
            ]
        )  # fmt: skip
    return out.getvalue()


__all__ = ["COLUMNS", "ParsedRows", "RowError", "Work", "export_csv", "parse_csv"]
