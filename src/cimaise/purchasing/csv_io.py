"""CSV import and export of contracts.

The export writes one row per contract with the columns of ``COLUMNS``; lists (needs, holders and
their SIRET numbers) are joined with `` | ``. The import reads the same file back (comma or
semicolon separated, UTF-8 with or without BOM) and is **all or nothing**: every row is checked
first, and one bad row means nothing is written and the report lists every problem by row (the
header is row 1) and field. Rows are matched by ``reference``: a new reference creates a contract,
a known one updates it, an identical one is left alone, so an export re-imports as "unchanged".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from cimaise.core.actors import Actor
from cimaise.core.errors import InvalidInput
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append
from cimaise.purchasing import facts, services
from cimaise.purchasing.models import Contract
from cimaise.purchasing.rules import ContractSpec, HolderSpec, Problem, check_contract

COLUMNS = (
    "reference", "title", "vehicle", "nature", "parent", "needs", "holders", "holder_sirets",
    "currency", "min_amount", "max_amount", "start_on", "end_on", "renewal_on", "launched_on",
    "notified_on", "buyer_siret", "procedure", "cpv_code", "place_type", "place_code", "place_name",
    "price_form",
)  # fmt: skip
TEXT_FIELDS = (
    "reference", "title", "vehicle", "parent", "buyer_siret", "procedure", "cpv_code", "place_type",
    "place_code", "place_name", "price_form",
)  # fmt: skip
REQUIRED = ("reference", "title", "vehicle", "max_amount", "start_on", "end_on")
SEPARATOR = " | "
MAX_BYTES = 2 * 2**20
MAX_ROWS = 5000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


# --- export --------------------------------------------------------------------------------------


def contract_spec(contract: Contract) -> ContractSpec:
    """A stored contract as the spec that would store it again."""
    return ContractSpec(
        reference=contract.reference, title=contract.title, vehicle=contract.vehicle.code,
        nature=contract.nature, parent=contract.parent.reference if contract.parent else "",
        needs=sorted(need.code for need in contract.needs.all()),
        holders=[HolderSpec(h.name, h.siret) for h in contract.holders.all()],
        currency=contract.currency, min_amount=contract.min_amount, max_amount=contract.max_amount,
        start_on=contract.start_on, end_on=contract.end_on, renewal_on=contract.renewal_on,
        launched_on=contract.launched_on, notified_on=contract.notified_on,
        buyer_siret=contract.buyer_siret, procedure=contract.procedure, cpv_code=contract.cpv_code,
        place_type=contract.place_type, place_code=contract.place_code, place_name=contract.place_name,
        price_form=contract.price_form,
    )  # fmt: skip


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return SEPARATOR.join(str(v) for v in value)
    return str(value)


def _cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (the import takes the quote off again)."""
    text = _text(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def spec_row(spec: ContractSpec) -> list[str]:
    values = asdict(spec)
    values["holders"] = [h.name for h in spec.holders]
    values["holder_sirets"] = [h.siret for h in spec.holders]
    return [_cell(values[column]) for column in COLUMNS]


def contracts_csv(contracts: Iterable[Contract]) -> str:
    """The contracts as CSV text (with a BOM, so spreadsheets read it as UTF-8)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for contract in contracts:
        writer.writerow(spec_row(contract_spec(contract)))
    return out.getvalue()


# --- import: reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A problem of the file: its row (the header is row 1), the column and what is wrong."""

    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    rows: int
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class Row:
    """One CSV row's values, parsed field by field; each bad value is kept as a problem."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.problems: list[Problem] = []

    def text(self, name: str) -> str:
        raw = (self.values.get(name) or "").strip()
        return raw[1:] if raw.startswith("'") and raw[1:2] in _FORMULA else raw

    def parsed(self, name: str, parse: Callable[[str], Any], what: str) -> Any:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return parse(raw)
        except (ValueError, InvalidOperation):
            self.problems.append(Problem(name, f"{raw!r} is not {what}"))
            return None

    def date(self, name: str) -> dt.date | None:
        return self.parsed(name, _date, "a date (YYYY-MM-DD)")  # type: ignore[no-any-return]

    def amount(self, name: str) -> Decimal | None:
        return self.parsed(name, _amount, "an amount (12345.67)")  # type: ignore[no-any-return]

    def items(self, name: str) -> list[str]:
        return [item.strip() for item in self.text(name).split("|")] if self.text(name) else []


def _date(raw: str) -> dt.date:
    if "/" in raw:
        return dt.datetime.strptime(raw, "%d/%m/%Y").date()  # noqa: DTZ007  (a calendar date)
    return dt.date.fromisoformat(raw)


def _amount(raw: str) -> Decimal:
    cleaned = raw.replace("\u202f", "").replace("\xa0", "").replace(" ", "").removesuffix("€")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    value = Decimal(cleaned)
    if not value.is_finite() or value.as_tuple().exponent < -2 or abs(value) >= Decimal("1e12"):  # type: ignore[operator]
        raise ValueError(raw)
    return value


def _holders(row: Row) -> list[HolderSpec]:
    names, sirets = row.items("holders"), row.items("holder_sirets")
    if len(sirets) > len(names):
        row.problems.append(Problem("holder_sirets", "more SIRET numbers than holders"))
    sirets += [""] * (len(names) - len(sirets))
    return [HolderSpec(name, siret.replace(" ", "")) for name, siret in zip(names, sirets, strict=True)]


def row_spec(row: Row) -> ContractSpec | None:
    """The row as a contract spec, or None when a value could not be read (see ``row.problems``)."""
    missing = [name for name in REQUIRED if not row.text(name)]
    row.problems += [Problem(name, "required") for name in missing]
    max_amount, start_on, end_on = row.amount("max_amount"), row.date("start_on"), row.date("end_on")
    spec_values: dict[str, Any] = {
        "min_amount": row.amount("min_amount"), "renewal_on": row.date("renewal_on"),
        "launched_on": row.date("launched_on"), "notified_on": row.date("notified_on"),
        "holders": _holders(row), "needs": sorted(row.items("needs")),
    }  # fmt: skip
    if row.problems or max_amount is None or start_on is None or end_on is None:
        return None
    texts: dict[str, Any] = {name: row.text(name) for name in TEXT_FIELDS}
    return ContractSpec(
        **texts, **spec_values, max_amount=max_amount, start_on=start_on, end_on=end_on,
        nature=row.text("nature") or Contract.Nature.CONTRACT, currency=row.text("currency") or "EUR",
    )  # fmt: skip


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"file: larger than {MAX_BYTES // 2**20} MB", field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file: not UTF-8 text (save the CSV as UTF-8)", field="file") from None


def read_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row number, values by column)``; a header without a required column, or with an
    unknown one, is refused with the row (1) and the column named."""
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    errors = [RowError(1, name, "required column is missing") for name in REQUIRED if name not in header]
    errors += [RowError(1, name, "unknown column") for name in header if name not in COLUMNS]
    if errors:
        raise_report(errors)
    reader.fieldnames = header
    for values in reader:
        if reader.line_num - 1 > MAX_ROWS:
            raise_report([RowError(reader.line_num, "file", f"more than {MAX_ROWS} rows")])
        if None in values:
            raise_report([RowError(reader.line_num, "file", "more values than columns")])
        yield reader.line_num, values


def raise_report(errors: list[RowError]) -> None:
    first = errors[0]
    raise InvalidInput(
        f"row {first.row}, {first.field}: {first.message}",
        code="invalid_rows",
        field=first.field,
        details={"field": "file", "errors": [asdict(e) for e in errors]},
    )


# --- import: checking and storing ----------------------------------------------------------------


def _check_rows(institution: Institution, rows: list[tuple[int, Row, ContractSpec | None]]) -> list[RowError]:
    frameworks = {spec.reference: spec.nature for _n, _r, spec in rows if spec}
    seen: dict[str, int] = {}
    errors: list[RowError] = []
    for number, row, spec in rows:
        problems = list(row.problems)
        if spec is not None:
            problems += check_contract(spec) + services.contract_problems_db(institution, spec, frameworks)
            if spec.reference in seen:
                problems.append(Problem("reference", f"already on row {seen[spec.reference]}"))
            seen.setdefault(spec.reference, number)
        errors += [RowError(number, p.field, p.message) for p in problems]
    return errors


Progress = Callable[[Iterator[tuple[int, dict[str, str]]]], Iterable[tuple[int, dict[str, str]]]]


def contracts_parse(
    institution: Institution, data: bytes, progress: Progress | None = None
) -> list[ContractSpec]:
    """Every row of the file as a spec; raises ``InvalidInput`` (code ``invalid_rows``, the
    report in ``details.errors``) when any row has a problem. ``progress`` wraps the rows (a
    command's progress bar)."""
    rows = []
    for number, values in (progress or iter)(read_rows(data)):
        row = Row(values)
        rows.append((number, row, row_spec(row)))
    if not rows:
        raise_report([RowError(2, "file", "no contract in the file")])
    errors = _check_rows(institution, rows)
    if errors:
        raise_report(errors)
    return [spec for _n, _r, spec in rows if spec is not None]


@transaction.atomic(durable=True)
def contracts_import(
    *, actor: Actor, data: bytes, filename: str = "", progress: Progress | None = None
) -> ImportResult:
    """Import a CSV file of contracts, all rows or none (see the module's docstring)."""
    institution = services.editor_institution(actor)
    specs = contracts_parse(institution, data, progress)
    existing = {c.reference: c for c in services.contracts_with_details(institution)}
    result = ImportResult(rows=len(specs))
    drafts = []
    for spec in specs:
        before = existing.get(spec.reference)
        if before is not None and contract_spec(before) == spec:
            result.unchanged.append(spec.reference)
            continue
        _contract, created = services.contract_store(institution, spec, with_parent=False)
        (result.created if created else result.changed).append(spec.reference)
        body = {**services.spec_body(spec), "created": created}
        drafts.append(facts.draft(institution, facts.CONTRACT_RECORDED.name, body, actor.label))
    stored = {c.reference: c for c in Contract.objects.filter(institution=institution)}
    for spec in specs:
        services.contract_set_parent(institution, stored[spec.reference], spec.parent)
    summary = {"file": filename[:200], "rows": result.rows, "created": len(result.created),
               "changed": len(result.changed), "unchanged": len(result.unchanged)}  # fmt: skip
    drafts.append(facts.draft(institution, facts.CONTRACTS_IMPORTED.name, summary, actor.label))
    facts_append(drafts)
    return result
