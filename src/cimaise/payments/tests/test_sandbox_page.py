"""The sandbox card page: what the visitor sees (in the payment's language), the fake card form
and its errors, and paying or declining end to end through a signed notification."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from cimaise.core.tests.personas import Cast
from cimaise.ledger.verify import ledger_verify
from cimaise.payments.models import Notification, Payment
from cimaise.payments.tests.conftest import RETURN_URL, Shop, deliver, facts_of, signed, start

pytestmark = pytest.mark.django_db
CARD = {"number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}


def page_of(payment: Payment) -> str:
    return f"/payments/sandbox/{payment.pk}/"


def test_the_page_shows_merchant_description_and_amount(payment: Payment) -> None:
    response = Client().get(page_of(payment))
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "en"
    assert "Musée du Louvre" in html and "2 × Full price" in html
    assert "12.50 EUR" in html and "Pay 12.50 EUR" in html
    assert 'value="4242 4242 4242 4242"' in html and "Decline" in html
    assert 'name="viewport"' in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Paiement par carte", "12,50 EUR", "Refuser", "Numéro de carte"]),
        ("zh-hans", ["银行卡支付", "12.50 EUR", "拒绝", "卡号"]),
    ],
)
def test_the_page_speaks_the_payments_language(
    cast: Cast, shop: Shop, language: str, expected: list[str]
) -> None:
    payment = start(cast.institution_a, language=language).payment
    response = Client().get(page_of(payment))
    html = response.content.decode()
    assert response["Content-Language"] == language
    assert all(text in html for text in expected), [text for text in expected if text not in html]


def test_a_language_the_visitor_chose_wins(cast: Cast, shop: Shop) -> None:
    payment = start(cast.institution_a, language="zh-hans").payment
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert "Paiement par carte" in client.get(page_of(payment)).content.decode()


def test_paying_marks_the_payment_paid_and_returns_to_the_shop(payment: Payment, shop: Shop) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(page_of(payment))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(page_of(payment), CARD | {"action": "pay", "csrfmiddlewaretoken": token})
    assert response.status_code == 303 and response["Location"] == RETURN_URL
    payment.refresh_from_db()
    assert payment.state == "paid" and shop.paid == [(payment.pk, False)]
    assert facts_of(payment) == ["payments.payment.created", "payments.payment.paid"]
    assert Notification.objects.get().outcome == "paid"
    assert ledger_verify().ok


def test_declining_marks_the_payment_failed(payment: Payment, shop: Shop) -> None:
    response = Client().post(page_of(payment), {"action": "decline"})
    assert response.status_code == 303
    payment.refresh_from_db()
    assert payment.state == "failed" and shop.failed == [payment.pk]
    assert "This payment was declined." in Client().get(page_of(payment)).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "4242 4242"}, "Card number: enter 12 to 19 digits."),
        ({"number": "4242 4242 4242 4241"}, "Card number: this number is not valid"),
        ({"expiry": "13/30"}, "Expiry: enter the month and the year as MM/YY."),
        ({"expiry": "01/19"}, "Expiry: this card has expired."),
        ({"cvc": "12a"}, "CVC: enter the 3 or 4 digits"),
    ],
)
def test_a_bad_card_is_shown_on_the_form_and_nothing_changes(
    payment: Payment, shop: Shop, changes: dict[str, str], message: str
) -> None:
    response = Client().post(page_of(payment), CARD | changes | {"action": "pay"})
    assert response.status_code == 400 and message in response.content.decode()
    payment.refresh_from_db()
    assert payment.state == "created" and not Notification.objects.exists()


def test_an_unknown_action_is_refused(payment: Payment) -> None:
    response = Client().post(page_of(payment), CARD | {"action": "steal"})
    assert response.status_code == 400 and "Choose Pay or Decline." in response.content.decode()


def test_a_paid_payment_says_so_and_cannot_be_paid_again(payment: Payment, shop: Shop) -> None:
    deliver(*signed(payment))
    client = Client()
    html = client.get(page_of(payment)).content.decode()
    assert "This payment is already paid." in html and f'href="{RETURN_URL}"' in html
    assert 'value="pay"' not in html
    assert client.post(page_of(payment), CARD | {"action": "pay"}).status_code == 200
    assert Notification.objects.count() == 1 and shop.paid == [(payment.pk, False)]


def test_a_cancelled_payment_cannot_be_paid(payment: Payment, shop: Shop) -> None:
    from cimaise.payments.services import payment_cancel

    payment_cancel(payment=payment, actor="system:test")
    html = Client().post(page_of(payment), CARD | {"action": "pay"}).content.decode()
    assert "can no longer be made" in html
    payment.refresh_from_db()
    assert payment.state == "cancelled"


def test_without_a_return_url_the_page_shows_the_outcome(cast: Cast, shop: Shop) -> None:
    payment = start(cast.institution_a, return_url="").payment
    response = Client().post(page_of(payment), CARD | {"action": "pay"}, follow=True)
    assert "This payment is already paid." in response.content.decode()


@pytest.mark.parametrize("changes", [{"provider": "desk"}, {}])
def test_only_sandbox_payments_have_a_page(cast: Cast, shop: Shop, changes: dict[str, Any]) -> None:
    payment = start(cast.institution_a, **changes).payment
    path = page_of(payment) if changes else "/payments/sandbox/" + "0" * 32 + "/"
    assert Client().get(path).status_code == 404
