"""The demo's pass network loads through the real services: about sixty sites, a month of scans
settled to the cent, fraud signals to look at, and the demo users can use it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cimaise.core.demo import DemoContext
from cimaise.core.demo_data import load_institutions, load_people
from cimaise.ledger.verify import ledger_verify
from cimaise.passnet.demo_data import load_passnet
from cimaise.passnet.fraud import IMPOSSIBLE_TRAVEL, REPEATED_USE, WITHDRAWN_BATCH, signals_read
from cimaise.passnet.models import PartnerSite, PassEntry, Settlement

pytestmark = pytest.mark.django_db


def test_the_demo_network_is_settled_and_shows_frauds() -> None:
    ctx = DemoContext(scale="small", quiet=True)
    load_institutions(ctx)
    load_people(ctx)
    load_passnet(ctx)
    assert 55 <= PartnerSite.objects.count() <= 65
    settlement = Settlement.objects.get()
    assert settlement.visits > 300
    assert sum(line.amount for line in settlement.lines.all()) == settlement.distributable > Decimal(0)
    assert PassEntry.objects.filter(result="rejected").exists()
    now = timezone.now()
    kinds = {
        s.kind for s in signals_read(operator=settlement.operator, start=now - dt.timedelta(days=3), end=now)
    }
    assert {IMPOSSIBLE_TRAVEL, REPEATED_USE, WITHDRAWN_BATCH} <= kinds
    assert ledger_verify().ok
