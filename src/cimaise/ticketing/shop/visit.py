"""What the shop remembers of a visitor between pages, in their Django session: the cart holding
their places (so no one else can use it), the waiting room's admission and queue entry, where to
go back after waiting, and the payment page of each order they started."""

from __future__ import annotations

from django.http import HttpRequest

CART = "shop.cart"
ADMISSION = "shop.admission"
ENTRY = "shop.queue_entry"
AFTER_WAIT = "shop.after_wait"
PAYMENTS = "shop.payments"


def _get(request: HttpRequest, key: str) -> str | None:
    value = request.session.get(key)
    return value if isinstance(value, str) and value else None


def cart_id(request: HttpRequest) -> str | None:
    return _get(request, CART)


def cart_keep(request: HttpRequest, cart: object) -> None:
    request.session[CART] = str(cart)


def cart_forget(request: HttpRequest) -> None:
    request.session.pop(CART, None)


def admission(request: HttpRequest) -> str | None:
    return _get(request, ADMISSION)


def admission_keep(request: HttpRequest, token: str) -> None:
    request.session[ADMISSION] = token
    request.session.pop(ENTRY, None)


def admission_forget(request: HttpRequest) -> None:
    request.session.pop(ADMISSION, None)


def entry_id(request: HttpRequest) -> str | None:
    return _get(request, ENTRY)


def entry_keep(request: HttpRequest, entry: object) -> None:
    request.session[ENTRY] = str(entry)


def entry_forget(request: HttpRequest) -> None:
    request.session.pop(ENTRY, None)


def after_wait(request: HttpRequest) -> str | None:
    return _get(request, AFTER_WAIT)


def after_wait_keep(request: HttpRequest, path: str) -> None:
    if path.startswith("/") and not path.startswith("//"):
        request.session[AFTER_WAIT] = path


def payment_url(request: HttpRequest, order_code: str) -> str | None:
    urls = request.session.get(PAYMENTS)
    value = urls.get(order_code) if isinstance(urls, dict) else None
    return value if isinstance(value, str) else None


def payment_url_keep(request: HttpRequest, order_code: str, url: str) -> None:
    urls = request.session.get(PAYMENTS)
    urls = dict(urls) if isinstance(urls, dict) else {}
    urls[order_code] = url
    request.session[PAYMENTS] = dict(list(urls.items())[-10:])  # the last few orders are enough
