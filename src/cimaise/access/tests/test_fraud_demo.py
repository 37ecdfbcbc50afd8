"""The demo's entrances: after the loaders that the gates need, the fraud page has a signal of
every kind, the monitor has its agents, and the ledger is intact."""

from __future__ import annotations

import pytest

from cimaise.access import fraud, monitor
from cimaise.access.models import Entry, EntryRule, Passage
from cimaise.core.demo import DemoContext, loaders
from cimaise.core.models import Institution
from cimaise.ledger.verify import ledger_verify

pytestmark = pytest.mark.django_db

NEEDED = (
    "core.institutions",
    "core.places",
    "core.people",
    "payments.rates",
    "ticketing.shop",
    "access.gates",
)


def test_the_demo_gates_show_every_kind_of_signal() -> None:
    ctx = DemoContext(scale="small", quiet=True)
    for loader in loaders():
        if loader.name in NEEDED:
            loader.load(ctx)
    louvre = Institution.objects.get(code="louvre")
    assert EntryRule.objects.filter(entrance__institution=louvre).count() == 4
    last = Entry.objects.filter(institution=louvre).latest("recorded_at")
    signals = fraud.fraud_signals(institution=louvre, day=fraud.today(last.recorded_at))
    grouped = fraud.signals_by_kind(signals)
    assert all(grouped[kind] for kind in fraud.KINDS), {k: len(v) for k, v in grouped.items()}
    (burst,) = grouped[fraud.FORGED_BURST]
    assert (burst.entrance, burst.count) == ("CAR", 7)
    assert [(s.operator, s.count, s.flagged) for s in grouped[fraud.OVERRIDES]] == [
        ("user:gate-agent", 7, True),
        ("user:gate-supervisor", 2, False),
    ]
    gaps = grouped[fraud.PASSAGES_WITHOUT_SCANS]
    assert {(s.entrance, s.lane, s.count) for s in gaps} == {("PYR", "T2", 4), ("CAR", "T1", 2)}
    assert Passage.objects.exists()
    agents = {e.code: e.agent.state for e in monitor.monitor_read(institution=louvre).entrances}
    assert agents == {"CAR": "online", "PDL": "none", "PYR": "online", "RIC": "offline"}
    entries = Entry.objects.count()
    loaders_by_name = {loader.name: loader for loader in loaders()}
    loaders_by_name["access.gates"].load(ctx)
    assert Entry.objects.count() == entries, "a second run adds nothing"
    assert ledger_verify().ok
