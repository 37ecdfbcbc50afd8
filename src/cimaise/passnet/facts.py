"""Fact types of the pass network (streams ``passnet.operator:<operator>`` for issuance,
revocations and settlements, ``passnet.site:<operator>:<site>`` for the scans at a site)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cimaise.core.models import Institution
from cimaise.ledger.services import FactDraft
from cimaise.ledger.types import register


def operator_draft(
    operator: Institution, kind: str, body: Mapping[str, object], who: str, when: dt.datetime
) -> FactDraft:
    return FactDraft(
        type=kind,
        stream=f"passnet.operator:{operator.code}",
        body=body,
        actor=who,
        institution_id=operator.pk,
        occurred_at=when,
    )


def site_draft(
    operator: Institution, site_code: str, kind: str, body: Mapping[str, object], who: str, when: dt.datetime
) -> FactDraft:
    return FactDraft(
        type=kind,
        stream=f"passnet.site:{operator.code}:{site_code}",
        body=body,
        actor=who,
        institution_id=operator.pk,
        occurred_at=when,
    )


PASSES_ISSUED = register(
    "passnet.passes.issued",
    "The operator issued passes (product, channel, reseller batch, price each, the pass ids).",
)
PASS_REVOKED = register(
    "passnet.pass.revoked",
    "A pass was revoked (pass id, reason: lost, refunded or batch_withdrawn); it is refused from now on.",
)
BATCH_WITHDRAWN = register(
    "passnet.batch.withdrawn",
    "A reseller batch was withdrawn, revoking every pass of it (batch, reason, pass count).",
)
PASS_ENTRY_ACCEPTED = register(
    "passnet.entry.accepted",
    "A pass was accepted at a partner site (pass id, site, lane, area, direction, nonce, device and "
    "server times, reason, whether this scan activated the pass, source online or offline). A "
    "zero-price sale line at the site, the basis of settlement.",
)
PASS_ENTRY_REJECTED = register(
    "passnet.entry.rejected",
    "A pass scan was refused at a partner site, with the machine reason (the access reasons).",
)
PARTNER_KEY_ISSUED = register(
    "passnet.key.issued",
    "A partner site's API key was issued (site, key prefix); rotation revokes the previous ones.",
)
SETTLEMENT_ISSUED = register(
    "passnet.settlement.issued",
    "A month's settlement was issued and frozen (month, formula, revenue, costs, distributable, "
    "visits, and each line: site, kind, month, visits, amount).",
)
