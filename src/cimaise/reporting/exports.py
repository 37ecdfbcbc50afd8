"""Any dashboard table as CSV or XLSX: the columns' keys as the header, then the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

from cimaise.core.csvcells import spreadsheet_safe
from cimaise.reporting.dashboards import Table


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.spec.columns])
    writer.writerows([[spreadsheet_safe(_plain(v)) for v in row] for row in table.rows])
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """A cell's value; text (a department, a code…) stays text: control characters, which a
    worksheet cannot hold, are dropped, and a leading ``=`` is not read as a formula."""
    if isinstance(value, Decimal):
        return float(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def table_xlsx(table: Table) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.spec.key[:31])
    sheet.append([c.key for c in table.spec.columns])
    for row in table.rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
