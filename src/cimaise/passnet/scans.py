"""Pass scans at partner sites (DESIGN §5 ``POST /api/v1/passnet/scans``): one durable
transaction per scan records the answer (a ``PassEntry`` and a fact) and answers a resent nonce
the same again.

Checks, in order: the code's form and network (a well-formed code of another network:
``unknown``), its signature (``forged``), the pass known here (``unknown``), revoked (lost,
refunded, reseller batch withdrawn: ``revoked``), then the site's rules (:mod:`.decide`, the code
agents run offline). The first accepted scan activates the pass: where and when are recorded,
and its expiry set. The server's clock decides; a device clock ahead of it by more than
``FUTURE_SKEW`` is refused naming ``scanned_at``.

Two sites scanning one pass at once: the pass row is locked (``SELECT … FOR UPDATE``) before its
entries are read, so the second waits and sees the first's activation and entry. The ledger lock
is taken before an entry is inserted, so entry ids follow commit order (agents' feeds follow ids).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, transaction
from django.utils import timezone

from cimaise.access.texts import reason_text
from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append, ledger_lock
from cimaise.passnet import decide as d
from cimaise.passnet.codes import ForgedCode, PassPayload, UnknownNetwork, operator_keys, pass_verify
from cimaise.passnet.facts import PASS_ENTRY_ACCEPTED, PASS_ENTRY_REJECTED, site_draft
from cimaise.passnet.models import PartnerSite, Pass, PassEntry
from cimaise.passnet.network import site_rule

CODE_MAX_CHARS = 512
NONCE_MAX_CHARS = 64
FUTURE_SKEW = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=366)  # a device's clock (or an offline decision) older than this: refused


@dataclass(frozen=True)
class Scan:
    code: str
    lane: str
    direction: str
    nonce: str
    scanned_at: dt.datetime
    area: str = ""


@dataclass(frozen=True)
class Decision:
    reason: str
    payload: PassPayload | None = None
    pass_: Pass | None = None

    @property
    def result(self) -> str:
        return PassEntry.Result.ACCEPTED if d.is_accepted(self.reason) else PassEntry.Result.REJECTED


@dataclass(frozen=True)
class ScanResult:
    result: str
    reason: str
    entry_id: int
    replayed: bool = False
    pass_info: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return reason_text(self.reason)

    @property
    def accepted(self) -> bool:
        return self.result == PassEntry.Result.ACCEPTED


_KEYS: dict[int, tuple[float, dict[str, Ed25519PublicKey]]] = {}
KEYS_CACHE_SECONDS = 60.0


def _keys(operator: Institution, *, fresh: bool = False) -> dict[str, Ed25519PublicKey]:
    cached = _KEYS.get(operator.pk)
    if fresh or cached is None or time.monotonic() - cached[0] > KEYS_CACHE_SECONDS:
        cached = (time.monotonic(), operator_keys(operator=operator))
        _KEYS[operator.pk] = cached
    return cached[1]


def verify(operator: Institution, code: str) -> PassPayload | str:
    """The payload of a genuine pass of the operator's network, else the reason (forged, unknown)."""
    if not isinstance(code, str) or len(code) > CODE_MAX_CHARS:
        return d.FORGED
    for fresh in (False, True):  # perhaps signed by a key made since the cache was filled
        try:
            return pass_verify(code, network=operator.pk, keys=_keys(operator, fresh=fresh))
        except UnknownNetwork:
            return d.UNKNOWN
        except ForgedCode:
            continue
    return d.FORGED


def pass_info(found: Pass | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "code_id": found.code_id,
        "product": found.product.code,
        "holder_name": found.holder_name,
        "activated_at": found.activated_at,
        "expires_at": found.expires_at,
    }


def entries_here(found: Pass, site: PartnerSite) -> int:
    return PassEntry.objects.filter(
        pass_ref=found, site=site, result=PassEntry.Result.ACCEPTED, direction="in"
    ).count()


def central_decide(*, site: PartnerSite, scan: Scan, now: dt.datetime) -> Decision:
    """Decide a scan with all the central service knows; locks the pass row."""
    verified = verify(site.operator, scan.code)
    if isinstance(verified, str):
        return Decision(verified)
    found = (
        Pass.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(operator_id=site.operator_id, code_id=verified.code_id)
        .first()
    )
    if found is None:
        return Decision(d.UNKNOWN, verified)
    if found.state != Pass.State.VALID:
        return Decision(d.REVOKED, verified, found)
    reason = d.pass_decide(
        product_id=verified.product_id,
        validity=d.Validity(verified.days, verified.calendar_days, verified.validity_hours),
        rule=site_rule(site),
        state=d.PassState(found.activated_at, entries_here(found, site)),
        direction=scan.direction,
        area=scan.area,
        now=now,
    )
    return Decision(reason, verified, found)


def activate(found: Pass, site: PartnerSite, payload: PassPayload, at: dt.datetime) -> bool:
    """Activate a pass on its first accepted entry (where and when); False if it already was."""
    if found.activated_at is not None:
        return False
    found.activated_at = at
    found.activated_site = site
    found.expires_at = d.expires_at(
        at, d.Validity(payload.days, payload.calendar_days, payload.validity_hours)
    )
    found.save(update_fields=["activated_at", "activated_site", "expires_at"])
    return True


@dataclass(frozen=True)
class Record:
    site: PartnerSite
    scan: Scan
    decision: Decision
    who: str
    recorded_at: dt.datetime
    source: str = PassEntry.Source.ONLINE
    central_reason: str = ""


