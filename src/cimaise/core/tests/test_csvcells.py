"""CSV cells a spreadsheet opens as data: formulas are neutralised, numbers kept."""

from __future__ import annotations

import pytest

from cimaise.core.csvcells import spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+33 1 40 20 50 50", "'+33 1 40 20 50 50"), ("@SUM(A1)", "'@SUM(A1)"),
     ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"), ("\t=x", "'\t=x"), ("-12.50", "-12.50"), (-3, "-3"),
     ("Pyramide", "Pyramide"), (None, ""), ("", "")],
)  # fmt: skip
def test_formulas_get_an_apostrophe_and_numbers_stay(value: object, cell: str) -> None:
    assert spreadsheet_safe(value) == cell
