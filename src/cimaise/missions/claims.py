"""Expense claims: one per traveller of a validated order, its allowances computed from the
rules, its expenses each with a receipt; payable only once every receipt is in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cimaise.missions import facts
from cimaise.missions.allowances import allowances_compute
from cimaise.missions.models import Expense, ExpenseClaim, MissionOrder, OrderStatus
from cimaise.missions.orders import access_order, actor_person, stream
from cimaise.missions.roles import PAY

MAX_RECEIPT_BYTES = 10 * 1024 * 1024
RECEIPT_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def _claim_for(order: MissionOrder, traveller_pk: int) -> ExpenseClaim:
    claim, _ = ExpenseClaim.objects.get_or_create(order=order, traveller_id=traveller_pk)
    return claim


@transaction.atomic(durable=True)
def claim_open(*, actor: Actor, code: str) -> ExpenseClaim:
    """The actor's claim for a validated order they travel on, its allowances (re)computed."""
    order = access_order(actor, code)
    person = actor_person(actor)
    if not order.travellers.filter(pk=person.pk).exists():
        raise PermissionDenied("only a traveller of the order claims expenses", code="not_a_traveller")
    if order.status != OrderStatus.APPROVED:
        raise Conflict("expenses are claimed on a validated order", code="not_validated", field="order")
    claim = ExpenseClaim.objects.select_for_update().filter(pk=_claim_for(order, person.pk).pk).get()
    if claim.status == ExpenseClaim.Status.PAID:
        return claim
    due = allowances_compute(starts_at=order.starts_at, ends_at=order.ends_at, city=order.destination.city)
    claim.meals, claim.nights, claim.allowances, claim.currency = (
        due.meals,
        due.nights,
        due.total,
        due.currency,
    )
    claim.save()
    body = {
        "order": order.code,
        "traveller": person.user.get_username(),
        "meals": due.meals,
        "nights": due.nights,
        "rates": [[k, d.isoformat(), str(a)] for k, d, a in due.lines],
        "total": str(due.total),
        "currency": due.currency,
    }
    facts.append(actor, facts.CLAIM_COMPUTED.name, stream(order), body, order.institution_id)
    return claim


def _amount(raw: str) -> Decimal:
    try:
        amount = Decimal(raw)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidInput("amount must be a number", field="amount") from exc
    if not amount.is_finite() or not Decimal("0") < amount <= Decimal("100000"):
        raise InvalidInput("amount must be positive, in euros and cents", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("amount must be positive, in euros and cents", field="amount")
    return amount


def _check_receipt(receipt: UploadedFile[bytes]) -> None:
    if receipt.size is None or receipt.size == 0 or receipt.size > MAX_RECEIPT_BYTES:
        raise InvalidInput("a receipt is a non-empty file of 10 MB at most", field="receipt")
    if receipt.content_type not in RECEIPT_TYPES:
        raise InvalidInput("a receipt is a PDF, JPEG or PNG file", field="receipt")


def _own_claim(actor: Actor, claim_id: int) -> ExpenseClaim:
    person = actor_person(actor)
    claim = (
        ExpenseClaim.objects.select_for_update()
        .select_related("order__institution")
        .filter(pk=claim_id, order__institution=actor.institution)
        .first()
    )
    if claim is None or claim.traveller_id != person.pk:
        raise NotFound("no such claim", field="claim")
    if claim.status == ExpenseClaim.Status.PAID:
        raise Conflict("this claim is paid already", code="paid", field="claim")
    return claim


@transaction.atomic(durable=True)
def expense_add(
    *,
    actor: Actor,
    claim_id: int,
    kind: str,
    label: str,
    amount: str,
    receipt: UploadedFile[bytes] | None = None,
) -> Expense:
    """Add an expense to the actor's own claim, with its receipt or without (to upload later)."""
    claim = _own_claim(actor, claim_id)
    if kind not in Expense.Kind.values:
        raise InvalidInput(f"kind must be one of {', '.join(Expense.Kind.values)}", field="kind")
    if not label.strip():
        raise InvalidInput("describe the expense", field="label")
    value = _amount(amount)
    if receipt is not None:
        _check_receipt(receipt)
    expense = Expense.objects.create(claim=claim, kind=kind, label=label.strip()[:200], amount=value)
    if receipt is not None:
        expense.receipt.save(receipt.name or "receipt", receipt, save=True)
    body = {
        "claim": claim.pk,
        "expense": expense.pk,
        "kind": kind,
        "label": expense.label,
        "amount": str(value),
        "receipt": expense.receipt.name or None,
    }
    facts.append(actor, facts.EXPENSE_ADDED.name, stream(claim.order), body, claim.order.institution_id)
    return expense


@transaction.atomic(durable=True)
def receipt_attach(*, actor: Actor, expense_id: int, receipt: UploadedFile[bytes]) -> Expense:
    """Upload the receipt of one of the actor's expenses."""
    expense = Expense.objects.filter(pk=expense_id).select_related("claim").first()
    if expense is None:
        raise NotFound("no such expense", field="expense")
    claim = _own_claim(actor, expense.claim_id)
    _check_receipt(receipt)
    expense.receipt.save(receipt.name or "receipt", receipt, save=True)
    body = {"claim": claim.pk, "expense": expense.pk, "receipt": expense.receipt.name}
    facts.append(actor, facts.RECEIPT_ATTACHED.name, stream(claim.order), body, claim.order.institution_id)
    return expense


def claim_total(claim: ExpenseClaim) -> Decimal:
    expenses = sum((e.amount for e in claim.expenses.all()), Decimal("0.00"))
    return claim.allowances + expenses


def receipts_missing(claim: ExpenseClaim) -> list[Expense]:
    return [e for e in claim.expenses.all() if not e.receipt]


@transaction.atomic(durable=True)
def claim_pay(*, actor: Actor, claim_id: int, now: dt.datetime | None = None) -> ExpenseClaim:
    """Mark a claim paid (budget manager): refused while a receipt is missing."""
    require_permission(actor, PAY)
    claim = (
        ExpenseClaim.objects.select_for_update()
        .select_related("order__institution", "traveller")
        .filter(pk=claim_id, order__institution=actor.institution)
        .first()
    )
    if claim is None:
        raise NotFound("no such claim", field="claim")
    if actor.person is not None and claim.traveller_id == actor.person.pk:
        raise PermissionDenied("nobody pays their own claim", code="own_claim")
    if claim.status == ExpenseClaim.Status.PAID:
        raise Conflict("this claim is paid already", code="paid", field="claim")
    missing = receipts_missing(claim)
    if missing:
        raise Conflict(
            f"{len(missing)} receipt(s) missing",
            code="receipts_missing",
            field="receipt",
            details={"field": "receipt", "expenses": [e.pk for e in missing]},
        )
    claim.status, claim.paid_at = ExpenseClaim.Status.PAID, now or timezone.now()
    claim.save(update_fields=["status", "paid_at"])
    body = {
        "claim": claim.pk,
        "allowances": str(claim.allowances),
        "total": str(claim_total(claim)),
        "currency": claim.currency,
    }
    facts.append(actor, facts.CLAIM_PAID.name, stream(claim.order), body, claim.order.institution_id)
    return claim
