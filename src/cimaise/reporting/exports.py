"""Any dashboard table as CSV or XLSX: the columns' keys as the header, then the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from cimaise.reporting.dashboards import Table


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.spec.columns])
    writer.writerows([[_plain(v) for v in row] for row in table.rows])
    return out.getvalue()


def table_xlsx(table: Table) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.spec.key[:31])
    sheet.append([c.key for c in table.spec.columns])
    for row in table.rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
