"""Fact types of the purchasing register (one stream per institution:
``purchasing:<institution>``)."""

from __future__ import annotations

from collections.abc import Mapping

from cimaise.core.models import Institution
from cimaise.ledger.services import FactDraft
from cimaise.ledger.types import register


def draft(institution: Institution, kind: str, body: Mapping[str, object], actor: str) -> FactDraft:
    return FactDraft(
        type=kind,
        stream=f"purchasing:{institution.code}",
        body=body,
        actor=actor,
        institution_id=institution.pk,
    )


NEED_RECORDED = register(
    "purchasing.need.recorded",
    "A purchasing need was recorded (code, title, category, site, recurring).",
)
VEHICLE_RECORDED = register(
    "purchasing.vehicle.recorded",
    "A purchasing vehicle was recorded (code, name, kind, coordinator, partner, date joined).",
)
CONTRACT_RECORDED = register(
    "purchasing.contract.recorded",
    "A contract was recorded or changed (reference, vehicle, nature, framework agreement, needs, "
    "holders with SIRET, minimum and maximum amounts in EUR, dates, essential data; created or not).",
)
CONTRACTS_IMPORTED = register(
    "purchasing.contracts.imported",
    "A CSV file of contracts was imported, all rows at once (file name, rows, created, changed).",
)
RENEWAL_ALERTED = register(
    "purchasing.renewal.alerted",
    "A renewal alert went out for a contract (reference, months ahead, renewal date, recipients).",
)
