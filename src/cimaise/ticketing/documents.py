"""The tickets of an order as a PDF: one A4 page a ticket, the ticket at the top of the page, with
its QR code, in the visitor's language (English, French or Simplified Chinese).

Rendering fetches nothing: the QR is inline SVG and the fonts are the system's (Noto Sans CJK for
Chinese, from Debian's ``fonts-noto-cjk``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from cimaise.core.errors import Conflict
from cimaise.ticketing.codes import qr_svg
from cimaise.ticketing.models import Order, Ticket

TEMPLATE = "ticketing/documents/tickets.html"
QR_SIZE_MM = 55


@dataclass(frozen=True)
class TicketView:
    """A ticket as the PDF (and a confirmation page) shows it, in the active language."""

    number: int
    institution: str
    product: str
    tariff: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    entrance: str
    order_code: str
    price: Decimal
    currency: str
    proof: str
    holder: str
    code_id: str
    qr: SafeString


def valid_tickets(order: Order) -> list[Ticket]:
    rows = order.tickets.filter(state=Ticket.State.VALID)
    return list(
        rows.select_related("tariff__free_category", "slot__product", "slot__entrance").order_by("id")
    )


def ticket_view(ticket: Ticket, *, number: int, order: Order, qr_mm: float = QR_SIZE_MM) -> TicketView:
    """The ticket's labels in the active language and its QR as inline SVG."""
    category = ticket.tariff.free_category
    return TicketView(
        number=number,
        institution=order.institution.name,
        product=ticket.slot.product.name,
        tariff=ticket.tariff.name,
        starts_at=ticket.slot.starts_at,
        ends_at=ticket.slot.ends_at,
        entrance=ticket.slot.entrance.name,
        order_code=order.reference,
        price=ticket.price,
        currency=order.currency,
        proof=category.proof if category else "",
        holder=order.name,
        code_id=ticket.code_id,
        qr=mark_safe(qr_svg(ticket.code, size_mm=qr_mm)),  # noqa: S308 - SVG we drew from the code's modules
    )


def ticket_views(order: Order) -> list[TicketView]:
    """The order's valid tickets, in the active language."""
    tickets = valid_tickets(order)
    return [ticket_view(t, number=n, order=order) for n, t in enumerate(tickets, start=1)]


def tickets_html(*, order: Order, language: str) -> str:
    """The tickets document as HTML (what the PDF is made from)."""
    with translation.override(language):
        views = ticket_views(order)
        if not views:
            raise Conflict(f"order {order.code} has no valid tickets", code="no_tickets")
        return render_to_string(TEMPLATE, {"order": order, "tickets": views, "count": len(views)})


def tickets_pdf(*, order: Order, language: str) -> bytes:
    """The order's valid tickets as PDF bytes in ``language`` (en, fr, zh-hans), one a page."""
    document = HTML(
        string=tickets_html(order=order, language=language),
        url_fetcher=URLFetcher(allowed_protocols=()),
        media_type="print",
    )
    pdf: bytes = document.write_pdf()
    return pdf
