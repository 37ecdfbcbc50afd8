"""Trackers and their tokens. A tracker is a machine, not a person: it gets its own token
(``cimdev_<prefix>_<secret>``, 256 random bits, stored as a SHA-256 digest like API tokens), is
bound to one vehicle, and may post readings only for that vehicle's convoys."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.moves import facts_telemetry as facts
from cimaise.moves.models import Convoy, TrackerDevice, Vehicle

DEVICE_TOKEN_SCHEME = "cimdev"  # noqa: S105  (the visible scheme of device tokens, not a secret)
#: How often ``last_seen_at`` is written (a tracker posts every few seconds).
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedTracker:
    """A tracker with its new token: ``raw`` is shown once and never stored."""

    device: TrackerDevice
    raw: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    while TrackerDevice.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    return prefix, f"{DEVICE_TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def _fact(device: TrackerDevice, fact_type: str, body: Mapping[str, object], actor: Actor) -> FactDraft:
    return FactDraft(
        type=fact_type,
        stream=f"moves.tracker:{device.institution.code}:{device.pk}",
        body={"device": device.pk, "vehicle": device.vehicle.uri, **body},
        actor=actor.label,
        institution_id=device.institution_id,
    )


def access_vehicle(actor: Actor, plate: str) -> Vehicle:
    institution = own_institution(actor)
    vehicle = (
        Vehicle.objects.select_related("institution").filter(institution=institution, plate=plate).first()
    )
    if vehicle is None:
        raise NotFound(f"no vehicle {plate!r}", field="plate")
    require_permission(actor, "moves.view_trackerdevice")
    return vehicle


def access_tracker(actor: Actor, device_id: int) -> TrackerDevice:
    institution = own_institution(actor)
    device = (
        TrackerDevice.objects.select_related("institution", "vehicle__institution")
        .filter(institution=institution, pk=device_id)
        .first()
    )
    if device is None:
        raise NotFound("no such tracker", field="tracker")
    require_permission(actor, "moves.view_trackerdevice")
    return device


def tracker_register(
    *, actor: Actor, vehicle: Vehicle, label: str, now: dt.datetime | None = None
) -> IssuedTracker:
    """Fit a tracker to a vehicle; its token is returned once."""
    require_permission(actor, "moves.add_trackerdevice")
    label = label.strip()
    if not label or len(label) > 200:
        raise InvalidInput("a tracker needs a label of at most 200 characters", field="label")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        prefix, raw = _new_token()
        device = TrackerDevice.objects.create(
            institution=vehicle.institution, vehicle=vehicle, label=label, prefix=prefix,
            digest=_digest(raw), created_at=now,
        )  # fmt: skip
        body = {"label": label, "prefix": prefix}
        facts_append([_fact(device, facts.TRACKER_REGISTERED.name, body, actor)], now=now)
    return IssuedTracker(device=device, raw=raw)


def tracker_rotate(*, actor: Actor, device: TrackerDevice, now: dt.datetime | None = None) -> IssuedTracker:
    """Give the tracker a new token; the old one stops working at once."""
    require_permission(actor, "moves.change_trackerdevice")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        device = (
            TrackerDevice.objects.select_for_update()
            .select_related("institution", "vehicle")
            .get(pk=device.pk)
        )
        if device.revoked_at is not None:
            raise Conflict("this tracker is revoked", code="already_revoked")
        old = device.prefix
        device.prefix, raw = _new_token()
        device.digest, device.rotated_at = _digest(raw), now
        device.save(update_fields=["prefix", "digest", "rotated_at"])
        body = {"old_prefix": old, "prefix": device.prefix}
        facts_append([_fact(device, facts.TRACKER_ROTATED.name, body, actor)], now=now)
    return IssuedTracker(device=device, raw=raw)


def tracker_revoke(*, actor: Actor, device: TrackerDevice, now: dt.datetime | None = None) -> TrackerDevice:
    """Stop the tracker: its token no longer works (its readings stay)."""
    require_permission(actor, "moves.change_trackerdevice")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        device = (
            TrackerDevice.objects.select_for_update()
            .select_related("institution", "vehicle")
            .get(pk=device.pk)
        )
        if device.revoked_at is not None:
            raise Conflict("this tracker is already revoked", code="already_revoked")
        device.revoked_at = now
        device.save(update_fields=["revoked_at"])
        facts_append([_fact(device, facts.TRACKER_REVOKED.name, {"prefix": device.prefix}, actor)], now=now)
    return device


def tracker_authenticate(raw: str, *, now: dt.datetime | None = None) -> TrackerDevice | None:
    """The live tracker for a raw device token, or None (malformed, unknown, rotated, revoked)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != DEVICE_TOKEN_SCHEME or len(raw) > 100:
        return None
    device = TrackerDevice.objects.select_related("institution", "vehicle").filter(prefix=parts[1]).first()
    if device is None or not hmac.compare_digest(device.digest, _digest(raw)) or device.revoked_at:
        return None
    now = now or timezone.now()
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        TrackerDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device


def convoy_for_tracker(device: TrackerDevice, code: str) -> Convoy:
    """The convoy a tracker reports for: one of its vehicle's, else 404 (another vehicle's or
    institution's convoys look absent)."""
    convoy = (
        Convoy.objects.select_related("institution", "vehicle__institution", "origin", "destination")
        .filter(institution_id=device.institution_id, vehicle_id=device.vehicle_id, code=code)
        .first()
    )
    if convoy is None:
        raise NotFound(f"no convoy {code!r} for this tracker's vehicle", field="code")
    return convoy
