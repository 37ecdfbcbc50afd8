"""Periodic housekeeping: due jobs run, a failing job does not stop the others, the command
lists and runs what apps registered."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cimaise.core import housekeeping


def test_due_jobs_run_once_per_interval_and_a_failure_stops_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def broken() -> str:
        raise RuntimeError("gateway down")

    monkeypatch.setattr(housekeeping, "_JOBS", {})
    housekeeping.register(housekeeping.Job("a.broken", 10, broken))

    def fine() -> str:
        calls.append("b")
        return "did b"

    housekeeping.register(housekeeping.Job("b.fine", 10, fine))
    last: dict[str, float] = {}
    assert housekeeping.run_due(last, 100.0) == [("a.broken", "failed: RuntimeError"), ("b.fine", "did b")]
    assert housekeeping.run_due(last, 105.0) == []
    assert [name for name, _ in housekeeping.run_due(last, 111.0)] == ["a.broken", "b.fine"]
    assert calls == ["b", "b"]


@pytest.mark.django_db
def test_the_command_lists_and_runs_the_registered_jobs() -> None:
    out = io.StringIO()
    call_command("housekeeping", "--list", stdout=out)
    assert "ticketing.sweep: every 60 s" in out.getvalue()
    out = io.StringIO()
    call_command("housekeeping", stdout=out)
    assert "ticketing.sweep: expired 0 carts and 0 unpaid orders" in out.getvalue()
