"""Fraud signals: impossible travel, repeated use, many sites in an hour, a withdrawn batch."""

from __future__ import annotations

import datetime as dt

from cimaise.passnet.fraud import (
    IMPOSSIBLE_TRAVEL,
    MANY_SITES,
    REPEATED_USE,
    WITHDRAWN_BATCH,
    Signal,
    haversine_km,
    signals_read,
    travel_minutes,
)
from cimaise.passnet.issuance import batch_withdraw
from cimaise.passnet.tests.conftest import T0, Network

DAY = (T0 - dt.timedelta(hours=10), T0 + dt.timedelta(hours=14))


def _signals(network: Network, kind: str) -> list[Signal]:
    return [s for s in signals_read(operator=network.operator, start=DAY[0], end=DAY[1]) if s.kind == kind]


def test_distances_are_great_circle_kilometres() -> None:
    orsay, versailles = (48.859961, 2.326561), (48.804865, 2.120355)
    assert 15.5 < haversine_km(orsay, versailles) < 16.5
    assert abs(travel_minutes(10.0) - 30.0) < 1e-9  # 20 km/h


def test_one_pass_at_orsay_then_versailles_twenty_minutes_later_is_impossible_travel(
    network: Network,
) -> None:
    fast, slow = network.issue(quantity=2)
    network.scan("ORSAY", fast.code, T0)
    network.scan("VERSAILLES", fast.code, T0 + dt.timedelta(minutes=20))
    network.scan("ORSAY", slow.code, T0)
    network.scan("VERSAILLES", slow.code, T0 + dt.timedelta(minutes=50))  # ~16 km need 48 min
    (signal,) = _signals(network, IMPOSSIBLE_TRAVEL)
    assert signal.code_id == fast.code_id and signal.sites == ("ORSAY", "VERSAILLES")
    assert signal.evidence["minutes_between"] == 20.0 and signal.evidence["minutes_needed"] > 45
    # Orsay → Orangerie (~0.6 km, 2 minutes at 20 km/h) five minutes apart is possible
    (near,) = network.issue()
    network.scan("ORSAY", near.code, T0)
    network.scan("ORANGERIE", near.code, T0 + dt.timedelta(minutes=5))
    assert len(_signals(network, IMPOSSIBLE_TRAVEL)) == 1


def test_repeated_use_many_sites_and_a_withdrawn_batch_are_signalled(network: Network) -> None:
    (p,) = network.issue()
    for minutes in (0, 10, 20):
        network.scan("ORSAY", p.code, T0 + dt.timedelta(minutes=minutes))
    (repeated,) = _signals(network, REPEATED_USE)
    assert repeated.evidence["refusals"] == 2 and repeated.sites == ("ORSAY",)
    for minutes, site in ((25, "ORANGERIE"), (40, "LOUVRE-PYR")):
        network.scan(site, p.code, T0 + dt.timedelta(minutes=minutes))
    assert not _signals(network, MANY_SITES)  # three sites
    network.sites["VERSAILLES"].latitude = network.sites["ORSAY"].latitude  # a "nearby" fourth site
    network.sites["VERSAILLES"].longitude = network.sites["ORSAY"].longitude
    network.sites["VERSAILLES"].save()
    network.scan("VERSAILLES", p.code, T0 + dt.timedelta(minutes=55))
    (many,) = _signals(network, MANY_SITES)
    assert set(many.sites) == {"ORSAY", "ORANGERIE", "LOUVRE-PYR", "VERSAILLES"}
    batch = network.issue(quantity=2, channel="reseller", batch="RES-9", reseller="Agence")
    batch_withdraw(actor=network.pass_operator.actor, batch="RES-9", reason="fraud", now=T0)
    for q in batch:
        network.scan("ORSAY", q.code, T0 + dt.timedelta(hours=1))
    (withdrawn,) = _signals(network, WITHDRAWN_BATCH)
    assert withdrawn.evidence == {
        "batch": "RES-9",
        "reseller": "Agence",
        "scans": 2,
        "passes": 2,
        "results": {"revoked": 2},
    }
