"""One pass scanned at two sites at the same instant, on PostgreSQL: the pass row lock decides,
one activation, each site's limit kept, every scan recorded once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from cimaise.core.tests.concurrency import at_once
from cimaise.core.tests.personas import make_cast
from cimaise.ledger.verify import ledger_verify
from cimaise.passnet.models import Pass, PassEntry
from cimaise.passnet.scans import Scan, ScanResult, pass_scan
from cimaise.passnet.tests.conftest import T0, Network, make_network

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def site_scan(network: Network, site: str, code: str, nonce: str) -> Callable[[], ScanResult]:
    scan = Scan(code=code, lane="L1", direction="in", nonce=nonce, scanned_at=T0)
    return lambda: pass_scan(site=network.sites[site], scan=scan, who="test", now=T0)


def test_one_pass_at_two_sites_at_once_is_activated_once_and_admitted_once_per_site() -> None:
    network = make_network(make_cast())
    passes = network.issue(quantity=3)
    for p in passes:
        jobs = [
            site_scan(network, site, p.code, f"{p.code_id}-{site}-{i}")
            for i in range(3)
            for site in ("ORSAY", "LOUVRE-PYR")
        ]
        results, errors = at_once(jobs)
        assert not errors, errors
        assert sorted(r.reason for r in results) == ["already_used"] * 4 + ["ok"] * 2
    assert PassEntry.objects.filter(result="accepted").count() == 6
    assert PassEntry.objects.filter(activated=True).count() == 3
    assert Pass.objects.filter(activated_at=T0).count() == 3
    assert ledger_verify().ok


def test_the_same_nonce_sent_at_once_is_recorded_once() -> None:
    network = make_network(make_cast())
    (p,) = network.issue()
    results, errors = at_once([site_scan(network, "ORSAY", p.code, "same") for _ in range(6)])
    assert not errors, errors
    assert {(r.result, r.reason) for r in results} == {("accepted", "ok")}
    assert PassEntry.objects.count() == 1
    assert Pass.objects.get().expires_at == T0 + dt.timedelta(hours=48)
