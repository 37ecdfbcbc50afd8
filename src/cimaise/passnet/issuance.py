"""Issuing and revoking passes: the operator sells passes on its channels (web, desk, partner
desks, resellers under a batch), each with a code signed by the operator's passes key; a pass is
revoked when lost or refunded, and all the passes of a reseller batch when it is withdrawn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append
from cimaise.passnet.codes import PassPayload, holder_hash, pass_signer
from cimaise.passnet.facts import BATCH_WITHDRAWN, PASS_REVOKED, PASSES_ISSUED, operator_draft
from cimaise.passnet.models import Pass, PassProduct, PassRevocation, ResellerBatch
from cimaise.passnet.network import operator_of
from cimaise.passnet.roles import ISSUE, REVOKE
from cimaise.ticketing.codes import new_code_id

MAX_QUANTITY = 5000
HOLDER_MAX_CHARS = 200


@dataclass(frozen=True)
class Issue:
    """What to issue: ``quantity`` passes of ``product`` sold on ``channel``; a reseller's passes
    go under ``batch`` (made on first use, for ``reseller``)."""

    product: str
    quantity: int
    channel: str
    holder_name: str = ""
    batch: str = ""
    reseller: str = ""


def _check(issue: Issue) -> None:
    if issue.channel not in Pass.Channel.values:
        raise InvalidInput(f"channel: one of {', '.join(Pass.Channel.values)}", field="channel")
    if not 1 <= issue.quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity: 1 to {MAX_QUANTITY}", field="quantity")
    if len(issue.holder_name) > HOLDER_MAX_CHARS:
        raise InvalidInput(f"holder_name: {HOLDER_MAX_CHARS} characters at most", field="holder_name")
    if issue.channel == Pass.Channel.RESELLER and not issue.batch:
        raise InvalidInput("batch: a reseller's passes are issued under a batch", field="batch")
    if issue.channel != Pass.Channel.RESELLER and issue.batch:
        raise InvalidInput("batch: only for the reseller channel", field="batch")


def _batch(operator: Institution, issue: Issue, now: dt.datetime) -> ResellerBatch | None:
    if not issue.batch:
        return None
    batch, _ = ResellerBatch.objects.get_or_create(
        operator=operator,
        code=issue.batch,
        defaults={"reseller": issue.reseller or issue.batch, "created_at": now},
    )
    if batch.withdrawn_at is not None:
        raise Conflict(f"batch: {batch.code} was withdrawn", code="batch_withdrawn", field="batch")
    return batch


def passes_issue(*, actor: Actor, issue: Issue, now: dt.datetime | None = None) -> list[Pass]:
    """Issue passes (one fact for the lot); ``InvalidInput``/``NotFound`` name the bad field."""
    require_permission(actor, ISSUE)
    operator = operator_of(actor)
    _check(issue)
    product = PassProduct.objects.filter(operator=operator, code=issue.product, active=True).first()
    if product is None:
        raise NotFound(f"product: no pass product {issue.product!r}", field="product")
    return _issue(operator, product, issue, actor.label, now or timezone.now())


@transaction.atomic(durable=True)
def _issue(
    operator: Institution, product: PassProduct, issue: Issue, who: str, now: dt.datetime
) -> list[Pass]:
    batch = _batch(operator, issue, now)
    signer = pass_signer(operator=operator)
    holder = holder_hash(issue.holder_name)
    rows = []
    for _ in range(issue.quantity):
        payload = PassPayload(
            network=operator.pk,
            code_id=new_code_id(),
            product_id=product.pk,
            days=product.days,
            calendar_days=product.mode == PassProduct.Mode.CALENDAR,
            validity_hours=product.validity_hours,
            holder_hash=holder,
        )
        rows.append(
            Pass(
                operator=operator,
                code_id=payload.code_id,
                code=signer.sign(payload),
                product=product,
                channel=issue.channel,
                batch=batch,
                holder_name=issue.holder_name.strip(),
                price=product.price,
                currency=product.currency,
                issued_at=now,
            )
        )
    passes = Pass.objects.bulk_create(rows)
    body = {
        "product": product.code,
        "channel": issue.channel,
        "batch": batch.code if batch else None,
        "price": str(product.price),
        "currency": product.currency,
        "passes": [p.code_id for p in passes],
    }
    facts_append([operator_draft(operator, PASSES_ISSUED.name, body, who, now)], now=now)
    return passes


def _revoke_rows(passes: list[Pass], reason: str, now: dt.datetime) -> None:
    Pass.objects.filter(pk__in=[p.pk for p in passes]).update(
        state=Pass.State.REVOKED, revoked_reason=reason, revoked_at=now
    )
    PassRevocation.objects.bulk_create(
        PassRevocation(
            operator_id=p.operator_id, pass_ref=p, code_id=p.code_id, reason=reason, revoked_at=now
        )
        for p in passes
    )


@transaction.atomic(durable=True)
def pass_revoke(*, actor: Actor, code_id: str, reason: str, now: dt.datetime | None = None) -> Pass:
    """Revoke one pass (lost or refunded): refused at every site from now on."""
    require_permission(actor, REVOKE)
    operator = operator_of(actor)
    if reason not in (Pass.RevokeReason.LOST, Pass.RevokeReason.REFUNDED):
        raise InvalidInput("reason: lost or refunded", field="reason")
    found = Pass.objects.select_for_update().filter(operator=operator, code_id=code_id).first()
    if found is None:
        raise NotFound(f"pass: no pass {code_id!r}", field="pass")
    if found.state == Pass.State.REVOKED:
        raise Conflict("pass: already revoked", code="already_revoked", field="pass")
    now = now or timezone.now()
    _revoke_rows([found], reason, now)
    body = {"pass": code_id, "reason": reason}
    facts_append([operator_draft(operator, PASS_REVOKED.name, body, actor.label, now)], now=now)
    found.refresh_from_db()
    return found


@transaction.atomic(durable=True)
def batch_withdraw(*, actor: Actor, batch: str, reason: str, now: dt.datetime | None = None) -> int:
    """Withdraw a reseller batch: every valid pass of it is revoked (``batch_withdrawn``)."""
    require_permission(actor, REVOKE)
    operator = operator_of(actor)
    row = ResellerBatch.objects.select_for_update().filter(operator=operator, code=batch).first()
    if row is None:
        raise NotFound(f"batch: no batch {batch!r}", field="batch")
    if row.withdrawn_at is not None:
        raise Conflict("batch: already withdrawn", code="already_withdrawn", field="batch")
    now = now or timezone.now()
    row.withdrawn_at, row.withdrawn_reason = now, reason.strip()[:300]
    row.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    passes = list(Pass.objects.select_for_update().filter(batch=row, state=Pass.State.VALID))
    _revoke_rows(passes, Pass.RevokeReason.BATCH_WITHDRAWN, now)
    body = {"batch": row.code, "reason": row.withdrawn_reason, "passes": len(passes)}
    facts_append([operator_draft(operator, BATCH_WITHDRAWN.name, body, actor.label, now)], now=now)
    return len(passes)
