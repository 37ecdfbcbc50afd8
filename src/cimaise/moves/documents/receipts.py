"""The arrival receipt, A4: when the convoy arrived, its seals read at opening against those
recorded at closing, the crates received against the manifest, how many works, and the boxes
the escort and the reception sign."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from cimaise.moves.documents.manifests import crate_blocks
from cimaise.moves.documents.pdf import language, render_pdf
from cimaise.moves.documents.shared import Codes, codes, names
from cimaise.moves.models import Convoy, CustodyEvent, EventObject
from cimaise.moves.reconciliation import convoy_reconciliation
from cimaise.moves.uris import IdentifierError, parse_identifier

TEMPLATE = "moves/documents/arrival_receipt.html"
_RECEIVING = ("unloading", "receiving")


@dataclass(frozen=True)
class SealCheck:
    """A seal number, whether it was recorded at closing and whether it was read at opening."""

    number: str
    at_closing: bool
    at_opening: bool

    @property
    def matches(self) -> bool:
        return self.at_closing and self.at_opening


@dataclass(frozen=True)
class CrateReceipt:
    barcode: str
    works: int
    received: bool


@dataclass(frozen=True)
class Receipt:
    convoy: Convoy
    codes: Codes
    arrived_at: dt.datetime | None
    seals: list[SealCheck]
    seals_checked: bool
    crates: list[CrateReceipt]
    unexpected_crates: list[str]
    works_expected: int
    works_received: int
    printed_at: dt.datetime

    @property
    def seals_match(self) -> bool:
        return self.seals_checked and all(seal.matches for seal in self.seals)


def seal_checks(closing: list[str], opening: list[str]) -> list[SealCheck]:
    """Every seal number of either list, in the order recorded at closing, then the others."""
    ordered = list(dict.fromkeys(closing + opening))
    return [SealCheck(number, number in closing, number in opening) for number in ordered]


def _events(convoy: Convoy, steps: tuple[str, ...]) -> list[CustodyEvent]:
    return list(
        CustodyEvent.objects.filter(
            institution=convoy.institution,
            biz_transaction=convoy.uri,
            biz_step__in=steps,
            retracted=False,
            is_declaration=False,
        ).order_by("event_time", "event_id")
    )


def _crates_unloaded(convoy: Convoy) -> set[str]:
    """URIs of the crates the convoy's unloading and receiving events named."""
    events = [event.pk for event in _events(convoy, _RECEIVING)]
    named = EventObject.objects.filter(event_id__in=events, uri__startswith="urn:cimaise:crate:")
    return set(named.exclude(role=EventObject.Role.TRANSACTION).values_list("uri", flat=True))


def arrival_receipt(convoy: Convoy, *, now: dt.datetime | None = None) -> Receipt:
    """The arrival receipt of a convoy as its custody events stand, in the active language."""
    arriving = _events(convoy, ("arriving",))
    unloaded = _crates_unloaded(convoy)
    planned = {block.crate: len(block.works) for block in crate_blocks(convoy) if block.crate is not None}
    reconciliation = convoy_reconciliation(convoy)
    opening = names(convoy.seals_checked)
    return Receipt(
        convoy=convoy,
        codes=codes(convoy.code, convoy.uri, max_width_mm=80, qr_mm=26, bar_height_mm=12),
        arrived_at=arriving[0].event_time if arriving else None,
        seals=seal_checks(names(convoy.seals), opening),
        seals_checked=bool(opening),
        crates=[
            CrateReceipt(crate.barcode, count, crate.uri in unloaded) for crate, count in planned.items()
        ],
        unexpected_crates=sorted(_key(uri) for uri in unloaded - {crate.uri for crate in planned}),
        works_expected=reconciliation.expected,
        works_received=reconciliation.steps["received"]["observed"],
        printed_at=now or timezone.now(),
    )


def _key(uri: str) -> str:
    try:
        return parse_identifier(uri).key
    except IdentifierError:
        return uri


def arrival_receipt_pdf(convoy: Convoy, *, lang: str | None = None, now: dt.datetime | None = None) -> bytes:
    """The arrival receipt as PDF; ``lang`` None keeps the active language."""
    with language(lang):
        return render_pdf(TEMPLATE, {"receipt": arrival_receipt(convoy, now=now)})
