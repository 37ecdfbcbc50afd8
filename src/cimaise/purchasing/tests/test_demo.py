"""The purchasing demo: seven State groupings joined in 2019, the regional platform's four needs
at the centre, two joint orders with Louvre-Lens, a transport framework agreement; run twice, it
adds nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from cimaise.core import demo_data as core_demo
from cimaise.core.demo import DemoContext
from cimaise.purchasing import demo_data, selectors
from cimaise.purchasing.models import Contract, Need, Vehicle

pytestmark = pytest.mark.django_db


def load() -> None:
    ctx = DemoContext(scale="small", quiet=True)
    core_demo.load_institutions(ctx)
    core_demo.load_people(ctx)
    demo_data.load(ctx)


def test_the_demo_register_is_the_one_described() -> None:
    load()
    groupings = Vehicle.objects.filter(kind="state-grouping")
    assert groupings.count() == 7
    assert {v.joined_on.year for v in groupings if v.joined_on} == {2019}
    platform = Vehicle.objects.get(kind="regional-platform")
    platform_needs = Need.objects.filter(contracts__vehicle=platform).distinct()
    assert sorted(platform_needs.values_list("code", flat=True)) == [
        "CCL-DECHETS", "CCL-MAINT", "CCL-NET", "CCL-VERTS",
    ]  # fmt: skip
    assert {need.site.code for need in platform_needs} == {"CCL"}
    joint = Vehicle.objects.filter(kind="joint-order")
    assert [(v.code, v.partner.code if v.partner else None) for v in joint] == [
        ("CG-LENS-CONS", "louvre-lens"), ("CG-LENS-NAV", "louvre-lens"),
    ]  # fmt: skip
    transport = Contract.objects.get(reference="AC-2023-TRANSPORT")
    assert (transport.nature, transport.vehicle.kind) == ("framework", "framework")
    assert sorted(transport.follow_ons.values_list("reference", flat=True)) == ["MS-2025-01", "MS-2026-01"]
    louvre = transport.institution
    statuses = {row.need.code: row.status for row in selectors.coverage(louvre, on=dt.date(2026, 11, 29))}
    assert statuses["CCL-CAPTEURS"] == "gap"
    assert statuses["PAL-INTER"] == "gap"
    assert statuses["PAL-GAZ"] == "covered"
    assert statuses["PAL-TRANSPORT"] == "renewal"  # relaunch due by 31 March 2027
    assert statuses["PAL-ELEC"] == "renewal"
    year_2019 = next(y for y in selectors.indicators(louvre) if y.year == 2019)
    assert (year_2019.launched, year_2019.notified, year_2019.joined) == (1, 2, 11)


def test_the_demo_runs_twice_without_adding_anything() -> None:
    load()
    counts = (Vehicle.objects.count(), Need.objects.count(), Contract.objects.count())
    demo_data.load(DemoContext(scale="small", quiet=True))
    assert (Vehicle.objects.count(), Need.objects.count(), Contract.objects.count()) == counts == (12, 17, 19)
