"""What an entrance agent at a partner site syncs (its feed), and the upload of the scans it
decided offline.

The feed's cursor is ``<entry id>.<revocation id>``: ids follow commit order (the ledger lock is
taken before inserting, see :mod:`.scans`), so following them skips nothing. It carries the
operator's public keys, the site's rules, the revocations, every activation in the network
(the first accepted scan of a pass, at any site: validity runs from it) and the accepted entries
at this site.

An uploaded offline decision is recorded as decided (the visitor is in), with what the central
service would have answered (``central_reason``); a pass accepted offline before its known
activation moves its activation back to that time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.utils import timezone

from cimaise.core.errors import InvalidInput
from cimaise.core.keys import b64url, public_key
from cimaise.core.models import SigningKey
from cimaise.passnet import decide as d
from cimaise.passnet.codes import KEY_PURPOSE
from cimaise.passnet.models import PartnerSite, Pass, PassEntry, PassRevocation
from cimaise.passnet.network import site_rule
from cimaise.passnet.scans import (
    Decision,
    Record,
    Scan,
    central_decide,
    check_scan,
    check_time,
    entry_record,
    once,
)

PAGE = 2000
MAX_UPLOAD = 500


def _cursor(since: str) -> tuple[int, int]:
    if not since:
        return 0, 0
    try:
        entries, revocations = (int(part) for part in since.split("."))
        if not (0 <= entries < 2**63 and 0 <= revocations < 2**63):
            raise ValueError(since)
        return entries, revocations
    except ValueError as exc:
        raise InvalidInput("since: a cursor this feed gave", field="since") from exc


def _keys(site: PartnerSite) -> list[dict[str, str]]:
    rows = SigningKey.objects.filter(institution_id=site.operator_id, purpose=KEY_PURPOSE)
    return [
        {
            "kid": row.kid,
            "public_key": b64url(
                public_key(row).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            ),
        }
        for row in rows
    ]


def site_feed(*, site: PartnerSite, since: str = "") -> dict[str, Any]:
    """One page of the site's feed after ``since``."""
    after_entry, after_revocation = _cursor(since)
    entries = list(
        PassEntry.objects.filter(
            operator_id=site.operator_id, id__gt=after_entry, result=PassEntry.Result.ACCEPTED, direction="in"
        )
        .filter(models_q(site))
        .order_by("id")
        .values("id", "code_id", "nonce", "recorded_at", "site_id", "activated")[:PAGE]
    )
    revocations = list(
        PassRevocation.objects.filter(operator_id=site.operator_id, id__gt=after_revocation)
        .order_by("id")
        .values("id", "code_id")[:PAGE]
    )
    last_entry = entries[-1]["id"] if entries else after_entry
    last_revocation = revocations[-1]["id"] if revocations else after_revocation
    return {
        "server_time": timezone.now(),
        "network": site.operator_id,
        "site": site.code,
        "keys": _keys(site),
        "rule": site_rule(site).as_dict(),
        "revocations": [r["code_id"] for r in revocations],
        "activations": [{"code_id": e["code_id"], "at": e["recorded_at"]} for e in entries if e["activated"]],
        "entries": [
            {"code_id": e["code_id"], "nonce": e["nonce"], "at": e["recorded_at"]}
            for e in entries
            if e["site_id"] == site.pk
        ],
        "cursor": f"{last_entry}.{last_revocation}",
        "more": len(entries) == PAGE or len(revocations) == PAGE,
    }


def models_q(site: PartnerSite) -> Any:
    from django.db.models import Q

    return Q(site=site) | Q(activated=True)


@dataclass(frozen=True)
class OfflineEntry:
    nonce: str
    code: str
    lane: str
    direction: str
    scanned_at: dt.datetime
    decided_at: dt.datetime
    reason: str
    area: str = ""


@dataclass(frozen=True)
class Uploaded:
    nonce: str
    entry_id: int
    replayed: bool
    reason: str
    central_reason: str
    conflict: bool


def entries_upload(
    *, site: PartnerSite, entries: list[OfflineEntry], who: str, now: dt.datetime | None = None
) -> list[Uploaded]:
    """Record the agent's offline decisions, each once (idempotent by nonce)."""
    if len(entries) > MAX_UPLOAD:
        raise InvalidInput(f"entries: {MAX_UPLOAD} at most per upload", field="entries")
    now = now or timezone.now()
    for item in entries:
        if item.reason not in d.REASONS_ALL:
            raise InvalidInput(f"reason: not a reason ({item.reason!r})", field="reason")
        check_scan(Scan(item.code, item.lane, item.direction, item.nonce, item.scanned_at, item.area), now)
        check_time(item.decided_at, now, "decided_at")
    return [_upload_one(site, item, who) for item in entries]


def _upload_one(site: PartnerSite, item: OfflineEntry, who: str) -> Uploaded:
    def replay(existing: PassEntry) -> Uploaded:
        return Uploaded(item.nonce, existing.pk, True, existing.reason, existing.central_reason, False)

    return once(site, item.nonce, lambda: _record(site, item, who), replay)


@transaction.atomic(durable=True)
def _record(site: PartnerSite, item: OfflineEntry, who: str) -> Uploaded:
    scan = Scan(item.code, item.lane, item.direction, item.nonce, item.scanned_at, item.area)
    central = central_decide(site=site, scan=scan, now=item.decided_at)
    # a code that is not a genuine pass of the network is no visit, whatever the agent said
    reason = central.reason if central.pass_ is None else item.reason
    decision = Decision(reason, central.payload, central.pass_)
    admitted = decision.result == PassEntry.Result.ACCEPTED and scan.direction == "in"
    if admitted and central.pass_ is not None:
        _move_activation_back(central.pass_, item.decided_at)
    record = Record(site, scan, decision, who, item.decided_at, PassEntry.Source.OFFLINE, central.reason)
    entry = entry_record(record)
    conflict = central.reason != item.reason
    return Uploaded(item.nonce, entry.pk, False, entry.reason, central.reason, conflict)


def _move_activation_back(found: Pass, at: dt.datetime) -> None:
    """An offline acceptance earlier than the known activation: validity runs from it."""
    if found.activated_at is not None and found.activated_at > at:
        found.activated_at = None
        found.save(update_fields=["activated_at"])
