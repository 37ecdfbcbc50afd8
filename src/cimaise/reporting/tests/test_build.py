"""The build: it extracts every source into monthly Parquet, only what is new the next time,
nothing at all when run twice, and survives an interrupted run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from django.core.management import call_command

from cimaise.access.models import Entry
from cimaise.reporting import store
from cimaise.reporting.build import facts_build
from cimaise.reporting.nightly import nightly_due
from cimaise.reporting.tests.conftest import World, entry
from cimaise.ticketing.models import Order
from cimaise.ticketing.tests.ticket_factories import T0

pytestmark = pytest.mark.django_db


def _rows(source: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in store.source_dir(source).glob("month=*/*.parquet"))


def test_the_build_extracts_every_source_by_month(world: World) -> None:
    result = facts_build()
    assert _rows("entries") == Entry.objects.count() == result.rows["entries"]
    assert _rows("orders") == Order.objects.count()
    assert _rows("convoy_works") == 5
    assert _rows("incidents") == 1
    assert _rows("refunds") == 1
    assert {p.name for p in store.source_dir("entries").iterdir()} == {"month=2018-10", "month=2019-10"}


def test_a_second_build_writes_nothing(world: World) -> None:
    facts_build()
    before = sorted((p, p.stat().st_mtime_ns) for p in store.facts_dir().rglob("*.parquet"))
    again = facts_build()
    assert again.total_files == 0
    assert again.rows["entries"] == 0
    assert sorted((p, p.stat().st_mtime_ns) for p in store.facts_dir().rglob("*.parquet")) == before


def test_the_build_adds_only_the_new_entries_and_rewrites_only_a_changed_month(world: World) -> None:
    facts_build()
    entry(world.gate, world.gate.lane_1, T0 + dt.timedelta(days=3))
    Order.objects.filter(pk=world.orders[5].pk).update(state="cancelled")  # an order of 2018-10
    result = facts_build()
    assert result.rows["entries"] == 1
    assert result.files["entries"] == 1
    assert result.files["orders"] == 1  # only 2018-10 changed
    assert _rows("entries") == Entry.objects.count()


def test_files_left_by_an_interrupted_build_are_replaced_not_counted_twice(world: World) -> None:
    facts_build()
    new = entry(world.gate, world.gate.lane_1, T0 + dt.timedelta(days=3))
    stale = store.month_dir("entries", "2019-10") / f"part-{new.id:012d}-{new.id:012d}.parquet"
    first = next(store.source_dir("entries").glob("month=2019-10/part-*.parquet"))
    stale.write_bytes(first.read_bytes())  # as if the files were written but not the state
    facts_build()
    assert _rows("entries") == Entry.objects.count()


def test_the_command_builds_with_a_progress_bar(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("report", "build")
    out = capsys.readouterr()
    assert "report build:" in out.out
    assert "row" in out.err  # tqdm's bar
    assert store.state_read()["sources"]["entries"]["watermark"] == Entry.objects.order_by("-id").first().id  # type: ignore[union-attr]


def test_the_nightly_build_runs_once_a_night() -> None:
    night = dt.datetime(2019, 12, 10, 1, 30, tzinfo=dt.UTC)  # 02:30 in Paris (winter time)
    assert nightly_due(night, None)
    assert not nightly_due(night, (night - dt.timedelta(minutes=10)).isoformat())
    assert nightly_due(night, (night - dt.timedelta(hours=2)).isoformat())
    assert not nightly_due(night - dt.timedelta(hours=1), (night - dt.timedelta(hours=2)).isoformat())


def test_the_state_lives_beside_the_facts(world: World, reporting_dir: Path) -> None:
    facts_build()
    assert (reporting_dir / "state.json").exists()
    assert store.state_read()["built_at"]


def test_a_database_recreated_below_the_watermark_is_read_again(world: World) -> None:
    facts_build()
    state = store.state_read()
    state["sources"]["entries"]["watermark"] = 10**9  # the ids restarted below it
    store.state_write(state)
    entry(world.gate, world.gate.lane_1, T0 + dt.timedelta(days=3))
    facts_build()
    assert _rows("entries") == Entry.objects.count()
    assert store.state_read()["sources"]["entries"]["watermark"] == Entry.objects.latest("id").id
