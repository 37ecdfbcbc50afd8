"""``report build``: extract the operational rows into monthly Parquet files, incrementally.

Append sources add one file per batch and month (``part-<first id>-<last id>.parquet``); a file
whose first id is above the recorded watermark was left by an interrupted build and is removed
before the source is read again, so that a build can stop anywhere and be run again. Snapshot
sources rewrite a month's ``snapshot.parquet`` only when its digest changed. Running the build
twice in a row writes nothing the second time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from cimaise.core.errors import Conflict
from cimaise.reporting import store
from cimaise.reporting.sources import Row, Source, sources

PARIS = "Europe/Paris"
BATCH = 50_000
SNAPSHOT_FILE = "snapshot.parquet"
Progress = Callable[[int], None]


@dataclass
class BuildResult:
    """What one build did: rows read and files written, per source."""

    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    def summary(self) -> str:
        return f"{self.total_rows} rows read, {self.total_files} files written in {self.seconds:.1f} s"


def to_table(source: Source, rows: list[Row]) -> pa.Table:
    """The rows as an Arrow table of the source's schema, with ``day``/``hour`` in Paris time."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in source.columns]
    arrays = [pa.array(list(c), type=t) for c, (_, t) in zip(columns, source.columns, strict=True)]
    table = pa.Table.from_arrays(arrays, names=[n for n, _ in source.columns])
    return with_day_hour(table, source.time)


def with_day_hour(table: pa.Table, time_column: str) -> pa.Table:
    local = pc.local_timestamp(table[time_column].cast(pa.timestamp("us", tz=PARIS)))
    table = table.append_column("day", pc.floor_temporal(local, unit="day").cast(pa.date32()))
    return table.append_column("hour", pc.hour(local).cast(pa.int8()))


def by_month(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The table split by the month of its ``day`` column (YYYY-MM)."""
    if table.num_rows == 0:
        return
    months = pc.strftime(table["day"].cast(pa.timestamp("s")), format="%Y-%m")
    for month in sorted(pc.unique(months).to_pylist()):
        yield month, table.filter(pc.equal(months, month))


def write_parquet(table: pa.Table, path: os.PathLike[str] | str) -> None:
    """Write then rename, so that a reader never sees half a file."""
    target = os.fspath(path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    pq.write_table(table, target + ".tmp", compression="snappy")
    os.replace(target + ".tmp", target)


def digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


# --- append sources ------------------------------------------------------------------------------


def _remove_stale(source: Source, watermark: int) -> None:
    for path in store.source_dir(source.name).glob("month=*/part-*.parquet"):
        if int(path.stem.split("-")[1]) > watermark:
            path.unlink()


def _append(source: Source, state: dict[str, Any], progress: Progress, result: BuildResult) -> None:
    """Read the rows above the watermark. The id order is the commit order: every append
    source's writer takes the ledger lock before its insert (``access.services``,
    ``moves.services``, ``passnet.scans``), so no row can commit later with a lower id."""
    watermark = int(state.get("watermark", 0))
    top = source.queryset().aggregate(top=Max("id"))["top"] or 0
    if top < watermark:  # the table was emptied or the database recreated: start again
        watermark = 0
        for path in store.source_dir(source.name).glob("month=*/part-*.parquet"):
            path.unlink()
    _remove_stale(source, watermark)
    while True:
        batch = source.queryset().filter(id__gt=watermark).values_list(*source.fields)[:BATCH]
        rows = list(batch)
        if not rows:
            break
        first, last = rows[0][0], rows[-1][0]
        for month, part in by_month(to_table(source, rows)):
            write_parquet(
                part, store.month_dir(source.name, month) / f"part-{first:012d}-{last:012d}.parquet"
            )
            result.files[source.name] += 1
        watermark = last
        result.rows[source.name] += len(rows)
        progress(len(rows))
    state["watermark"] = watermark


# --- snapshot sources ----------------------------------------------------------------------------


def _snapshot(source: Source, state: dict[str, Any], progress: Progress, result: BuildResult) -> None:
    rows = list(source.queryset().values_list(*source.fields).iterator(chunk_size=BATCH))
    progress(len(rows))
    result.rows[source.name] += len(rows)
    if source.rows is not None:
        rows = source.rows(rows)
    known: dict[str, str] = state.get("months", {})
    seen: dict[str, str] = {}
    for month, part in by_month(to_table(source, rows)):
        seen[month] = digest(part)
        if known.get(month) != seen[month]:
            write_parquet(part, store.month_dir(source.name, month) / SNAPSHOT_FILE)
            result.files[source.name] += 1
    for month in set(known) - set(seen):
        (store.month_dir(source.name, month) / SNAPSHOT_FILE).unlink(missing_ok=True)
        result.files[source.name] += 1
    state["months"] = seen


# --- the build -----------------------------------------------------------------------------------


def pending_rows(state: dict[str, Any]) -> int:
    """How many rows the next build will read (the progress bar's total)."""
    total = 0
    tables = set(connection.introspection.table_names())
    for source in sources():
        if source.queryset().model._meta.db_table not in tables:
            continue
        if source.mode == "append":
            watermark = int(state["sources"].get(source.name, {}).get("watermark", 0))
            total += source.queryset().filter(id__gt=watermark).count()
        else:
            total += source.queryset().count()
    return total


@contextlib.contextmanager
def _build_lock() -> Iterator[IO[str]]:
    path = store.reporting_dir() / "build.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict("a build is already running", code="build_running") from exc
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def facts_build(
    *, progress: Progress | None = None, total: Callable[[int], None] | None = None
) -> BuildResult:
    """Bring every source's Parquet facts up to date; safe to run at any time, and again."""
    started = time.perf_counter()
    result = BuildResult()
    advance: Progress = progress or (lambda n: None)
    with _build_lock():
        state = store.state_read()
        if total is not None:
            total(pending_rows(state))
        tables = set(connection.introspection.table_names())
        for source in sources():
            result.rows[source.name] = result.files[source.name] = 0
            if source.queryset().model._meta.db_table not in tables:
                continue  # an app installed but not migrated yet: nothing to read
            own = state["sources"].setdefault(source.name, {})
            (_append if source.mode == "append" else _snapshot)(source, own, advance, result)
            own["built_at"] = timezone.now().isoformat()
            store.state_write(state)
        state["built_at"] = timezone.now().isoformat()
        state["last"] = {"rows": result.total_rows, "files": result.total_files}
        store.state_write(state)
    result.seconds = time.perf_counter() - started
    return result


def last_built() -> str | None:
    built: str | None = store.state_read().get("built_at")
    return built
