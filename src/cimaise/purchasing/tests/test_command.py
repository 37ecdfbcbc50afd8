"""``cimaise purchasing export|import|alerts``: the CSV file round trip from the command line, the
problems listed by row, and the refusal for someone who is not a purchasing officer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cimaise.purchasing import services
from cimaise.purchasing.models import Contract
from cimaise.purchasing.tests.conftest import Register, make_spec


def test_the_export_re_imports_from_the_command_line(register: Register, tmp_path: Path) -> None:
    services.contract_save(actor=register.officer.actor, spec=make_spec())
    target = tmp_path / "contracts.csv"
    out, err = io.StringIO(), io.StringIO()
    call_command("purchasing", "export", "-o", str(target), "--user", "purchasing-a", stdout=out, stderr=err)
    assert out.getvalue() == f"1 contracts written to {target}\n"
    out = io.StringIO()
    call_command("purchasing", "import", str(target), "--user", "purchasing-a", stdout=out, stderr=err)
    assert out.getvalue() == "1 rows: 0 created, 0 changed, 1 unchanged\n"
    assert "rows" in err.getvalue()  # the progress bar


def test_a_bad_file_lists_its_problems_and_imports_nothing(register: Register, tmp_path: Path) -> None:
    services.contract_save(actor=register.officer.actor, spec=make_spec())
    target = tmp_path / "contracts.csv"
    call_command("purchasing", "export", "-o", str(target), "--user", "purchasing-a", stdout=io.StringIO())
    target.write_text(target.read_text().replace("2026-12-31", "2026-02-31"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="row 2, end_on"):
        call_command("purchasing", "import", str(target), "--user", "purchasing-a", stderr=err)
    assert "row 2, end_on: '2026-02-31' is not a date (YYYY-MM-DD)" in err.getvalue()
    assert Contract.objects.get().end_on.isoformat() == "2026-12-31"


def test_the_command_refuses_who_is_not_an_officer(register: Register, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="your role does not allow this"):
        call_command("purchasing", "export", "-o", str(tmp_path / "x.csv"), "--user", "registrar-a")
    out = io.StringIO()
    call_command("purchasing", "alerts", stdout=out)
    assert out.getvalue() == "sent 0 renewal alerts\n"
