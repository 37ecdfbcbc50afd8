"""Expense claims: allowances computed from the order, expenses with receipts uploaded (stored
under the media directory), paid only once every receipt is in."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cimaise.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cimaise.ledger.models import Fact
from cimaise.missions import claims
from cimaise.missions.models import Expense, ExpenseClaim
from cimaise.missions.tests.conftest import Crew
from cimaise.missions.tests.helpers import validated

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def receipt(name: str = "billet.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_a_claim_carries_the_allowances_of_its_order(crew: Crew) -> None:
    order = validated(crew)  # Monday 07:30 → 19:00: lunch only
    claim = claims.claim_open(actor=crew.agent.actor, code=order.code)
    assert (claim.meals, claim.nights, claim.allowances) == (1, 0, Decimal("17.50"))


def test_a_claim_is_paid_only_once_every_receipt_is_in(crew: Crew) -> None:
    order = validated(crew)
    claim = claims.claim_open(actor=crew.agent.actor, code=order.code)
    with_receipt = claims.expense_add(
        actor=crew.agent.actor,
        claim_id=claim.pk,
        kind="transport",
        label="Paris-Nord → Lens",
        amount="58.40",
        receipt=receipt(),
    )
    without = claims.expense_add(
        actor=crew.agent.actor, claim_id=claim.pk, kind="other", label="Taxi", amount="23.10"
    )
    with pytest.raises(Conflict) as caught:
        claims.claim_pay(actor=crew.budget.actor, claim_id=claim.pk)
    assert caught.value.as_dict()["details"] == {"field": "receipt", "expenses": [without.pk]}
    assert caught.value.code == "receipts_missing"
    assert ExpenseClaim.objects.get(pk=claim.pk).status == "open"
    claims.receipt_attach(actor=crew.agent.actor, expense_id=without.pk, receipt=receipt("taxi.pdf"))
    paid = claims.claim_pay(actor=crew.budget.actor, claim_id=claim.pk)
    assert paid.status == "paid" and claims.claim_total(paid) == Decimal("99.00")
    stored = Path(Expense.objects.get(pk=with_receipt.pk).receipt.path)
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT) / "missions" / "receipts")
    assert stored.read_bytes() == PDF
    assert Fact.objects.filter(type="missions.claim.paid").count() == 1
    with pytest.raises(Conflict):
        claims.claim_pay(actor=crew.budget.actor, claim_id=claim.pk)


def test_only_the_budget_manager_pays_and_never_their_own(crew: Crew) -> None:
    order = validated(crew)
    claim = claims.claim_open(actor=crew.agent.actor, code=order.code)
    with pytest.raises(PermissionDenied):
        claims.claim_pay(actor=crew.agent.actor, claim_id=claim.pk)


def test_bad_expenses_name_their_field_and_store_nothing(crew: Crew) -> None:
    order = validated(crew)
    claim = claims.claim_open(actor=crew.agent.actor, code=order.code)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"amount": "-3"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"kind": "party"}, "kind"),
        ({"label": " "}, "label"),
        ({"receipt": SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")}, "receipt"),
    ]
    for change, field in bad:
        values: dict[str, Any] = {"kind": "transport", "label": "Train", "amount": "10.00", **change}
        with pytest.raises(InvalidInput) as caught:
            claims.expense_add(actor=crew.agent.actor, claim_id=claim.pk, **values)
        assert caught.value.field == field
    assert Expense.objects.count() == 0


def test_someone_not_travelling_has_no_claim(crew: Crew) -> None:
    order = validated(crew)
    with pytest.raises(NotFound):  # the order is not theirs: it does not exist for them
        claims.claim_open(actor=crew.colleague.actor, code=order.code)
    with pytest.raises(PermissionDenied):  # the budget manager sees it, but does not travel
        claims.claim_open(actor=crew.budget.actor, code=order.code)


def test_a_receipt_is_uploaded_through_the_api(crew: Crew) -> None:
    order = validated(crew)
    client = crew.agent.client()
    opened = client.post(f"/api/v1/missions/orders/{order.code}/claim")
    assert opened.status_code == 200 and opened.json()["allowances"] == "17.50"
    claim_id = opened.json()["id"]
    made = client.post(
        f"/api/v1/missions/claims/{claim_id}/expenses",
        {"kind": "hotel", "label": "Hôtel, Lens", "amount": "89.00", "receipt": receipt("hotel.pdf")},
    )
    assert made.status_code == 201, made.content
    assert made.json() == {
        "id": made.json()["id"],
        "kind": "hotel",
        "label": "Hôtel, Lens",
        "amount": "89.00",
        "receipt": True,
    }
    refused = client.post(
        f"/api/v1/missions/claims/{claim_id}/expenses", {"kind": "hotel", "label": "x", "amount": "0"}
    )
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "amount"
    paid = crew.budget.client().post(f"/api/v1/missions/claims/{claim_id}/pay")
    assert paid.status_code == 200 and paid.json()["total"] == "106.50"


def test_absurd_amounts_are_refused_naming_the_field(crew: Crew) -> None:
    order = validated(crew)
    claim = claims.claim_open(actor=crew.agent.actor, code=order.code)
    for amount in ("1e999999", "NaN", "Infinity", "100000.01"):
        with pytest.raises(InvalidInput) as caught:
            claims.expense_add(
                actor=crew.agent.actor, claim_id=claim.pk, kind="other", label="x", amount=amount
            )
        assert caught.value.field == "amount", amount
