"""The HTTP API: the notification endpoint takes the raw body (no login, no CSRF token) and
answers as the provider expects; the finance view of a payment is for the right staff only."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from cimaise.core.tests.personas import Cast
from cimaise.payments.models import Payment
from cimaise.payments.tests.conftest import Shop, signed

pytestmark = pytest.mark.django_db
NOTIFY = "/api/v1/payments/sandbox/notify"


def post(body: bytes, headers: dict[str, str], path: str = NOTIFY) -> tuple[int, dict[str, object]]:
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, body, content_type="application/json", headers=headers)
    return response.status_code, json.loads(response.content)


def test_a_signed_notification_over_http_pays_and_a_resend_gets_the_same_answer(
    payment: Payment, shop: Shop
) -> None:
    body, headers = signed(payment)
    assert post(body, headers) == (200, {"status": "ok"})
    assert post(body, headers) == (200, {"status": "ok"})
    payment.refresh_from_db()
    assert payment.state == "paid" and len(shop.paid) == 1


def test_a_forged_notification_over_http_is_a_400_naming_the_reason(payment: Payment) -> None:
    body, headers = signed(payment)
    status, answer = post(body.replace(b"12.50", b"00.01"), headers)
    assert status == 400 and answer["error"]["code"] == "bad_signature"  # type: ignore[index]
    status, answer = post(*signed(payment, amount="99.00"))
    assert status == 400 and answer["error"]["code"] == "amount_mismatch"  # type: ignore[index]
    status, answer = post(b"not json", {})
    assert status == 400 and answer["error"]["code"] == "bad_signature"  # type: ignore[index]


@pytest.mark.parametrize("provider", ["paypal", "desk"])
def test_an_unknown_provider_is_a_404_json_error(provider: str) -> None:
    status, answer = post(b"{}", {}, path=f"/api/v1/payments/{provider}/notify")
    assert status == 404 and answer["error"]["code"] == "unknown_provider"  # type: ignore[index]


def test_the_ticketing_manager_sees_a_payment_with_its_history(cast: Cast, payment: Payment) -> None:
    post(*signed(payment))
    response = cast.ticketing_manager_a.client().get(f"/api/v1/payments/{payment.pk}")
    assert response.status_code == 200
    shown = response.json()
    assert (shown["state"], shown["amount"], shown["currency"]) == ("paid", "12.50", "EUR")
    assert [n["outcome"] for n in shown["notifications"]] == ["paid"]


@pytest.mark.parametrize(
    ("persona", "status"), [("gate_agent_a", 403), ("partner_b", 404), ("outsider", 404)]
)
def test_other_roles_and_institutions_do_not_see_payments(
    cast: Cast, payment: Payment, persona: str, status: int
) -> None:
    response = getattr(cast, persona).client().get(f"/api/v1/payments/{payment.pk}")
    assert response.status_code == status


def test_anonymous_callers_cannot_read_payments(payment: Payment) -> None:
    assert Client().get(f"/api/v1/payments/{payment.pk}").status_code == 401