def entry_record(record: Record) -> PassEntry:
    """Insert the entry (activating the pass on its first acceptance) and its fact, inside the
    caller's transaction, the ledger lock taken before the insert."""
    decision, scan = record.decision, record.scan
    activated = False
    admitted = decision.result == PassEntry.Result.ACCEPTED and scan.direction == "in"
    if admitted and decision.pass_ and decision.payload:  # the pass row is locked already
        activated = activate(decision.pass_, record.site, decision.payload, record.recorded_at)
    ledger_lock()  # as late as possible: it serialises every scan's insert and commit
    entry = PassEntry.objects.create(
        operator_id=record.site.operator_id,
        site=record.site,
        pass_ref=decision.pass_,
        code_id=decision.payload.code_id if decision.payload else "",
        lane=scan.lane,
        area=scan.area,
        direction=scan.direction,
        nonce=scan.nonce,
        scanned_at=scan.scanned_at,
        recorded_at=record.recorded_at,
        operator_label=record.who,
        result=decision.result,
        reason=decision.reason,
        activated=activated,
        source=record.source,
        central_reason=record.central_reason,
    )
    kind = PASS_ENTRY_ACCEPTED if entry.result == PassEntry.Result.ACCEPTED else PASS_ENTRY_REJECTED
    body = {
        "entry": entry.pk,
        "pass": entry.code_id or None,
        "site": record.site.code,
        "lane": scan.lane,
        "area": scan.area or None,
        "direction": scan.direction,
        "nonce": scan.nonce,
        "scanned_at": scan.scanned_at.isoformat(),
        "recorded_at": record.recorded_at.isoformat(),
        "reason": entry.reason,
        "activated": activated,
        "source": entry.source,
    }
    if entry.central_reason:
        body["central_reason"] = entry.central_reason
    draft = site_draft(
        record.site.operator, record.site.code, kind.name, body, record.who, record.recorded_at
    )
    facts_append([draft], now=record.recorded_at)
    return entry


def check_scan(scan: Scan, now: dt.datetime) -> None:
    if scan.direction not in ("in", "out"):
        raise InvalidInput("direction: in or out", field="direction")
    if not scan.nonce or len(scan.nonce) > NONCE_MAX_CHARS:
        raise InvalidInput(f"nonce: 1 to {NONCE_MAX_CHARS} characters", field="nonce")
    if not scan.lane or len(scan.lane) > 32:
        raise InvalidInput("lane: 1 to 32 characters", field="lane")
    if len(scan.area) > 32:
        raise InvalidInput("area: 32 characters at most", field="area")
    check_time(scan.scanned_at, now, "scanned_at")


def check_time(value: dt.datetime, now: dt.datetime, name: str) -> None:
    """An aware time of a device's clock, neither ahead of ours by more than ``FUTURE_SKEW`` nor
    older than ``MAX_AGE``; else ``InvalidInput`` naming it."""
    if timezone.is_naive(value):
        raise InvalidInput(f"{name}: a time with its offset", field=name)
    try:
        value = value.astimezone(dt.UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+14:00
        raise InvalidInput(f"{name}: out of range", field=name) from exc
    if value > now + FUTURE_SKEW:
        raise InvalidInput(f"{name}: in the future (check the device's clock)", field=name)
    if value < now - MAX_AGE:
        raise InvalidInput(f"{name}: too far in the past (check the device's clock)", field=name)


def _replay(entry: PassEntry) -> ScanResult:
    found = (
        Pass.objects.select_related("product").filter(pk=entry.pass_ref_id).first()
        if entry.pass_ref_id
        else None
    )
    return ScanResult(entry.result, entry.reason, entry.pk, replayed=True, pass_info=pass_info(found))


def _same_site(existing: PassEntry, site: PartnerSite) -> PassEntry:
    """A nonce answers again at the site that sent it only: another site's entry is not its to read."""
    if existing.site_id != site.pk:
        raise Conflict("nonce: already used at another site", code="nonce_taken", field="nonce")
    return existing


def earlier(site: PartnerSite, nonce: str) -> PassEntry | None:
    """The entry a nonce was first answered with at ``site`` (``Conflict`` if at another)."""
    existing = PassEntry.objects.filter(operator_id=site.operator_id, nonce=nonce).first()
    return _same_site(existing, site) if existing is not None else None


def once[R](site: PartnerSite, nonce: str, record: Callable[[], R], replay: Callable[[PassEntry], R]) -> R:
    """Run ``record()`` unless the nonce was answered before; a resend gets the first answer."""
    existing = earlier(site, nonce)
    if existing is not None:
        return replay(existing)
    try:
        return record()
    except IntegrityError:
        existing = earlier(site, nonce)
        if existing is None:
            raise
        return replay(existing)


def pass_scan(*, site: PartnerSite, scan: Scan, who: str, now: dt.datetime | None = None) -> ScanResult:
    """Decide a pass scan at ``site`` (already authorized) and record it; a resent ``nonce``
    gets the first answer and writes nothing. ``InvalidInput`` names a bad field."""
    check_scan(scan, now or timezone.now())
    return once(site, scan.nonce, lambda: _validate(site, scan, who, now), _replay)


@transaction.atomic(durable=True)
def _validate(site: PartnerSite, scan: Scan, who: str, now: dt.datetime | None) -> ScanResult:
    now = now or timezone.now()
    decision = central_decide(site=site, scan=scan, now=now)
    entry = entry_record(Record(site, scan, decision, who, now))
    return ScanResult(entry.result, entry.reason, entry.pk, pass_info=pass_info(decision.pass_))
