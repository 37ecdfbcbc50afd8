"""The shop's second half: the cart held in the visitor's session (countdown, give up, details
and payment method), the way back from the payment page, and the confirmation page with the
tickets as QR codes and as a PDF. Thin: read, call one service, render."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cimaise.core.errors import DomainError, NotFound
from cimaise.core.models import Institution
from cimaise.payments import conf as payments_conf
from cimaise.payments import rates
from cimaise.payments import services as payments_services
from cimaise.ticketing import codes, documents, services
from cimaise.ticketing.api import shop_institution
from cimaise.ticketing.models import Cart, Order
from cimaise.ticketing.shop import display, reads, visit
from cimaise.ticketing.shop.forms import DetailsForm

WHO = "visitor"
PROVIDERS = ("sandbox", "alipay", "wechatpay")


WALLETS = ("alipay", "wechatpay")


def payment_methods(language: str | None = None) -> list[str]:
    """The visitors' payment providers that are configured and enabled here; in Chinese, Alipay
    and WeChat Pay come first."""
    config = payments_conf.providers_config()
    enabled = [name for name in PROVIDERS if name in config and payments_conf.enabled(config[name])]
    if (language or "").startswith("zh"):
        enabled.sort(key=lambda name: name not in WALLETS)
    return enabled


def see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # the browser follows with a GET
    return response


def order_url(order: Order) -> str:
    return f"{reverse('shop:order', args=[order.code])}?{urlencode({'key': order.access_key})}"


def _session_cart(request: HttpRequest, institution: Institution) -> Cart | None:
    """The cart this visitor's session holds (no one else's), or None."""
    cart_id = visit.cart_id(request)
    if cart_id is None:
        return None
    try:
        return services.cart_get(institution=institution, cart_id=cart_id, owner=None)
    except (NotFound, ValidationError):
        visit.cart_forget(request)
        return None


def _holding(cart: Cart) -> bool:
    return cart.state == Cart.State.OPEN and cart.expires_at > timezone.now()


@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest) -> HttpResponse:
    institution = shop_institution(request)
    held = _session_cart(request, institution)
    if held is None or not _holding(held):
        visit.cart_forget(request)
        if held is not None and held.state == Cart.State.OPEN:  # its hold ran out: give the places back now
            held = services.cart_release(cart=held, who=WHO, why="expired")
        return render(
            request, "ticketing/shop/cart_gone.html", {"cart": held}, status=404 if held is None else 410
        )
    providers = payment_methods(translation.get_language())
    form = DetailsForm(request.POST if request.method == "POST" else None, providers=providers)
    if request.method == "POST" and form.is_valid():
        ordered = _order(request, held, form)
        if ordered is not None:
            return ordered
    context = {**_cart_context(held), "form": form, "no_method": not providers}
    return render(request, "ticketing/shop/cart.html", context, status=400 if form.errors else 200)


def _cart_context(held: Cart) -> dict[str, object]:
    lines = [
        {
            "name": line.tariff.name,
            "quantity": line.quantity,
            "unit": display.money(line.unit_price, held.currency, zero_is_free=True),
            "total": display.money(line.unit_price * line.quantity, held.currency, zero_is_free=True),
            "proof": line.tariff.free_category.proof if line.tariff.free_category else "",
        }
        for line in reads.cart_lines(held)
    ]
    left = expiry_seconds(held.expires_at)
    return {
        "cart": held,
        "slot": held.slot,
        "lines": lines,
        "total": display.money(held.total, held.currency),
        "total_cny": _in_yuan(held),
        "seconds_left": left,
        "countdown": f"{left // 60}:{left % 60:02d}",
    }


def _in_yuan(held: Cart) -> str:
    """For visitors reading Chinese: the total in yuan at the day's dated rate, indicative only
    (they pay in euros; the wallet converts). "" when no rate is known or in other languages."""
    if not (translation.get_language() or "").startswith("zh") or held.total <= 0:
        return ""
    amount = rates.indicative_amount(
        amount=held.total, base=held.currency, quote="CNY", day=timezone.localdate()
    )
    return f"¥{amount:,.2f}" if amount is not None else ""


def _order(request: HttpRequest, held: Cart, form: DetailsForm) -> HttpResponse | None:
    """Order the cart and start its payment (``order_create``); None when refused."""
    back = request.build_absolute_uri(reverse("shop:back", args=[held.pk]))
    order_request = services.OrderRequest(
        cart=held,
        provider=form.cleaned_data["provider"],
        email=form.cleaned_data["email"].strip(),
        name=form.cleaned_data["name"].strip(),
        language=translation.get_language() or "en",
        return_url=back,
    )
    try:
        started = services.order_create(request=order_request, who=WHO)
    except DomainError as error:
        form.service_error(error)
        return None
    visit.cart_forget(request)
    payment = started.payment
    if payment is None or not payment.redirect_url:  # a free order comes back paid
        return see_other(order_url(started.order))
    visit.payment_url_keep(request, started.order.code, payment.redirect_url)
    return see_other(payment.redirect_url)


@require_POST
def release(request: HttpRequest) -> HttpResponse:
    """The visitor gives up: the places go back at once (``cart_release``)."""
    institution = shop_institution(request)
    held = _session_cart(request, institution)
    visit.cart_forget(request)
    if held is None:
        return redirect("shop:home")
    services.cart_release(cart=held, who=WHO)
    messages.success(request, _("Your places were released."))
    return redirect("shop:product", code=held.slot.product.code)


@require_GET
def back(request: HttpRequest, cart_id: uuid.UUID) -> HttpResponse:
    """Where the payment page sends the visitor back: their order's confirmation page. (The
    order's code does not exist yet when its payment starts; its cart's id does.)"""
    order = reads.order_for_cart(institution=shop_institution(request), cart_id=cart_id)
    if order is None:
        raise Http404("no order for this cart")
    return redirect(order_url(order))


def _order_with_key(request: HttpRequest, code: str) -> Order:
    order = reads.order_with_key(
        institution=shop_institution(request), code=code, key=request.GET.get("key", "")
    )
    if order is None:
        raise Http404("no such order")
    return order


@require_GET
def order(request: HttpRequest, code: str) -> HttpResponse:
    found = _order_with_key(request, code)
    paid = found.state == Order.State.PAID
    context = {
        "order": found,
        "slot": found.slot,
        "total": display.money(found.total, found.currency),
        "wallet_qr": _wallet_qr(found),
        "tickets": documents.ticket_views(found) if paid else [],
        "pdf_url": f"{reverse('shop:tickets_pdf', args=[found.code])}?{urlencode({'key': found.access_key})}",
        "page_url": order_url(found),
        "payment_url": visit.payment_url(request, found.code),
    }
    return render(request, "ticketing/shop/order.html", context)


def _wallet_qr(order: Order) -> str:
    """The QR to scan with Alipay or WeChat Pay while the order awaits its payment ("" else)."""
    if order.state != Order.State.AWAITING_PAYMENT or order.provider not in WALLETS or not order.payment_id:
        return ""
    try:
        start = payments_services.payment_open(payment_id=order.payment_id)
    except DomainError:
        return ""
    return codes.qr_svg(start.qr) if start.qr else ""


@require_GET
def tickets_pdf(request: HttpRequest, code: str) -> HttpResponse:
    found = _order_with_key(request, code)
    if found.state != Order.State.PAID:
        raise Http404("no tickets yet")
    try:
        pdf = documents.tickets_pdf(order=found, language=translation.get_language() or "en")
    except DomainError as error:  # every ticket was cancelled
        raise Http404("no valid tickets") from error
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tickets-{found.code}.pdf"'
    return response


def expiry_seconds(moment: dt.datetime) -> int:
    return max(0, int((moment - timezone.now()).total_seconds()))
