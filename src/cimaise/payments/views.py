"""The sandbox card gateway's page, ``/payments/sandbox/<payment id>/``: the visitor (no login)
sees what they pay and to whom, types a fake card, and pays or declines. The page then plays the
gateway: it signs a notification and hands it to the same ``notification_receive`` that the
notification endpoint calls, and sends the visitor back to the shop's return URL."""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from cimaise.core.errors import NotFound
from cimaise.payments.forms import CardForm
from cimaise.payments.models import PAID_STATES, Payment, PaymentState
from cimaise.payments.notifications import notification_receive
from cimaise.payments.providers import sandbox
from cimaise.payments.selectors import payment_get


@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = payment_get(payment_id=payment_id)
    if payment.provider != "sandbox":
        raise NotFound("no such payment", field="payment")
    with translation.override(_language(request, payment)):
        if request.method == "POST" and _situation(payment) == "payable":
            return _submit(request, payment)
        return _page(request, payment, CardForm(today=timezone.localdate()))


def _language(request: HttpRequest, payment: Payment) -> str:
    """The visitor's choice (the language switcher's cookie), else the payment's language."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return translation.get_language() if chosen else payment.language


def _situation(payment: Payment) -> str:
    if payment.state in PAID_STATES:
        return "paid"
    if payment.state == PaymentState.FAILED:
        return "failed"
    expired = payment.expires_at is not None and timezone.now() > payment.expires_at
    return "closed" if expired or payment.state != PaymentState.CREATED else "payable"


def _submit(request: HttpRequest, payment: Payment) -> HttpResponse:
    action = request.POST.get("action")
    form = CardForm(request.POST, today=timezone.localdate())
    if action == "pay" and not form.is_valid():
        return _page(request, payment, form, status=400)
    if action not in ("pay", "decline"):
        return _page(request, payment, form, error="choose", status=400)
    status: Literal["paid", "failed"] = "paid" if action == "pay" else "failed"
    now = timezone.now()
    body, headers = sandbox.notification_sign(payment=payment, status=status, now=now)
    outcome = notification_receive(provider="sandbox", body=body, headers=headers, now=now)
    if not outcome.accepted:
        return _page(request, payment, form, error=outcome.message or str(outcome.code), status=502)
    response = HttpResponseRedirect(payment.return_url or request.path)
    response.status_code = 303  # See Other: the browser follows with a GET
    return response


def _page(
    request: HttpRequest, payment: Payment, form: CardForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "payment": payment,
        "merchant": payment.institution.name,
        "situation": _situation(payment),
        "form": form,
        "error": error,
    }
    response = render(request, "payments/sandbox.html", context, status=status)
    response["Content-Language"] = translation.get_language()
    return response
