"""The convoy manifest ("bordereau"), A4: every crate and the works in it with their target
shelves, the truck, its people and seals, the planned times, the convoy's codes, and the boxes
signed at departure and at arrival."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from django.utils import timezone

from cimaise.moves.documents.pdf import language, render_pdf
from cimaise.moves.documents.shared import Codes, WorkLine, codes, names, targets, work_line
from cimaise.moves.models import Convoy, Crate

TEMPLATE = "moves/documents/convoy_manifest.html"


@dataclass(frozen=True)
class CrateBlock:
    """A crate of the manifest and its works; ``crate`` None holds the works planned without one."""

    crate: Crate | None
    works: list[WorkLine]


@dataclass(frozen=True)
class Manifest:
    convoy: Convoy
    codes: Codes
    crates: list[CrateBlock]
    works_count: int
    drivers: list[str]
    escorts: list[str]
    seals: list[str]
    printed_at: dt.datetime

    @property
    def crate_count(self) -> int:
        return sum(1 for block in self.crates if block.crate is not None)


def crate_blocks(convoy: Convoy) -> list[CrateBlock]:
    """The manifest grouped by crate (by barcode; works without a crate last), works by inventory."""
    items = sorted(
        convoy.items.select_related("work", "crate__institution"),
        key=lambda item: (item.crate is None, item.crate.barcode if item.crate else "", item.work.inventory),
    )
    shelves = targets(convoy.institution, [item.work_id for item in items], convoy.programme_id)
    return [
        CrateBlock(crate, [work_line(item.work, shelves) for item in group])
        for crate, group in groupby(items, key=lambda item: item.crate)
    ]


def convoy_manifest(convoy: Convoy, *, now: dt.datetime | None = None) -> Manifest:
    """The manifest of a convoy, in the active language."""
    blocks = crate_blocks(convoy)
    return Manifest(
        convoy=convoy,
        codes=codes(convoy.code, convoy.uri, max_width_mm=80, qr_mm=26, bar_height_mm=12),
        crates=blocks,
        works_count=sum(len(block.works) for block in blocks),
        drivers=names(convoy.drivers),
        escorts=[str(person) for person in convoy.escorts.select_related("user")],
        seals=names(convoy.seals),
        printed_at=now or timezone.now(),
    )


def convoy_manifest_pdf(convoy: Convoy, *, lang: str | None = None, now: dt.datetime | None = None) -> bytes:
    """The manifest as PDF; ``lang`` None keeps the active language."""
    with language(lang):
        return render_pdf(TEMPLATE, {"manifest": convoy_manifest(convoy, now=now)})
