"""CSV import and export of contracts: the export re-imports unchanged; the import is all or
nothing and reports every problem by row (the header is row 1) and field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cimaise.core.errors import InvalidInput
from cimaise.ledger.models import Fact
from cimaise.purchasing import csv_io, services
from cimaise.purchasing.models import Contract
from cimaise.purchasing.tests.conftest import BUYER_SIRET, HOLDER_SIRET, Register, make_spec

HEADER = ",".join(csv_io.COLUMNS)


def row(**changes: str) -> str:
    values = {
        "reference": "C-9", "title": "Crates", "vehicle": "AC-T", "nature": "contract", "parent": "",
        "needs": "N-TRANSPORT | N-CLEAN", "holders": "Caisserie du Nord", "holder_sirets": HOLDER_SIRET,
        "currency": "EUR", "min_amount": "", "max_amount": "80000.00", "start_on": "2025-02-01",
        "end_on": "2026-01-31", "renewal_on": "", "launched_on": "2024-10-01", "notified_on": "2025-01-15",
        "buyer_siret": BUYER_SIRET, "procedure": "adapted", "cpv_code": "44617000-8",
        "place_type": "postcode", "place_code": "62800", "place_name": "Liévin", "price_form": "firm",
    }  # fmt: skip
    values.update(changes)
    return ",".join(values[column] for column in csv_io.COLUMNS)


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def import_errors(register: Register, data: bytes) -> list[tuple[int, str]]:
    with pytest.raises(InvalidInput) as caught:
        csv_io.contracts_import(actor=register.officer.actor, data=data, filename="t.csv")
    assert caught.value.code == "invalid_rows"
    assert Contract.objects.count() == 0, "nothing is written when a row is wrong"
    details = caught.value.details
    assert isinstance(details, dict)
    return [(e["row"], e["field"]) for e in details["errors"]]


def test_a_good_file_is_imported_with_its_needs_and_holders(register: Register) -> None:
    result = csv_io.contracts_import(actor=register.officer.actor, data=csv_file(row()), filename="t.csv")
    assert (result.rows, result.created, result.changed, result.unchanged) == (1, ["C-9"], [], [])
    contract = Contract.objects.get(reference="C-9")
    assert contract.max_amount == Decimal("80000.00")
    assert contract.end_on == dt.date(2026, 1, 31)
    assert sorted(contract.needs.values_list("code", flat=True)) == ["N-CLEAN", "N-TRANSPORT"]
    assert [(h.name, h.siret) for h in contract.holders.all()] == [("Caisserie du Nord", HOLDER_SIRET)]
    assert Fact.objects.filter(type="purchasing.contracts.imported").count() == 1


def test_the_export_re_imports_unchanged(register: Register) -> None:
    actor = register.officer.actor
    services.contract_save(actor=actor, spec=make_spec(nature="framework", end_on=dt.date(2028, 12, 31)))
    services.contract_save(
        actor=actor,
        spec=make_spec(reference="C-2", nature="subsequent", parent="C-1", title="=cmd|' /C calc'!A0",
                       min_amount=None, max_amount=Decimal("30000"), renewal_on=dt.date(2026, 6, 30)),
    )  # fmt: skip
    exported = csv_io.contracts_csv(Contract.objects.order_by("reference"))
    assert exported.startswith("\ufeff" + HEADER + "\r\n")
    assert "'=cmd" in exported  # a spreadsheet does not run it
    result = csv_io.contracts_import(actor=actor, data=exported.encode(), filename="export.csv")
    assert (result.created, result.changed, result.unchanged) == ([], [], ["C-1", "C-2"])
    assert Contract.objects.get(reference="C-2").title == "=cmd|' /C calc'!A0"
    changed = exported.replace("Transport of works,AC-T", "Transport of works (amended),AC-T", 1)
    result = csv_io.contracts_import(actor=actor, data=changed.encode(), filename="export.csv")
    assert (result.created, result.changed, result.unchanged) == ([], ["C-1"], ["C-2"])


def test_semicolons_and_french_numbers_are_read(register: Register) -> None:
    header = HEADER.replace(",", ";")
    line = (
        row(max_amount='"80 000,50"', start_on="01/02/2025")
        .replace(",", ";")
        .replace('"80 000;50"', "80 000,50")
    )
    csv_io.contracts_import(actor=register.officer.actor, data=csv_file(line, header=header))
    contract = Contract.objects.get(reference="C-9")
    assert (contract.max_amount, contract.start_on) == (Decimal("80000.50"), dt.date(2025, 2, 1))


def test_a_missing_or_unknown_column_is_reported_on_row_1(register: Register) -> None:
    header = HEADER.replace("max_amount", "maximum")
    assert import_errors(register, csv_file(row(), header=header)) == [(1, "max_amount"), (1, "maximum")]


def test_unreadable_values_are_reported_by_row_and_field(register: Register) -> None:
    data = csv_file(
        row(),
        row(reference="C-10", max_amount="lots", start_on="2025-13-01"),
        row(reference="", title=""),
    )
    assert import_errors(register, data) == [
        (3, "max_amount"),
        (3, "start_on"),
        (4, "reference"),
        (4, "title"),
    ]


def test_rule_breaches_are_reported_by_row_and_field(register: Register) -> None:
    data = csv_file(
        row(reference="C-1", min_amount="90000"),
        row(reference="C-2", nature="framework", start_on="2025-01-01", end_on="2029-01-01"),
        row(reference="C-3", procedure="", cpv_code=""),
        row(reference="C-4", holder_sirets="44011223300010"),
        row(reference="C-5", max_amount="39999.99", buyer_siret="", procedure="", cpv_code="", place_type="",
            place_code="", place_name="", notified_on="", price_form="", holder_sirets=""),
    )  # fmt: skip
    assert import_errors(register, data) == [
        (2, "min_amount"), (3, "end_on"), (4, "procedure"), (4, "cpv_code"), (5, "holders"),
    ]  # fmt: skip


def test_unknown_references_and_duplicates_are_reported(register: Register) -> None:
    data = csv_file(
        row(vehicle="NOPE"),
        row(reference="C-10", needs="N-NOPE"),
        row(reference="C-11", nature="subsequent", parent="C-9"),
        row(reference="C-9"),
        row(reference="C-12", nature="banana", place_type="planet"),
        row(reference="C-13", place_name="L" * 101, holders="H" * 201),
    )
    assert import_errors(register, data) == [
        (2, "vehicle"), (3, "needs"), (4, "parent"), (5, "reference"), (6, "nature"), (6, "place_type"),
        (7, "place_name"), (7, "holders"),
    ]  # fmt: skip


def test_a_follow_on_contract_may_name_a_framework_agreement_of_the_same_file(register: Register) -> None:
    data = csv_file(
        row(reference="MS-1", nature="subsequent", parent="AC-1", max_amount="20000"),
        row(reference="AC-1", nature="framework", end_on="2028-12-31"),
    )
    csv_io.contracts_import(actor=register.officer.actor, data=data)
    follow_on = Contract.objects.select_related("parent").get(reference="MS-1")
    assert follow_on.parent is not None and follow_on.parent.reference == "AC-1"


def test_a_file_that_is_not_utf8_or_empty_is_refused(register: Register) -> None:
    with pytest.raises(InvalidInput) as caught:
        csv_io.contracts_import(actor=register.officer.actor, data="réf".encode("latin-1"))
    assert caught.value.field == "file"
    assert import_errors(register, csv_file()) == [(2, "file")]
    assert import_errors(register, csv_file(row() + ",extra")) == [(2, "file")]
