"""Gates through which views and handlers obtain custody objects."""

from __future__ import annotations

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import NotFound
from cimaise.moves.models import Anomaly, Convoy, Crate, Programme


def access_anomaly(actor: Actor, anomaly_id: int) -> Anomaly:
    institution = own_institution(actor)
    anomaly = (
        Anomaly.objects.select_related("institution").filter(institution=institution, pk=anomaly_id).first()
    )
    if anomaly is None:
        raise NotFound("no such anomaly", field="anomaly")
    require_permission(actor, "moves.view_anomaly")
    return anomaly


def access_convoy(actor: Actor, code: str) -> Convoy:
    institution = own_institution(actor)
    convoy = Convoy.objects.select_related("institution").filter(institution=institution, code=code).first()
    if convoy is None:
        raise NotFound(f"no convoy {code!r}", field="code")
    require_permission(actor, "moves.view_convoy")
    return convoy


def access_programme(actor: Actor, code: str) -> Programme:
    institution = own_institution(actor)
    programme = (
        Programme.objects.select_related("institution").filter(institution=institution, code=code).first()
    )
    if programme is None:
        raise NotFound(f"no programme {code!r}", field="code")
    require_permission(actor, "moves.view_convoy")
    return programme


def access_crate(actor: Actor, barcode: str) -> Crate:
    institution = own_institution(actor)
    crate = (
        Crate.objects.select_related("institution").filter(institution=institution, barcode=barcode).first()
    )
    if crate is None:
        raise NotFound(f"no crate {barcode!r}", field="barcode")
    require_permission(actor, "moves.view_convoy")
    return crate
