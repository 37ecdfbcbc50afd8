"""The order confirmation e-mail: the order, its slot, a link to the order page and the tickets as
a PDF, in the visitor's language. Sent by a task enqueued once the paying transaction commits."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from cimaise.ticketing.documents import ticket_views, tickets_pdf
from cimaise.ticketing.models import Order

TEXT_TEMPLATE = "ticketing/emails/order_confirmation.txt"
HTML_TEMPLATE = "ticketing/emails/order_confirmation.html"


def public_url() -> str:
    """Where the shop is served, for links in e-mails (``CIMAISE["PUBLIC_URL"]``, e.g.
    ``https://tickets.louvre.example``); empty gives links relative to the site."""
    values: dict[str, Any] = getattr(settings, "CIMAISE", {})
    return str(values.get("PUBLIC_URL", "")).rstrip("/")


def order_page_url(order: Order) -> str:
    """The visitor's order page, with the secret that opens it."""
    return f"{public_url()}/shop/orders/{order.code}/?{urlencode({'key': order.access_key})}"


def order_confirmation_enqueue(order_id: int) -> None:
    """Send the confirmation once the caller's transaction commits (never if it rolls back)."""
    transaction.on_commit(partial(order_confirmation_send.enqueue, order_id))


@task
def order_confirmation_send(order_id: int) -> int:
    """E-mail an order's confirmation with its tickets; how many messages were sent (0 or 1)."""
    return order_confirmation_deliver(order_id=order_id)


def order_confirmation_deliver(*, order_id: int) -> int:
    """Send the confirmation of a paid order that has an e-mail address and valid tickets."""
    order = Order.objects.select_related("institution", "slot__product", "slot__entrance").get(pk=order_id)
    if order.state != Order.State.PAID or not order.email:
        return 0
    message = order_confirmation_message(order)
    if message is None:
        return 0
    return message.send()


def order_confirmation_message(order: Order) -> EmailMultiAlternatives | None:
    """The message in the order's language, or None when the order has no valid ticket."""
    with translation.override(order.language):
        tickets = ticket_views(order)
        if not tickets:
            return None
        context = {"order": order, "tickets": tickets, "slot": order.slot, "url": order_page_url(order)}
        subject = _("Your tickets for %(institution)s, order %(code)s") % {
            "institution": order.institution.name,
            "code": order.code,
        }
        message = EmailMultiAlternatives(
            subject=subject, body=render_to_string(TEXT_TEMPLATE, context), to=[order.email]
        )
        message.attach_alternative(render_to_string(HTML_TEMPLATE, context), "text/html")
    pdf = tickets_pdf(order=order, language=order.language)
    message.attach(f"tickets-{order.code}.pdf", pdf, "application/pdf")
    return message
